"""What the Usage page shows (#15), computed in SQL over the request log: sums, buckets and
percentiles come back as a few hundred rows whatever the number of requests, so the page draws
in well under a second at 100,000 rows (``python -m bench.usage``).

Every query takes a :class:`UsageFilter`. Demo rows (invented figures) are left out unless the
filter includes them. Figures no request could have (a row written by hand: a cost of 1e308, a
negative count) count as unknown, as in the rest of the store.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import Integer, and_, case, cast, func, select
from sqlalchemy.sql.elements import ColumnElement

from lib.chat.usage import MAX_COST_USD, MAX_SECONDS, MAX_TOKENS
from lib.experiments.test_sets import _safe as defuse_formula
from lib.store.request_log import RequestRow, request_log

if TYPE_CHECKING:
    from lib.store.database import Store

HOUR = 3600
DAY = 86_400
#: the label that stands for rows logged without a preset or set-up
NO_LABEL = "(none)"
#: percentiles the speed chart shows
PERCENTILES = (50, 90, 99)
r = request_log.c


@dataclass(frozen=True)
class UsageFilter:
    """Which rows the page is about; an empty tuple lets everything through."""

    start: float | None = None
    end: float | None = None
    models: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    labels: tuple[str, ...] = ()
    #: None: every owner's rows
    owner: str | None = None
    include_demo: bool = False

    def where(self) -> ColumnElement[bool]:
        terms: list[ColumnElement[bool]] = [r.status != "sending"]
        if self.start is not None:
            terms.append(r.time >= self.start)
        if self.end is not None:
            terms.append(r.time < self.end)
        if self.models:
            terms.append(r.model.in_(self.models))
        if self.sources:
            terms.append(r.source.in_(self.sources))
        if self.labels:
            named = [label for label in self.labels if label != NO_LABEL]
            term = r.label.in_(named)
            terms.append(term | r.label.is_(None) if NO_LABEL in self.labels else term)
        if self.owner is not None:
            terms.append(r.owner == self.owner)
        if not self.include_demo:
            terms.append(func.coalesce(r.cost_source, "") != "demo")
        return and_(*terms)


def _sane(column: ColumnElement[Any], high: float) -> ColumnElement[Any]:
    return case((column.between(0, high), column))


_cost = _sane(r.cost_usd, MAX_COST_USD)
_prompt = _sane(r.prompt_tokens, MAX_TOKENS)
_completion = _sane(r.completion_tokens, MAX_TOKENS)
_is_error = case((r.status == "error", 1), else_=0)
_is_stopped = case((r.status == "stopped", 1), else_=0)


def _sum(column: ColumnElement[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(column), 0)


@dataclass(frozen=True)
class Totals:
    requests: int = 0
    errors: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    #: of which the server reported none and the configured prices estimated it
    estimated_usd: float = 0.0


def totals(store: Store, where: UsageFilter) -> Totals:
    query = select(
        func.count(), _sum(_is_error), _sum(r.retries), _sum(_prompt), _sum(_completion), _sum(_cost),
        _sum(case((r.cost_source == "estimate", _cost))),
    ).where(where.where())
    with store._transaction(write=False) as conn:
        row = conn.execute(query).one()
    return Totals(int(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]), float(row[5]), float(row[6]))


def by_model(store: Store, where: UsageFilter) -> list[dict[str, Any]]:
    """Per model: requests, errors, tokens in and out, cost (the costliest first)."""
    query = (
        select(
            r.model.label("model"), func.count().label("requests"), _sum(_is_error).label("errors"),
            _sum(_prompt).label("prompt_tokens"), _sum(_completion).label("completion_tokens"),
            _sum(_cost).label("cost_usd"),
        )
        .where(where.where())
        .group_by(r.model)
        .order_by(_sum(_cost).desc(), r.model)
    )
    with store._transaction(write=False) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


def bucket_size(where: UsageFilter, now: float | None = None) -> int:
    """An hour for a range of up to three days, else a day."""
    end = where.end if where.end is not None else (now or time.time())
    if where.start is not None and end - where.start <= 3 * DAY:
        return HOUR
    return DAY


def _utc_offset(now: float) -> int:
    """Seconds local time is ahead of UTC, so that day buckets start at local midnight."""
    offset = datetime.fromtimestamp(now).astimezone().utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def _bucket(store: Store, size: int, offset: int) -> ColumnElement[Any]:
    shifted = (r.time + offset) / size
    # SQLite's CAST truncates (times are positive, so it floors); PostgreSQL's rounds: floor() there.
    whole = cast(shifted, Integer) if store.is_sqlite else func.floor(shifted)
    return whole * size - offset


def over_time(store: Store, where: UsageFilter, size: int | None = None) -> list[dict[str, Any]]:
    """Per time bucket and model: requests, errors, retries, stopped replies, cost (and the part of it
    estimated), tokens in and out; ``start`` in Unix seconds."""
    size = size or bucket_size(where)
    bucket = _bucket(store, size, _utc_offset(time.time())).label("start")
    query = (
        select(
            bucket, r.model.label("model"), func.count().label("requests"), _sum(_is_error).label("errors"),
            _sum(r.retries).label("retries"), _sum(_is_stopped).label("stopped"), _sum(_cost).label("cost_usd"),
            _sum(case((r.cost_source == "estimate", _cost))).label("estimated_usd"),
            _sum(_prompt).label("prompt_tokens"), _sum(_completion).label("completion_tokens"),
        )
        .where(where.where())
        .group_by(bucket, r.model)
        .order_by(bucket, r.model)
    )
    with store._transaction(write=False) as conn:
        return [{**row, "start": float(row["start"])} for row in conn.execute(query).mappings()]


#: the width of a bin of each speed figure: percentiles are read from counts per bin, in SQL
#: one GROUP BY (4× faster than ranking every row with a window function at 100,000 rows)
BINS = {"ttft": 0.01, "tokens_per_second": 0.1}


def nearest_rank(bins: list[tuple[float, int]], percent: float) -> float | None:
    """The value at ``percent`` by nearest rank, from (value, count) pairs sorted by value."""
    total = sum(count for _, count in bins)
    if not total:
        return None
    wanted = percent / 100 * total
    seen = 0
    for value, count in bins:
        seen += count
        if seen >= wanted:
            return value
    return bins[-1][0]


@dataclass(frozen=True)
class Overview:
    """The page's figures from one scan: per bucket and model (SQL), rolled up per model and in all."""

    buckets: list[dict[str, Any]]
    models: list[dict[str, Any]]
    totals: Totals

    @classmethod
    def of(cls, buckets: list[dict[str, Any]]) -> Overview:
        """Rolled up from :func:`over_time`'s rows: at most a few hundred (days × models), so adding
        them up here costs nothing beside a second scan of the log."""
        per_model: dict[str, dict[str, Any]] = {}
        for row in buckets:
            model = per_model.setdefault(row["model"], {"model": row["model"], **dict.fromkeys(_SUMMED, 0)})
            for name in _SUMMED:
                model[name] += row[name]
        models = sorted(per_model.values(), key=lambda m: (-m["cost_usd"], m["model"]))
        total = {name: sum(m[name] for m in models) for name in _SUMMED}
        return cls(buckets, models, Totals(
            int(total["requests"]), int(total["errors"]), int(total["retries"]), int(total["prompt_tokens"]),
            int(total["completion_tokens"]), float(total["cost_usd"]), float(total["estimated_usd"]),
        ))


