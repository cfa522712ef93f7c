"""Store: the request log (migration 12), the Usage page's queries and the limits, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import time

import pytest
from sqlalchemy import MetaData, delete, text

from lib.errors import SpendingLimitError
from lib.settings import Settings
from lib.store import budget, usage
from lib.store.database import MIGRATIONS, Store, schema_version
from lib.store.request_log import RequestRow, begin_request, finish_request, load_request, request_log
from lib.store.usage import UsageFilter
from tests.store_versions import store_at_version

pytest_plugins = ("tests.store_fixtures",)

NOW = time.time()


def logged(store: Store, n: int, **kw: object) -> RequestRow:
    """A finished request, logged: its start, then its end (as LiveReply does)."""
    values = {
        "id": f"req-{n}", "model": "google/gemma-3-27b-it", "time": NOW - 60 * n, "status": "ok", "prompt_tokens": 10,
        "completion_tokens": 20, "cost_usd": 0.001, "cost_source": "server", "ttft": 0.1 * n, "duration": 1.0,
        "tokens_per_second": 10.0 * n, "conversation_id": f"chat-{n % 2}",
    }
    values.update(kw)
    row = RequestRow(**{**values, "status": "sending"})  # type: ignore[arg-type]
    begin_request(store, row)
    finished = RequestRow(**values)  # type: ignore[arg-type]
    finish_request(store, finished)
    return finished


def test_a_request_is_logged_when_it_leaves_and_rewritten_when_it_ends(store: Store) -> None:
    row = RequestRow(id="r1", model="m", source="lab", owner="alice", lab_run_id="run", label="set-up A")
    begin_request(store, row)
    assert load_request(store, "r1").status == "sending"
    row.status, row.cost_usd, row.cost_source, row.api_request_id, row.retries = "ok", 0.5, "server", "gen-1", 2
    finish_request(store, row)
    assert load_request(store, "r1") == row
    # An end whose start was never logged (the database was down then) is still kept.
    lost = RequestRow(id="r2", model="m", status="error", error_kind="ServerError")
    finish_request(store, lost)
    assert load_request(store, "r2") == lost


def test_migration_12_adds_the_log_to_an_older_database(store_url: str) -> None:
    old = store_at_version(store_url, 8)
    assert old.schema_version() == 8
    old.close()
    new = Store(store_url)
    assert new.schema_version() == MIGRATIONS[-1].number
    begin_request(new, RequestRow(id="x", model="m"))
    new.close()


def test_migrations_run_by_number_so_one_numbered_below_the_highest_still_runs(store: Store, store_url: str) -> None:
    # Branches merged late: a database that has 12 but not 11 gets 11 when it is next opened.
    with store._transaction(write=True) as conn:
        conn.execute(delete(schema_version).where(schema_version.c.version == 11))
        conn.execute(text("DROP TABLE shares"))
    store.close()
    again = Store(store_url)
    with again._transaction(write=False) as conn:
        tables = MetaData()
        tables.reflect(conn)
    assert {"shares", "request_log"} <= set(tables.tables)
    assert again.list_shares() == []
    again.close()


def test_totals_per_model_leave_out_demo_and_impossible_figures(store: Store) -> None:
    logged(store, 1, cost_usd=0.25)
    logged(store, 2, model="google/gemma-3-4b-it", cost_usd=0.125, status="error", error_kind="ServerError", retries=2)
    logged(store, 3, cost_usd=0.5, cost_source="demo")
    logged(store, 4, cost_usd=1e308, prompt_tokens=-5)
    logged(store, 5, cost_usd=0.0625, cost_source="estimate", status="stopped")
    begin_request(store, RequestRow(id="in-flight", model="m"))  # still sending: not in the figures yet
    everything = UsageFilter()
    got = usage.totals(store, everything)
    assert (got.requests, got.errors, got.retries) == (4, 1, 2)
    assert got.cost_usd == pytest.approx(0.25 + 0.125 + 0.0625)
    assert got.estimated_usd == pytest.approx(0.0625)
    assert got.prompt_tokens == 30
    assert usage.totals(store, UsageFilter(include_demo=True)).cost_usd == pytest.approx(0.9375)
    models = usage.by_model(store, everything)
    assert [(m["model"], m["requests"], m["errors"]) for m in models] == [
        ("google/gemma-3-27b-it", 3, 0), ("google/gemma-3-4b-it", 1, 1)
    ]
    assert models[0]["cost_usd"] == pytest.approx(0.3125)
    assert usage.totals(store, UsageFilter(models=("google/gemma-3-4b-it",))).requests == 1
    assert usage.totals(store, UsageFilter(start=NOW - 150)).requests == 2


def test_filters_by_source_label_owner_and_no_label(store: Store) -> None:
    logged(store, 1, source="chat", label="Coder")
    logged(store, 2, source="lab", label="27B · temperature 0.2", owner="alice")
    logged(store, 3, source="compare", label=None)
    assert usage.totals(store, UsageFilter(sources=("lab", "compare"))).requests == 2
    assert usage.totals(store, UsageFilter(labels=("Coder", usage.NO_LABEL))).requests == 2
    assert usage.totals(store, UsageFilter(owner="alice")).requests == 1
    options = usage.choices(store)
    assert options.sources == ["chat", "compare", "lab"]
    assert set(options.labels) == {"Coder", "27B · temperature 0.2", usage.NO_LABEL}
    assert options.first == pytest.approx(NOW - 180) and options.last == pytest.approx(NOW - 60)


def test_buckets_over_time_count_requests_errors_retries_and_cost(store: Store) -> None:
    logged(store, 1, time=1_700_000_000.0, cost_usd=0.5)
    logged(store, 2, time=1_700_000_100.0, cost_usd=0.25, status="error", retries=3)
    logged(store, 3, time=1_700_000_000.0 + usage.DAY, cost_usd=0.125)
    buckets = usage.over_time(store, UsageFilter(), usage.DAY)
    assert [(b["requests"], b["errors"], b["retries"]) for b in buckets] == [(2, 1, 3), (1, 0, 0)]
    assert buckets[0]["cost_usd"] == pytest.approx(0.75)
    assert buckets[1]["start"] - buckets[0]["start"] == usage.DAY
    # A bucket starts at a whole hour or local midnight, at or before its rows.
    assert buckets[0]["start"] <= 1_700_000_000.0 < buckets[0]["start"] + usage.DAY
    hours = usage.over_time(store, UsageFilter(), usage.HOUR)
    assert all(b["start"] % 900 == 0 for b in hours)


def test_percentiles_of_first_token_and_speed_per_model(store: Store) -> None:
    for n in range(1, 101):
        logged(store, n, ttft=n / 100, tokens_per_second=float(n))
    logged(store, 200, model="other", ttft=None, tokens_per_second=None)
    rows = {(row["metric"], row["model"]): row for row in usage.speed(store, UsageFilter())}
    ttft = rows[("ttft", "google/gemma-3-27b-it")]
    assert (ttft["n"], ttft["p50"], ttft["p90"], ttft["p99"]) == (100, 0.5, 0.9, 0.99)
    assert rows[("tokens_per_second", "google/gemma-3-27b-it")]["p90"] == 90.0
    assert ("ttft", "other") not in rows


def test_the_costliest_conversations_and_comparisons(store: Store) -> None:
    logged(store, 1, conversation_id="a", cost_usd=0.5)
    logged(store, 2, conversation_id="a", cost_usd=0.5)
    logged(store, 3, conversation_id="col-1", comparison_id="cmp", cost_usd=0.75)
    logged(store, 4, conversation_id="col-2", comparison_id="cmp", cost_usd=0.75)
    logged(store, 5, conversation_id=None, lab_run_id="run", cost_usd=9.0)
    top = usage.costliest(store, UsageFilter())
    assert [(t["kind"], t["id"], t["requests"]) for t in top] == [("comparison", "cmp", 2), ("chat", "a", 2)]


def test_the_csv_has_one_line_per_request_and_defuses_formulas(store: Store) -> None:
    for n in range(1, 8):
        logged(store, n, label="=HYPERLINK(1)" if n == 3 else None)
    lines = list(csv.DictReader(io.StringIO(usage.to_csv(store, UsageFilter()))))
    assert len(lines) == 7
    assert {line["id"] for line in lines} == {f"req-{n}" for n in range(1, 8)}
    assert [line["label"] for line in lines if line["label"]] == ["'=HYPERLINK(1)"]
    assert float(lines[0]["cost_usd"]) == 0.001


def limits(**kw: object) -> Settings:
    return Settings(**kw)  # type: ignore[arg-type]


def test_the_daily_limit_refuses_once_reached_and_when_the_request_would_cross_it(store: Store) -> None:
    logged(store, 0, time=NOW, cost_usd=0.75)
    logged(store, 1, time=NOW, cost_usd=5.0, cost_source="demo")  # demo figures are no spending
    logged(store, 2, time=budget.day_start(NOW) - 10, cost_usd=5.0)  # yesterday's
    begin_request(store, RequestRow(id="ok", model="m", time=NOW), limits(daily_usd=1.0), next_cost=0.2)
    said = r"Today everyone together has spent \$0\.75 of the \$1\.00 that CHAT_DAILY_USD allows, .*at least \$0\.30"
    with pytest.raises(SpendingLimitError, match=said):
        begin_request(store, RequestRow(id="no", model="m", time=NOW), limits(daily_usd=1.0), next_cost=0.3)
    assert load_request(store, "no") is None
    logged(store, 3, time=NOW, cost_usd=0.25)
    with pytest.raises(SpendingLimitError, match="CHAT_DAILY_USD"):
        begin_request(store, RequestRow(id="no", model="m", time=NOW), limits(daily_usd=1.0))
    with pytest.raises(SpendingLimitError, match="CHAT_MONTHLY_USD"):
        begin_request(store, RequestRow(id="no", model="m", time=NOW), limits(monthly_usd=1.0))


def test_per_person_limits_count_only_that_persons_requests(store: Store) -> None:
    settings = limits(user_rpm=3, user_daily_usd=1.0)
    for n in range(3):
        begin_request(store, RequestRow(id=f"a{n}", model="m", owner="alice", time=NOW - n), settings)
    with pytest.raises(SpendingLimitError, match="3 requests in the last minute; CHAT_USER_RPM allows 3"):
        begin_request(store, RequestRow(id="a3", model="m", owner="alice", time=NOW), settings)
    begin_request(store, RequestRow(id="b0", model="m", owner="bob", time=NOW), settings)
    # A minute later alice may send again.
    begin_request(store, RequestRow(id="a4", model="m", owner="alice", time=NOW + 61), settings)
    logged(store, 9, owner="bob", time=NOW, cost_usd=1.5)
    with pytest.raises(SpendingLimitError, match="Today you have spent .* CHAT_USER_DAILY_USD"):
        begin_request(store, RequestRow(id="b1", model="m", owner="bob", time=NOW + 120), settings)
    begin_request(store, RequestRow(id="a5", model="m", owner="alice", time=NOW + 120), settings)


def test_gauges_show_what_is_spent_of_each_limit(store: Store) -> None:
    assert budget.gauges(store, Settings(), "local", NOW) == []
    logged(store, 0, time=NOW, cost_usd=0.5)
    logged(store, 1, time=NOW, cost_usd=0.25, owner="alice")
    got = budget.gauges(store, limits(daily_usd=2.0, user_daily_usd=1.0), "alice", NOW)
    assert [(g.label, g.spent, g.limit) for g in got] == [("Today", 0.75, 2.0), ("You today", 0.25, 1.0)]
    assert got[0].fraction == pytest.approx(0.375)
    assert got[0].text() == "Today: $0.75 of $2.00"


def test_rows_written_in_bulk_are_summed_in_sql(store: Store) -> None:
    rows = [
        {**RequestRow(id=f"bulk-{n}", model=f"m{n % 3}", time=NOW - n, status="ok", cost_usd=0.001).values()}
        for n in range(2000)
    ]
    with store._transaction(write=True) as conn:
        conn.execute(request_log.insert(), rows)
    assert usage.totals(store, UsageFilter()).cost_usd == pytest.approx(2.0)
    assert len(usage.by_model(store, UsageFilter())) == 3


def test_the_overview_adds_up_as_the_separate_queries_do(store: Store) -> None:
    for n in range(1, 30):
        logged(store, n, model=f"m{n % 3}", cost_usd=n / 1000, status="error" if n % 7 == 0 else "ok", retries=n % 2,
               cost_source="estimate" if n % 5 == 0 else "server")
    where = UsageFilter()
    seen = usage.overview(store, where, usage.HOUR)
    totals = usage.totals(store, where)
    assert (seen.totals.requests, seen.totals.errors, seen.totals.retries) == (totals.requests, totals.errors, totals.retries)
    assert seen.totals.cost_usd == pytest.approx(totals.cost_usd)
    assert seen.totals.estimated_usd == pytest.approx(totals.estimated_usd)
    expected = usage.by_model(store, where)
    assert [m["model"] for m in seen.models] == [m["model"] for m in expected]
    for got, want in zip(seen.models, expected, strict=True):
        assert (got["requests"], got["prompt_tokens"], got["completion_tokens"]) == (
            want["requests"], want["prompt_tokens"], want["completion_tokens"]
        )
        assert got["cost_usd"] == pytest.approx(want["cost_usd"])
