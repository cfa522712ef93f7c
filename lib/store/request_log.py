"""The request log (#15): one row per request sent to the API, whatever sent it and however it ended.

With limits set, a row is written when the request is about to leave (status ``sending``), inside
the same transaction that checks the spending and request limits (:mod:`lib.store.budget`), so
that two replicas cannot both slip under a limit; it is rewritten with the figures when the request
ends. Without limits it is written only then, so that no write delays a request. A row still
``sending`` long after is one whose server died mid-request.

The table is created by migration 12 (:func:`migration_12`); :mod:`lib.store.database` imports
the schema from here so that the queries and the migration share one definition.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import Boolean, Column, Double, Index, Integer, MetaData, String, Table, Text, insert, select, update
from sqlalchemy.engine import Connection

from lib.people.owner import LOCAL_OWNER

if TYPE_CHECKING:
    from lib.settings import Settings
    from lib.store.database import Store

Source = Literal["chat", "compare", "lab", "judge"]
#: ``sending`` while in flight; ``cut`` is a reply the server ended early (length, content filter)
Status = Literal["sending", "ok", "error", "stopped", "cut"]
#: where a row's cost came from: the API's own figure, the configured prices, or the demo model
CostSource = Literal["server", "estimate", "demo"]


def schema_v12(metadata: MetaData) -> Table:
    """Migration 12: the request log. Must keep creating exactly this table."""
    return Table(
        "request_log",
        metadata,
        # ours: the X-Client-Request-Id the request carried (a uuid4)
        Column("id", String, primary_key=True),
        Column("owner", Text, nullable=False, server_default=LOCAL_OWNER),
        Column("time", Double, nullable=False),
        Column("conversation_id", String, nullable=True),
        Column("comparison_id", String, nullable=True),
        Column("lab_run_id", String, nullable=True),
        Column("model", Text, nullable=False),
        Column("source", String, nullable=False),
        # the preset or the set-up's label, to filter by
        Column("label", Text, nullable=True),
        Column("status", String, nullable=False),
        # the error's class (RateLimitError …) when status is "error"
        Column("error_kind", String, nullable=True),
        Column("retries", Integer, nullable=False, server_default="0"),
        Column("prompt_tokens", Integer, nullable=True),
        Column("completion_tokens", Integer, nullable=True),
        Column("tokens_estimated", Boolean, nullable=False, server_default="0"),
        Column("cost_usd", Double, nullable=True),
        Column("cost_source", String, nullable=True),
        Column("ttft", Double, nullable=True),
        Column("duration", Double, nullable=True),
        Column("tokens_per_second", Double, nullable=True),
        # the API's own id for it (x-request-id, an error body's requestId, or the completion's id)
        Column("api_request_id", Text, nullable=True),
        # Covering indexes: the Usage page's sums and the limits read an index alone, never the
        # table (at 100,000 rows a lookup per row took 4× as long as the scan; bench/usage.py).
        # The budget of everyone: by time.
        Index("ix_request_log_time", "time", "cost_source", "cost_usd"),
        # The page, the per-person limits: by owner, then time, with every column they group or sum.
        Index(
            "ix_request_log_owner_time", "owner", "time", "model", "source", "label", "status", "cost_source",
            "cost_usd", "prompt_tokens", "completion_tokens", "retries", "ttft", "tokens_per_second",
            "conversation_id", "comparison_id",
        ),
    )


def migration_12(conn: Connection) -> None:
    metadata = MetaData()
    metadata.create_all(conn, tables=[schema_v12(metadata)])


#: the table as the queries use it
request_log = schema_v12(MetaData())


@dataclass
class RequestRow:
    """One request, as logged."""

    id: str
    model: str
    source: str = "chat"
    owner: str = LOCAL_OWNER
    time: float = field(default_factory=time.time)
    conversation_id: str | None = None
    comparison_id: str | None = None
    lab_run_id: str | None = None
    label: str | None = None
    status: str = "sending"
    error_kind: str | None = None
    retries: int = 0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    tokens_estimated: bool = False
    cost_usd: float | None = None
    cost_source: str | None = None
    ttft: float | None = None
    duration: float | None = None
    tokens_per_second: float | None = None
    api_request_id: str | None = None

    def values(self) -> dict[str, Any]:
        return asdict(self)


def begin_request(store: Store, row: RequestRow, settings: Settings | None = None, next_cost: float = 0.0) -> None:
    """Log ``row`` as leaving now, after checking the limits in ``settings`` in the same transaction.

    Raises :class:`lib.errors.SpendingLimitError` (nothing written) when a limit is reached, or
    :class:`lib.errors.StoreError` when the database fails.
    """
    from lib.store.budget import check_limits, lock_limits

    with store._transaction(write=True) as conn:
        if settings is not None:
            lock_limits(conn, store.is_sqlite)
            check_limits(conn, settings, row.owner, row.time, next_cost)
        conn.execute(insert(request_log).values(row.values()))


def finish_request(store: Store, row: RequestRow) -> None:
    """Write how the request ended; inserts the row if its start was never logged (a failed write)."""
    values = row.values()
    with store._transaction(write=True) as conn:
        changed = conn.execute(update(request_log).where(request_log.c.id == row.id).values(values)).rowcount
        if not changed:
            conn.execute(insert(request_log).values(values))


def load_request(store: Store, request_id: str) -> RequestRow | None:
    """One logged request, by our id (for tests and support)."""
    with store._transaction(write=False) as conn:
        found = conn.execute(select(request_log).where(request_log.c.id == request_id)).mappings().first()
    return RequestRow(**dict(found)) if found is not None else None
