"""The Usage page's figures, in two parts that add up: the log before this hour, which a page keeps
until a request of that part ends (rarely: it is the past), and this hour's requests, read afresh on
every run. After a new request the page reads an hour of rows, not 100,000 (``python -m bench.usage``).

Every figure is kept in a form that two parts of the log add up in: sums per bucket and model,
speed counts per bin, spending per conversation and model. So a click on a model narrows the
figures without a query, and percentiles of the whole come out exact.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lib.store import usage
from lib.store.usage import HOUR, Bins, Choices, Overview, Spent, UsageFilter

if TYPE_CHECKING:
    from lib.store.database import Store

_SUMMED = ("requests", "errors", "retries", "stopped", "cost_usd", "estimated_usd", "prompt_tokens", "completion_tokens")


@dataclass(frozen=True)
class Settled:
    """The part of the log that a page may keep: before ``until`` (the start of this hour), as it was
    when ``ended`` of its requests had ended. Either changing means reading that part again."""

    until: float
    ended: int


def settled(store: Store, owner: str | None, now: float) -> Settled:
    until = math.floor(now / HOUR) * HOUR
    return Settled(until, usage.settled_rows(store, owner, until))


def before(where: UsageFilter, until: float) -> UsageFilter:
    return replace(where, end=until if where.end is None else min(where.end, until))


def since(where: UsageFilter, until: float) -> UsageFilter:
    return replace(where, start=until if where.start is None else max(where.start, until))


def _empty(where: UsageFilter) -> bool:
    return where.start is not None and where.end is not None and where.start >= where.end


@dataclass(frozen=True)
class Figures:
    """Everything the page draws for one filter, in parts that add up (see the module's docstring)."""

    #: (bucket's start, model) → the sums of :data:`_SUMMED`
    buckets: dict[tuple[float, str], tuple[float, ...]] = field(default_factory=dict)
    bins: Bins = field(default_factory=dict)
    spent: Spent = field(default_factory=dict)

    def __add__(self, other: Figures) -> Figures:
        buckets = dict(self.buckets)
        for key, sums in other.buckets.items():
            mine = buckets.get(key)
            buckets[key] = sums if mine is None else tuple(a + b for a, b in zip(mine, sums, strict=True))
        bins = {key: dict(counts) for key, counts in self.bins.items()}
        for key, counts in other.bins.items():
            merged = bins.setdefault(key, {})
            for value, count in counts.items():
                merged[value] = merged.get(value, 0) + count
        spent = dict(self.spent)
        for key, (requests, cost) in other.spent.items():
            n, usd = spent.get(key, (0, 0.0))
            spent[key] = (n + requests, usd + cost)
        return Figures(buckets, bins, spent)

    def overview(self, models: tuple[str, ...] = ()) -> Overview:
        rows = [
            {"start": start, "model": model, **dict(zip(_SUMMED, sums, strict=True))}
            for (start, model), sums in sorted(self.buckets.items())
            if not models or model in models
        ]
        return Overview.of(rows)

    def speed(self, models: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        return usage.percentile_rows(self.bins, models)

    def costliest(self, models: tuple[str, ...] = (), limit: int = 10) -> list[dict[str, Any]]:
        return usage.top_spent(self.spent, models, limit)


def figures(store: Store, where: UsageFilter, size: int) -> Figures:
    """The page's three queries, run at once on their own connections: each is a scan of its own, and
    SQLite and PostgreSQL both work on one while Python waits for another."""
    if _empty(where):
        return Figures()
    with ThreadPoolExecutor(max_workers=3, thread_name_prefix="usage") as pool:
        buckets = pool.submit(usage.over_time, store, where, size)
        bins = pool.submit(usage.speed_bins, store, where)
        spent = pool.submit(usage.spent, store, where)
        sums = {(row["start"], row["model"]): tuple(row[name] for name in _SUMMED) for row in buckets.result()}
        return Figures(sums, bins.result(), spent.result())


def recent_choices(store: Store, owner: str | None, part: Settled) -> Choices:
    return usage.choices(store, owner, include_demo=True, start=part.until)


def settled_choices(store: Store, owner: str | None, part: Settled) -> Choices:
    return usage.choices(store, owner, include_demo=True, end=part.until)


@dataclass(frozen=True)
class PageData:
    """Everything the Usage page draws, for the filters and the models picked by a click."""

    everything: Overview
    shown: Overview
    speed: list[dict[str, Any]]
    costliest: list[dict[str, Any]]


def page_data(store: Store, whole: Figures, clicked: tuple[str, ...]) -> PageData:
    everything = whole.overview()
    return PageData(
        everything,
        whole.overview(clicked) if clicked else everything,
        whole.speed(clicked),
        named(store, whole.costliest(clicked)),
    )


def named(store: Store, top: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The costliest with each one's title and the address that opens it."""
    chats = {s.id: s.title for s in store.list(ids=[t["id"] for t in top if t["kind"] == "chat"])}
    compared = {s.id: s.title for s in store.list_comparisons(ids=[t["id"] for t in top if t["kind"] == "comparison"])}
    found = []
    for item in top:
        is_chat = item["kind"] == "chat"
        title = (chats if is_chat else compared).get(item["id"])
        link = f"/?c={item['id']}" if is_chat else f"/Compare?cmp={item['id']}"
        found.append({**item, "title": title or "(deleted)", "open": link if title is not None else None})
    return found
