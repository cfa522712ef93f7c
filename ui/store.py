"""The conversation store, opened once per database for the whole server process, and seen
by each browser session as its person's own (see ui.people)."""

from __future__ import annotations

import logging

import streamlit as st

from lib.chat.recorder import install
from lib.errors import ChatError
from lib.settings import Settings
from lib.store import people as directory
from lib.store.database import Store, database_url
from ui.people import current_owner, signed_in_person

log = logging.getLogger(__name__)
#: session state: the owner whose sign-in this session has noted in the store
NOTED = "people_noted"


@st.cache_resource(show_spinner=False)
def _store_at(url: str) -> Store:
    # One engine (and its connection pool) per database, shared by every session;
    # keyed by URL so that tests and a changed CHAT_DB_PATH get their own.
    return Store(url)


def cached_store(settings: Settings) -> Store | None:
    """The store the settings name, bound to this session's person (the signed-in person, else
    the local one), or None when CHAT_HISTORY=off; raises StoreError or ConfigurationError."""
    if not settings.history:
        install(None)
        return None
    store = _store_at(database_url(settings))
    # Requests sent without a store of their own are logged here, as the local person's: a page
    # that sends for a signed-in person hands its requests that person's store (see LabRun.ledger).
    install(store)
    _note_who_signed_in(store)
    return store.for_owner(current_owner())


def _note_who_signed_in(store: Store) -> None:
    # Once a session: an admin's Usage page names people by the address they signed in with.
    person = signed_in_person()
    if person is None or st.session_state.get(NOTED) == person.owner:
        return
    try:
        directory.remember(store, person)
    except ChatError as exc:  # the page works without it; the admin's page shows the owner id instead
        log.warning("could not note who signed in: %s", exc)
    st.session_state[NOTED] = person.owner


def store_or_stop(settings: Settings, unreadable: str, history_off: str) -> Store:
    """The page's store, for a page that shows nothing without it: when it cannot be read, or
    history is off, the page says so (``unreadable`` / ``history_off``) and stops there."""
    try:
        store = cached_store(settings)
    except ChatError as exc:
        st.error(f"**{unreadable}** {exc}")
        st.stop()
    if store is None:
        st.info(history_off, icon=":material/info:")
        st.stop()
    return store


def store_or_warn(settings: Settings, unsaved: str) -> Store | None:
    """The page's store, for a page that works without it: when it cannot be read, the page
    warns (``unsaved``, then why) and goes on with None, as it does with history off."""
    try:
        return cached_store(settings)
    except ChatError as exc:
        st.warning(f"**{unsaved}** {exc}", icon=":material/save:")
        return None
