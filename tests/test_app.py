"""The chat page, driven by Streamlit's AppTest against the fake API over real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lib.api.fake_api import Behaviour, FakeAPI
from tests.apptest_helpers import bubbles, new_app, page_text, send
from tests.conftest import CANARY_KEY, isolate_env, validate_request


def test_three_turns_send_the_whole_history_with_the_prompt_in_force(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="First answer."), Behaviour(reply="Second answer."), Behaviour(reply="Third answer."))
    at = new_app()
    at.text_area(key="system_prompt").set_value("You are a pirate.").run()
    send(at, "one")
    send(at, "two")
    at.text_area(key="system_prompt").set_value("You are a poet.").run()
    send(at, "three")

    bodies = app_env.bodies()
    assert [[m["role"] for m in b["messages"]] for b in bodies] == [
        ["system", "user"],
        ["system", "user", "assistant", "user"],
        ["system", "user", "assistant", "user", "assistant", "user"],
    ]
    assert [b["messages"][0]["content"] for b in bodies] == ["You are a pirate.", "You are a pirate.", "You are a poet."]
    assert bodies[2]["messages"][1:] == [
        {"role": "user", "content": "one"}, {"role": "assistant", "content": "First answer."},
        {"role": "user", "content": "two"}, {"role": "assistant", "content": "Second answer."},
        {"role": "user", "content": "three"},
    ]
    for body in bodies:
        assert body["stream"] is True and body["stream_options"] == {"include_usage": True}
        validate_request(body)
    assert bubbles(at) == [
        ("user", "one"), ("assistant", "First answer."), ("user", "two"),
        ("assistant", "Second answer."), ("user", "three"), ("assistant", "Third answer."),
    ]
    assert "You are a poet." in page_text(at)


def test_figures_show_what_the_server_reported(app_env: FakeAPI) -> None:
    # Paced, so that the speed is measured over a real generation time.
    app_env.plan(Behaviour(reply="alpha beta gamma delta", token_rate=20))
    at = send(new_app(), "count these")
    caption = " ".join(c.value for c in at.chat_message[1].caption)
    body = app_env.bodies()[0]
    from lib.api.fake_api import count_prompt_tokens

    prompt_tokens = count_prompt_tokens(body["messages"])
    assert f"prompt **{prompt_tokens}**" in caption
    assert "completion **4**" in caption
    assert f"total **{prompt_tokens + 4}**" in caption
    assert "cost **$0.000" in caption
    for label in ("first token", "time", "speed", "tok/s"):
        assert label in caption
    metrics = {m.label: m.value for m in at.sidebar.metric}
    assert metrics["Requests"] == "1"
    assert metrics["Tokens out"] == "4"


def test_unknown_cost_shows_a_dash_not_zero(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="no usage here", ending="bare"))
    at = send(new_app(), "hi")
    caption = " ".join(c.value for c in at.chat_message[1].caption)
    assert "cost **—**" in caption
    assert "$0" not in caption


def test_cost_from_meta_when_usage_has_none(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="x y", cost_in="meta", ending="done"))
    at = send(new_app(), "hi")
    caption = " ".join(c.value for c in at.chat_message[1].caption)
    assert "cost **$0.000" in caption


def test_a_reply_cut_by_length_says_so(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="a b c", finish_reason="length"))
    at = send(new_app(), "hi")
    assert any("maximum length" in w.value for w in at.warning)


def test_demo_mode_without_any_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    isolate_env(monkeypatch, tmp_path)
    at = new_app()
    banner = " ".join(i.value for i in at.info)
    for words in ("Demo mode", "offline", "no API key", "AIMLAPI_API_KEY"):
        assert words in banner
    send(at, "Hello demo")
    assert bubbles(at)[0] == ("user", "Hello demo")
    assert "offline demo model" in bubbles(at)[1][1]
    caption = " ".join(c.value for c in at.chat_message[1].caption)
    assert "completion **" in caption and "cost **$" in caption


def test_two_sessions_never_see_each_others_chat(app_env: FakeAPI) -> None:
    first, second = new_app(), new_app()
    send(first, "secret of session one")
    send(second, "hello from two")
    assert "secret of session one" not in str(bubbles(second))
    assert "hello from two" not in str(bubbles(first.run()))
    assert [m["content"] for m in app_env.bodies()[1]["messages"] if m["role"] == "user"] == ["hello from two"]


def test_with_history_off_a_session_shows_nothing_of_another(app_env: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_HISTORY", "off")
    first, second = new_app(), new_app()
    send(first, "secret of session one")
    send(second, "hello from two")
    assert "secret of session one" not in page_text(second)
    assert "History is off" in page_text(second)


def test_key_typed_in_the_sidebar_is_used_and_never_shown(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_api: FakeAPI
) -> None:
    isolate_env(monkeypatch, tmp_path, AIMLAPI_BASE_URL=fake_api.url)
    at = new_app()
    assert any("Demo mode" in i.value for i in at.info)
    at.text_input(key="typed_key").input(CANARY_KEY).run()
    assert not any("Demo mode" in i.value for i in at.info)
    send(at, "hi")
    assert fake_api.requests[0].headers["Authorization"] == f"Bearer {CANARY_KEY}"
    assert CANARY_KEY not in page_text(at)


def test_a_typed_key_lasts_across_a_visit_to_history(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_api: FakeAPI
) -> None:
    """Streamlit drops a widget's state on a page that does not draw it; the key must not go with it."""
    isolate_env(monkeypatch, tmp_path, AIMLAPI_BASE_URL=fake_api.url)
    at = new_app()
    at.text_input(key="typed_key").input(CANARY_KEY).run()
    at.switch_page("pages/1_History.py").run()
    at.switch_page("app.py").run()
    assert not any("Demo mode" in i.value for i in at.info), "back in demo mode after visiting History"
    send(at, "hi")
    assert fake_api.requests[0].headers["Authorization"] == f"Bearer {CANARY_KEY}"
    assert CANARY_KEY not in page_text(at)
    assert at.text_input(key="typed_key").value == "", "the key is never sent back to the browser"
    next(b for b in at.button if b.label == "Forget the typed key").click().run()
    assert any("Demo mode" in i.value for i in at.info), "forgotten: back to the demo model, and it says so"


