"""Experiment controls on the chat page: regenerate, edit, models, parameters, presets, gauge."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.settings import DEFAULT_SYSTEM_PROMPT
from tests.apptest_helpers import bubbles, new_app, open_panel, send
from tests.conftest import validate_request


def click(at: AppTest, label: str, index: int = -1) -> AppTest:
    buttons = [b for b in at.button if b.label == label]
    assert buttons, f"no button {label!r} among {[b.label for b in at.button]}"
    buttons[index].click().run()
    assert not at.exception, at.exception
    return at


def roles(body: dict) -> list[str]:
    return [m["role"] for m in body["messages"]]


def test_regenerate_resends_without_the_old_reply_and_keeps_both(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="First try."), Behaviour(reply="Second try."))
    at = send(new_app(), "hi")
    click(at, "Regenerate")
    assert roles(app_env.bodies()[1]) == ["system", "user"]
    assert bubbles(at) == [("user", "hi"), ("assistant", "Second try.")]
    assert any(c.value == "reply 2 of 2" for c in at.caption)
    click(at, "◀")
    assert bubbles(at) == [("user", "hi"), ("assistant", "First try.")]
    assert any(c.value == "reply 1 of 2" for c in at.caption)


def test_edit_an_earlier_message_resends_from_there(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="A1"), Behaviour(reply="A2"), Behaviour(reply="A1 edited"))
    at = send(new_app(), "first")
    send(at, "second")
    click(at, "Edit", index=0)
    at.text_area(key=f"edit-text-{at.session_state.chat.conversation.path()[0].id}").set_value("first, edited")
    click(at, "Send")
    assert bubbles(at) == [("user", "first, edited"), ("assistant", "A1 edited")]
    assert app_env.bodies()[-1]["messages"][1:] == [{"role": "user", "content": "first, edited"}]
    assert any(c.value == "message 2 of 2" for c in at.caption)
    click(at, "◀", index=0)
    assert [text for _, text in bubbles(at)] == ["first", "A1", "second", "A2"]


def test_a_small_gemma_gets_the_prompt_folded_into_the_first_message(app_env: FakeAPI) -> None:
    at = new_app()
    at.selectbox(key="model_choice").select("google/gemma-3-4b-it").run()
    send(at, "hello")
    body = app_env.bodies()[0]
    assert body["model"] == "google/gemma-3-4b-it"
    assert roles(body) == ["user"]
    assert body["messages"][0]["content"] == f"{DEFAULT_SYSTEM_PROMPT}\n\nhello"
    validate_request(body, "gemma-3.json")


def test_the_27b_can_take_the_prompt_as_a_developer_message(app_env: FakeAPI) -> None:
    at = new_app()
    at.radio(key="instruction_role").set_value("developer").run()
    send(at, "hello")
    body = app_env.bodies()[0]
    assert roles(body) == ["developer", "user"]
    validate_request(body, "gemma-3-27b-it.json")


def test_any_other_model_id_can_be_typed(app_env: FakeAPI) -> None:
    at = new_app()
    at.selectbox(key="model_choice").select("Other model id…").run()
    at.text_input(key="model_custom").input("gemma3:27b").run()
    send(at, "hello")
    assert app_env.bodies()[0]["model"] == "gemma3:27b"


def test_a_set_temperature_is_sent_and_an_unset_one_is_not(app_env: FakeAPI) -> None:
    at = send(new_app(), "default please")
    assert "temperature" not in app_env.bodies()[0]
    open_panel(at, "params_open")
    at.number_input(key="param-temperature").set_value(0.3).run()
    at.text_area(key="param-stop").input("END\nSTOP").run()
    send(at, "cooler please")
    body = app_env.bodies()[1]
    assert body["temperature"] == 0.3 and body["stop"] == ["END", "STOP"]
    validate_request(body)
    at.session_state["params_open"] = False
    send(at, "panel closed, values kept")
    assert app_env.bodies()[2]["temperature"] == 0.3
    assert any("temperature=0.3" in c.value for c in at.sidebar.caption)
    open_panel(at, "params_open")
    assert at.number_input(key="param-temperature").value == 0.3
    click(at, "Reset to API defaults")
    send(at, "default again")
    assert "temperature" not in app_env.bodies()[3] and "stop" not in app_env.bodies()[3]


def test_too_many_stop_sequences_are_refused_with_a_message(app_env: FakeAPI) -> None:
    at = open_panel(new_app(), "params_open")
    at.text_area(key="param-stop").input("a\nb\nc\nd\ne").run()
    assert any("at most 4" in e.value for e in at.error)
    send(at, "hi")
    assert "stop" not in app_env.bodies()[0]


def test_parameters_a_model_lacks_are_not_offered(app_env: FakeAPI) -> None:
    at = new_app()
    assert not at.number_input, "the fields are drawn only while the panel is open"
    open_panel(at, "params_open")
    assert any(n.label == "Frequency penalty" for n in at.number_input)
    at.selectbox(key="model_choice").select("google/gemma-3n-e4b-it").run()
    labels = [n.label for n in at.number_input]
    assert "Frequency penalty" not in labels and "Temperature" in labels
    assert not any(s.label == "Response format" for s in at.selectbox)


def test_new_chat_starts_empty_and_keeps_the_prompt(app_env: FakeAPI) -> None:
    at = new_app()
    at.text_area(key="system_prompt").set_value("Answer in French.").run()
    send(at, "hello")
    click(at, "New chat")
    assert bubbles(at) == []
    assert at.text_area(key="system_prompt").value == "Answer in French."
    send(at, "again")
    assert app_env.bodies()[-1]["messages"] == [
        {"role": "system", "content": "Answer in French."}, {"role": "user", "content": "again"},
    ]


def test_delete_a_turn(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="A1"), Behaviour(reply="A2"))
    at = send(new_app(), "first")
    send(at, "second")
    click(at, "Delete", index=0)
    assert bubbles(at) == [("user", "second"), ("assistant", "A2")]


def test_a_preset_sets_the_prompt_and_own_presets_can_be_saved(app_env: FakeAPI) -> None:
    at = new_app()
    at.selectbox(key="preset_choice").select("Concise").run()
    concise = at.text_area(key="system_prompt").value
    assert concise != DEFAULT_SYSTEM_PROMPT and concise
    at.text_area(key="system_prompt").set_value("Talk like a sommelier.").run()
    open_panel(at, "preset_open")
    at.text_input(key="preset_name").input("Sommelier").run()
    click(at, "Save")
    assert "Sommelier" in at.selectbox(key="preset_choice").options
    at.selectbox(key="preset_choice").select("Concise").run()
    at.selectbox(key="preset_choice").select("Sommelier").run()
    assert at.text_area(key="system_prompt").value == "Talk like a sommelier."


def test_the_context_gauge_moves_as_the_chat_grows(app_env: FakeAPI) -> None:
    def used(at: AppTest) -> int:
        text = at.sidebar.get("progress")[0].proto.text
        assert "of 128,000 tokens" in text
        return int(text.split("Context: ", 1)[1].lstrip("≈").split(" of ")[0].replace(",", ""))

    at = new_app()
    before = used(at)
    send(at, "word " * 400)
    after = used(at)
    assert after > before + 400
    send(at, "more " * 400)
    assert used(at) > after + 400


def test_an_emptied_number_field_is_not_sent(app_env: FakeAPI) -> None:
    # Clearing a field sends None from the browser; a field whose default was its minimum
    # used to turn that into the minimum (temperature 0, seed 1) and send it.
    at = open_panel(new_app(), "params_open")
    at.number_input(key="param-temperature").set_value(0.7).run()
    at.number_input(key="param-seed").set_value(7).run()
    send(at, "with settings")
    assert app_env.bodies()[0]["temperature"] == 0.7 and app_env.bodies()[0]["seed"] == 7
    at.number_input(key="param-temperature").set_value(None).run()
    at.number_input(key="param-seed").set_value(None).run()
    assert at.number_input(key="param-temperature").value is None
    assert at.number_input(key="param-seed").value is None
    send(at, "with nothing")
    body = app_env.bodies()[1]
    assert "temperature" not in body and "seed" not in body
    assert at.session_state.chat.conversation.params == {}
    validate_request(body)
