"""Share links (#14 item 4) in a real browser: the owner shares a conversation with a photo, and a
comparison, from History (and a chat from its sidebar); a fresh browser opens each link and sees the
snapshot read-only, with its figures and images and nothing else; after Revoke the link is a plain
not-found."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.chat.conversation import Conversation
from lib.chat.usage import Cost
from lib.store.database import Store
from lib.store.shares import DAY, share_conversation
from tests.comparison_samples import BIG, SMALL, make_comparison
from tests.e2e.conftest import EXTRA_ARGS
from tests.e2e.harness import (
    StreamlitServer,
    assert_not_found,
    assert_read_only,
    clean_env,
    idle,
    make_link,
    open_chat,
    open_shared_links,
    revoke,
    send,
    wait_for,
    wait_for_reply,
)
from tests.image_samples import photo
from tests.samples import stats

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")
#: texts of the owner's that no link shows: the chat's system prompt, another chat's title
OWNER_ONLY = ("Our secret launch plan.", "A plain chat")


def chat_with_a_photo() -> Conversation:
    chat = Conversation(system_prompt="Our secret launch plan.", model="google/gemma-3-27b-it", title="Photos from the trip")
    chat.add_user("What is in this photo?", images=(photo("holiday.jpg"),))
    chat.add_reply("A gradient with some **noise**, and no people.", stats=stats(120, 34, Cost(0.0042, "reported")))
    return chat


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app in demo mode over a database holding a chat with a photo and a comparison."""
    tmp = tmp_path_factory.mktemp("share")
    env = clean_env(tmp)
    store = Store(f"sqlite:///{env['CHAT_DB_PATH']}")
    store.save(chat_with_a_photo())
    comparison = make_comparison(1, setups=(BIG, SMALL), images=(photo(),))
    comparison.title = "Fruit, two ways"
    store.save_comparison(comparison)
    store.close()
    started = StreamlitServer(env=env, log_path=tmp / "server.log", extra_args=EXTRA_ARGS)
    started.start()
    yield started
    started.stop()


def images_loaded(page: Any, selector: str) -> int:
    """How many of the images matching ``selector`` the browser has actually decoded."""
    return page.evaluate(f"""() => Array.from(document.querySelectorAll({selector!r}))
        .filter(i => i.complete && i.naturalWidth > 0).length""")


