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
from dataclasses import dataclass, field, fields
from datetime import datetime
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
    """Per time bucket and model: requests, errors, retries, stopped replies, cost; ``start`` in Unix seconds."""
    size = size or bucket_size(where)
    bucket = _bucket(store, size, _utc_offset(time.time())).label("start")
    query = (
        select(
            bucket, r.model.label("model"), func.count().label("requests"), _sum(_is_error).label("errors"),
            _sum(r.retries).label("retries"), _sum(_is_stopped).label("stopped"), _sum(_cost).label("cost_usd"),
        )
        .where(where.where())
        .group_by(bucket, r.model)
        .order_by(bucket, r.model)
    )
    with store._transaction(write=False) as conn:
        return [{**row, "start": float(row["start"])} for row in conn.execute(query).mappings()]


def _percentiles(store: Store, where: UsageFilter, column: ColumnElement[Any], name: str) -> list[dict[str, Any]]:
    # Nearest rank, in SQL that both backends run: the smallest value whose rank reaches p% of n.
    value = _sane(column, MAX_SECONDS if name == "ttft" else 1e9)
    ranked = (
        select(
            r.model.label("model"), value.label("v"),
            func.row_number().over(partition_by=r.model, order_by=value).label("rn"),
            func.count().over(partition_by=r.model).label("n"),
        )
        .where(where.where(), value.is_not(None))
        .subquery()
    )
    picks = [func.min(case((ranked.c.rn >= ranked.c.n * p / 100.0, ranked.c.v))).label(f"p{p}") for p in PERCENTILES]
    query = select(ranked.c.model, ranked.c.n, *picks).group_by(ranked.c.model, ranked.c.n).order_by(ranked.c.model)
    with store._transaction(write=False) as conn:
        return [{"metric": name, **row} for row in conn.execute(query).mappings()]


def speed(store: Store, where: UsageFilter) -> list[dict[str, Any]]:
    """Per model: time to first token (s) and tokens/s at p50, p90 and p99, with how many rows each counts."""
    return _percentiles(store, where, r.ttft, "ttft") + _percentiles(store, where, r.tokens_per_second, "tokens_per_second")


def costliest(store: Store, where: UsageFilter, limit: int = 10) -> list[dict[str, Any]]:
    """The conversations and comparisons that cost most: kind ("chat" or "comparison"), id, requests, cost."""
    comparison = r.comparison_id.is_not(None)
    key = func.coalesce(r.comparison_id, r.conversation_id).label("id")
    kind = case((comparison, "comparison"), else_="chat").label("kind")
    query = (
        select(kind, key, func.count().label("requests"), _sum(_cost).label("cost_usd"))
        .where(where.where(), key.is_not(None))
        .group_by(kind, key)
        .order_by(_sum(_cost).desc(), key)
        .limit(limit)
    )
    with store._transaction(write=False) as conn:
        return [dict(row) for row in conn.execute(query).mappings()]


@dataclass(frozen=True)
class Choices:
    """What the filters offer: the values present in the log."""

    models: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    first: float | None = None
    last: float | None = None


def choices(store: Store, owner: str | None = None, include_demo: bool = False) -> Choices:
    where = UsageFilter(owner=owner, include_demo=include_demo).where()
    with store._transaction(write=False) as conn:
        models = list(conn.scalars(select(r.model).where(where).group_by(r.model).order_by(r.model)))
        sources = list(conn.scalars(select(r.source).where(where).group_by(r.source).order_by(r.source)))
        labels = [
            label if label is not None else NO_LABEL
            for label in conn.scalars(select(r.label).where(where).group_by(r.label).order_by(r.label))
        ]
        first, last = conn.execute(select(func.min(r.time), func.max(r.time)).where(where)).one()
    return Choices(models, sources, labels[:500], first, last)


CSV_COLUMNS = [f.name for f in fields(RequestRow)]


def rows(store: Store, where: UsageFilter, batch: int = 5000) -> Iterator[RequestRow]:
    """Every row the filter lets through, oldest first, fetched a batch at a time."""
    query = select(request_log).where(where.where()).order_by(r.time, r.id)
    with store._transaction(write=False) as conn:
        result = conn.execution_options(yield_per=batch).execute(query).mappings()
        for row in result:
            yield RequestRow(**dict(row))


def to_csv(store: Store, where: UsageFilter) -> str:
    """The rows behind the charts as CSV, one line per request, times in ISO 8601, local with their offset."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for row in rows(store, where):
        values = row.values()
        values["time"] = datetime.fromtimestamp(row.time).astimezone().isoformat(timespec="seconds")
        # A label or a model id is the user's text: one that starts like a formula is defused.
        writer.writerow([defuse_formula(values[name]) for name in CSV_COLUMNS])
    return out.getvalue()
