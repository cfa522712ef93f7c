"""Demo mode without a key, and a conversation that outlives the server process."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.conftest import CANARY_KEY
from tests.e2e.harness import (
    MESSAGE,
    StreamlitServer,
    clean_env,
    messages,
    open_chat,
    reply_words,
    search_history,
    send,
    wait_for,
    wait_for_reply,
)

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


def test_a_reload_keeps_the_conversation_at_its_address(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    e2e_fake.plan(Behaviour(reply="Noted: HERON-7."))
    open_chat(page, app_server)
    assert "?c=" not in page.url, "an empty chat has no address yet"
    send(page, "Remember HERON-7")
    wait_for_reply(page, "HERON-7.")
    wait_for(lambda: "?c=" in page.url, 10, what="the conversation's address in the URL")
    address = page.url

    page.reload()
    page.locator("[data-testid=stChatInputTextArea]").wait_for()
    shown = wait_for_reply(page, "HERON-7.")
    assert shown == [("user", "Remember HERON-7"), ("assistant", "Noted: HERON-7.")]
    assert page.url == address

    # The address opens it in another browser session too, as a bookmark does.
    other = page.context.new_page()
    other.goto(address)
    other.locator("[data-testid=stChatInputTextArea]").wait_for()
    assert wait_for_reply(other, "HERON-7.") == shown
    assert len(e2e_fake.requests) == 1


def test_a_tab_that_outlived_the_server_sends_into_its_conversation(
    page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="Noted: OSPREY-9."))
    open_chat(page, restartable_server)
    send(page, "Remember OSPREY-9")
    wait_for_reply(page, "OSPREY-9.")
    wait_for(lambda: "?c=" in page.url, 10, what="the conversation's address in the URL")

    restartable_server.restart()
    # The same tab, never reloaded: it reconnects to the new process and shows the same chat.
    shown = wait_for_reply(page, "OSPREY-9.", timeout=30)
    assert shown == [("user", "Remember OSPREY-9"), ("assistant", "Noted: OSPREY-9.")]

    e2e_fake.plan(Behaviour(reply="It was OSPREY-9."))
    send(page, "What was the word?")
    shown = wait_for_reply(page, "It was OSPREY-9.", timeout=30)
    assert shown[-2:] == [("user", "What was the word?"), ("assistant", "It was OSPREY-9.")]
    assert [m["content"] for m in e2e_fake.bodies()[-1]["messages"][1:]] == [
        "Remember OSPREY-9", "Noted: OSPREY-9.", "What was the word?"
    ]


def test_a_server_killed_mid_reply_keeps_what_had_arrived(
    page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    slow = " ".join(f"kept{i}" for i in range(1, 61))  # 60 tokens at 10/s: 6 s
    e2e_fake.plan(Behaviour(reply=slow, token_rate=10))
    open_chat(page, restartable_server)
    send(page, "Do not lose this")
    wait_for(lambda: len(reply_words(page)) >= 30, 15, what="3 s of the reply", page=page)
    wait_for(lambda: "?c=" in page.url, 5, what="the conversation's address")
    assert restartable_server.process is not None
    restartable_server.process.kill()  # kill -9: no time to save anything
    restartable_server.process.wait(10)
    restartable_server.process = None
    restartable_server.start()

    page.reload()
    page.locator("[data-testid=stChatInputTextArea]").wait_for()
    shown = wait_for(lambda: messages(page)[-1:] and messages(page)[-1][0] == "assistant" and messages(page), 20,
                     what="the kept part of the reply", page=page)
    kept = shown[-1][1].split()
    assert len(kept) >= 10 and kept == slow.split()[: len(kept)], shown[-1]
    expect(page.get_by_text("The app stopped while this reply was streaming")).to_be_visible()


def test_a_conversation_deleted_on_history_stays_deleted_when_its_open_tab_sends_again(
    new_page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="First answer, to be deleted."))
    chat = new_page()
    open_chat(chat, app_server)
    send(chat, "A chat to delete zq19")
    wait_for_reply(chat, "to be deleted.")

    history = new_page()
    search_history(history, app_server, "zq19")
    expect(history.get_by_role("textbox", name="Title")).to_have_value("A chat to delete zq19")
    history.get_by_role("button", name="Delete", exact=True).click()
    history.get_by_role("button", name="Yes, delete").click()
    expect(history.get_by_text("Deleted “A chat to delete zq19”")).to_be_visible()

    e2e_fake.plan(Behaviour(reply="Second answer."))
    send(chat, "and again")
    wait_for_reply(chat, "Second answer.")
    expect(chat.get_by_text("This conversation was deleted")).to_be_visible()
    history.reload()
    expect(history.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    history.wait_for_timeout(500)
    assert history.get_by_text("A chat to delete zq19").count() == 0, "the open tab brought it back"

    chat.get_by_role("button", name="Keep it as a new conversation").click()
    expect(chat.get_by_text("This conversation was deleted")).to_have_count(0)
    history.reload()
    search = history.get_by_role("textbox", name="Search all conversations")
    search.fill("zq19")
    search.press("Enter")
    expect(history.get_by_role("textbox", name="Title")).to_have_value("A chat to delete zq19")
    expect(history.get_by_text("4 messages")).to_be_visible()


def test_a_key_typed_in_the_sidebar_lasts_across_a_visit_to_history(
    page: Any, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    server = StreamlitServer(env=clean_env(tmp_path, AIMLAPI_BASE_URL=e2e_fake.url), log_path=tmp_path / "server.log")
    server.start()
    try:
        open_chat(page, server)
        key = page.get_by_test_id("stSidebar").get_by_label("API key", exact=True)
        key.fill(CANARY_KEY)
        key.press("Enter")
        expect(page.get_by_test_id("stAlert").filter(has_text="Demo mode")).to_have_count(0)
        page.get_by_test_id("stSidebar").get_by_role("link", name="History").click()
        expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
        page.get_by_test_id("stSidebar").get_by_role("link", name="Chat").click()
        page.locator("[data-testid=stChatInputTextArea]").wait_for()
        expect(page.get_by_test_id("stAlert").filter(has_text="Demo mode")).to_have_count(0)
        e2e_fake.plan(Behaviour(reply="Answered with your key."))
        send(page, "who answers?")
        wait_for_reply(page, "Answered with your key.")
        assert e2e_fake.requests[-1].headers["Authorization"] == f"Bearer {CANARY_KEY}"
    finally:
        server.stop()
    assert CANARY_KEY not in server.log_text()


def test_json_and_json_schema_modes_can_be_tried_offline(page: Any, demo_server: StreamlitServer) -> None:
    open_chat(page, demo_server)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("JSON schema", exact=True).click()
    schema = sidebar.get_by_role("textbox", name="JSON schema")
    expect(schema).to_be_visible()
    send(page, "Describe a city as JSON")
    reply = page.get_by_test_id("stChatMessage").last
    expect(reply.get_by_text("Valid JSON, matching the schema.")).to_be_visible(timeout=30_000)
    page.screenshot(path="/tmp/wt-fixa-demo-json-schema-1280.png")

    # A broken schema: the sidebar says the format is held back, not that it is sent.
    schema.fill('{"type": "object", "properties": ')
    schema.press("Tab")
    expect(sidebar.get_by_text("is not sent until the schema is fixed", exact=False)).to_be_visible()
    expect(sidebar.get_by_text("response_format=json_schema", exact=False)).to_have_count(1)  # that line only
    sidebar.get_by_text("is not sent until the schema is fixed", exact=False).scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wt-fixa-schema-held-1280.png")
    page.set_viewport_size({"width": 390, "height": 900})
    page.wait_for_timeout(400)
    if not sidebar.is_visible():
        page.get_by_test_id("stExpandSidebarButton").click()
    sidebar.get_by_text("is not sent until the schema is fixed", exact=False).scroll_into_view_if_needed()
    page.screenshot(path="/tmp/wt-fixa-schema-held-390.png")
    page.set_viewport_size({"width": 1280, "height": 900})

    sidebar.get_by_text("JSON", exact=True).click()
    send(page, "Now any JSON object")
    reply = page.get_by_test_id("stChatMessage").last
    expect(reply.get_by_test_id("stCode")).to_contain_text('"note"', timeout=30_000)
    expect(reply.get_by_text("Valid JSON", exact=False)).to_be_visible()