def shoot(page: Any, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)
        page.screenshot(path=SCREENSHOTS / f"wt-share-{name}-{width}.png", full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_a_shared_conversation_opens_read_only_with_its_photo_and_not_after_revoke(
    new_page: Any, server: StreamlitServer
) -> None:
    owner = new_page()
    open_shared_links(owner, server)
    expect(owner.get_by_text("No shared links.")).to_be_visible()
    link = make_link(owner, "Share", expiry="7 days")

    viewer = new_page()  # a fresh browser: no session, no cookie of the owner's
    viewer.goto(link)
    expect(viewer.get_by_role("heading", name="Photos from the trip")).to_be_visible(timeout=30_000)
    expect(viewer.get_by_text(re.compile(r"A read-only snapshot, taken \d{4}-\d\d-\d\d \d\d:\d\d UTC"))).to_be_visible()
    expect(viewer.get_by_text("What is in this photo?")).to_be_visible()
    expect(viewer.locator(".gc-body strong", has_text="noise")).to_be_visible()
    expect(viewer.locator(".gc-figures")).to_contain_text("$0.0042")
    assert images_loaded(viewer, "img.gc-image") == 1
    assert_read_only(viewer, OWNER_ONLY)
    shoot(viewer, "view")

    open_shared_links(owner, server)
    card = owner.get_by_test_id("stVerticalBlock").filter(has_text="Photos from the trip").last
    expect(card.get_by_test_id("stCode")).to_have_text(link)
    expect(card).to_contain_text(re.compile(r"Expires \d{4}-\d\d-\d\d \d\d:\d\d"))
    owner.get_by_role("heading", name="Shared links").scroll_into_view_if_needed()
    shoot(owner, "links")

    revoke(owner, server, "Photos from the trip")
    viewer.reload()
    assert_not_found(viewer, OWNER_ONLY)
    shoot(viewer, "not-found")
    unknown = new_page()
    unknown.goto(link[:-4] + "AAAA")
    assert_not_found(unknown, OWNER_ONLY)


def test_a_shared_comparison_shows_its_columns_and_photo_and_not_after_revoke(new_page: Any, server: StreamlitServer) -> None:
    owner = new_page()
    open_shared_links(owner, server)
    link = make_link(owner, "Share comparison")

    viewer = new_page()
    viewer.goto(link)
    expect(viewer.get_by_role("heading", name="Fruit, two ways")).to_be_visible(timeout=30_000)
    expect(viewer.get_by_text(re.compile(r"A read-only snapshot, taken .* UTC"))).to_be_visible()
    for column in (0, 1):
        expect(viewer.get_by_text(f"Column {column} answers turn 0: a")).to_be_visible()
    expect(viewer.get_by_text(re.compile(r"Voted: A · .* was better"))).to_be_visible()
    expect(viewer.get_by_text("A · Gemma 3 27B", exact=False).first).to_be_visible()
    expect(viewer.get_by_text("Be brief", exact=False)).to_have_count(0)  # the set-ups' system prompt
    viewer.wait_for_function("() => Array.from(document.querySelectorAll('[data-testid=stImage] img'))"
                             ".some(i => i.complete && i.naturalWidth > 0)")
    assert_read_only(viewer, OWNER_ONLY)
    shoot(viewer, "comparison")

    revoke(owner, server, "Fruit, two ways")
    viewer.reload()
    assert_not_found(viewer, OWNER_ONLY)


def test_a_chat_is_shared_from_its_sidebar(new_page: Any, server: StreamlitServer) -> None:
    owner = new_page()
    open_chat(owner, server)
    send(owner, "Shared from the chat page zq81")
    wait_for_reply(owner, "")
    idle(owner)
    link = make_link(owner, "Share this chat")
    viewer = new_page()
    viewer.goto(link)
    # the title, the question and the demo reply quoting it: any of them will do
    expect(viewer.get_by_text("Shared from the chat page zq81").first).to_be_visible(timeout=30_000)
    assert_read_only(viewer, OWNER_ONLY)


def test_an_expired_link_is_listed_as_expired_without_an_address_and_can_be_removed(
    new_page: Any, server: StreamlitServer
) -> None:
    store = Store(f"sqlite:///{server.env['CHAT_DB_PATH']}")
    try:
        share_conversation(store, chat_with_a_photo(), -DAY)
    finally:
        store.close()
    owner = new_page()
    open_shared_links(owner, server)
    card = owner.get_by_test_id("stVerticalBlock").filter(has_text="Photos from the trip").last
    expect(card).to_contain_text(re.compile(r"Expired \d{4}-\d\d-\d\d \d\d:\d\d"))
    expect(card).not_to_contain_text("expires expired")
    expect(card.get_by_test_id("stCode")).to_have_count(0)  # nothing to copy: it shows not-found
    owner.get_by_role("heading", name="Shared links").scroll_into_view_if_needed()
    card.get_by_role("button", name="Remove").click()
    card = owner.get_by_test_id("stVerticalBlock").filter(has_text="Photos from the trip").last
    expect(card.get_by_role("button", name="Revoke for good")).to_be_visible()
    shoot(owner, "expired")
    card.get_by_role("button", name="Revoke for good").click()
    expect(owner.get_by_text("Revoked the link to “Photos from the trip”")).to_be_visible()
    expect(owner.get_by_text(re.compile(r"Expired \d"))).to_have_count(0)


def test_the_link_made_near_the_window_foot_shows_without_scrolling(new_page: Any, server: StreamlitServer) -> None:
    owner = new_page()
    owner.set_viewport_size({"width": 1280, "height": 900})
    open_chat(owner, server)
    for n in range(3):
        send(owner, f"Fill the page {n} qv{n}")
        wait_for_reply(owner, "")
        idle(owner)
    address = wait_for(lambda: "c=" in owner.url and owner.url, what="the chat's address")
    phone = new_page()  # the same chat on a phone
    phone.set_viewport_size({"width": 390, "height": 900})
    phone.goto(address)
    expect(phone.get_by_text("Fill the page 2 qv2", exact=True).first).to_be_visible(timeout=30_000)
    idle(phone)
    phone.get_by_test_id("stExpandSidebarButton").click()
    for width, page in ((1280, owner), (390, phone)):
        share = page.get_by_role("button", name="Share this chat", exact=True)
        share.scroll_into_view_if_needed()
        share.click()
        popover = page.get_by_test_id("stPopoverBody")
        popover.get_by_role("button", name="Make a read-only link").click()
        code = popover.get_by_test_id("stCode")
        expect(code).to_contain_text("/Shared?token=")
        expect(code).to_be_in_viewport()
        page.wait_for_timeout(300)
        page.screenshot(path=SCREENSHOTS / f"wt-fixa-share-popover-{width}.png")
