"""What a user sees when the API or the network misbehaves: a clear message, nothing lost."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.store.exporting import EXPORT_FORMATS
from tests.apptest_helpers import bubbles, new_app, page_text, send
from tests.conftest import CANARY_KEY, isolate_env

HOSTILE = (
    "Look: <script>window.pwned=1</script> <img src=x onerror=\"window.pwned=2\"> "
    "[click me](javascript:window.pwned=3) <iframe src=\"javascript:window.pwned=4\"></iframe> "
    "<b onmouseover=alert(1)>bold</b>"
)


def errors(at: AppTest) -> str:
    return " ".join(e.value for e in at.error)


def user_turns(body: dict) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def test_401_says_where_to_set_the_key_and_retry_sends_the_message_once(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(status=401))
    at = send(new_app(), "hello")
    message = errors(at)
    assert "API key" in message and "AIMLAPI_API_KEY" in message and "sidebar" in message
    assert "Request id" in message
    assert bubbles(at) == [("user", "hello")]
    retry = [b for b in at.button if "Retry" in b.label]
    assert len(retry) == 1
    app_env.plan(Behaviour(reply="Now it works."))
    retry[0].click().run()
    assert not at.exception
    assert bubbles(at) == [("user", "hello"), ("assistant", "Now it works.")]
    assert [user_turns(b) for b in app_env.bodies()] == [["hello"], ["hello"]]
    assert not at.error


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (400, "Invalid payload provided"),
        (403, "out of credits"),
        (404, "model"),
        (500, "server error"),
        (502, "server error"),
        (503, "server error"),
        (504, "server error"),
    ],
)
def test_each_status_has_its_own_message(app_env: FakeAPI, status: int, words: str) -> None:
    app_env.default = Behaviour(status=status)
    at = send(new_app(), "hi")
    assert words.lower() in errors(at).lower()
    assert bubbles(at) == [("user", "hi")]
    assert not at.exception


def test_problem_json_errors_are_read_too(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(status=400, error_shape="problem", error_message="temperature must be <= 2"))
    at = send(new_app(), "hi")
    assert "temperature must be <= 2" in errors(at)
    assert "Request id" in errors(at)


def test_a_non_json_error_body_is_still_a_clear_message(app_env: FakeAPI) -> None:
    app_env.default = Behaviour(status=502, error_shape="text")
    at = send(new_app(), "hi")
    assert "502" in errors(at) and "not JSON" in errors(at)


def test_429_with_retry_after_ends_in_a_reply(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(status=429, retry_after=1), Behaviour(reply="Patience pays."))
    at = send(new_app(), "hi")
    assert bubbles(at)[-1] == ("assistant", "Patience pays.")
    assert len(app_env.requests) == 2


def test_429_that_persists_ends_in_a_rate_limit_message(app_env: FakeAPI) -> None:
    app_env.default = Behaviour(status=429, retry_after=0)
    at = send(new_app(), "hi")
    assert "Rate limited" in errors(at)
    assert len(app_env.requests) == 3  # the first try and AIMLAPI_MAX_RETRIES=2


def test_a_stream_cut_midway_keeps_its_text_and_the_question(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="one two three four five six", drop_after=3))
    at = send(new_app(), "count")
    assert bubbles(at) == [("user", "count"), ("assistant", "one two three")]
    assert any("Incomplete reply" in w.value and "dropped" in w.value for w in at.warning)
    assert [b.label for b in at.button if b.label in ("Retry", "Regenerate")] == ["Retry"], "one button, not two that do the same"


def test_retry_after_a_cut_keeps_the_partial_reply_as_an_earlier_version(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="one two three four", drop_after=2), Behaviour(reply="Whole answer."))
    at = send(new_app(), "count")
    next(b for b in at.button if b.label == "Retry").click().run()
    assert bubbles(at) == [("user", "count"), ("assistant", "Whole answer.")]
    assert user_turns(app_env.bodies()[1]) == ["count"]
    assert [m["role"] for m in app_env.bodies()[1]["messages"]] == ["system", "user"]
    assert any(c.value == "reply 2 of 2" for c in at.caption)


def test_a_malformed_chunk_shows_a_message_not_a_traceback(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="alpha beta gamma", malformed_after=1))
    at = send(new_app(), "hi")
    assert not at.exception
    assert any("not JSON" in w.value for w in at.warning)
    assert bubbles(at)[-1] == ("assistant", "alpha")


def test_a_response_with_no_choices_is_reported(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(body="no_choices"))
    at = send(new_app(), "hi")
    assert "no choices" in errors(at)


def test_read_timeout_is_reported(app_env: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIMLAPI_READ_TIMEOUT", "0.3")
    import streamlit as st

    st.cache_resource.clear()
    app_env.plan(Behaviour(response_delay=1.5))
    at = send(new_app(), "hi")
    assert "did not start answering within 0.3 s" in errors(at)


def test_connection_refused_is_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with FakeAPI() as gone:
        url = gone.url
    isolate_env(monkeypatch, tmp_path, AIMLAPI_API_KEY=CANARY_KEY, AIMLAPI_BASE_URL=url, AIMLAPI_MAX_RETRIES="0")
    at = send(new_app(), "hi")
    assert "Could not reach" in errors(at) and "connection refused" in errors(at)


def test_typing_instead_of_retrying_sends_both_as_one_turn(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(status=500), Behaviour(status=500), Behaviour(status=500), Behaviour(reply="Both seen."))
    at = send(new_app(), "first thought")
    assert at.error
    send(at, "second thought")
    assert bubbles(at) == [("user", "first thought\n\nsecond thought"), ("assistant", "Both seen.")]
    assert [m["role"] for m in app_env.bodies()[-1]["messages"]] == ["system", "user"]


def test_hostile_reply_is_rendered_without_html(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply=HOSTILE))
    at = send(new_app(), HOSTILE)
    for bubble in at.chat_message:
        for element in bubble.markdown:
            assert element.proto.allow_html is False
    assert not at.get("html")


def test_the_canary_key_is_in_no_page_and_no_log(app_env: FakeAPI, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    app_env.plan(Behaviour(status=401), *[Behaviour(status=500)] * 3, Behaviour(drop_after=1))
    at = send(new_app(), "hi")
    next(b for b in at.button if "Retry" in b.label).click().run()
    next(b for b in at.button if "Retry" in b.label).click().run()
    assert CANARY_KEY not in page_text(at)
    assert any(w.value.startswith("**Incomplete reply.**") for w in at.warning)
    assert CANARY_KEY not in repr({name: at.session_state[name] for name in at.session_state})
    assert CANARY_KEY not in caplog.text
    conversation = at.session_state["chat"].conversation
    for export in EXPORT_FORMATS:
        assert CANARY_KEY not in export.render(conversation)
    database = Path(os.environ["CHAT_DB_PATH"])
    assert database.is_file() and CANARY_KEY.encode() not in database.read_bytes()
