"""Two writers of one thing (History and an open tab, two tabs): neither overwrites the other silently."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e.harness import StreamlitServer, idle, open_chat, search_history, send, wait_for_reply

pytestmark = pytest.mark.browser


def test_a_rename_on_history_is_kept_when_the_open_tab_sends_again(
    new_page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="First answer."))
    chat = new_page()
    open_chat(chat, app_server)
    send(chat, "A chat to rename kx42")
    wait_for_reply(chat, "First answer.")

    history = new_page()
    search_history(history, app_server, "kx42")
    title = history.get_by_role("textbox", name="Title")
    expect(title).to_have_value("A chat to rename kx42")
    idle(history)
    title.fill("Renamed on History kx42")
    title.press("Tab")
    idle(history)
    history.get_by_role("button", name="Rename", exact=True).click()
    expect(history.get_by_text("Renamed to “Renamed on History kx42”")).to_be_visible()

    e2e_fake.plan(Behaviour(reply="Second answer."))
    send(chat, "and another message")
    wait_for_reply(chat, "Second answer.")
    expect(chat.get_by_text("Changed elsewhere (History or another tab), and shown here now: the title.")).to_be_visible()
    sidebar = chat.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("button", name="Renamed on History kx42")).to_be_visible()

    search_history(history, app_server, "kx42")
    expect(history.get_by_role("textbox", name="Title")).to_have_value("Renamed on History kx42")
    expect(history.get_by_text("4 messages")).to_be_visible()


def save_preset(page: Any, name: str, prompt: str) -> None:
    sidebar = page.get_by_test_id("stSidebar")
    prompt_box = sidebar.get_by_role("textbox", name="System prompt")
    idle(page)
    prompt_box.fill(prompt)
    prompt_box.press("Tab")
    idle(page)
    expect(prompt_box).to_have_value(prompt)
    sidebar.get_by_role("button", name="Save as preset").click()
    name_box = page.get_by_role("textbox", name="Preset name")
    name_box.fill(name)
    name_box.press("Enter")  # sent with a rerun, before the click
    expect(name_box).to_have_value(name)
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.get_by_role("button", name=f"Delete “{name}”")).to_be_visible()
    page.keyboard.press("Escape")
    expect(sidebar.get_by_role("combobox", name="Preset")).to_have_value(name)


def preset_names(page: Any) -> list[str]:
    page.get_by_test_id("stSidebar").get_by_role("combobox", name="Preset").click()
    names = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    return names


def test_presets_saved_in_two_tabs_are_both_kept(new_page: Any, app_server: StreamlitServer) -> None:
    first, second = new_page(), new_page()
    open_chat(first, app_server)
    open_chat(second, app_server)  # read the presets before the first tab saved one
    save_preset(first, "Pirate", "Talk like a pirate.")
    save_preset(second, "Poet", "Answer in verse.")
    assert {"Pirate", "Poet"} <= set(preset_names(second))
    first.reload()
    first.locator("[data-testid=stChatInputTextArea]").wait_for()
    assert {"Pirate", "Poet"} <= set(preset_names(first))


def test_two_tabs_changing_one_system_prompt_the_later_is_handed_back(
    new_page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="Noted."))
    first = new_page()
    open_chat(first, app_server)
    send(first, "one conversation, two tabs")
    wait_for_reply(first, "Noted.")
    second = new_page()
    open_chat(second, app_server, path="/?" + first.url.split("?", 1)[1])
    expect(second.get_by_test_id("stChatMessage").get_by_text("one conversation, two tabs")).to_be_visible()

    for page, prompt, reply in ((first, "Answer in French.", "Oui."), (second, "Answer in German.", "Ja.")):
        box = page.get_by_test_id("stSidebar").get_by_role("textbox", name="System prompt")
        idle(page)
        box.fill(prompt)
        box.press("Tab")
        idle(page)
        expect(box).to_have_value(prompt)
        e2e_fake.plan(Behaviour(reply=reply))
        send(page, f"now with {prompt}")
        wait_for_reply(page, reply)

    expect(second.get_by_text("Not saved: your change to the system prompt.")).to_be_visible()
    expect(second.get_by_test_id("stCode").get_by_text("Answer in German.")).to_be_visible()  # handed back, to copy
    box = second.get_by_test_id("stSidebar").get_by_role("textbox", name="System prompt")
    expect(box).to_have_value("Answer in French.")
    second.get_by_role("button", name="Dismiss").click()
    expect(second.get_by_text("Not saved: your change to the system prompt.")).to_have_count(0)
