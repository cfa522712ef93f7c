"""lib.chat.usage: tokens, cost and timings of a reply, and the totals of a session."""

from __future__ import annotations

import json

import pytest

from lib.chat.usage import (
    UNKNOWN,
    Cost,
    ReplyStats,
    SessionTotals,
    Usage,
    estimate_cost,
    figures,
    finish_note,
    format_cost,
    format_seconds,
    format_tokens,
    reported_cost,
)

# The usage object of the API's own documented response (shared/seed/gemma-3-27b-it.md).
SEED_USAGE = {
    "prompt_tokens": 26,
    "completion_tokens": 1714,
    "total_tokens": 1740,
    "cost": 0,
    "is_byok": False,
    "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0, "video_tokens": 0},
    "cost_details": {"upstream_inference_cost": None},
    "completion_tokens_details": {"reasoning_tokens": 0, "image_tokens": 0},
}


def test_unknown_is_a_dash() -> None:
    assert UNKNOWN == "—"


# -- Usage.from_api ------------------------------------------------------------------


def test_usage_from_the_seed_response() -> None:
    assert Usage.from_api(SEED_USAGE) == Usage(26, 1714, 1740)


def test_usage_total_is_computed_when_missing() -> None:
    assert Usage.from_api({"prompt_tokens": 10, "completion_tokens": 5}) == Usage(10, 5, 15)


def test_usage_total_stays_unknown_when_a_count_is_missing() -> None:
    assert Usage.from_api({"prompt_tokens": 10}) == Usage(10, None, None)


@pytest.mark.parametrize("data", [None, [], "12", 12])
def test_usage_from_nothing_is_none(data: object) -> None:
    assert Usage.from_api(data) is None  # type: ignore[arg-type]


def test_usage_ignores_values_that_are_not_numbers() -> None:
    usage = Usage.from_api({"prompt_tokens": "10", "completion_tokens": True, "total_tokens": 7.0})
    assert usage == Usage(None, None, 7)
    assert isinstance(usage.total_tokens, int)


# -- cost ----------------------------------------------------------------------------


def test_reported_cost_prefers_usage_cost() -> None:
    cost = reported_cost({"cost": 0.0021}, {"usage": {"usd_spent": 0.5}})
    assert cost == Cost(0.0021, "reported")
    assert not cost.is_estimate


def test_reported_cost_falls_back_to_meta_usd_spent() -> None:
    assert reported_cost({"prompt_tokens": 3}, {"usage": {"credits_used": 42, "usd_spent": 0.00002}}) == Cost(0.00002, "meta")
    assert reported_cost(None, {"usage": {"usd_spent": 1}}) == Cost(1.0, "meta")


def test_a_reported_zero_is_a_known_cost_not_unknown() -> None:
    """The free :free models report "cost": 0 (see the seed response)."""
    cost = reported_cost(SEED_USAGE, None)
    assert cost == Cost(0.0, "reported")
    assert format_cost(cost) == "$0.00"


@pytest.mark.parametrize(
    ("usage", "meta"),
    [
        (None, None),
        ({}, {}),
        ({"cost": None}, {"usage": {"usd_spent": None}}),
        ({"cost": "0.1"}, {"usage": {"usd_spent": "0.1"}}),
        ({"cost": True}, {"usage": "0.1"}),
        ({"cost": False}, []),
    ],
)
def test_no_usable_cost_is_none(usage: object, meta: object) -> None:
    assert reported_cost(usage, meta) is None  # type: ignore[arg-type]


def test_estimate_cost_is_marked_estimate() -> None:
    cost = estimate_cost(Usage(1_000_000, 500_000, 1_500_000), 0.04, 0.08)
    assert cost is not None
    assert cost.source == "estimate" and cost.is_estimate
    assert cost.usd == pytest.approx(0.04 + 0.04)
    assert format_cost(cost) == "≈$0.08 (estimate)"


@pytest.mark.parametrize(
    ("usage", "price_in", "price_out"),
    [
        (None, 1.0, 1.0),
        (Usage(10, 10, 20), None, 1.0),
        (Usage(10, 10, 20), 1.0, None),
        (Usage(None, 10, None), 1.0, 1.0),
        (Usage(10, None, None), 1.0, 1.0),
    ],
)
def test_estimate_cost_needs_prices_and_counts(usage: Usage | None, price_in: float | None, price_out: float | None) -> None:
    assert estimate_cost(usage, price_in, price_out) is None


