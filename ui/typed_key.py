"""A key typed in the sidebar lasts for the browser session, on every page.

Streamlit drops a widget's state on a page that does not draw it: after a visit to History the
field would come back empty and the next turn would go to the demo model instead. So the key is
kept apart from the field, masked (a :class:`~lib.secret.Secret`), and the field is emptied once
it is kept: the key is never sent back to the browser.
"""

from __future__ import annotations

import streamlit as st

from lib.secret import Secret

#: the widget's own key, and the key the typed key is kept under
FIELD = "typed_key"
KEPT = "typed_key_kept"


def typed_key() -> str:
    """The key typed this browser session, or "" when none was (or it was forgotten)."""
    kept = st.session_state.get(KEPT)
    return kept.reveal() if isinstance(kept, Secret) else ""


def keep() -> None:
    """The field's on_change: keep what was typed, and empty the field."""
    typed = st.session_state.get(FIELD, "").strip()
    if typed:
        st.session_state[KEPT] = Secret(typed)
    st.session_state[FIELD] = ""


def forget() -> None:
    st.session_state.pop(KEPT, None)
