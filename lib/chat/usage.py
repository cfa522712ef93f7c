"""Tokens, cost and timings of a reply, and the running totals of a session."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

UNKNOWN = "—"


@dataclass
class Usage:
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    total_tokens: int | None = None
    #: True when counted here from the text (a stopped or cut-off reply, for which the server
    #: reported nothing), not by the server
    estimated: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any] | None) -> Usage | None:
        if not isinstance(data, dict):
            return None

        def number(key: str) -> int | None:
            value = data.get(key)
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return None
            return sane_count(value)

        usage = cls(number("prompt_tokens"), number("completion_tokens"), number("total_tokens"))
        if usage.total_tokens is None and None not in (usage.prompt_tokens, usage.completion_tokens):
            usage.total_tokens = usage.prompt_tokens + usage.completion_tokens  # type: ignore[operator]
        return usage


@dataclass
class Cost:
    usd: float
    #: "reported" (usage.cost), "meta" (meta.usage.usd_spent), "header" (x-aimlapi-usd-spent)
    #: or "estimate" (configured prices)
    source: str

    @property
    def is_estimate(self) -> bool:
        return self.source == "estimate"


#: the most tokens one request can count (far beyond any context window); more is a broken figure
MAX_TOKENS = 10_000_000
#: the most one reply can cost, in USD; more is a broken figure (it would swamp every total)
MAX_COST_USD = 1_000.0


def sane_count(value: float) -> int | None:
    """A token count, or None when it is no count a request could have (negative, huge, not finite)."""
    return int(value) if math.isfinite(value) and 0 <= value <= MAX_TOKENS else None


def sane_cost(value: float) -> float | None:
    """A cost in USD, or None when no reply could cost it."""
    return float(value) if math.isfinite(value) and 0 <= value <= MAX_COST_USD else None


#: the longest a reply can take, in seconds; longer is a broken figure
MAX_SECONDS = 86_400.0


def sane_seconds(value: Any) -> float | None:
    """A duration in seconds, or None when it is not a number or no reply could take it."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return float(value) if math.isfinite(value) and 0 <= value <= MAX_SECONDS else None


def sane_number(value: Any, sane: Callable[[float], float | int | None]) -> Any:
    """``value`` passed through ``sane``, or None when it is no number at all.

    For figures read back from a database, where a row written by hand or by another tool
    may hold anything: a string, 1e308, NaN, a negative count.
    """
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    return sane(value)


#: no conversation is from before 2000 (this app did not exist) nor from after 2100
EARLIEST_TIME = 946_684_800.0
LATEST_TIME = 4_102_444_800.0


def sane_time(value: Any) -> float | None:
    """A point in time (Unix seconds), or None when no conversation could be from then."""
    return sane_number(value, lambda v: float(v) if math.isfinite(v) and EARLIEST_TIME <= v <= LATEST_TIME else None)


def format_time(value: Any) -> str:
    """A point in time as the pages show it, local time to the minute; unknown when impossible."""
    when = sane_time(value)
    return UNKNOWN if when is None else datetime.fromtimestamp(when).strftime("%Y-%m-%d %H:%M")