def test_estimate_with_zero_prices_is_zero() -> None:
    assert estimate_cost(Usage(10, 10, 20), 0.0, 0.0) == Cost(0.0, "estimate")


# -- formatting ----------------------------------------------------------------------


def test_format_cost() -> None:
    assert format_cost(None) == "—"
    assert format_cost(Cost(0.0, "reported")) == "$0.00"
    assert format_cost(Cost(1.5, "meta")) == "$1.50"
    assert format_cost(Cost(0.0123, "reported")) == "$0.01"
    assert format_cost(Cost(0.0051, "reported")) == "$0.0051"
    assert format_cost(Cost(0.000004, "reported")) == "$0.000004"
    assert format_cost(Cost(0.0051, "estimate")) == "≈$0.0051 (estimate)"


def test_unknown_cost_is_never_shown_as_zero() -> None:
    assert "$" not in format_cost(None)
    assert dict(figures(ReplyStats()))["cost"] == "—"


@pytest.mark.parametrize("usd", [4e-7, 2e-8])
def test_tiny_costs_are_not_shown_as_a_bare_zero(usd: float) -> None:
    text = format_cost(Cost(usd, "reported"))
    assert not text.endswith(".")
    assert text not in ("$0", "$0.", "$0.00")


def test_format_tokens() -> None:
    assert format_tokens(None) == "—"
    assert format_tokens(0) == "0"
    assert format_tokens(1234567) == "1,234,567"


def test_format_seconds() -> None:
    assert format_seconds(None) == "—"
    assert format_seconds(0.25) == "250 ms"
    assert format_seconds(0.0) == "0 ms"
    assert format_seconds(2.5) == "2.50 s"
    assert format_seconds(61) == "61.00 s"


def test_format_seconds_just_under_a_second() -> None:
    assert format_seconds(0.9996) == "1.00 s"


def test_figures_order_and_values() -> None:
    stats = ReplyStats(usage=Usage(26, 101, 127), cost=Cost(0.0021, "reported"), time_to_first_token=0.4,
                       last_token_time=2.4, total_time=2.5)
    assert figures(stats) == [
        ("prompt", "26"),
        ("completion", "101"),
        ("total", "127"),
        ("cost", "$0.0021"),
        ("first token", "400 ms"),
        ("time", "2.50 s"),
        ("speed", "50.0 tok/s"),
    ]


def test_a_speed_from_estimated_tokens_is_marked_as_an_estimate() -> None:
    stats = ReplyStats(usage=Usage(26, 101, 127, estimated=True), time_to_first_token=0.4,
                       last_token_time=2.4, total_time=2.5)
    assert dict(figures(stats))["speed"] == "≈50.0 tok/s"


def test_figures_when_nothing_is_known() -> None:
    rows = figures(ReplyStats())
    assert [label for label, _ in rows] == ["prompt", "completion", "total", "cost", "first token", "time", "speed"]
    assert all(value == "—" for _, value in rows)


def test_finish_note() -> None:
    assert finish_note(None) is None
    assert finish_note("stop") is None
    note = finish_note("length")
    assert note is not None and "maximum length" in note and "`length`" in note
    note = finish_note("content_filter")
    assert note is not None and "content filter" in note
    assert finish_note("tool_calls") == "Finish reason: `tool_calls`."


# -- tokens per second ---------------------------------------------------------------


def test_tokens_per_second_counts_from_the_first_token_to_the_last() -> None:
    # 100 tokens: the first at 1 s, the last at 3 s; the 99 after the first took 2 s.
    stats = ReplyStats(usage=Usage(10, 100, 110), time_to_first_token=1.0, last_token_time=3.0, total_time=3.5)
    assert stats.generation_time == pytest.approx(2.0)
    assert stats.tokens_per_second == pytest.approx(49.5)


def test_the_wait_for_usage_after_the_last_token_is_not_generation() -> None:
    stats = ReplyStats(usage=Usage(10, 21, 31), time_to_first_token=0.5, last_token_time=1.5, total_time=9.0)
    assert stats.tokens_per_second == pytest.approx(20.0)


def test_without_the_last_token_time_the_end_of_the_stream_stands_in() -> None:
    """Rows saved before last_token_time existed (or a reply whose stream did not set it)."""
    stats = ReplyStats(usage=Usage(10, 101, 111), time_to_first_token=1.0, total_time=3.0)
    assert stats.tokens_per_second == pytest.approx(50.0)


