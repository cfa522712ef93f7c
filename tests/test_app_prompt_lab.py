"""The chat page's part of the prompt lab (#13), with AppTest: templates, structured output, View code."""

from __future__ import annotations

import json

from lib.api.fake_api import Behaviour, FakeAPI
from tests.apptest_helpers import new_app, open_panel, page_text, send
from tests.conftest import CANARY_KEY, validate_request

SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


def test_a_message_with_variables_waits_for_them_and_cancel_gives_it_back(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="Done."))
    at = new_app()
    typed = "Write a {{tone|formal,casual=casual}} note to {{name}} about {{topic:long}} on {{date}}."
    send(at, typed)
    assert app_env.bodies() == [], "nothing is sent before the values are in"
    assert at.selectbox(key="template-tone").value == "casual", "the default is filled in"
    assert at.text_area(key="template-topic") is not None and at.text_input(key="template-name").value == ""
    assert "Filled in for you: {{date}}" in page_text(at)

    at.button[[b.label for b in at.button].index("Cancel")].click().run()
    assert not at.exception, at.exception
    assert at.chat_input[0].value == typed, "the typed text is back in the chat input"
    at.run()
    assert app_env.bodies() == [] and not at.chat_message, "and it is not sent by itself"
    assert not [t for t in at.text_input if t.key == "template-name"], "the form is gone"

    send(at, "Hi {{name}}, {{greeting=hello}}!")
    at.text_input(key="template-name").input("Ada")
    at.button[[b.label for b in at.button].index("Send")].click().run()
    at.run()
    assert not at.exception, at.exception
    assert app_env.bodies()[0]["messages"][-1]["content"] == "Hi Ada, hello!"


def test_a_blank_required_value_is_asked_for_again(app_env: FakeAPI) -> None:
    at = new_app()
    send(at, "Hi {{name}}")
    at.button[[b.label for b in at.button].index("Send")].click().run()
    assert "Fill in name." in page_text(at)
    assert app_env.bodies() == []


def test_a_preset_keeps_its_template(app_env: FakeAPI) -> None:
    at = new_app()
    template = "You are {{persona}}. Answer in a {{tone|formal,casual}} tone, on {{date}}. \\{{literal}}"
    at.text_area(key="system_prompt").input(template).run()
    open_panel(at, "preset_open")
    at.text_input(key="preset_name").input("Persona").run()
    at.button(key="preset_save").click().run()
    at.selectbox(key="preset_choice").select("Concise").run()
    assert at.text_area(key="system_prompt").value != template
    at.selectbox(key="preset_choice").select("Persona").run()
    assert not at.exception, at.exception
    assert at.text_area(key="system_prompt").value == template
    fresh = new_app()  # another session reads the presets from the store
    fresh.selectbox(key="preset_choice").select("Persona").run()
    assert fresh.text_area(key="system_prompt").value == template


def test_the_system_prompts_values_are_asked_once_and_sent_filled(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="One."), Behaviour(reply="Two."))
    at = new_app()
    at.text_area(key="system_prompt").input("You are {{persona}}.").run()
    send(at, "hello")
    at.text_input(key="template-persona").input("a pirate")
    at.button[[b.label for b in at.button].index("Send")].click().run()
    at.run()
    send(at, "again")
    at.run()
    assert not at.exception, at.exception
    assert [b["messages"][0]["content"] for b in app_env.bodies()] == ["You are a pirate."] * 2


def test_json_schema_mode_checks_the_schema_before_sending(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply=json.dumps({"city": "Paris"})))
    at = new_app()
    at.radio(key="response_mode").set_value("JSON schema").run()
    at.text_area(key="response_schema").input('{"type": "object", "properties": ').run()
    assert "The schema is not valid JSON" in page_text(at)
    send(at, "Where is the Louvre?")
    assert app_env.bodies() == [], "nothing is sent with a broken schema"
    assert "Not sent." in page_text(at)
    assert at.chat_input[0].value == "Where is the Louvre?", "the message is back in the chat input"

    at.text_area(key="response_schema").input(json.dumps(SCHEMA)).run()
    send(at, "Where is the Louvre?")
    at.run()
    assert not at.exception, at.exception
    [body] = app_env.bodies()
    assert body["response_format"] == {"type": "json_schema", "json_schema": {"name": "reply", "schema": SCHEMA}}
    validate_request(body, "gemma-3-27b-it.json")
    assert any('"city": "Paris"' in c.value for c in at.code)
    assert "Valid JSON, matching the schema." in page_text(at)


