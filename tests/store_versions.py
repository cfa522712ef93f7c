"""Older databases for the migration tests: a store made by only the first migrations."""

from __future__ import annotations

import pytest

from lib.store import database as store_module
from lib.store.database import Store


def store_at_version(store_url: str, version: int) -> Store:
    """The store at ``store_url`` as the app of ``version`` made it: only its first ``version`` migrations."""
    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(store_module, "MIGRATIONS", store_module.MIGRATIONS[:version])
        return Store(store_url)