def test_a_message_leaves_from_the_chat_inputs_callback_before_the_page_runs(
    app_env: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The request goes out before the page's set-up (its sign-in gate first of all): #16, turn 1."""
    import streamlit as st

    import lib.api.client
    import ui.people

    app_env.plan(Behaviour(reply="Late answer.", first_token_delay=0.5))
    at = new_app()
    seen_at_the_gate: list[tuple[bool, bool]] = []
    gate = ui.people.require_sign_in

    def watched_gate() -> object:
        chat = st.session_state.get("chat")
        live = chat.reply_in_flight() if chat is not None else None
        seen_at_the_gate.append((live is not None, live is not None and live.wait_sent(0)))
        return gate()

    class SlowToWrite(lib.api.client._SignallingBody):
        def read(self, size: int | None = -1, /) -> bytes:
            if not self.tell():
                time.sleep(0.015)  # a request slow to write: the page still waits for it
            return super().read(size)

    monkeypatch.setattr(ui.people, "require_sign_in", watched_gate)
    monkeypatch.setattr(lib.api.client, "_SignallingBody", SlowToWrite)
    send(at, "a question")
    on_its_way, written = seen_at_the_gate[0]
    assert on_its_way, "the reply was not on its way when the page's script began"
    assert written, "the page went on before its request was written out"
    assert bubbles(at)[-2:] == [("user", "a question"), ("assistant", "Late answer.")]
    assert len(app_env.bodies()) == 1


def test_the_callback_leaves_another_persons_session_to_the_page(app_env: FakeAPI) -> None:
    """A session made for someone else (signed out and in as another): nothing of theirs goes out."""
    from ui.people import SESSION_OWNER

    app_env.plan(Behaviour(reply="First answer."), Behaviour(reply="Second answer."))
    at = send(new_app(), "the first person's secret")
    at.session_state[SESSION_OWNER] = "issuer|somebody else"
    send(at, "a question")
    later = app_env.bodies()[1:]
    assert not any("secret" in str(body["messages"]) for body in later), "another person's chat went out"
