"""``python -m bench.serve run app.py …``: the ``streamlit`` command, timing every script run.

Each run of the page's script, in the real server, appends one JSON line to the file named by
``BENCH_RUN_LOG``: when it started (epoch s), how long it took (s), the session, how many
messages the chat on screen had, how the run ended, and the script thread's CPU time.
Each full garbage collection gets a line too (``gc_seconds``).
With ``BENCH_PROFILE_DIR`` set, each run is also profiled (cProfile, script thread) into that folder. Nothing else changes.
"""

from __future__ import annotations

import cProfile
import gc
import json
import os
import sys
import threading
import time
from typing import Any

_lock = threading.Lock()


def _messages_on_screen(ctx: Any) -> int | None:
    try:
        state = ctx.session_state
        if "chat" in state:
            return len(state["chat"].conversation.path())
        if "messages" in state:  # the floor app
            return len(state["messages"])
    except Exception:  # noqa: BLE001 - a measurement must never break the page
        return None
    return None


def install(log_path: str) -> None:
    from streamlit.runtime.scriptrunner import script_runner

    original = script_runner.exec_func_with_error_handling

    profile_dir = os.environ.get("BENCH_PROFILE_DIR")
    count = iter(range(10**9))

    def timed(func: Any, ctx: Any) -> Any:
        profiler = cProfile.Profile() if profile_dir else None
        started, clock, cpu = time.time(), time.perf_counter(), time.thread_time()
        if profiler is not None:
            profiler.enable()
        result = original(func, ctx)
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - clock
        cpu = time.thread_time() - cpu
        if profiler is not None:
            messages = _messages_on_screen(ctx)
            profiler.dump_stats(os.path.join(profile_dir, f"run-{next(count):05d}-{messages}.pstats"))
        _, _, rerun_data, premature_stop, uncaught = result
        record = {
            "start": started,
            "seconds": elapsed,
            # CPU time of the script thread: wall time minus this is waiting (GIL, CPU, sockets)
            "cpu_seconds": cpu,
            "session": ctx.session_id,
            "messages": _messages_on_screen(ctx),
            "ended": "rerun" if rerun_data is not None else ("stopped" if premature_stop else "done"),
            "error": type(uncaught).__name__ if uncaught is not None else None,
        }
        with _lock, open(log_path, "a") as log:
            log.write(json.dumps(record) + "\n")
        return result

    script_runner.exec_func_with_error_handling = timed

    # Full (generation 2) garbage collections: Streamlit runs one after every script run
    # (runner.postScriptGC), holding the GIL; log how long each takes.
    gc_started: dict[str, float] = {}

    def on_gc(phase: str, info: dict[str, Any]) -> None:
        if info.get("generation") != 2:
            return
        if phase == "start":
            gc_started["at"], gc_started["clock"] = time.time(), time.perf_counter()
        elif "clock" in gc_started:
            record = {"gc_start": gc_started["at"], "gc_seconds": time.perf_counter() - gc_started.pop("clock"),
                      "thread": threading.current_thread().name}
            with _lock, open(log_path, "a") as log:
                log.write(json.dumps(record) + "\n")

    gc.callbacks.append(on_gc)


def main() -> None:
    if log_path := os.environ.get("BENCH_RUN_LOG"):
        install(log_path)
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