def _as_float(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return sane_cost(value)
    return None


def reported_cost(usage: dict[str, Any] | None, meta: dict[str, Any] | None) -> Cost | None:
    """The cost the server reported: ``usage.cost`` first, then ``meta.usage.usd_spent``."""
    if isinstance(usage, dict) and (usd := _as_float(usage.get("cost"))) is not None:
        return Cost(usd, "reported")
    meta_usage = meta.get("usage") if isinstance(meta, dict) else None
    if isinstance(meta_usage, dict) and (usd := _as_float(meta_usage.get("usd_spent"))) is not None:
        return Cost(usd, "meta")
    return None


#: the header in which the API reports the cost of a reply that was not streamed
USD_SPENT_HEADER = "x-aimlapi-usd-spent"


def header_cost(headers: Any) -> Cost | None:
    """The cost in a non-streamed reply's ``x-aimlapi-usd-spent`` header, if it holds a sane one."""
    try:
        usd = sane_cost(float(headers.get(USD_SPENT_HEADER) or "nan"))
    except (TypeError, ValueError):
        return None
    return None if usd is None else Cost(usd, "header")


def estimate_cost(usage: Usage | None, price_in_per_m: float | None, price_out_per_m: float | None) -> Cost | None:
    """An estimate from configured prices, or None when either the prices or the counts are missing."""
    if usage is None or price_in_per_m is None or price_out_per_m is None:
        return None
    if usage.prompt_tokens is None or usage.completion_tokens is None:
        return None
    usd = (usage.prompt_tokens * price_in_per_m + usage.completion_tokens * price_out_per_m) / 1_000_000
    return Cost(usd, "estimate")


#: Below this many seconds between the first and the last text, a speed is not measurable:
#: chunks that the network delivered together get timestamps microseconds apart, and a
#: count over such a span reads as thousands or millions of tokens per second.
MIN_GENERATION_SECONDS = 0.1


@dataclass
class ReplyStats:
    """What the page shows under a reply."""

    usage: Usage | None = None
    cost: Cost | None = None
    #: seconds from sending to the first text
    time_to_first_token: float | None = None
    #: seconds from sending to the end of the stream
    total_time: float | None = None
    finish_reason: str | None = None
    #: the model id the server says answered (e.g. ``google/gemma-3-27b-it:free``)
    model: str | None = None
    provider: str | None = None
    request_id: str | None = None
    #: seconds from sending to the last text; None in rows saved before it was kept
    last_token_time: float | None = None

    @property
    def generation_time(self) -> float | None:
        """Seconds from the first text to the last: the time the model spent generating.

        Without :attr:`last_token_time` (older rows) the end of the stream stands in for it,
        which also counts the wait for the closing usage chunk.
        """
        if self.time_to_first_token is None:
            return None
        end = self.last_token_time if self.last_token_time is not None else self.total_time
        if end is None:
            return None
        return max(end - self.time_to_first_token, 0.0)

    @property
    def tokens_per_second(self) -> float | None:
        """Tokens generated after the first over the time from the first token to the last.

        The first token's arrival starts the clock, so it is not counted in the rate. None
        when that cannot be measured honestly: fewer than two tokens, a reply that came in
        one piece, or a span too short to time (:data:`MIN_GENERATION_SECONDS`).
        """
        if self.usage is None or self.usage.completion_tokens is None or self.usage.completion_tokens < 2:
            return None
        span = self.generation_time
        if span is None or span < MIN_GENERATION_SECONDS:
            return None
        return (self.usage.completion_tokens - 1) / span

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> ReplyStats | None:
        if not data:
            return None
        data = dict(data)
        usage = data.pop("usage", None)
        cost = data.pop("cost", None)
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        # Newer than the import schema: a value that is not a number would break the arithmetic.
        known["last_token_time"] = sane_seconds(known.get("last_token_time"))
        return cls(usage=Usage(**usage) if usage else None, cost=Cost(**cost) if cost else None, **known)


def format_tokens(value: int | None, estimated: bool = False) -> str:
    if value is None:
        return UNKNOWN
    return f"≈{value:,}" if estimated else f"{value:,}"


def format_cost(cost: Cost | None) -> str:
    if cost is None:
        return UNKNOWN
    usd = cost.usd
    if usd >= 0.01 or usd == 0:
        text = f"${usd:.2f}"
    elif usd >= 1e-6:
        text = f"${usd:.6f}".rstrip("0")
    else:
        text = f"${usd:.2g}"
    return f"≈{text} (estimate)" if cost.is_estimate else text


def format_seconds(value: float | None) -> str:
    if value is None:
        return UNKNOWN
    return f"{value * 1000:.0f} ms" if round(value * 1000) < 1000 else f"{value:.2f} s"


def figures(stats: ReplyStats) -> list[tuple[str, str]]:
    """Label and value pairs for the line under a reply, always in the same order."""
    usage = stats.usage or Usage()
    rate = stats.tokens_per_second
    rows = [
        ("prompt", format_tokens(usage.prompt_tokens, usage.estimated)),
        ("completion", format_tokens(usage.completion_tokens, usage.estimated)),
        ("total", format_tokens(usage.total_tokens, usage.estimated)),
        ("cost", format_cost(stats.cost)),
        ("first token", format_seconds(stats.time_to_first_token)),
        ("time", format_seconds(stats.total_time)),
        # A speed worked out from estimated tokens is an estimate too.
        ("speed", UNKNOWN if rate is None else f"{'≈' if usage.estimated else ''}{rate:.1f} tok/s"),
    ]
    return rows


def finish_note(finish_reason: str | None) -> str | None:
    """A plain sentence for a finish reason other than ``stop``; None when there is nothing to say."""
    if finish_reason in (None, "stop"):
        return None
    if finish_reason == "length":
        return "Cut off: the reply reached the maximum length (finish reason `length`)."
    if finish_reason == "content_filter":
        return "Cut off by the provider's content filter (finish reason `content_filter`)."
    return f"Finish reason: `{finish_reason}`."


@dataclass
class SessionTotals:
    """Running totals for one browser session."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    #: whether any reply had a cost that is unknown or only estimated
    cost_incomplete: bool = False
    cost_estimated: bool = False
    #: whether any reply's tokens were counted here rather than reported by the server
    tokens_estimated: bool = False

    def add(self, stats: ReplyStats | None) -> None:
        self.requests += 1
        if stats is None:
            self.cost_incomplete = True
            return
        if stats.usage:
            self.prompt_tokens += stats.usage.prompt_tokens or 0
            self.completion_tokens += stats.usage.completion_tokens or 0
            self.tokens_estimated |= stats.usage.estimated
        if stats.cost is None:
            self.cost_incomplete = True
        else:
            self.cost_usd += stats.cost.usd
            self.cost_estimated |= stats.cost.is_estimate

    def cost_text(self) -> str:
        if self.requests == 0:
            return format_cost(Cost(0.0, "reported"))
        if self.cost_incomplete and self.cost_usd == 0:
            return UNKNOWN
        text = format_cost(Cost(self.cost_usd, "estimate" if self.cost_estimated else "reported"))
        return f"{text} + unknown" if self.cost_incomplete else text

    def cost_parts(self) -> tuple[str, str | None]:
        """The cost as a short figure (``$0.000123``, ``≈$0.75``) and what qualifies it, if anything.

        For a metric, whose big figure is cut with an ellipsis when it is wider than its box:
        the qualifiers that make :meth:`cost_text` long go into the note instead.
        """
        if self.requests == 0:
            return format_cost(Cost(0.0, "reported")), None
        if self.cost_incomplete and self.cost_usd == 0:
            return UNKNOWN, "The server reported no cost; set AIMLAPI_PRICE_INPUT_PER_M and _OUTPUT_PER_M for an estimate."
        figure = format_cost(Cost(self.cost_usd, "reported"))
        notes = []
        if self.cost_estimated:
            figure = f"≈{figure}"
            notes.append("≈ estimated from your prices where the server reported no cost")
        if self.cost_incomplete:
            notes.append("plus replies whose cost is unknown")
        if not notes:
            return figure, None
        note = "; ".join(notes)
        return figure, f"{note[0].upper()}{note[1:]}."
