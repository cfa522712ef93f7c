"""The prompt lab in the chat, in a real Chromium: a template's form, and JSON-schema replies (#13)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e.harness import CHAT_INPUT, StreamlitServer, idle, open_chat, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}, "museums": {"type": "integer"}}, "required": ["city"]}


def template_form(page: Any) -> Any:
    form = page.get_by_test_id("stForm")
    expect(form.get_by_text("Fill in the template")).to_be_visible()
    return form


def test_a_message_with_two_variables_is_sent_filled_in_and_cancel_gives_it_back(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="A fine letter."))
    open_chat(page, app_server)

    typed = "Write to {{name}} about {{topic:long}}, in a {{tone|formal,casual=casual}} tone."
    send(page, typed)
    form = template_form(page)
    form.get_by_role("button", name="Cancel").click()
    expect(page.locator(CHAT_INPUT)).to_have_value(typed)
    expect(page.get_by_test_id("stForm")).to_have_count(0)
    idle(page)
    assert e2e_fake.bodies() == [], "a cancelled message is not sent"

    page.locator(CHAT_INPUT).press("Enter")  # sent again as it stands
    form = template_form(page)
    form.get_by_role("textbox", name="name").fill("Ada")
    form.get_by_role("textbox", name="topic").fill("engines\nand numbers")
    form.get_by_role("button", name="Send").click()
    wait_for_reply(page, "A fine letter.")
    wait_for(lambda: e2e_fake.bodies(), what="the request")
    assert e2e_fake.bodies()[0]["messages"][-1]["content"] == "Write to Ada about engines\nand numbers, in a casual tone."


def test_json_schema_mode_refuses_a_broken_schema_and_shows_a_valid_reply_as_json(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply=json.dumps({"city": "Paris", "museums": 130})))
    open_chat(page, app_server)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("JSON schema", exact=True).click()
    schema = sidebar.get_by_role("textbox", name="JSON schema")
    schema.fill('{"type": "object", "properties": ')
    schema.press("Tab")
    expect(sidebar.get_by_text("The schema is not valid JSON", exact=False)).to_be_visible()

    send(page, "Where is the Louvre?")
    expect(page.get_by_text("Not sent.", exact=False)).to_be_visible()
    idle(page)
    assert e2e_fake.bodies() == [], "nothing is sent with a broken schema"

    schema.fill(json.dumps(SCHEMA))
    schema.press("Tab")
    expect(sidebar.get_by_text("The schema is not valid JSON", exact=False)).to_have_count(0)
    send(page, "Where is the Louvre?")
    reply = page.get_by_test_id("stChatMessage").last
    expect(reply.get_by_text("Valid JSON, matching the schema.")).to_be_visible(timeout=30_000)
    code = reply.get_by_test_id("stCode").inner_text()
    assert '"city": "Paris"' in code and '"museums": 130' in code, "formatted, one key a line"
    [body] = e2e_fake.bodies()
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "reply", "schema": SCHEMA}}


def test_a_message_typed_while_the_template_form_waits_is_not_merged_into_the_templates_message(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    # It was taken as sent, drawn above the form, and later sent glued before the filled-in template.
    e2e_fake.plan(Behaviour(reply="A short poem."))
    open_chat(page, app_server)
    send(page, "Write a {{kind}} poem.")
    template_form(page)
    idle(page)
    send(page, "An unrelated question")
    expect(page.get_by_text("Not sent.")).to_be_visible()
    expect(page.locator(CHAT_INPUT)).to_have_value("An unrelated question")  # handed back, not lost
    idle(page)
    assert e2e_fake.bodies() == []
    form = template_form(page)
    form.get_by_role("textbox", name="kind").fill("short")
    form.get_by_role("button", name="Send").click()
    wait_for_reply(page, "A short poem.")
    wait_for(lambda: e2e_fake.bodies(), what="the request")
    sent = [m["content"] for m in e2e_fake.bodies()[0]["messages"] if m["role"] == "user"]
    assert sent == ["Write a short poem."]

    # The question handed back goes with one Enter, now that the form is done.
    e2e_fake.plan(Behaviour(reply="An unrelated answer."))
    expect(page.locator(CHAT_INPUT)).to_have_value("An unrelated question")
    page.locator(CHAT_INPUT).press("Enter")
    wait_for_reply(page, "An unrelated answer.")
    assert [m["content"] for m in e2e_fake.bodies()[-1]["messages"] if m["role"] == "user"][-1] == "An unrelated question"
