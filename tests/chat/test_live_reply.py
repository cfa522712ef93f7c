"""lib.chat.live_reply: a reply streamed on a worker thread, watched and stopped from the page.

Streaming, Stop and a dropped stream are tested under each framing of the fake's answers
(chunked, close-delimited, gzip over each): see the ``framing`` fixture."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace

import pytest

from lib.api.client import ChatClient
from lib.api.fake_api import (
    DEMO_PRICE_IN,
    DEMO_PRICE_OUT,
    FRAMINGS,
    Behaviour,
    FakeAPI,
    Framing,
    count_prompt_tokens,
    split_tokens,
)
from lib.api.request import build_body
from lib.chat.live_reply import FRAME, LONG_TEXT, LONG_TEXT_INTERVAL, LiveReply, ReplyView, redraw_interval, start_reply
from lib.errors import AuthenticationError, ChatError, ServerError, StreamInterruptedError
from lib.settings import Settings, load_settings
from tests.api.test_client import closed_port
from tests.conftest import CANARY_KEY

MODEL = "google/gemma-3-27b-it"
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Count to six."}]
BODY = build_body(MODEL, MESSAGES)
REPLY = "one two three four five six"
LONG_REPLY = " ".join(f"word{i}" for i in range(40))
UUID = re.compile(r"^[0-9a-f-]{36}$")


@pytest.fixture(params=FRAMINGS)
def framing(request: pytest.FixtureRequest, fake_api: FakeAPI) -> Framing:
    """Run the test once per framing of the fake's answers."""
    fake_api.framing = request.param
    return request.param


def finish(reply: LiveReply, timeout: float = 5) -> None:
    assert reply.wait(timeout), "the reply did not end in time"


def wait_for_text(reply: LiveReply, timeout: float = 3) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if reply.text:
            return reply.text
        time.sleep(0.01)
    raise AssertionError("no text arrived")


# -- views ---------------------------------------------------------------------------


def test_views_grow_progressively_and_end(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, token_rate=40))
    views: list[ReplyView] = list(start_reply(client, BODY).views(tick=0.02))
    texts = [v.text for v in views]
    for earlier, later in zip(texts, texts[1:], strict=False):
        assert later.startswith(earlier), f"{later!r} does not extend {earlier!r}"
    distinct = {t for t in texts if t}
    assert len(distinct) >= 3, f"the text did not stream in pieces: {texts}"
    assert views[-1].done and views[-1].text == REPLY and not views[-1].waiting
    first_done = next(i for i, v in enumerate(views) if v.done)
    assert first_done >= len(views) - 2, "views() ends right after the reply does"
    assert all(v.text == REPLY for v in views[first_done:])
    assert all(v.waiting == (v.text == "") for v in views)


def test_the_first_text_shows_long_before_the_end(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    """A close-delimited body used to reach the page only once it was whole."""
    fake_api.plan(Behaviour(reply=LONG_REPLY[:60], token_rate=5))  # 10 tokens: 1.8 s
    reply = start_reply(client, BODY)
    started = time.monotonic()
    wait_for_text(reply)
    first = time.monotonic() - started
    finish(reply)
    total = time.monotonic() - started
    assert total > 1.5 and first < 0.5, f"first text after {first:.2f} s of {total:.2f} s"


def test_views_tick_while_waiting_for_the_first_token(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    """The page needs a redraw point every tick, even before any text, to react to Stop."""
    fake_api.plan(Behaviour(reply="late", first_token_delay=0.5))
    views = list(start_reply(client, BODY).views(tick=0.05))
    empty = [v for v in views if v.text == "" and not v.done]
    assert len(empty) >= 4
    assert all(v.waiting for v in empty)
    assert views[-1].text == "late"


# -- outcomes ------------------------------------------------------------------------


def test_outcome_of_a_successful_reply(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, first_token_delay=0.05))
    reply = start_reply(client, BODY)
    finish(reply)
    outcome = reply.outcome()
    assert outcome.text == REPLY
    assert outcome.error is None and not outcome.stopped
    assert outcome.status == "complete"
    stats = outcome.stats
    completion = len(split_tokens(REPLY))
    prompt = count_prompt_tokens(MESSAGES)
    assert stats.usage is not None
    assert (stats.usage.prompt_tokens, stats.usage.completion_tokens, stats.usage.total_tokens) == (
        prompt, completion, prompt + completion,
    )
    assert stats.cost is not None and stats.cost.source == "reported"
    assert stats.cost.usd == pytest.approx((prompt * DEMO_PRICE_IN + completion * DEMO_PRICE_OUT) / 1e6)
    assert stats.time_to_first_token is not None and stats.total_time is not None
    assert 0.04 <= stats.time_to_first_token <= stats.total_time < 5
    assert stats.finish_reason == "stop"
    assert stats.model == f"{MODEL}:free"
    assert stats.provider == "FakeRun"
    assert stats.request_id and UUID.match(stats.request_id)


def test_outcome_finish_reason_length(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply=REPLY, finish_reason="length"))
    reply = start_reply(client, BODY)
    finish(reply)
    assert reply.outcome().stats.finish_reason == "length"
    assert reply.outcome().status == "complete"


