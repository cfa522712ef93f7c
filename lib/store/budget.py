"""Spending and request limits, counted from the request log (#15 item 4, #14 item 5).

Counted in the database, not in a process, so that they hold across replicas and restarts:

- ``CHAT_DAILY_USD`` / ``CHAT_MONTHLY_USD``: what everyone together spent today / this month
  (local time), by the costs logged; demo figures are no spending.
- ``CHAT_USER_RPM``: requests one owner sent in the last 60 s, whatever became of them.
- ``CHAT_USER_DAILY_USD``: what one owner spent today.

A request is refused when a limit is reached, or when what is left is less than the request's
own cost as far as it is known before sending (its prompt at the configured input price: the
least it can cost), so that a budget is not overshot by the request that crosses it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from lib.chat.usage import MAX_COST_USD, Cost, format_cost
from lib.errors import SpendingLimitError
from lib.store.request_log import request_log

if TYPE_CHECKING:
    from lib.settings import Settings
    from lib.store.database import Store

#: the advisory lock that makes check-then-log one step across PostgreSQL replicas
_PG_LIMITS_LOCK = int.from_bytes(hashlib.sha256(b"gemma-chat limits").digest()[:4], "big")
RPM_WINDOW = 60.0


def day_start(now: float) -> float:
    """Local midnight before ``now``."""
    return datetime.fromtimestamp(now).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def month_start(now: float) -> float:
    return datetime.fromtimestamp(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()


def _next_day(now: float) -> str:
    return (datetime.fromtimestamp(day_start(now)) + timedelta(days=1)).strftime("%Y-%m-%d %H:%M")


def _next_month(now: float) -> str:
    start = datetime.fromtimestamp(month_start(now))
    return (start.replace(year=start.year + 1, month=1) if start.month == 12 else start.replace(month=start.month + 1)).strftime(
        "%Y-%m-%d"
    )


def lock_limits(conn: Connection, is_sqlite: bool) -> None:
    """Serialise limit checks: SQLite's write transaction (BEGIN IMMEDIATE) already does."""
    if not is_sqlite:
        conn.execute(select(func.pg_advisory_xact_lock(_PG_LIMITS_LOCK)))


def spent(conn: Connection, since: float, owner: str | None = None) -> float:
    """USD logged since ``since`` (by everyone, or by ``owner``), demo excluded."""
    cost = request_log.c.cost_usd
    where = [request_log.c.time >= since, cost.between(0, MAX_COST_USD), request_log.c.cost_source != "demo"]
    if owner is not None:
        where.append(request_log.c.owner == owner)
    return float(conn.scalar(select(func.coalesce(func.sum(cost), 0.0)).where(and_(*where))) or 0.0)


def sent_recently(conn: Connection, owner: str, now: float) -> int:
    where = and_(request_log.c.owner == owner, request_log.c.time > now - RPM_WINDOW)
    return int(conn.scalar(select(func.count()).select_from(request_log).where(where)) or 0)


def _usd(value: float) -> str:
    return format_cost(Cost(value, "server"))


def check_limits(conn: Connection, settings: Settings, owner: str, now: float, next_cost: float = 0.0) -> None:
    """Raise :class:`SpendingLimitError` when a limit stands in the way of one more request now."""
    if settings.user_rpm is not None:
        count = sent_recently(conn, owner, now)
        if count >= settings.user_rpm:
            raise SpendingLimitError(
                f"You sent {count} requests in the last minute; CHAT_USER_RPM allows {settings.user_rpm}. "
                "Wait a minute and send it again."
            )
    spends = (
        (settings.daily_usd, day_start(now), None, "Today everyone together has spent", "CHAT_DAILY_USD", _next_day(now)),
        (settings.monthly_usd, month_start(now), None, "This month everyone together has spent", "CHAT_MONTHLY_USD",
         _next_month(now)),
        (settings.user_daily_usd, day_start(now), owner, "Today you have spent", "CHAT_USER_DAILY_USD", _next_day(now)),
    )
    for limit, since, who, lead, name, frees in spends:
        if limit is None:
            continue
        used = spent(conn, since, who)
        if used >= limit or used + next_cost > limit:
            more = f", and this request would cost at least {_usd(next_cost)}" if used < limit else ""
            raise SpendingLimitError(
                f"{lead} {_usd(used)} of the {_usd(limit)} that {name} allows{more}. "
                f"Nothing was sent; the limit starts afresh on {frees}."
            )


@dataclass(frozen=True)
class Gauge:
    """One limit for the sidebar: what is spent of it."""

    label: str
    spent: float
    limit: float

    @property
    def fraction(self) -> float:
        return 1.0 if self.limit <= 0 else min(1.0, self.spent / self.limit)

    def text(self) -> str:
        return f"{self.label}: {_usd(self.spent)} of {_usd(self.limit)}"


def gauges(store: Store, settings: Settings, owner: str, now: float) -> list[Gauge]:
    """The configured spending limits and what is spent of each (empty when none is set)."""
    wanted = (
        ("Today", settings.daily_usd, day_start(now), None),
        ("This month", settings.monthly_usd, month_start(now), None),
        ("You today", settings.user_daily_usd, day_start(now), owner),
    )
    if all(limit is None for _, limit, _, _ in wanted):
        return []
    with store._transaction(write=False) as conn:
        return [Gauge(label, spent(conn, since, who), limit) for label, limit, since, who in wanted if limit is not None]
