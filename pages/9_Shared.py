"""A share link (#14): a read-only snapshot of a conversation or a comparison, for anyone holding the link.

No sign-in, no sidebar, no controls, no message box: nothing of the owner's but what they shared.
An unknown, revoked or expired link shows one plain not-found.
"""

from __future__ import annotations

import streamlit as st

from lib.errors import ChatError, ShareNotFoundError
from lib.settings import load_settings
from lib.store.shares import PARAMETER, open_share
from ui.nav import PAGE_ICON
from ui.share import not_found, show_snapshot
from ui.store import cached_store

try:
    store = cached_store(load_settings())
    if store is None:  # CHAT_HISTORY=off: nothing is kept, so nothing is shared
        raise ShareNotFoundError("Nothing is shared at this address.")
    snapshot = open_share(store, st.query_params.get(PARAMETER, ""))
except ShareNotFoundError:
    snapshot = None
except ChatError as exc:
    st.set_page_config(page_title="Shared · Gemma Chat", page_icon=PAGE_ICON)
    st.error(str(exc), icon=":material/error:")
    st.stop()

# Columns side by side need the whole width; a transcript reads best at the chat's own width.
wide = snapshot is not None and snapshot.comparison is not None
st.set_page_config(page_title="Shared · Gemma Chat", page_icon=PAGE_ICON, layout="wide" if wide else "centered")
if snapshot is None:
    not_found()
else:
    show_snapshot(snapshot)
