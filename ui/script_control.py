"""Streamlit's signal that a script run was stopped, and who stopped it.

Streamlit raises ``StopException`` inside the script at the next element drawn after a stop was
requested: by the user (the chat input's stop button), or by the browser going away (a reload,
a closed tab). Only the first should stop a reply. Neither is part of Streamlit's public API,
hence this one place that names them.
"""

from __future__ import annotations

import time

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

__all__ = ["StopException", "stopped_by_the_user"]

#: how long the server takes, at most, to drop a session whose browser went away after stopping its run
DISCONNECT_GRACE = 0.05


def stopped_by_the_user() -> bool:
    """Whether the StopException being handled came from the user, not from the page going away.

    A browser that goes away has its session's run stopped, then the session dropped from the
    active ones, both at once on the server's event loop; a user's stop leaves the session active.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return True
    time.sleep(DISCONNECT_GRACE)
    return runtime.get_instance().is_active_session(ctx.session_id)