_SUMMED = ("requests", "errors", "retries", "prompt_tokens", "completion_tokens", "cost_usd", "estimated_usd")


def overview(store: Store, where: UsageFilter, size: int) -> Overview:
    """:func:`over_time`, :func:`by_model` and :func:`totals` at the price of one query."""
    return Overview.of(over_time(store, where, size))


#: (metric, model) → {bin's value: how many replies fell in it}
Bins = dict[tuple[str, str], dict[float, int]]


def speed_bins(store: Store, where: UsageFilter) -> Bins:
    """Time to first token and tokens/s counted per model and bin: counts of two parts of the log
    add up, so percentiles of the whole can be read from them."""
    found: Bins = {}
    for name, column in (("ttft", r.ttft), ("tokens_per_second", r.tokens_per_second)):
        width = BINS[name]
        value = _sane(column, MAX_SECONDS if name == "ttft" else 1e6)
        # Rounded to the nearest bin: a value of exactly 0.29 s is bin 29, not 28.99… cut to 28.
        binned = cast(value / width + 0.5, Integer) if store.is_sqlite else func.floor(value / width + 0.5)
        query = (
            select(r.model, binned.label("bin"), func.count())
            .where(where.where(), value.is_not(None))
            .group_by(r.model, binned)
        )
        with store._transaction(write=False) as conn:
            for model, bin_index, count in conn.execute(query):
                found.setdefault((name, model), {})[round(float(bin_index) * width, 6)] = int(count)
    return found


