"""``python -m bench.serve run app.py …``: the ``streamlit`` command, timing every script run.

Each run of the page's script, in the real server, appends one JSON line to the file named by
``BENCH_RUN_LOG``: when it started (epoch s), how long it took (s), the session, how many
messages the chat on screen had, how the run ended, and the script thread's CPU time.
Each full garbage collection gets a line too (``gc_seconds``), and so does each chat request the
server has written out to the API (``request_written``), on whichever thread wrote it.
With ``BENCH_PROFILE_DIR`` set, each run is also profiled (cProfile, script thread) into that folder.
With ``BENCH_MEMORY_DIR`` set, a file ``<name>.request`` put in that folder is answered by
``<name>.json`` (after a full collection: live objects by type, the sessions Streamlit still
holds, RSS) and, when tracemalloc traces (``PYTHONTRACEMALLOC``), ``<name>.snapshot``
(:func:`memory_dump`). Nothing else changes.
"""

from __future__ import annotations

import collections
import contextlib
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

    # When the server gets each rerun request from a browser (Enter, a click): the part of
    # Enter → script start spent in the browser and on the wire, apart from the server's own.
    from streamlit.runtime.app_session import AppSession

    original_backmsg = AppSession.handle_backmsg

    def logged_backmsg(self: Any, msg: Any) -> None:
        if msg.WhichOneof("type") == "rerun_script":
            with _lock, open(log_path, "a") as log:
                log.write(json.dumps({"backmsg": time.time(), "session": self.id}) + "\n")
        original_backmsg(self, msg)

    AppSession.handle_backmsg = logged_backmsg

    # When a chat request has been written to the API's socket (headers and body handed to the
    # kernel): where the page's part of a turn ends and the API's begins. A real API is on another
    # machine, so how soon the fake, on this one, reads the request is not the page's doing.
    import urllib3.connection

    original_request = urllib3.connection.HTTPConnection.request

    def logged_request(self: Any, method: str, url: str, *args: Any, **kwargs: Any) -> None:
        original_request(self, method, url, *args, **kwargs)
        written = time.time()
        if method == "POST" and url.endswith("/chat/completions"):
            with _lock, open(log_path, "a") as log:
                log.write(json.dumps({"request_written": written}) + "\n")

    urllib3.connection.HTTPConnection.request = logged_request

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


def _obmalloc() -> dict[str, int]:
    """Python's small-object allocator: its arenas (1 MiB each) and how full they are."""
    import re
    import tempfile

    with tempfile.TemporaryFile("w+") as out:
        saved = os.dup(2)
        os.dup2(out.fileno(), 2)  # sys._debugmallocstats writes to the C stderr
        try:
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        out.seek(0)
        text = out.read()
    wanted = {"arenas allocated current": "arenas", "arenas highwater mark": "arenas_highwater",
              "arenas reclaimed": "arenas_reclaimed", "bytes in allocated blocks": "allocated_bytes",
              "bytes in available blocks": "available_bytes", "unused pools": "unused_pools_bytes"}
    found = {}
    for line in text.splitlines():
        for label, key in wanted.items():
            if label in line.split("=")[0]:
                numbers = re.findall(r"[\d,]+", line.split("=")[-1])
                if numbers:
                    found[key] = int(numbers[-1].replace(",", ""))
    return found


