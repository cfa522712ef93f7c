"""The conversation store, opened once per database for the whole server process."""

from __future__ import annotations

import streamlit as st

from lib.chat.recorder import install
from lib.settings import Settings
from lib.store.database import Store, database_url


@st.cache_resource(show_spinner=False)
def _store_at(url: str) -> Store:
    # One engine (and its connection pool) per database, shared by every session;
    # keyed by URL so that tests and a changed CHAT_DB_PATH get their own.
    return Store(url)


def cached_store(settings: Settings) -> Store | None:
    """The store the settings name, or None when CHAT_HISTORY=off; raises StoreError or ConfigurationError."""
    if not settings.history:
        install(None)
        return None
    store = _store_at(database_url(settings))
    # Requests sent without a store of their own (a lab run) are logged here.
    install(store)
    return store
