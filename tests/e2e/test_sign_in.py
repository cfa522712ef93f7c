"""Sign-in and each person's own data (#14), in Chromium, against a real OpenID Connect provider.

The app's ``[auth]`` points at oidc-provider-mock on loopback (fixtures ``oidc_provider`` and
``sign_in_server``): people at example.com may enter, alice is the admin, mallory is refused.
Alice and Bob use two browser contexts (two browsers, as far as cookies go).
A link alice shares opens read-only for anyone holding it, signed in or not, until she revokes it.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e.harness import (
    CHAT_INPUT,
    StreamlitServer,
    assert_not_found,
    assert_read_only,
    idle,
    make_link,
    revoke,
    send,
    wait_for,
    wait_for_reply,
)
from tests.e2e.oidc import SIGN_IN_BUTTON, sign_in, sign_out

PAGES = ("/", "/History", "/Compare", "/Leaderboard", "/Lab", "/Usage")
SECRET = "quetzal"
NOT_OPENED = "That conversation could not be opened."


def body(page: Any) -> str:
    return page.locator("body").inner_text()


def settled(page: Any) -> None:
    """Wait until the page has drawn and its script has ended."""
    idle(page)


def signed_in(page: Any, server: StreamlitServer, subject: str, path: str = "/") -> None:
    sign_in(page, server.url, subject, path)
    page.locator(CHAT_INPUT).wait_for(state="visible", timeout=30_000)


def test_signed_out_sees_only_a_sign_in_button_on_every_page(sign_in_server: StreamlitServer, page: Any) -> None:
    for path in (*PAGES, "/?c=0123456789abcdef"):
        page.goto(sign_in_server.url + path)
        expect(page.locator(SIGN_IN_BUTTON)).to_be_visible(timeout=30_000)
        settled(page)
        assert page.locator(CHAT_INPUT).count() == 0, path
        assert page.locator("[data-testid=stSidebar]").count() == 0, f"a sidebar shows on {path}"
        assert page.locator("button").filter(has_text="Sign in").count() == 1
        text = body(page)
        assert "History" not in text and "Leaderboard" not in text and "Saved in" not in text, path


def test_each_person_sees_only_their_own_conversations(
    sign_in_server: StreamlitServer, e2e_fake: FakeAPI, new_page: Any
) -> None:
    alice = new_page()
    signed_in(alice, sign_in_server, "alice")
    expect(alice.locator("[data-testid=stSidebar]")).to_contain_text("Alice Liddell")
    e2e_fake.plan(Behaviour(reply=f"The resplendent {SECRET} lives in cloud forests."))
    send(alice, f"Where does the {SECRET} live?")
    wait_for_reply(alice, "cloud forests")
    alice_id = wait_for(lambda: "c=" in alice.url and alice.url.split("c=")[1], what="the chat's address")
    expect(alice.locator("[data-testid=stSidebar]")).to_contain_text(f"Where does the {SECRET} live?")

    bob = new_page()
    signed_in(bob, sign_in_server, "bob")
    settled(bob)
    sidebar = bob.locator("[data-testid=stSidebar]")
    expect(sidebar).to_contain_text("Bob Builder")
    assert SECRET not in sidebar.inner_text(), "bob's sidebar lists alice's chat"

    # The History page: nothing of hers, and not where the database lives (bob is no admin).
    bob.goto(sign_in_server.url + "/History")
    expect(bob.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    settled(bob)
    assert SECRET not in body(bob) and "Saved in" not in body(bob)
    search = bob.get_by_role("textbox", name="Search all conversations")
    search.fill(SECRET)
    search.press("Enter")
    expect(bob.get_by_text("No conversation contains that text")).to_be_visible(timeout=30_000)
    assert SECRET not in body(bob)  # the box's own text is its value, not the page's text

    # Her conversation's address: the same plain not-found as an id that never existed.
    bob.goto(f"{sign_in_server.url}/?c={alice_id}")
    expect(bob.get_by_text(NOT_OPENED)).to_be_visible(timeout=30_000)
    settled(bob)
    hers = body(bob)
    assert SECRET not in hers and "cloud forests" not in hers
    unknown_id = "f" * len(alice_id)
    bob.goto(f"{sign_in_server.url}/?c={unknown_id}")
    expect(bob.get_by_text(NOT_OPENED)).to_be_visible(timeout=30_000)
    settled(bob)
    assert _not_found(hers, alice_id) == _not_found(body(bob), unknown_id)

    # Alice still has it, and as the admin she sees where it is saved.
    alice.goto(sign_in_server.url + "/History")
    expect(alice.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    expect(alice.locator("[data-testid=stMain]")).to_contain_text(f"Where does the {SECRET} live?")
    expect(alice.get_by_text("Saved in")).to_be_visible()


def _not_found(text: str, conversation_id: str) -> list[str]:
    """The not-found lines of a page, with the id that was asked for taken out."""
    return [line.replace(conversation_id, "<id>") for line in text.splitlines() if "could not be opened" in line]


def test_someone_the_allow_list_does_not_name_is_refused(sign_in_server: StreamlitServer, page: Any) -> None:
    sign_in(page, sign_in_server.url, "mallory")
    expect(page.get_by_text("mallory@elsewhere.test may not use this app.")).to_be_visible(timeout=30_000)
    settled(page)
    assert page.locator(CHAT_INPUT).count() == 0 and page.locator("[data-testid=stSidebar]").count() == 0
    for path in PAGES[1:]:
        page.goto(sign_in_server.url + path)
        expect(page.get_by_text("may not use this app.")).to_be_visible(timeout=30_000)
        settled(page)
        assert page.locator(CHAT_INPUT).count() == 0 and "Search all conversations" not in body(page)
    sign_out(page, sign_in_server.url)
    expect(page.locator(SIGN_IN_BUTTON)).to_be_visible(timeout=30_000)


def test_signing_out_leaves_only_the_sign_in_button(sign_in_server: StreamlitServer, page: Any) -> None:
    signed_in(page, sign_in_server, "bob")
    sign_out(page, sign_in_server.url)
    expect(page.locator(SIGN_IN_BUTTON)).to_be_visible(timeout=30_000)
    page.goto(sign_in_server.url + "/History")
    expect(page.locator(SIGN_IN_BUTTON)).to_be_visible(timeout=30_000)
    assert page.locator(CHAT_INPUT).count() == 0


def test_a_conversation_asked_for_signed_out_is_named_and_its_address_still_opens_it(
    sign_in_server: StreamlitServer, e2e_fake: FakeAPI, new_page: Any
) -> None:
    """Streamlit's sign-in comes back to the app's root, whatever was asked for: the sign-in screen
    says so and gives the conversation's address, which opens it once signed in."""
    alice = new_page()
    signed_in(alice, sign_in_server, "alice")
    e2e_fake.plan(Behaviour(reply="The axolotl keeps its gills for life."))
    send(alice, "What keeps its gills?")
    wait_for_reply(alice, "gills for life")
    chat_id = wait_for(lambda: "c=" in alice.url and alice.url.split("c=")[1], what="the chat's address")

    later = new_page()  # the same person, another browser: signed out
    later.goto(f"{sign_in_server.url}/?c={chat_id}")
    expect(later.get_by_text("Sign in to open this conversation.", exact=False)).to_be_visible(timeout=30_000)
    address = later.get_by_test_id("stCode")
    expect(address).to_have_text(f"{sign_in_server.url}/?c={chat_id}")
    for width in (1280, 390):
        later.set_viewport_size({"width": width, "height": 900})
        later.wait_for_timeout(400)
        later.screenshot(path=f"/tmp/wt-fixa-sign-in-asked-{width}.png")
    later.set_viewport_size({"width": 1280, "height": 900})
    shown = address.inner_text().strip()
    signed_in(later, sign_in_server, "alice", path=f"/?c={chat_id}")
    later.goto(shown)
    expect(later.get_by_text("The axolotl keeps its gills for life.")).to_be_visible(timeout=30_000)

    plain = new_page()  # a new chat asked for: the screen as before
    plain.goto(sign_in_server.url + "/")
    expect(plain.locator(SIGN_IN_BUTTON)).to_be_visible(timeout=30_000)
    expect(plain.get_by_text("Sign in to chat.", exact=False)).to_be_visible()
    expect(plain.get_by_test_id("stCode")).to_have_count(0)