def test_cost_from_meta_when_usage_has_none(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply=REPLY, cost_in="meta"))
    reply = start_reply(client, BODY)
    finish(reply)
    cost = reply.outcome().stats.cost
    assert cost is not None and cost.source == "meta" and cost.usd > 0


def test_cost_is_estimated_from_configured_prices_when_none_is_reported(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatClient(replace(settings, price_input_per_m=1.0, price_output_per_m=2.0))
    fake_api.plan(Behaviour(reply=REPLY, cost_in="none"))
    reply = start_reply(chat, BODY)
    finish(reply)
    cost = reply.outcome().stats.cost
    prompt, completion = count_prompt_tokens(MESSAGES), len(split_tokens(REPLY))
    assert cost is not None and cost.is_estimate
    assert cost.usd == pytest.approx((prompt * 1.0 + completion * 2.0) / 1e6)


def test_cost_stays_unknown_without_prices(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply=REPLY, cost_in="none"))
    reply = start_reply(client, BODY)
    finish(reply)
    assert reply.outcome().stats.cost is None
    assert reply.outcome().stats.usage is not None


def test_failure_before_any_text(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(*[Behaviour(status=503)] * 3)
    reply = start_reply(client, BODY)
    views = list(reply.views(tick=0.05))
    outcome = reply.outcome()
    assert isinstance(outcome.error, ServerError)
    assert outcome.text == "" and views[-1].text == ""
    assert not outcome.stopped
    assert outcome.status == "incomplete"
    assert outcome.stats.time_to_first_token is None
    assert outcome.stats.total_time is not None
    assert CANARY_KEY not in str(outcome.error)


def test_rejected_key_is_reported(settings: Settings, fake_api: FakeAPI) -> None:
    reply = start_reply(ChatClient(settings.with_key("sk-not-the-right-one")), BODY)
    finish(reply)
    assert isinstance(reply.outcome().error, AuthenticationError)
    assert reply.outcome().text == ""


def test_failure_mid_stream_keeps_the_partial_text(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, drop_after=3))
    reply = start_reply(client, BODY)
    finish(reply)
    outcome = reply.outcome()
    assert outcome.text == "one two three"
    assert isinstance(outcome.error, StreamInterruptedError)
    assert outcome.status == "incomplete"
    assert outcome.stats.time_to_first_token is not None


# -- stop ----------------------------------------------------------------------------


@pytest.mark.parametrize("framing", FRAMINGS)
def test_stop_during_a_slow_stream(framing: Framing) -> None:
    # A server of its own, so that no other test's hung-up stream adds to its disconnect count.
    with FakeAPI(api_key=CANARY_KEY, framing=framing) as api:
        chat = ChatClient(load_settings({"AIMLAPI_API_KEY": CANARY_KEY, "AIMLAPI_BASE_URL": api.url}))
        api.plan(Behaviour(reply=LONG_REPLY, token_rate=5))
        reply = start_reply(chat, BODY)
        wait_for_text(reply)
        started = time.monotonic()
        reply.stop()
        assert time.monotonic() - started < 0.3, "Stop waits for the worker, which must end at once"
        outcome = reply.outcome()
        assert outcome.stopped and outcome.error is None
        assert outcome.status == "stopped"
        assert outcome.text and LONG_REPLY.startswith(outcome.text) and outcome.text != LONG_REPLY
        assert reply.wait(1.0)
        assert reply.view().done
        deadline = time.monotonic() + 2
        while api.disconnects == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert api.disconnects == 1, "the server did not see the client hang up"
        # the text no longer grows after Stop
        frozen = reply.text
        time.sleep(0.3)
        assert reply.text == frozen


