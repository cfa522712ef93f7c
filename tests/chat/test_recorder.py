"""lib.chat.recorder through LiveReply: every request to the fake API logged, whatever sent it and
however it ended; the cost as the server reported it; limits refuse before anything is sent."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import requests

from lib.api.client import ChatClient
from lib.api.fake_api import DEMO_PRICE_IN, DEMO_PRICE_OUT, FRAMINGS, Behaviour, FakeAPI, count_prompt_tokens, split_tokens
from lib.api.request import build_body
from lib.chat import recorder
from lib.chat.live_reply import LiveReply
from lib.chat.recorder import RequestTag
from lib.chat.session import ChatSession
from lib.errors import SpendingLimitError, StoreError
from lib.experiments.compare import Setup
from lib.experiments.judge import Judge
from lib.experiments.lab_run import LabRun, Template
from lib.settings import Settings
from lib.store import usage
from lib.store.database import Store
from lib.store.request_log import load_request
from lib.store.usage import UsageFilter

MODEL = "google/gemma-3-27b-it"
MESSAGES = [{"role": "user", "content": "Count to six."}]
REPLY = "one two three four five six"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store(f"sqlite:///{tmp_path / 'log.sqlite3'}")
    yield opened
    opened.close()


def cost_of(reply: str, messages: list[dict] = MESSAGES) -> float:
    return round((count_prompt_tokens(messages) * DEMO_PRICE_IN + len(split_tokens(reply)) * DEMO_PRICE_OUT) / 1e6, 9)


def ended(client: ChatClient, store: Store | None, body: dict | None = None, **kw: object) -> LiveReply:
    reply = LiveReply(client, body or build_body(MODEL, MESSAGES), ledger=store, **kw).start()  # type: ignore[arg-type]
    assert reply.wait(5)
    return reply


def test_without_limits_nothing_is_written_before_the_request_leaves(
    fake_api: FakeAPI, client: ChatClient, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Compare's columns leave together: no database write may stand before a request.
    written: list[object] = []
    monkeypatch.setattr(recorder, "begin_request", lambda *args, **kwargs: written.append(args))
    fake_api.plan(Behaviour(reply=REPLY))
    reply = ended(client, store)
    assert written == []
    assert reply.outcome().error is None and load_request(store, reply.request_id).status == "ok"


def test_a_reply_is_logged_with_the_servers_cost_and_our_request_id(
    fake_api: FakeAPI, client: ChatClient, store: Store
) -> None:
    fake_api.plan(Behaviour(reply=REPLY, cost_in="meta"))
    reply = ended(client, store, tag=RequestTag("chat", conversation_id="c1", label="Coder"))
    row = load_request(store, reply.request_id)
    assert fake_api.requests[0].headers["X-Client-Request-Id"] == reply.request_id == row.id
    assert (row.status, row.source, row.conversation_id, row.label, row.model) == ("ok", "chat", "c1", "Coder", MODEL)
    assert (row.cost_usd, row.cost_source) == (cost_of(REPLY), "server")
    assert (row.prompt_tokens, row.completion_tokens, row.retries) == (count_prompt_tokens(MESSAGES), 6, 0)
    assert row.ttft is not None and row.duration >= row.ttft
    assert row.api_request_id  # the fake's x-request-id


def test_the_cost_header_of_a_reply_that_is_not_streamed(fake_api: FakeAPI, client: ChatClient, store: Store) -> None:
    body = {**build_body(MODEL, MESSAGES), "stream": False}
    # The fake says it as the API does: in the header, under every framing.
    for framing in FRAMINGS:
        fake_api.plan(Behaviour(reply=REPLY, cost_in="header", framing=framing))
        answer = requests.post(
            f"{fake_api.url}/chat/completions", json=body, headers={"Authorization": f"Bearer {fake_api.api_key}"}, timeout=5
        )
        assert float(answer.headers["x-aimlapi-usd-spent"]) == cost_of(REPLY)
        assert "cost" not in answer.json()["usage"] and "meta" not in answer.json()
    fake_api.plan(Behaviour(reply=REPLY, cost_in="header"))
    row = load_request(store, ended(client, store, body).request_id)
    assert (row.cost_usd, row.cost_source) == (cost_of(REPLY), "server")


def test_failed_and_retried_requests_are_logged(fake_api: FakeAPI, client: ChatClient, store: Store) -> None:
    fake_api.plan(Behaviour(status=503), Behaviour(status=503), Behaviour(reply=REPLY))
    row = load_request(store, ended(client, store).request_id)
    assert (row.status, row.retries) == ("ok", 2)
    # Every retry carried the same id: one row, matched with the API's logs by it.
    assert len({r.headers["X-Client-Request-Id"] for r in fake_api.requests}) == 1
    fake_api.plan(Behaviour(status=400, error_message="bad field"))
    row = load_request(store, ended(client, store).request_id)
    assert (row.status, row.error_kind, row.cost_usd) == ("error", "BadRequestError", None)


def test_a_stopped_reply_is_logged_with_its_partial_cost(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    priced = replace(settings, price_input_per_m=DEMO_PRICE_IN, price_output_per_m=DEMO_PRICE_OUT)
    client = ChatClient(priced)
    fake_api.plan(Behaviour(reply=" ".join(["word"] * 200), token_rate=50))
    reply = LiveReply(client, build_body(MODEL, MESSAGES), ledger=store).start()
    deadline = time.monotonic() + 3
    while not reply.text and time.monotonic() < deadline:
        time.sleep(0.01)
    reply.stop()
    row = load_request(store, reply.request_id)
    assert row.status == "stopped" and row.cost_source == "estimate" and row.tokens_estimated
    assert 0 < row.cost_usd < cost_of(" ".join(["word"] * 200))
    client.close()


def test_a_store_that_fails_never_fails_the_reply(
    fake_api: FakeAPI, settings: Settings, store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    client = ChatClient(replace(settings, user_rpm=100))  # a limit: the request is logged before it leaves too
    def broken(*args: object, **kwargs: object) -> None:
        raise StoreError("The database is down.")

    monkeypatch.setattr(recorder, "begin_request", broken)
    monkeypatch.setattr(recorder, "finish_request", broken)
    fake_api.plan(Behaviour(reply=REPLY))
    with caplog.at_level(logging.ERROR, logger="lib.chat.recorder"):
        reply = ended(client, store)
    assert reply.outcome().text == REPLY and reply.outcome().error is None
    assert "logging the request" in caplog.text and "logging the end of request" in caplog.text


def test_a_limit_reached_sends_nothing_and_says_why(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    fake_api.plan(Behaviour(reply=REPLY))
    ended(ChatClient(settings), store)
    spent = cost_of(REPLY)
    capped = ChatClient(replace(settings, daily_usd=spent * 0.99))
    reply = ended(capped, store)
    error = reply.outcome().error
    assert isinstance(error, SpendingLimitError) and "CHAT_DAILY_USD" in str(error)
    assert len(fake_api.requests) == 1
    assert load_request(store, reply.request_id) is None


def test_the_rpm_limit_refuses_the_request_past_n_in_a_minute(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    client = ChatClient(replace(settings, user_rpm=3))
    fake_api.default = Behaviour(reply="ok")
    outcomes = [ended(client, store, tag=RequestTag(owner="alice")).outcome() for _ in range(4)]
    assert [o.error is None for o in outcomes] == [True, True, True, False]
    assert "CHAT_USER_RPM allows 3" in str(outcomes[3].error)
    assert len(fake_api.requests) == 3
    # Another person is not held back by alice's requests.
    assert ended(client, store, tag=RequestTag(owner="bob")).outcome().error is None


def test_a_chat_session_tags_its_requests(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    chat.submit("Hello")
    live = chat.begin_reply(settings)
    assert live is not None and live.wait(5)
    chat.record(live)
    row = load_request(store, live.request_id)
    assert (row.source, row.conversation_id, row.owner) == ("chat", chat.conversation.id, "local")


def asked(chat: ChatSession, settings: Settings, text: str = "Hello") -> LiveReply:
    chat.submit(text)
    live = chat.begin_reply(settings)
    assert live is not None
    return live


def test_a_reply_drawn_by_a_page_is_logged_when_that_run_records_it(
    fake_api: FakeAPI, settings: Settings, store: Store
) -> None:
    # Not as the stream ends: the write then competed for the GIL with the drawing of the whole text (bench/).
    chat = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(reply=REPLY))
    chat.submit("Hello")
    live = chat.begin_reply(settings, start=False)
    assert live is not None
    with chat.watching(live):  # before it starts: it cannot end unwatched
        live.start()
        views = list(live.views())
        assert views[-1].done and views[-1].text == REPLY
        assert live.wait(5)
        assert load_request(store, live.request_id) is None
        chat.record(live)
        assert load_request(store, live.request_id).status == "ok"
    chat.record(live)  # once
    assert usage.totals(store, UsageFilter()).requests == 1


def test_a_reply_whose_drawing_run_was_cut_short_is_still_logged(
    fake_api: FakeAPI, settings: Settings, store: Store
) -> None:
    chat = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(reply=REPLY, token_rate=50))
    live = asked(chat, settings)
    with pytest.raises(RuntimeError), chat.watching(live):
        next(v for v in live.views() if v.text)
        raise RuntimeError("a click reran the page mid-reply")
    assert live.wait(5)  # it went on, unwatched: its worker recorded and logged it
    row = load_request(store, live.request_id)
    assert (row.status, row.completion_tokens) == ("ok", len(split_tokens(REPLY)))


def test_a_reply_stopped_while_drawn_is_logged_stopped(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(reply=" ".join(["word"] * 200), token_rate=50))
    live = asked(chat, settings)
    with chat.watching(live):
        next(v for v in live.views() if v.text)
        chat.stop_reply(live)
    assert load_request(store, live.request_id).status == "stopped"


def test_a_failed_reply_drawn_by_a_page_is_logged(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(status=400, error_message="bad field"))
    chat.submit("Hello")
    live = chat.begin_reply(settings, start=False)
    assert live is not None
    with chat.watching(live):
        live.start()
        list(live.views())
        assert live.wait(5)
        chat.record(live)
    row = load_request(store, live.request_id)
    assert (row.status, row.error_kind) == ("error", "BadRequestError")


def test_a_reply_left_to_log_later_is_logged_by_its_worker_when_nobody_is_left_to(
    fake_api: FakeAPI, client: ChatClient, store: Store
) -> None:
    fake_api.plan(Behaviour(reply=REPLY), Behaviour(reply=REPLY))
    kept = LiveReply(client, build_body(MODEL, MESSAGES), ledger=store, log_end_later=True)
    kept.on_done = lambda _live: None  # its owner logs it: not the worker
    kept.start()
    assert kept.wait(5) and load_request(store, kept.request_id) is None
    kept.log_end()
    kept.log_end()
    assert load_request(store, kept.request_id).status == "ok"
    orphan = ended(client, store, log_end_later=True)  # no on_done: no owner to wait for
    assert load_request(store, orphan.request_id).status == "ok"
    assert usage.totals(store, UsageFilter()).requests == 2


def test_lab_and_judge_requests_are_logged_under_the_run(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    recorder.install(store)
    try:
        fake_api.default = Behaviour(reply='{"score": 4, "reason": "fine"}')
        run = LabRun(Template("Say {{x}}"), [Setup(MODEL)], [{"x": "a"}, {"x": "b"}], settings).start()
        assert run.wait(10)
        judged = Judge(Setup(MODEL), "Be fair.").run_over(run.result(), settings).start()
        assert judged.wait(10)
    finally:
        recorder.install(None)
    by_source = {s: usage.totals(store, UsageFilter(sources=(s,))).requests for s in ("lab", "judge")}
    assert by_source == {"lab": 2, "judge": 2}
    assert {r.lab_run_id for r in usage.rows(store, UsageFilter())} == {run.id}


def test_demo_figures_are_marked_demo(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    fake_api.plan(Behaviour(reply=REPLY))
    row = load_request(store, ended(ChatClient(replace(settings, key_source="demo")), store).request_id)
    assert row.cost_source == "demo"
    assert usage.totals(store, UsageFilter()).requests == 0
    assert usage.totals(store, UsageFilter(include_demo=True)).cost_usd == cost_of(REPLY)
