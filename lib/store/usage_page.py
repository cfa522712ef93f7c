"""The Usage page's figures, in two parts that add up: the log before this hour, which a page keeps
until a request of that part ends (rarely: it is the past), and this hour's requests, read afresh on
every run. After a new request the page reads an hour of rows, not 100,000 (``python -m bench.usage``).

Every figure is kept in a form that two parts of the log add up in: sums per bucket and model,
speed counts per bin, spending per conversation and model. So a click on a model narrows the
figures without a query, and percentiles of the whole come out exact.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from lib.store import people as directory
from lib.store import usage
from lib.store.usage import HOUR, Bins, Choices, Overview, PerPerson, Spent, UsageFilter

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


def _added(a: dict[Any, tuple[int, float]], more: Iterable[tuple[Any, tuple[int, float]]]) -> dict[Any, tuple[int, float]]:
    """A map of (requests, cost) with ``more`` of them added key by key."""
    added = dict(a)
    for key, (requests, cost) in more:
        n, usd = added.get(key, (0, 0.0))
        added[key] = (n + requests, usd + cost)
    return added


@dataclass(frozen=True)
class Figures:
    """Everything the page draws for one filter, in parts that add up (see the module's docstring)."""

    #: (bucket's start, model) → the sums of :data:`_SUMMED`
    buckets: dict[tuple[float, str], tuple[float, ...]] = field(default_factory=dict)
    bins: Bins = field(default_factory=dict)
    spent: Spent = field(default_factory=dict)
    #: only for a filter of everyone's requests (an admin's)
    people: PerPerson = field(default_factory=dict)

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
        return Figures(buckets, bins, _added(self.spent, other.spent.items()), _added(self.people, other.people.items()))

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

    def by_person(self, models: tuple[str, ...] = ()) -> list[dict[str, Any]]:
        """Per person, the costliest first: owner, requests, cost."""
        summed = _added({}, ((owner, counts) for (owner, model), counts in self.people.items()
                             if not models or model in models))
        ranked = sorted(summed.items(), key=lambda entry: (-entry[1][1], entry[0]))
        return [{"owner": owner, "requests": n, "cost_usd": cost} for owner, (n, cost) in ranked]


def figures(store: Store, where: UsageFilter, size: int) -> Figures:
    """The page's queries, run at once on their own connections: each is a scan of its own, and
    SQLite and PostgreSQL both work on one while Python waits for another."""
    if _empty(where):
        return Figures()
    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="usage") as pool:
        buckets = pool.submit(usage.over_time, store, where, size)
        bins = pool.submit(usage.speed_bins, store, where)
        spent = pool.submit(usage.spent, store, where)
        people = pool.submit(usage.per_person, store, where) if where.owner is None else None
        sums = {(row["start"], row["model"]): tuple(row[name] for name in _SUMMED) for row in buckets.result()}
        return Figures(sums, bins.result(), spent.result(), people.result() if people else {})


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
    #: per person, when the page shows everyone's requests (an admin's); else empty
    people: list[dict[str, Any]] = field(default_factory=list)


def page_data(store: Store, whole: Figures, clicked: tuple[str, ...]) -> PageData:
    everything = whole.overview()
    people = whole.by_person(clicked)
    if people:
        known = directory.names(store)
        people = [{**row, "person": known.get(row["owner"], row["owner"])} for row in people]
    return PageData(
        everything,
        whole.overview(clicked) if clicked else everything,
        whole.speed(clicked),
        named(store, whole.costliest(clicked)),
        people,
    )


def named(store: Store, top: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The costliest with each one's title and the address that opens it; another person's (on an
    admin's page) stays untitled and unlinked: the figures are the admin's to see, the words are not."""
    mine = [t for t in top if t["owner"] == store.owner]
    chats = {s.id: s.title for s in store.list(ids=[t["id"] for t in mine if t["kind"] == "chat"])}
    compared = {s.id: s.title for s in store.list_comparisons(ids=[t["id"] for t in mine if t["kind"] == "comparison"])}
    found = []
    for item in top:
        is_chat = item["kind"] == "chat"
        title = (chats if is_chat else compared).get(item["id"])
        link = f"/?c={item['id']}" if is_chat else f"/Compare?cmp={item['id']}"
        if item["owner"] != store.owner:
            found.append({**item, "title": "(another person's)", "open": None})
        else:
            found.append({**item, "title": title or "(deleted)", "open": link if title is not None else None})
    return found
