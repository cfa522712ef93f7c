"""Handing memory back to the system once a browser session has gone (#16).

What a closed session held (its conversation, its replies' buffers) is freed by Python, but the
C allocator keeps the freed pages for itself, so the server's resident memory only ever grows
as sessions come and go. Once a session's chat is gone, the garbage it left in reference cycles
is collected and glibc's ``malloc_trim`` returns the free pages: memory stays flat.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)

#: seconds to wait after a session has gone, so that several going together cost one collection
SETTLE_SECONDS = 2.0

_pending = threading.Lock()
_scheduled = False


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none (macOS, musl, Windows)."""
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        return ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):
        return None


_trim = _malloc_trim()


def give_back() -> None:
    """Collect garbage cycles, then return the allocator's free pages to the system."""
    gc.collect()
    if _trim is not None:
        _trim(0)


def _later() -> None:
    global _scheduled
    try:
        give_back()
    except Exception as exc:  # noqa: BLE001 - never worth a crash of the server
        log.warning("giving memory back failed: %s", exc)
    finally:
        with _pending:
            _scheduled = False


def _soon() -> None:
    # A finalizer runs on whichever thread dropped the last reference (Streamlit's event loop,
    # say): the collection runs a moment later on a thread of its own.
    global _scheduled
    with _pending:
        if _scheduled:
            return
        _scheduled = True
    timer = threading.Timer(SETTLE_SECONDS, _later)
    timer.daemon = True
    timer.start()


def release_when_gone(owner: object) -> None:
    """Give memory back soon after ``owner`` (a session's chat) is freed."""
    weakref.finalize(owner, _soon)