@pytest.mark.parametrize(
    ("stats", "why"),
    [
        # the two absurd figures users met: a whole reply in one chunk, and a token or two
        (ReplyStats(usage=Usage(20, 500, 520), time_to_first_token=0.8, last_token_time=0.8, total_time=0.807),
         "one chunk"),
        (ReplyStats(usage=Usage(20, 2, 22), time_to_first_token=0.3, last_token_time=0.3000002, total_time=0.31),
         "a token or two"),
        (ReplyStats(usage=Usage(20, 1, 21), time_to_first_token=0.3, last_token_time=2.0, total_time=2.0),
         "one token has no rate"),
        (ReplyStats(usage=Usage(20, 40, 60), time_to_first_token=0.3, last_token_time=0.35, total_time=0.4),
         "too short to time"),
        (ReplyStats(usage=Usage(20, 500, 520), time_to_first_token=0.8, total_time=0.8000071),
         "one chunk, from a row without last_token_time"),
        (ReplyStats(usage=Usage(1, 30, 31), total_time=3.0), "no first token time: no start of generation"),
        (ReplyStats(usage=Usage(1, 30, 31), time_to_first_token=3.0, total_time=3.0), "all text came at the end"),
    ],
)
def test_speed_that_cannot_be_measured_honestly_is_unknown(stats: ReplyStats, why: str) -> None:
    assert stats.tokens_per_second is None, why
    assert dict(figures(stats))["speed"] == "—", why


@pytest.mark.parametrize(
    "stats",
    [
        ReplyStats(),
        ReplyStats(usage=Usage(1, None, None), total_time=1.0),
        ReplyStats(usage=Usage(1, 10, 11)),
        ReplyStats(usage=Usage(1, 10, 11), total_time=0.0),
    ],
)
def test_tokens_per_second_unknown(stats: ReplyStats) -> None:
    assert stats.tokens_per_second is None


def test_last_token_time_round_trips_and_old_rows_still_load() -> None:
    stats = ReplyStats(usage=Usage(1, 30, 31), time_to_first_token=0.5, last_token_time=2.0, total_time=2.2)
    assert ReplyStats.from_dict(stats.to_dict()) == stats
    old = stats.to_dict()
    del old["last_token_time"]
    loaded = ReplyStats.from_dict(old)
    assert loaded is not None and loaded.last_token_time is None
    assert loaded.tokens_per_second == pytest.approx(29 / 1.7)


@pytest.mark.parametrize("value", ["2.0", True, [1], {"a": 1}])
def test_a_last_token_time_that_is_not_a_number_is_dropped(value: object) -> None:
    loaded = ReplyStats.from_dict({"time_to_first_token": 0.5, "total_time": 2.0, "last_token_time": value})
    assert loaded is not None and loaded.last_token_time is None


# -- session totals ------------------------------------------------------------------


def stats_with(cost: Cost | None, prompt: int | None = 10, completion: int | None = 20) -> ReplyStats:
    return ReplyStats(usage=Usage(prompt, completion, None), cost=cost)


def test_empty_session() -> None:
    totals = SessionTotals()
    assert totals.requests == 0
    assert totals.cost_text() == "$0.00"


def test_known_costs_add_up() -> None:
    totals = SessionTotals()
    totals.add(stats_with(Cost(0.25, "reported")))
    totals.add(stats_with(Cost(0.5, "meta"), prompt=5, completion=7))
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens) == (2, 15, 27)
    assert totals.cost_usd == pytest.approx(0.75)
    assert not totals.cost_incomplete and not totals.cost_estimated
    assert totals.cost_text() == "$0.75"


def test_unknown_cost_is_not_counted_as_zero() -> None:
    totals = SessionTotals()
    totals.add(stats_with(None))
    assert totals.cost_incomplete
    assert totals.cost_text() == "—"


def test_known_plus_unknown_says_so() -> None:
    totals = SessionTotals()
    totals.add(stats_with(Cost(0.25, "reported")))
    totals.add(stats_with(None))
    assert totals.cost_text() == "$0.25 + unknown"


def test_a_failed_reply_without_stats_counts_as_a_request_of_unknown_cost() -> None:
    totals = SessionTotals()
    totals.add(stats_with(Cost(0.25, "reported")))
    totals.add(None)
    assert totals.requests == 2
    assert totals.prompt_tokens == 10
    assert totals.cost_text() == "$0.25 + unknown"


