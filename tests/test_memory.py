"""The server's memory allocator: few glibc malloc arenas, as scripts/start and scripts/serve-replicas start it (#16)."""

from __future__ import annotations

import ctypes.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

#: in a fresh process: run 12 threads at once that each allocate, then print how many malloc
#: arenas glibc made (its malloc_info lists one <heap> each)
COUNT_ARENAS = """
import ctypes, sys, tempfile, threading

barrier = threading.Barrier(12)
kept = []

def work():
    kept.append(bytes(200_000))  # above Python's small-object size: glibc's malloc, in this thread's arena
    barrier.wait()

threads = [threading.Thread(target=work) for _ in range(12)]
for t in threads:
    t.start()
for t in threads:
    t.join()
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
libc.fopen.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
libc.malloc_info.argtypes = [ctypes.c_int, ctypes.c_void_p]
libc.fclose.argtypes = [ctypes.c_void_p]
with tempfile.NamedTemporaryFile() as out:
    stream = libc.fopen(out.name.encode(), b"w")
    libc.malloc_info(0, stream)
    libc.fclose(stream)
    print(open(out.name).read().count("<heap nr="))
"""


def _arenas(script: str, **env: str) -> int:
    """The arenas of a Python started with the environment ``script`` (a launcher in scripts/) sets up."""
    exports = "\n".join(line for line in (ROOT / "scripts" / script).read_text().splitlines()
                        if line.startswith("export "))
    environment = {k: v for k, v in os.environ.items() if k != "MALLOC_ARENA_MAX"} | env
    done = subprocess.run(["bash", "-c", f'{exports}\nexec "$0" -c "$1"', sys.executable, COUNT_ARENAS], cwd=ROOT,
                          env=environment, capture_output=True, text=True, timeout=60, check=True)
    return int(done.stdout.strip())


glibc = pytest.mark.skipif(
    not sys.platform.startswith("linux") or "libc.so" not in str(ctypes.util.find_library("c")),
    reason="glibc's malloc arenas",
)


@glibc
@pytest.mark.parametrize("script", ["start", "serve-replicas"])
def test_the_servers_threads_share_two_malloc_arenas(script: str) -> None:
    # glibc's default would give each of the 12 threads an arena of its own (up to 8 per core),
    # each keeping its own free memory as sessions come and go.
    assert _arenas(script) <= 2


@glibc
def test_an_operators_malloc_arena_max_is_left_as_it_is() -> None:
    assert _arenas("start", MALLOC_ARENA_MAX="6") == 6