def _glibc() -> dict[str, int]:
    """glibc's malloc over all its arenas (``mallinfo2``): bytes in use, free in its heaps, mmapped."""
    import ctypes
    import tempfile
    from pathlib import Path

    class MallInfo2(ctypes.Structure):
        _fields_ = [(name, ctypes.c_size_t) for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

    try:
        mallinfo2 = ctypes.CDLL("libc.so.6").mallinfo2
    except (OSError, AttributeError):
        return {}
    mallinfo2.restype = MallInfo2
    info = mallinfo2()
    found = {"heaps_bytes": info.arena, "in_use_bytes": info.uordblks, "free_bytes": info.fordblks,
             "mmapped_bytes": info.hblkhd}
    with contextlib.suppress(OSError, AttributeError), tempfile.NamedTemporaryFile() as out:  # its arenas
        libc = ctypes.CDLL(None)
        libc.fopen.restype = ctypes.c_void_p
        libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
        libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
        libc.fclose.argtypes = [ctypes.c_void_p]
        stream = libc.fopen(out.name.encode(), b"w")
        libc.malloc_info(0, stream)
        libc.fclose(stream)
        found["arenas"] = Path(out.name).read_text().count("<heap nr=")
    with contextlib.suppress(OSError, AttributeError):  # SQLite's own share of it (its page caches)
        sqlite = ctypes.CDLL("libsqlite3.so.0").sqlite3_memory_used
        sqlite.restype = ctypes.c_int64
        found["of_which_sqlite_bytes"] = sqlite()
    return found


def _resident_by_mapping() -> dict[str, int]:
    """Resident KiB by kind of mapping (/proc/self/smaps): the main heap, files (code), and anonymous
    mappings by size: Python's 1 MiB arenas, thread stacks (8 MiB), glibc's thread arenas (64 MiB)."""
    kinds: dict[str, int] = collections.Counter()
    kind = ""
    with open("/proc/self/smaps") as smaps:
        for line in smaps:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5 and ":" not in fields[0]:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                size = (end - start) // 1024
                path = fields[5] if len(fields) > 5 else ""
                if path == "[heap]":
                    kind = "heap"
                elif path.startswith("["):
                    kind = path
                elif path:
                    kind = "files"
                elif size == 1024:
                    kind = "anon 1 MiB (Python arenas)"
                elif 8000 <= size <= 8200:
                    kind = "anon 8 MiB (thread stacks)"
                elif 60_000 <= size <= 65_536:
                    kind = "anon ~64 MiB (glibc thread arenas)"
                else:
                    kind = "anon other"
            elif fields[0] == "Rss:":
                kinds[kind] += int(fields[1])
    return dict(kinds)


def memory_dump(folder: str, name: str, trim: bool = False) -> None:
    """What the server holds now, for ``bench/memory_probe.py`` to compare between moments;
    with ``trim``, after handing free memory back (:func:`lib.memory.give_back`)."""
    import tracemalloc

    gc.collect()
    if trim:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    counts = collections.Counter(type(o).__qualname__ for o in gc.get_objects())
    sessions: dict[str, int] = {}
    with contextlib.suppress(Exception):  # a measurement must never break the server
        from streamlit.runtime import Runtime

        manager = Runtime.instance()._session_mgr
        sessions = {"active": len(manager.list_active_sessions()), "all": len(manager.list_sessions())}
    rss = next((int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmRSS:")), 0)
    report = {"rss_kib": rss, "sessions": sessions, "obmalloc": _obmalloc(), "mappings": _resident_by_mapping(),
              "glibc": _glibc(), "types": dict(counts.most_common(400)),
              "allocated_blocks": sys.getallocatedblocks()}
    if tracemalloc.is_tracing():
        tracemalloc.take_snapshot().dump(os.path.join(folder, f"{name}.snapshot"))
        report["traced_kib"] = tracemalloc.get_traced_memory()[0] // 1024
    with open(os.path.join(folder, f"{name}.json"), "w") as out:
        json.dump(report, out)


def _answer_memory_requests(folder: str) -> None:
    while True:
        for entry in sorted(os.listdir(folder)):
            if entry.endswith(".request"):
                name = entry.removesuffix(".request")
                try:
                    with open(os.path.join(folder, entry)) as request:
                        trim = request.read().strip() == "trim"
                    memory_dump(folder, name, trim)
                finally:
                    os.remove(os.path.join(folder, entry))
        time.sleep(0.2)


def main() -> None:
    if folder := os.environ.get("BENCH_MEMORY_DIR"):
        threading.Thread(target=_answer_memory_requests, args=(folder,), daemon=True, name="memory-dump").start()
    if log_path := os.environ.get("BENCH_RUN_LOG"):
        install(log_path)
    from streamlit.web import cli

    sys.argv = ["streamlit", *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