def test_estimated_costs_mark_the_total_as_an_estimate() -> None:
    totals = SessionTotals()
    totals.add(stats_with(Cost(0.25, "reported")))
    totals.add(stats_with(Cost(0.5, "estimate")))
    assert totals.cost_estimated
    assert totals.cost_text() == "≈$0.75 (estimate)"


def test_missing_token_counts_add_nothing() -> None:
    totals = SessionTotals()
    totals.add(stats_with(Cost(0.0, "reported"), prompt=None, completion=None))
    totals.add(ReplyStats(cost=Cost(0.0, "reported")))
    assert (totals.prompt_tokens, totals.completion_tokens) == (0, 0)
    assert totals.cost_text() == "$0.00"


# -- serialisation -------------------------------------------------------------------


def test_reply_stats_round_trip() -> None:
    stats = ReplyStats(
        usage=Usage(26, 1714, 1740), cost=Cost(0.0021, "meta"), time_to_first_token=0.31, total_time=12.5,
        finish_reason="length", model="google/gemma-3-27b-it:free", provider="ModelRun", request_id="req-1",
    )
    data = json.loads(json.dumps(stats.to_dict()))
    assert data["usage"] == {"prompt_tokens": 26, "completion_tokens": 1714, "total_tokens": 1740, "estimated": False}
    assert data["cost"] == {"usd": 0.0021, "source": "meta"}
    back = ReplyStats.from_dict(data)
    assert back == stats
    assert back is not None and isinstance(back.usage, Usage) and isinstance(back.cost, Cost)


def test_reply_stats_round_trip_with_unknowns() -> None:
    stats = ReplyStats(finish_reason="stop")
    assert ReplyStats.from_dict(stats.to_dict()) == stats


def test_reply_stats_from_nothing() -> None:
    assert ReplyStats.from_dict(None) is None
    assert ReplyStats.from_dict({}) is None


def test_reply_stats_from_dict_ignores_unknown_keys_and_does_not_mutate_its_input() -> None:
    data = {"usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}, "cost": None,
            "total_time": 1.0, "future_field": "x"}
    snapshot = json.loads(json.dumps(data))
    stats = ReplyStats.from_dict(data)
    assert stats == ReplyStats(usage=Usage(1, 2, 3), total_time=1.0)
    assert data == snapshot


def test_estimated_token_counts_are_marked_and_flag_the_totals() -> None:
    stats = ReplyStats(usage=Usage(40, 12, 52, estimated=True))
    shown = dict(figures(stats))
    assert shown["prompt"] == "≈40" and shown["completion"] == "≈12" and shown["total"] == "≈52"
    totals = SessionTotals()
    totals.add(stats)
    assert totals.completion_tokens == 12 and totals.tokens_estimated
    assert ReplyStats.from_dict(json.loads(json.dumps(stats.to_dict()))) == stats


# -- the session's cost as a short figure and a note -------------------------------------


def test_cost_parts_of_a_session_keep_the_figure_short() -> None:
    assert SessionTotals().cost_parts() == ("$0.00", None)
    totals = SessionTotals()
    totals.add(ReplyStats(cost=Cost(0.000123, "reported")))
    assert totals.cost_parts() == ("$0.000123", None)


def test_cost_parts_move_the_qualifiers_into_the_note() -> None:
    totals = SessionTotals()
    totals.add(ReplyStats(cost=Cost(0.000123, "estimate")))
    figure, note = totals.cost_parts()
    assert figure == "≈$0.000123"
    assert note is not None and "estimated from your prices" in note
    totals.add(ReplyStats())
    figure, note = totals.cost_parts()
    assert figure == "≈$0.000123"
    assert note is not None and "estimated" in note and "unknown" in note
    assert note[0].isupper() or note.startswith("≈")


def test_cost_parts_when_no_cost_is_known() -> None:
    totals = SessionTotals()
    totals.add(ReplyStats())
    figure, note = totals.cost_parts()
    assert figure == "—"
    assert note is not None and "AIMLAPI_PRICE_INPUT_PER_M" in note


@pytest.mark.parametrize("usd", [0.000123, 0.0000456, 0.75, 12.5, 1e-8])
def test_the_cost_figure_fits_a_metric_across_the_sidebar(usd: float) -> None:
    """About 11 characters fit the sidebar's width in a metric's big type."""
    for source in ("reported", "estimate"):
        totals = SessionTotals()
        totals.add(ReplyStats(cost=Cost(usd, source)))
        totals.add(ReplyStats())
        figure, _ = totals.cost_parts()
        assert len(figure) <= 11, figure
        assert "+" not in figure and "(" not in figure