def test_a_link_alice_shares_opens_read_only_signed_out_and_for_bob_until_she_revokes_it(
    sign_in_server: StreamlitServer, e2e_fake: FakeAPI, new_page: Any
) -> None:
    alice = new_page()
    signed_in(alice, sign_in_server, "alice")
    e2e_fake.plan(Behaviour(reply="Kakapo are flightless parrots."))
    send(alice, "Another chat of hers, not shared kq17")
    wait_for_reply(alice, "flightless parrots")
    idle(alice)
    alice.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
    idle(alice)
    e2e_fake.plan(Behaviour(reply="Wombats leave **cube-shaped** droppings."))
    send(alice, "What is odd about wombats? sh14")
    wait_for_reply(alice, "cube-shaped")
    idle(alice)
    link = make_link(alice, "Share this chat")
    # Nothing of hers but the chat: not her other chat, her name, her address or her sign-out.
    hers = ("Another chat of hers, not shared kq17", "flightless parrots", "Alice Liddell", "alice@example.com",
            "Sign out", "Signed in as")

    for who in ("signed out", "bob"):
        viewer = new_page()  # a browser of its own: none of alice's cookies
        if who == "bob":
            signed_in(viewer, sign_in_server, "bob")
        viewer.goto(link)
        expect(viewer.get_by_role("heading", name="What is odd about wombats? sh14")).to_be_visible(timeout=30_000)
        expect(viewer.get_by_text(re.compile(r"A read-only snapshot, taken \d{4}-\d\d-\d\d \d\d:\d\d UTC"))).to_be_visible()
        expect(viewer.locator(".gc-body strong", has_text="cube-shaped")).to_be_visible()
        expect(viewer.get_by_text("What is odd about wombats? sh14", exact=True).last).to_be_visible()
        settled(viewer)
        assert_read_only(viewer, hers)
        assert "Sign in to" not in body(viewer), f"the shared page asks {who} to sign in"
        if who == "signed out":
            signed_out = viewer
            for width in (1280, 390):
                viewer.set_viewport_size({"width": width, "height": 900})
                viewer.wait_for_timeout(400)
                viewer.screenshot(path=f"/tmp/wt-share-signin-shared-{width}.png", full_page=True)
            viewer.set_viewport_size({"width": 1280, "height": 900})
        else:
            bobs = viewer

    revoke(alice, sign_in_server, "What is odd about wombats? sh14")
    for viewer in (signed_out, bobs):
        viewer.reload()
        assert_not_found(viewer, hers)
        assert "wombats" not in body(viewer)