def test_wait_sent_returns_once_the_request_is_out_not_once_answered(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply=REPLY, response_delay=1.0))
    reply = start_reply(client, BODY)
    started = time.monotonic()
    assert reply.wait_sent(0.8), "the request was written long before the answer"
    assert time.monotonic() - started < 0.5
    assert reply.view().waiting and reply.running
    finish(reply)
    assert reply.outcome().text == REPLY


def test_wait_sent_returns_when_the_request_cannot_leave(settings: Settings) -> None:
    unreachable = replace(settings, base_url=f"http://127.0.0.1:{closed_port()}/v1", max_retries=0)
    reply = start_reply(ChatClient(unreachable), BODY)
    assert reply.wait_sent(5), "whoever waits must go on when nothing can be sent"
    finish(reply)
    assert reply.outcome().error is not None


def test_stop_returns_at_once_even_when_the_server_is_silent(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, first_token_delay=1.8))
    reply = start_reply(client, BODY)
    time.sleep(0.2)  # headers are in; the worker now waits for the first token
    started = time.monotonic()
    reply.stop()
    assert time.monotonic() - started < 0.3
    assert reply.wait(0.1) and reply.outcome().stopped and reply.outcome().text == ""


def test_stop_logs_no_error(client: ChatClient, fake_api: FakeAPI, framing: Framing, caplog: pytest.LogCaptureFixture) -> None:
    fake_api.plan(Behaviour(reply=LONG_REPLY, token_rate=10))
    reply = start_reply(client, BODY)
    wait_for_text(reply)
    with caplog.at_level(logging.WARNING):
        reply.stop()
        finish(reply)
    assert reply.outcome().stopped
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []


def test_stop_after_the_end_changes_nothing(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply=REPLY))
    reply = start_reply(client, BODY)
    finish(reply)
    reply.stop()
    outcome = reply.outcome()
    assert not outcome.stopped and outcome.status == "complete" and outcome.text == REPLY


def test_stop_during_a_retry_wait_ends_without_text(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=429, retry_after=1), Behaviour(reply=REPLY, token_rate=5))
    reply = start_reply(client, BODY)
    time.sleep(0.2)
    reply.stop()
    finish(reply, 3)
    outcome = reply.outcome()
    assert outcome.stopped and outcome.error is None
    assert outcome.text == ""


# -- notes and faults ----------------------------------------------------------------


def test_retry_note_is_shown_while_waiting_on_retry_after(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=429, retry_after=1), Behaviour(reply=REPLY))
    views = list(start_reply(client, BODY).views(tick=0.05))
    noted = [v for v in views if v.note]
    assert noted, "no view showed the retry"
    assert noted[0].note.startswith("Rate limited (429): retrying in 1 s")
    assert all(v.text == "" and v.waiting for v in noted)
    assert len(noted) >= 5, "the note stays up during the whole 1 s wait"
    assert views[-1].note == "" and views[-1].text == REPLY


def test_server_error_note_without_seconds(client: ChatClient) -> None:
    reply = LiveReply(client, BODY)
    reply._on_retry(0.02, 503)
    assert reply.view().note == "Server error (503): retrying…"
    reply._on_retry(2.4, 502)
    assert reply.view().note == "Server error (502): retrying in 3 s…"


def test_the_wait_for_a_retry_counts_down(client: ChatClient) -> None:
    reply = LiveReply(client, BODY)
    reply._on_retry(2.0, 429)
    assert reply.view().note == "Rate limited (429): retrying in 2 s…"
    time.sleep(1.1)
    assert reply.view().note == "Rate limited (429): retrying in 1 s…"