def test_response_format_is_offered_only_where_the_spec_has_it(app_env: FakeAPI) -> None:
    at = new_app()
    assert at.radio(key="response_mode").options == ["Text", "JSON", "JSON schema"]
    at.selectbox(key="model_choice").select("google/gemma-3-12b-it").run()
    assert not [r for r in at.radio if r.key == "response_mode"]


def test_view_code_shows_the_request_with_the_key_from_the_environment(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="Hi."))
    at = new_app()
    send(at, "hello")
    at.run()
    reply = at.session_state["chat"].conversation.path()[-1]
    at.button(key=f"code-{reply.id}").click().run()  # opens its dialog
    assert not at.exception, at.exception
    codes = [c.value for c in at.code]
    assert any("requests.post(" in c for c in codes) and any("curl " in c for c in codes)
    assert all(CANARY_KEY not in c for c in codes) and any("AIMLAPI_API_KEY" in c for c in codes)


def test_an_edited_message_with_variables_asks_for_them_and_cancel_reopens_the_edit(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="First."), Behaviour(reply="Second."))
    at = new_app()
    send(at, "hello")
    at.run()
    question = at.session_state["chat"].conversation.path()[0]
    at.button(key=f"edit-{question.id}").click().run()
    at.text_area(key=f"edit-text-{question.id}").input("Hi {{name}}")
    at.button(key=f"send-edit-{question.id}").click().run()
    assert len(app_env.bodies()) == 1, "nothing is sent before the values are in"
    at.button[[b.label for b in at.button].index("Cancel")].click().run()
    assert at.text_area(key=f"edit-text-{question.id}").value == "Hi {{name}}", "the edit is back as typed"

    at.button(key=f"send-edit-{question.id}").click().run()
    at.text_input(key="template-name").input("Ada")
    at.button[[b.label for b in at.button].index("Send")].click().run()
    at.run()
    assert not at.exception, at.exception
    assert app_env.bodies()[1]["messages"][-1]["content"] == "Hi Ada"


def test_a_reply_from_a_model_that_was_not_sent_the_format_is_shown_as_text(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="Plain **words**."))
    at = new_app()
    at.radio(key="response_mode").set_value("JSON").run()
    at.selectbox(key="model_choice").select("google/gemma-3-12b-it").run()
    send(at, "hello")
    at.run()
    assert "response_format" not in app_env.bodies()[0]
    assert "Plain **words**." in [m.value for m in at.chat_message[-1].markdown]
    assert "Not JSON" not in page_text(at)


def test_the_sidebar_does_not_say_a_broken_schema_is_sent(app_env: FakeAPI) -> None:
    at = new_app()
    at.radio(key="response_mode").set_value("JSON schema").run()  # the example schema: valid, sent
    at.run()  # the sidebar's line is drawn above the choice: it shows the format from the next run
    captions = [c.value for c in at.sidebar.caption]
    assert any(c.startswith("Sent: ") and "response_format=json_schema" in c for c in captions)
    at.text_area(key="response_schema").input('{"type": "object", "properties": ').run()
    captions = [c.value for c in at.sidebar.caption]
    assert not any(c.startswith("Sent: ") and "response_format" in c for c in captions)
    assert any("`response_format=json_schema` is not sent until the schema is fixed" in c for c in captions)
    at.text_area(key="response_schema").input(json.dumps(SCHEMA)).run()
    at.run()
    assert any(c.startswith("Sent: ") and "response_format=json_schema" in c for c in at.sidebar.caption.values)
