from __future__ import annotations

import time

import pytest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.chat.conversation import Conversation
from lib.errors import ImageError
from lib.experiments.compare import Setup
from lib.experiments.compare_session import CompareSession
from lib.settings import Settings
from lib.store.database import Store
from tests.image_samples import photo

pytest_plugins = ("tests.store_fixtures",)

BIG, SMALL, NANO = "google/gemma-3-27b-it", "google/gemma-3-4b-it", "google/gemma-3n-e4b-it"


def finish(session: CompareSession, settings: Settings) -> None:
    lives = session.begin_replies(settings)
    for column, live in zip(session.columns, lives, strict=True):
        if live is not None:
            assert live.wait(10)
            column.record(live)


def test_one_message_leaves_for_every_column_at_once_and_each_thread_keeps_its_own_replies(
    settings: Settings, fake_api: FakeAPI
) -> None:
    session = CompareSession.start(Conversation(system_prompt="Be brief.", model=BIG))
    assert [s.model for s in session.comparison.setups] == [BIG, "google/gemma-3-12b-it"]
    session.set_setup(1, Setup(SMALL, "Be brief."))
    fake_api.plan_for(BIG, Behaviour(reply="Big answer.", first_token_delay=0.3))
    fake_api.plan_for(SMALL, Behaviour(reply="Small answer."))
    session.send("What is 2 + 2?")
    finish(session, settings)
    first, second = fake_api.requests[-2:]
    assert abs(first.received - second.received) < 0.1, "in parallel, not one after the other"
    assert {r.body["model"] for r in (first, second)} == {BIG, SMALL}
    assert [t.last.content for t in session.comparison.threads] == ["Big answer.", "Small answer."]

    fake_api.plan_for(BIG, Behaviour(reply="Big again."))
    fake_api.plan_for(SMALL, Behaviour(reply="Small again."))
    session.send("And 3 + 3?")
    finish(session, settings)
    small_body = next(r.body for r in fake_api.requests[-2:] if r.body["model"] == SMALL)
    assert [m["content"] for m in small_body["messages"] if m["role"] == "assistant"] == ["Small answer."]
    assert session.comparison.turns == 2


def test_a_failure_stays_in_its_column_with_its_retry(settings: Settings, fake_api: FakeAPI) -> None:
    session = CompareSession.start(Conversation(system_prompt="", model=BIG), setups=[Setup(BIG), Setup(SMALL)])
    fake_api.plan_for(SMALL, Behaviour(status=500), Behaviour(status=500), Behaviour(status=500))
    fake_api.plan_for(BIG, Behaviour(reply="Fine here."))
    session.send("hello")
    finish(session, settings)
    big, small = session.comparison.threads
    assert big.last.content == "Fine here." and big.last.role == "assistant"
    assert small.last.role == "user" and small.last.error, "the error is on the small column's question"
    fake_api.plan_for(SMALL, Behaviour(reply="Now it works."))
    session.retry(1)
    finish(session, settings)
    assert small.last.content == "Now it works." and big.last.content == "Fine here."


def test_stop_stops_one_column_or_all(settings: Settings, fake_api: FakeAPI) -> None:
    session = CompareSession.start(Conversation(system_prompt="", model=BIG), setups=[Setup(BIG), Setup(SMALL)])
    slow = "word " * 200
    fake_api.plan_for(BIG, Behaviour(reply=slow, token_rate=20))
    fake_api.plan_for(SMALL, Behaviour(reply=slow, token_rate=20))
    session.send("go")
    lives = session.begin_replies(settings)
    assert all(live is not None and live.running for live in lives)
    deadline = time.monotonic() + 5
    while not all(live.text for live in lives) and time.monotonic() < deadline:
        time.sleep(0.02)
    session.stop(0)
    assert not lives[0].running and lives[1].running
    session.stop()
    assert not lives[1].running
    assert [t.last.status for t in session.comparison.threads] == ["stopped", "stopped"]


def test_an_image_is_refused_for_all_columns_when_one_model_reads_none(settings: Settings) -> None:
    session = CompareSession.start(Conversation(system_prompt="", model=BIG), setups=[Setup(BIG), Setup(NANO)])
    with pytest.raises(ImageError, match="reads no images"):
        session.send("what is this?", (photo(),))
    assert session.comparison.is_empty()


def test_continue_with_a_column_makes_a_chat_of_its_own(settings: Settings, fake_api: FakeAPI) -> None:
    session = CompareSession.start(Conversation(system_prompt="", model=BIG), setups=[Setup(BIG), Setup(SMALL)])
    session.send("hi")
    finish(session, settings)
    chat = session.continue_with(1)
    assert chat.id not in {t.id for t in session.comparison.threads} and chat.revision is None
    assert chat.model == SMALL and [m.content for m in chat.path()] == [m.content for m in session.comparison.threads[1].path()]


def test_blind_columns_are_shuffled_each_turn(settings: Settings, fake_api: FakeAPI) -> None:
    setups = [Setup(BIG), Setup(SMALL), Setup(BIG, "x"), Setup(SMALL, "x")]
    session = CompareSession.start(Conversation(system_prompt="", model=BIG), setups=setups)
    session.comparison.blind = True
    orders = set()
    for _ in range(6):
        session.send("hi")
        finish(session, settings)
        orders.add(tuple(session.comparison.order))
        session.vote("tie")
    assert len(orders) > 1


def test_an_unchanged_comparison_is_not_written_again(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    session = CompareSession.start(Conversation(system_prompt="", model=BIG), store, setups=[Setup(BIG), Setup(SMALL)])
    session.send("hi")
    finish(session, settings)
    writes = []
    original = store.save_comparison
    store.save_comparison = lambda comparison, **kw: writes.append(kw) or original(comparison, **kw)  # type: ignore[method-assign]
    session.autosave()
    session.autosave()
    assert len(writes) == 1, "the second save had nothing to write"
    session.vote("tie")
    assert len(writes) == 2
    again = CompareSession.open(store.load_comparison(session.comparison.id), store)
    assert [t.last.content for t in again.comparison.threads] == [t.last.content for t in session.comparison.threads]
    assert [v.outcome for v in again.comparison.votes] == ["tie"]
