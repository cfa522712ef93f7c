"""Streamlit's signal that a script run was stopped, who stopped it, and a new run after it.

Streamlit raises ``StopException`` inside the script at the next element drawn after a stop was
requested: by the user (the chat input's stop button), or by the browser going away (a reload,
a closed tab). Only the first should stop a reply. A stopped run draws nothing more, so the page
asks for a new run to draw what the stop left (:func:`rerun_once_stopped`). None of this is
Streamlit's public API, hence this one place that names it; where those internals are not what
they are in Streamlit 1.67, the new run does not come, and the browser test of the chat input's
stop (``tests/e2e/test_chat.py``) fails.
"""

from __future__ import annotations

import time
from typing import Any

from streamlit import runtime
from streamlit.runtime.scriptrunner import get_script_run_ctx
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

__all__ = ["StopException", "rerun_once_stopped", "stopped_by_the_user"]

#: how long the server takes, at most, to drop a session whose browser went away after stopping its run
DISCONNECT_GRACE = 0.05
#: seconds between the server's looks at whether the stopped run has ended
ENDED_EVERY = 0.02
#: seconds after which a stopped run that has not ended gets no new run after it
ENDED_WITHIN = 30.0


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


def rerun_once_stopped() -> bool:
    """From a run being stopped: a new run of this session's page once this one has ended; whether asked.

    As Streamlit's rerun on a saved source file does it (``AppSession.request_rerun`` with the
    session's last client state, on the server's event loop), and only once the stopped run's
    script runner is gone: a rerun asked of a stopping runner starts a new one beside it, and the
    browser never hears that the stopped run ended. Should another run have started meanwhile (a
    click), that run draws the page and none is asked for.
    """
    ctx = get_script_run_ctx()
    if ctx is None or not runtime.exists():
        return False
    server = runtime.get_instance()
    session: Any = server.get_app_session(ctx.session_id)
    try:
        stopped, loop = session._scriptrunner, session._event_loop
    except AttributeError:
        return False
    if stopped is None:
        return False
    give_up = time.monotonic() + ENDED_WITHIN

    def rerun_when_ended() -> None:
        if server.get_app_session(ctx.session_id) is not session:  # gone: closed, or reconnected as another
            return
        try:
            runner, client_state = session._scriptrunner, session._client_state
        except AttributeError:
            return
        if runner is stopped:
            if time.monotonic() < give_up:
                loop.call_later(ENDED_EVERY, rerun_when_ended)
        elif runner is None:
            session.request_rerun(client_state)

    loop.call_soon_threadsafe(rerun_when_ended)
    return True
