"""Fixtures for the store tests: one empty store per backend.

A pytest plugin: test modules load it with ``pytest_plugins = ("tests.store_fixtures",)``.

Every test that takes ``store`` runs on SQLite, and on PostgreSQL when CHAT_TEST_PG_URL is
set (``eval "$(scripts/ensure-postgres | tail -1)"``). Under CI the variable is required:
a missing server must fail the run, not skip half of it quietly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect, make_url, text

from lib.store.database import Store

PG_ENV = "CHAT_TEST_PG_URL"
PG_HOW = f'eval "$(scripts/ensure-postgres | tail -1)" sets {PG_ENV}'


def pg_url() -> str:
    url = os.environ.get(PG_ENV, "").strip()
    if not url:
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"{PG_ENV} is not set, but CI must test the store on PostgreSQL too: {PG_HOW}.")
        pytest.skip(f"PostgreSQL store tests need {PG_ENV} ({PG_HOW})")
    return url


def reset_postgres(url: str) -> None:
    """Drop the store's tables, so that each test starts from an empty, unmigrated database."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    engine = create_engine(parsed)
    try:
        with engine.begin() as conn:
            # Every table there is, so that one a later migration adds is not left from an earlier test.
            tables = inspect(conn).get_table_names()
            if tables:
                conn.execute(text(f"DROP TABLE IF EXISTS {', '.join(tables)} CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database: a SQLite file in tmp_path, or the test PostgreSQL, emptied."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'chats.sqlite3'}"
    url = pg_url()
    reset_postgres(url)
    return url


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    opened = Store(store_url)
    yield opened
    opened.close()