def test_unexpected_exception_becomes_a_chat_error_without_the_key(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A key of its own: protect_logs() elsewhere in the session may already mask CANARY_KEY globally.
    key = "sk-live-reply-0f1e2d3c4b5a69788796a5b4"
    client = ChatClient(settings.with_key(key))

    def broken(body: dict, on_retry: object = None, request_id: object = None) -> None:
        raise RuntimeError(f"kaput while holding {key}")

    monkeypatch.setattr(client, "stream", broken)
    with caplog.at_level(logging.ERROR, logger="lib.chat.live_reply"):
        reply = start_reply(client, BODY)
        finish(reply)
    outcome = reply.outcome()
    assert type(outcome.error) is ChatError
    assert "RuntimeError" in str(outcome.error)
    assert key not in str(outcome.error) and key not in repr(outcome.error)
    assert outcome.text == "" and outcome.status == "incomplete"
    assert "RuntimeError" in caplog.text, "the fault is logged for the developer"
    assert key not in caplog.text


def test_unexpected_exception_mid_stream_keeps_the_text(
    client: ChatClient, fake_api: FakeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug in parsing after some text must not lose that text."""
    import lib.api.client as client_module

    real = client_module.parse_chunk
    calls = {"n": 0}

    def flaky(data: str) -> object:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyError(CANARY_KEY)
        return real(data)

    monkeypatch.setattr(client_module, "parse_chunk", flaky)
    fake_api.plan(Behaviour(reply=REPLY))
    reply = start_reply(client, BODY)
    finish(reply)
    outcome = reply.outcome()
    assert outcome.text == "one two"
    assert type(outcome.error) is ChatError
    assert CANARY_KEY not in str(outcome.error)


def test_fast_streams_are_drawn_in_batches_but_the_end_at_once(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=" ".join(f"w{i}" for i in range(200)), token_rate=400))
    live = start_reply(client, BODY)
    views = list(live.views(min_interval=0.05))
    assert views[-1].done and views[-1].text.split()[-1] == "w199"
    # 200 tokens at 400/s take ~0.5 s: at most one redraw per 50 ms, not one per token.
    assert len(views) < 40


def test_a_short_reply_is_redrawn_once_a_frame_a_long_one_at_most_every_40_ms() -> None:
    assert redraw_interval(0) == redraw_interval(300) == FRAME
    assert redraw_interval(LONG_TEXT) == redraw_interval(100_000) == LONG_TEXT_INTERVAL == 0.04
    lengths = range(0, 2 * LONG_TEXT, 100)
    assert all(redraw_interval(a) <= redraw_interval(b) for a, b in zip(lengths, lengths[1:], strict=False))


def test_a_short_reply_gets_a_view_for_each_token_at_50_a_second(client: ChatClient, fake_api: FakeAPI) -> None:
    # 50 tokens/s, 20 ms apart: each is drawn as it comes, as the thinnest chat draws them.
    fake_api.plan(Behaviour(reply=" ".join(f"w{i}" for i in range(30)), token_rate=50))
    live = start_reply(client, BODY)
    views = [v for v in live.views() if v.text]
    assert views[-1].done and views[-1].text.split()[-1] == "w29"
    assert len(views) >= 22, f"{len(views)} views of 30 tokens: held back as if it were long"


def test_a_long_reply_is_redrawn_at_most_every_40_ms(client: ChatClient, fake_api: FakeAPI) -> None:
    words = [f"{'long' * 40}{i}" for i in range(60)]  # 60 tokens of ~165 characters: long after the 25th
    fake_api.plan(Behaviour(reply=" ".join(words), token_rate=100))
    live = start_reply(client, BODY)
    long_views = [v for v in live.views() if len(v.text) >= LONG_TEXT and not v.done]
    # ~35 tokens past LONG_TEXT at 100/s take ~0.35 s: at most one redraw per 40 ms, not one per token.
    assert 2 <= len(long_views) <= 12


def test_the_whole_text_is_given_once(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    """A stream that ended while views() held a change back was shown whole by that view: the page
    drew the same whole text twice, and the browser rendered it twice."""
    fake_api.plan(Behaviour(reply=" ".join(f"w{i}" for i in range(60)), token_rate=400))
    live = start_reply(client, BODY)
    views = list(live.views(min_interval=0.05))
    done = [v for v in views if v.done]
    assert len(done) == 1 and done[0] is views[-1] and done[0].text.split()[-1] == "w59"


def test_stop_during_a_retry_wait_cancels_the_retry(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=429, retry_after=2), Behaviour(reply=REPLY))
    reply = start_reply(client, BODY)
    deadline = time.monotonic() + 3
    while not reply.view().note and time.monotonic() < deadline:
        time.sleep(0.01)
    assert reply.view().note, "the retry wait never began"
    started = time.monotonic()
    reply.stop()
    assert reply.wait(0.3), "the worker still waits for the retry"
    assert time.monotonic() - started < 0.3
    outcome = reply.outcome()
    assert outcome.stopped and outcome.error is None and outcome.text == ""
    time.sleep(3)
    assert len(fake_api.requests) == 1, "the retry reached the server after Stop"
