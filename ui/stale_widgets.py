"""Forgetting the widgets a page has stopped drawing (#16, flat memory).

Streamlit drops a widget's value once a run no longer draws it, but keeps what it registered
with it (its callback and arguments, its (de)serializers, its key) until the session closes. The
chat page draws new buttons with every turn (Edit, Delete, Copy, … keyed by the message's id) and
stops drawing them as the turn leaves the latest messages: measured with tracemalloc, about 5 KiB
a turn that nothing will use again, the largest part of what an open session grows by per turn.

None of this is Streamlit's public API, hence this one place that names it; where those
internals are not what they are in Streamlit 1.67 it does nothing, and ``tests/test_app_memory.py`` fails.
"""

from __future__ import annotations

from typing import Any

from streamlit.runtime.state import get_session_state


def forget_stale_widgets() -> int:
    """At the top of a page's run, forget the widgets whose values Streamlit has dropped; how many.

    The widgets drawn in the last run have their values in the state carried into this run (or
    sent by the browser for it): those are kept, and so is any widget bound to the address or
    kept across pages (Streamlit still keeps their values when they are not drawn). A callback
    of this run has run already, before the script's first line.
    """
    safe = get_session_state()
    try:
        state: Any = safe._state
        widgets = state._new_widget_state
        metadata: dict[str, Any] = widgets.widget_metadata
        live = set(state._old_state) | set(widgets.states)
        keys: dict[str, str] = state._key_id_mapper._key_id_mapping
        ids: dict[str, str] = state._key_id_mapper._id_key_mapping
    except AttributeError:
        return 0
    with safe._lock:
        stale = [wid for wid, meta in metadata.items()
                 if wid not in live and not getattr(meta, "bind", None) and not getattr(meta, "persist_state", None)]
        for wid in stale:
            del metadata[wid]
            key = ids.pop(wid, None)
            if key is not None and keys.get(key) == wid:
                del keys[key]
    return len(stale)
