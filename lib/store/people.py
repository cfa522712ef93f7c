"""Who has signed in: so that an admin's Usage page can name the people behind the spending.

The store keys everything by owner (the provider's issuer and subject, :mod:`lib.people.owner`),
which says nothing to a person. A row per owner keeps the address and name the provider gave at
their latest sign-in. Only an admin's pages read it; no one's conversations are reachable from it.

The table is created by migration 14 (:func:`migration_14`).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from sqlalchemy import Column, Double, MetaData, Table, Text, select, update
from sqlalchemy.engine import Connection

from lib.people.access import Person

if TYPE_CHECKING:
    from lib.store.database import Store


def schema_v14(metadata: MetaData) -> Table:
    """Migration 14: people. Must keep creating exactly this table."""
    return Table(
        "people",
        metadata,
        Column("owner", Text, primary_key=True),
        # as the provider vouched for it at the latest sign-in; "" when it gave none
        Column("email", Text, nullable=False, server_default=""),
        Column("name", Text, nullable=False, server_default=""),
        Column("first_seen", Double, nullable=False),
        Column("last_seen", Double, nullable=False),
    )


def migration_14(conn: Connection) -> None:
    metadata = MetaData()
    metadata.create_all(conn, tables=[schema_v14(metadata)])


people = schema_v14(MetaData())


def remember(store: Store, person: Person, now: float | None = None) -> None:
    """Note that ``person`` signed in (their address and name may have changed since)."""
    now = now or time.time()
    values = {"email": person.email, "name": person.name, "last_seen": now}
    with store._transaction(write=True) as conn:
        if not conn.execute(update(people).where(people.c.owner == person.owner).values(values)).rowcount:
            conn.execute(store._insert_new(people), {"owner": person.owner, "first_seen": now, **values})


def names(store: Store) -> dict[str, str]:
    """Owner → how to show them: their address, else their name (the owner id when neither is known)."""
    with store._transaction(write=False) as conn:
        found = conn.execute(select(people.c.owner, people.c.email, people.c.name)).all()
    return {owner: email or name or owner for owner, email, name in found}

