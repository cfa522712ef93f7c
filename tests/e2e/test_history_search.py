"""History with more conversations than it lists, one of them a row no version of the app writes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.chat.conversation import Conversation
from lib.store.database import Store
from tests.e2e.conftest import EXTRA_ARGS
from tests.e2e.harness import StreamlitServer, clean_env, messages, wait_for
from tests.samples import T0, save_spoiled

pytestmark = pytest.mark.browser

#: more than five pages of the History page (100 a page)
CROWD = 505


def crowd(store: Store) -> None:
    """CROWD conversations, oldest first; only the oldest mentions a quetzal."""
    for number in range(CROWD):
        chat = Conversation(system_prompt="", model="google/gemma-3-27b-it", title=f"Chat {number}")
        chat.add_user("Where do quetzals live?" if number == 0 else f"Question number {number}")
        chat.add_reply("In the cloud forests of Central America." if number == 0 else f"Answer number {number}")
        chat.updated = T0 + 1000 + number
        store.save(chat)


@pytest.fixture
def crowded_server(tmp_path: Path) -> Iterator[StreamlitServer]:
    """The app in demo mode over a database filled before it starts."""
    env = clean_env(tmp_path)
    store = Store(f"sqlite:///{env['CHAT_DB_PATH']}")
    crowd(store)
    save_spoiled(store, 40)  # two costs of 1e308, an endless time: once enough to break every list
    store.close()
    server = StreamlitServer(env=env, log_path=tmp_path / "server.log", extra_args=EXTRA_ARGS)
    server.start()
    yield server
    server.stop()


def test_a_search_finds_opens_and_shows_the_oldest_of_many_conversations(page: Any, crowded_server: StreamlitServer) -> None:
    page.goto(crowded_server.url + "/History")
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Chat 504")

    search = page.get_by_role("textbox", name="Search all conversations")
    search.fill("QUETZALS")
    search.press("Enter")
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Chat 0", timeout=20_000)
    expect(page.get_by_text("1 match in 1 conversation")).to_be_visible()
    expect(page.locator("strong", has_text="quetzals")).to_be_visible()  # the match, marked
    expect(page.get_by_text("No conversation contains that text")).to_have_count(0)

    page.get_by_test_id("stBaseButton-primary").filter(has_text="Open").click()  # not the select's "Open"
    shown = wait_for(lambda: len(messages(page)) == 2 and messages(page), 30, what="the oldest chat", page=page)
    assert shown == [("user", "Where do quetzals live?"), ("assistant", "In the cloud forests of Central America.")]


def test_history_pages_with_show_more_and_opens_the_oldest(page: Any, crowded_server: StreamlitServer) -> None:
    page.goto(crowded_server.url + "/History")
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Chat 504")
    more = page.get_by_role("button", name="Show more", exact=True)
    # 100 a page: 506 conversations (the crowd and the spoiled one) take five more pages
    for _ in range(5):
        expect(more).to_be_visible(timeout=20_000)
        more.click()
        page.wait_for_timeout(300)
    expect(more).to_have_count(0, timeout=20_000)
    chooser = page.get_by_role("combobox", name="Conversation")
    chooser.click()
    chooser.fill("Chat 0 ·")
    page.get_by_role("option", name="Chat 0 ·").click()
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Chat 0", timeout=20_000)
    page.get_by_test_id("stBaseButton-primary").filter(has_text="Open").click()
    shown = wait_for(lambda: len(messages(page)) == 2 and messages(page), 30, what="the oldest chat", page=page)
    assert shown == [("user", "Where do quetzals live?"), ("assistant", "In the cloud forests of Central America.")]
