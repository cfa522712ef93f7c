"""Demo mode without a key, and a conversation that outlives the server process."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e.harness import MESSAGE, StreamlitServer, messages, open_chat, send, wait_for_reply

pytestmark = pytest.mark.browser


def test_demo_mode_without_a_key_says_so_and_answers(page: Any, demo_server: StreamlitServer) -> None:
    open_chat(page, demo_server)
    banner = page.get_by_test_id("stAlert").filter(has_text="Demo mode")
    expect(banner).to_be_visible()
    text = banner.inner_text()
    for words in ("Demo mode", "offline", "no API key"):
        assert words in text, text
    expect(page.get_by_test_id("stSidebar").get_by_text("No key")).to_be_visible()

    send(page, "Hello demo")
    shown = wait_for_reply(page, "offline demo model", timeout=30)
    assert shown[0] == ("user", "Hello demo")
    assert "Hello demo" in shown[1][1]  # the demo model quotes the question
    caption = page.locator(MESSAGE).last.get_by_test_id("stCaptionContainer").filter(has_text="completion")
    expect(caption).to_contain_text("cost $")


def test_a_conversation_survives_a_server_restart(
    new_page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="Noted: the word is PELICAN-42."))
    page = new_page()
    open_chat(page, restartable_server)
    send(page, "Remember the word PELICAN-42")
    wait_for_reply(page, "PELICAN-42.")

    restartable_server.restart()
    assert restartable_server.starts == 2

    # A new browser session on the new process finds the chat in the sidebar and continues it.
    page = new_page()
    open_chat(page, restartable_server)
    assert messages(page) == []
    saved = page.get_by_test_id("stSidebar").get_by_role("button", name="Remember the word PELICAN-42")
    saved.click(timeout=10_000)
    shown = wait_for_reply(page, "PELICAN-42.")
    assert shown == [("user", "Remember the word PELICAN-42"), ("assistant", "Noted: the word is PELICAN-42.")]
    assert len(e2e_fake.requests) == 1  # opening it did not ask the API again

    e2e_fake.plan(Behaviour(reply="It was PELICAN-42, still."))
    send(page, "What was the word?")
    wait_for_reply(page, "still.")
    assert [m["content"] for m in e2e_fake.bodies()[-1]["messages"][1:]] == [
        "Remember the word PELICAN-42", "Noted: the word is PELICAN-42.", "What was the word?"
    ]

    # The History page lists it too.
    page.get_by_test_id("stSidebar").get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("textbox", name="Title")).to_have_value("Remember the word PELICAN-42")
    expect(page.get_by_text("4 messages")).to_be_visible()
