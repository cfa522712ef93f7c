"""Store: the Usage page's figures in two parts that add up (the past kept, this hour afresh), on SQLite and PostgreSQL."""

from __future__ import annotations

import random
from dataclasses import asdict

import pytest

from lib.chat.conversation import Conversation
from lib.people.access import Person
from lib.store import people, usage, usage_page
from lib.store.database import Store
from lib.store.request_log import RequestRow, begin_request, finish_request, request_log
from lib.store.usage import UsageFilter
from lib.store.usage_page import Figures

pytest_plugins = ("tests.store_fixtures",)

NOW = 1_800_000_000.0  # a whole hour
MODELS = ("m-a", "m-b", "m-c")


def many(store: Store, count: int = 300, seed: int = 7) -> None:
    """Requests over the two days before NOW and the hour after it, of every kind and ending."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        status = rng.choice(("ok", "ok", "error", "stopped", "cut"))
        rows.append(RequestRow(
            id=f"r{n}", model=rng.choice(MODELS), source=rng.choice(("chat", "compare", "lab")), time=NOW + rng.uniform(
                -2 * usage.DAY, usage.HOUR), status=status, label=rng.choice(("Coder", None)),
            conversation_id=f"chat-{rng.randrange(12)}", comparison_id=rng.choice((None, None, f"cmp-{rng.randrange(3)}")),
            retries=rng.choice((0, 0, 1)), prompt_tokens=rng.randrange(500), completion_tokens=rng.randrange(300),
            cost_usd=rng.randrange(1, 1000) / 1e6, cost_source=rng.choice(("server", "estimate", "demo")),
            ttft=rng.randrange(1, 300) / 100, tokens_per_second=rng.randrange(10, 900) / 10,
        ).values())
    with store._transaction(write=True) as conn:
        conn.execute(request_log.insert(), rows)


def assert_same(got: usage_page.PageData, want: usage_page.PageData) -> None:
    for part in ("everything", "shown"):
        a, b = getattr(got, part), getattr(want, part)
        assert [(r["start"], r["model"], r["requests"], r["errors"], r["stopped"]) for r in a.buckets] == [
            (r["start"], r["model"], r["requests"], r["errors"], r["stopped"]) for r in b.buckets
        ]
        assert a.totals.requests == b.totals.requests and a.totals.cost_usd == pytest.approx(b.totals.cost_usd)
        assert a.totals.estimated_usd == pytest.approx(b.totals.estimated_usd)
        assert [m["model"] for m in a.models] == [m["model"] for m in b.models]
        for got_model, want_model in zip(a.models, b.models, strict=True):
            assert {k: v for k, v in got_model.items() if k != "model"} == pytest.approx(
                {k: v for k, v in want_model.items() if k != "model"}
            )
    assert got.speed == want.speed
    assert [(c["kind"], c["id"], c["requests"]) for c in got.costliest] == [
        (c["kind"], c["id"], c["requests"]) for c in want.costliest
    ]


@pytest.mark.parametrize("size", [usage.HOUR, usage.DAY])
@pytest.mark.parametrize("where", [UsageFilter(), UsageFilter(start=NOW - usage.DAY, sources=("chat",), labels=("Coder",))])
def test_the_past_and_this_hour_add_up_to_the_whole(store: Store, size: int, where: UsageFilter) -> None:
    many(store)
    whole = usage_page.figures(store, where, size)
    parts = usage_page.figures(store, usage_page.before(where, NOW), size) + usage_page.figures(
        store, usage_page.since(where, NOW), size
    )
    assert_same(usage_page.page_data(store, parts, ()), usage_page.page_data(store, whole, ()))
    # and the parts are the two sides of the hour, not the whole twice
    assert usage_page.figures(store, usage_page.since(where, NOW), size).overview().totals.requests < (
        whole.overview().totals.requests
    )


def test_a_click_on_a_model_narrows_as_a_filter_by_that_model_does(store: Store) -> None:
    many(store)
    whole = usage_page.figures(store, UsageFilter(), usage.DAY)
    clicked = usage_page.page_data(store, whole, ("m-b",))
    only_b = usage_page.figures(store, UsageFilter(models=("m-b",)), usage.DAY)
    filtered = usage_page.page_data(store, only_b, ())
    assert asdict(clicked.shown.totals) == pytest.approx(asdict(filtered.everything.totals))
    assert clicked.speed == filtered.speed
    assert [(c["id"], c["requests"]) for c in clicked.costliest] == [(c["id"], c["requests"]) for c in filtered.costliest]
    assert clicked.everything.totals.requests > clicked.shown.totals.requests  # the two pickers keep every model


def test_the_figures_match_the_queries_of_the_whole_log(store: Store) -> None:
    many(store)
    where = UsageFilter(include_demo=True)
    whole = usage_page.figures(store, usage_page.before(where, NOW), usage.DAY) + usage_page.figures(
        store, usage_page.since(where, NOW), usage.DAY
    )
    totals = usage.totals(store, where)
    assert whole.overview().totals.requests == totals.requests == 300
    assert whole.overview().totals.cost_usd == pytest.approx(totals.cost_usd)
    assert whole.speed() == usage.speed(store, where)
    assert [(c["id"], c["requests"]) for c in whole.costliest()] == [(c["id"], c["requests"]) for c in usage.costliest(
        store, where)]


def test_the_costliest_are_named_and_linked_and_a_deleted_one_says_so(store: Store) -> None:
    chat = Conversation(system_prompt="", model="m", title="Budget talk")
    store.save(chat)
    for n, conversation in enumerate((chat.id, chat.id, "gone")):
        finish_request(store, RequestRow(id=f"c{n}", model="m", time=NOW, status="ok", cost_usd=0.5,
                                         conversation_id=conversation))
    top = usage_page.page_data(store, usage_page.figures(store, UsageFilter(), usage.DAY), ()).costliest
    assert [(t["title"], t["open"], t["requests"]) for t in top] == [("Budget talk", f"/?c={chat.id}", 2),
                                                                      ("(deleted)", None, 1)]


def test_an_empty_span_reads_nothing(store: Store) -> None:
    many(store)
    assert usage_page.figures(store, UsageFilter(start=NOW, end=NOW - 1), usage.DAY) == Figures()


def test_choices_of_the_two_parts_add_up_to_the_whole(store: Store) -> None:
    many(store)
    past = usage_page.Settled(NOW, 0)
    got = usage_page.settled_choices(store, None, past) + usage_page.recent_choices(store, None, past)
    assert got == usage.choices(store, include_demo=True)
    assert got.labels[-1] == usage.NO_LABEL


def test_what_the_page_keeps_is_read_again_whenever_it_can_have_changed(store: Store) -> None:
    # A request in flight is not yet counted; its end is, as is an older row written late (a long
    # request ending after the hour turned, or another replica), and nothing later than the hour.
    seen = [usage_page.settled(store, None, NOW + 10)]
    assert seen[0] == usage_page.Settled(NOW, 0)
    row = RequestRow(id="v1", model="m", time=NOW - 100)
    begin_request(store, row)
    assert usage_page.settled(store, None, NOW + 10) == seen[-1]
    row.status, row.cost_usd = "ok", 0.5
    finish_request(store, row)
    seen.append(usage_page.settled(store, None, NOW + 10))
    finish_request(store, RequestRow(id="v2", model="m", time=NOW - 5000, status="error"))
    seen.append(usage_page.settled(store, None, NOW + 10))
    finish_request(store, RequestRow(id="v3", model="m", time=NOW + 5, status="ok"))
    assert usage_page.settled(store, None, NOW + 10) == seen[-1]  # this hour's: read afresh anyway
    assert len(set(seen)) == 3
    assert usage_page.settled(store, "nobody", NOW + 10).ended == 0
    assert usage_page.settled(store, None, NOW + usage.HOUR).until == NOW + usage.HOUR


def test_everyones_figures_are_per_person_and_another_persons_conversation_stays_untitled(store: Store) -> None:
    mine = store.for_owner("admin")
    chat = Conversation(system_prompt="", model="m", title="Admin's own")
    mine.save(chat)
    people.remember(store, Person("admin", "admin@example.com", "Ada"))
    for n, (owner, conversation, cost) in enumerate((("admin", chat.id, 0.25), ("bob", "bobs-chat", 0.5),
                                                     ("bob", "bobs-chat", 0.5))):
        finish_request(store, RequestRow(id=f"p{n}", model="m", owner=owner, time=NOW, status="ok", cost_usd=cost,
                                         conversation_id=conversation))
    everyone = usage_page.page_data(mine, usage_page.figures(store, UsageFilter(owner=None), usage.DAY), ())
    assert [(p["person"], p["requests"], p["cost_usd"]) for p in everyone.people] == [("bob", 2, 1.0),
                                                                                     ("admin@example.com", 1, 0.25)]
    assert [(c["title"], c["open"]) for c in everyone.costliest] == [("(another person's)", None),
                                                                     ("Admin's own", f"/?c={chat.id}")]
    # A person's own figures have no one else in them, and no per-person table.
    own = usage_page.page_data(mine, usage_page.figures(store, UsageFilter(owner="admin"), usage.DAY), ())
    assert own.people == [] and own.everything.totals.requests == 1
