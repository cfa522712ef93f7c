"""The settings a page runs with: read once per process, with the key typed this browser session."""

from __future__ import annotations

import sys

import streamlit as st

from lib.errors import ChatError
from lib.secret import protect_logs
from lib.settings import Settings, load_settings
from ui.typed_key import typed_key


@st.cache_resource
def base_settings() -> Settings:
    """Read once per process: the environment, .env and secrets.toml do not change under us."""
    return load_settings()


def page_settings() -> Settings:
    """The settings with the typed key; a page that cannot have them says why and stops."""
    # Several threads share the GIL while replies stream: the script, each reply's reader and the
    # server's event loop. Python hands the GIL over every 5 ms by default; at 1 ms a request
    # leaves, and each piece of text reaches the browser, without waiting for the script's turn.
    sys.setswitchinterval(0.001)
    try:
        settings = base_settings().with_key(typed_key())
    except ChatError as exc:
        st.error(f"**{exc.title}.** {exc}")
        st.stop()
    protect_logs(settings.api_key)
    return settings


def quiet_settings() -> Settings | None:
    """The settings with the typed key, or None when they cannot be had; draws nothing (for a widget's
    callback, which runs before the page, where :func:`page_settings` says what is wrong)."""
    try:
        return base_settings().with_key(typed_key())
    except ChatError:
        return None
