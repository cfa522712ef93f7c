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


_frozen = False
_frozen_lock = threading.Lock()


def freeze_long_lived() -> None:
    """Leave what exists now (the imported modules, Streamlit's and SQLAlchemy's objects) out of the
    collector's routine full passes; once per process, before the first session's chat is made.

    A full pass over the whole heap takes 20-150 ms here, holding the GIL, and lands on whatever
    runs then: a request about to leave, a reply being drawn. Frozen, the imports are skipped;
    :func:`give_back` still looks at everything when a session goes.
    """
    global _frozen
    with _frozen_lock:
        if _frozen:
            return
        gc.collect()  # what is garbage now is freed, not frozen
        gc.freeze()
        _frozen = True


def give_back() -> None:
    """Collect garbage cycles (the frozen objects too), then return the allocator's free pages to the system."""
    with _frozen_lock:
        if _frozen:
            gc.unfreeze()  # a gone session's cycles may hold objects made before the freeze
        gc.collect()
        if _frozen:
            gc.freeze()
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