def percentile_rows(bins: Bins, models: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Per metric and model (only ``models``, if any): p50, p90 and p99, and how many replies count."""
    rows = []
    for (name, model), counts in sorted(bins.items()):
        if models and model not in models:
            continue
        ordered = sorted(counts.items())
        rows.append({"metric": name, "model": model, "n": sum(counts.values()),
                     **{f"p{p}": nearest_rank(ordered, p) for p in PERCENTILES}})
    return rows


def speed(store: Store, where: UsageFilter) -> list[dict[str, Any]]:
    """Per model: time to first token (s) and tokens/s at p50, p90 and p99, with how many replies each counts."""
    return percentile_rows(speed_bins(store, where))


#: (kind: "chat" or "comparison", id, model, owner) → (requests, cost)
Spent = dict[tuple[str, str, str, str], tuple[int, float]]


def spent(store: Store, where: UsageFilter) -> Spent:
    """What each conversation and comparison cost, per model (so that a click on a model can narrow
    it), with whose it is (one owner each: it adds no rows, and an admin's page names no one else's)."""
    comparison = r.comparison_id.is_not(None)
    key = func.coalesce(r.comparison_id, r.conversation_id).label("id")
    kind = case((comparison, "comparison"), else_="chat").label("kind")
    query = select(kind, key, r.model, r.owner, func.count(), _sum(_cost)).where(where.where(), key.is_not(None)).group_by(
        kind, key, r.model, r.owner
    )
    with store._transaction(write=False) as conn:
        return {(k, i, m, o): (int(n), float(c)) for k, i, m, o, n, c in conn.execute(query)}


def top_spent(found: Spent, models: tuple[str, ...] = (), limit: int = 10) -> list[dict[str, Any]]:
    """The ``limit`` conversations and comparisons that cost most (in ``models``, if any)."""
    per_item: dict[tuple[str, str, str], list[float]] = {}
    for (kind, item, model, owner), (requests, cost) in found.items():
        if models and model not in models:
            continue
        summed = per_item.setdefault((kind, item, owner), [0, 0.0])
        summed[0] += requests
        summed[1] += cost
    ranked = sorted(per_item.items(), key=lambda entry: (-entry[1][1], entry[0][1]))[:limit]
    return [
        {"kind": kind, "id": item, "owner": owner, "requests": int(n), "cost_usd": cost}
        for (kind, item, owner), (n, cost) in ranked
    ]


#: (owner, model) → (requests, cost)
PerPerson = dict[tuple[str, str], tuple[int, float]]


def per_person(store: Store, where: UsageFilter) -> PerPerson:
    """Requests and cost per person and model: what an admin's page shows of everyone."""
    query = select(r.owner, r.model, func.count(), _sum(_cost)).where(where.where()).group_by(r.owner, r.model)
    with store._transaction(write=False) as conn:
        return {(o, m): (int(n), float(c)) for o, m, n, c in conn.execute(query)}


def costliest(store: Store, where: UsageFilter, limit: int = 10) -> list[dict[str, Any]]:
    """The conversations and comparisons that cost most: kind ("chat" or "comparison"), id, requests, cost."""
    return top_spent(spent(store, where), limit=limit)


@dataclass(frozen=True)
class Choices:
    """What the filters offer: the values present in the log."""

    models: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    first: float | None = None
    last: float | None = None

    def __add__(self, other: Choices) -> Choices:
        """The choices of two parts of the log together."""
        def union(a: list[str], b: list[str]) -> list[str]:
            named = sorted({x for x in a + b if x != NO_LABEL})
            return named[:500] + ([NO_LABEL] if NO_LABEL in a + b else [])

        known = [t for t in (self.first, other.first) if t is not None]
        latest = [t for t in (self.last, other.last) if t is not None]
        return Choices(union(self.models, other.models), union(self.sources, other.sources),
                       union(self.labels, other.labels), min(known, default=None), max(latest, default=None))


def choices(
    store: Store, owner: str | None = None, include_demo: bool = False, start: float | None = None,
    end: float | None = None,
) -> Choices:
    where = UsageFilter(start=start, end=end, owner=owner, include_demo=include_demo).where()
    # One scan for the three lists: the combinations are few, whatever the number of rows.
    combos = select(r.model, r.source, r.label).where(where).group_by(r.model, r.source, r.label)
    with store._transaction(write=False) as conn:
        found = conn.execute(combos).all()
        first, last = conn.execute(select(func.min(r.time), func.max(r.time)).where(where)).one()
    models = sorted({m for m, _, _ in found})
    sources = sorted({s for _, s, _ in found})
    labels = sorted({label for _, _, label in found if label is not None})
    if any(label is None for _, _, label in found):
        labels.append(NO_LABEL)
    return Choices(models, sources, labels[:500], first, last)


def settled_rows(store: Store, owner: str | None, until: float) -> int:
    """How many requests before ``until`` have ended: it grows whenever the figures of that part of the
    log can change (a request ending, a row of an older time written late, by any replica), since
    rows are written once in flight and once ended, and never deleted. One pass over an index."""
    query = select(func.count()).where(r.time < until, r.status != "sending")
    if owner is not None:
        query = query.where(r.owner == owner)
    with store._transaction(write=False) as conn:
        return int(conn.execute(query).scalar_one())


CSV_COLUMNS = [f.name for f in fields(RequestRow)]


def rows(store: Store, where: UsageFilter, batch: int = 5000) -> Iterator[RequestRow]:
    """Every row the filter lets through, oldest first, fetched a batch at a time."""
    query = select(request_log).where(where.where()).order_by(r.time, r.id)
    with store._transaction(write=False) as conn:
        result = conn.execution_options(yield_per=batch).execute(query).mappings()
        for row in result:
            yield RequestRow(**dict(row))


def to_csv(store: Store, where: UsageFilter, batch: int = 5000) -> str:
    """The rows behind the charts as CSV, one line per request, times in ISO 8601, local with their offset."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    columns = [request_log.c[name] for name in CSV_COLUMNS]
    at = CSV_COLUMNS.index("time")
    # Text written by people or models (a label, a model id) is defused where it starts like a formula.
    texts = [i for i, name in enumerate(CSV_COLUMNS) if name in ("model", "label", "source", "owner", "api_request_id")]
    zone = datetime.now().astimezone().tzinfo
    query = select(*columns).where(where.where()).order_by(r.time, r.id)
    with store._transaction(write=False) as conn:
        for row in conn.execution_options(yield_per=batch).execute(query):
            values = list(row)
            values[at] = datetime.fromtimestamp(values[at], zone).isoformat(timespec="seconds")
            for i in texts:
                values[i] = defuse_formula(values[i])
            writer.writerow(values)
    return out.getvalue()


def day_range(first: date | None, last: date | None) -> tuple[float | None, float | None]:
    """Local midnight of ``first`` to the midnight after ``last``, as the date filter gives them."""
    start = datetime.combine(first, datetime.min.time()).timestamp() if first else None
    end = (datetime.combine(last, datetime.min.time()) + timedelta(days=1)).timestamp() if last else None
    return start, end


def picked(selections: list[list[dict[str, Any]]], name: str = "model") -> tuple[str, ...]:
    """The values of ``name`` clicked in the charts' selections (each a list of picked points)."""
    found: list[str] = []
    for points in selections:
        for point in points or []:
            value = point.get(name) if isinstance(point, dict) else None
            if isinstance(value, str) and value not in found:
                found.append(value)
    return tuple(found)


def narrowed(where: UsageFilter, models: tuple[str, ...]) -> UsageFilter:
    """``where`` limited to ``models`` too (a click on a bar), within the models it already allows."""
    if not models:
        return where
    allowed = tuple(m for m in models if not where.models or m in where.models)
    return replace(where, models=allowed or models)
