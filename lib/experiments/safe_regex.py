"""Regular-expression search with a time limit, for patterns typed by users.

Python's ``re`` backtracks: ``(a+)+$`` on thirty ``a`` and a ``b``, or even ``.*x`` on a long
reply without an ``x``, runs for minutes, holding the GIL (so every other thread of the app
stops too), and nothing can interrupt it from another thread. Limiting the length of the
pattern and of the text does not help: thirty characters are enough. (The ``regex`` package,
which takes a timeout, is not a dependency of this app.)

So the search runs in a worker process: a plain ``python -I -S`` reading one search at a time
as a JSON line and answering with one. A search that overruns its time is ended by killing
the worker (by its own pid), and the next search starts a new one. One worker serves the whole
process, one search at a time; it exits by itself when this process goes (its stdin closes).
The pattern is still limited in length and compiled here first, so that a typo is reported at
once and clearly; the text is limited so that a search never ships megabytes to the worker.
"""

from __future__ import annotations

import json
import queue
import re
import subprocess
import sys
import threading
from dataclasses import dataclass

MAX_PATTERN = 1_000
MAX_TEXT = 1_000_000
DEFAULT_TIMEOUT = 1.0
#: a worker that does not say it is ready within this long is given up on (a loaded machine)
START_TIMEOUT = 20.0
#: how much of a match is sent back, for a detail to show
MAX_MATCH_SHOWN = 200

_WORKER = r"""
import json, re, sys
# Lone surrogates travel as they are (json escapes would pair two of them into one character).
sys.stdin.reconfigure(encoding="utf-8", errors="surrogatepass")
sys.stdout.write("ready\n")
sys.stdout.flush()
for line in sys.stdin:
    job = json.loads(line)
    try:
        found = re.search(job["pattern"], job["text"], job["flags"])
        answer = {"match": None if found is None else [found.start(), found.end(), found.group(0)[:job["shown"]]]}
    except Exception as exc:
        answer = {"error": str(exc)}
    sys.stdout.write(json.dumps(answer) + "\n")
    sys.stdout.flush()
"""


class RegexTimeout(Exception):  # noqa: N818 - a time limit reached, not a failure of the code
    """The search took longer than its time limit; the worker was ended."""


@dataclass(frozen=True)
class Match:
    start: int
    end: int
    #: the matched text, cut at MAX_MATCH_SHOWN characters
    text: str


def compile_pattern(pattern: str, *, ignore_case: bool = False) -> re.Pattern[str]:
    """``pattern`` compiled, or ValueError saying why not (too long, or not a regular expression).

    Compiling takes time in the length of the pattern only, so it is safe here.
    """
    if len(pattern) > MAX_PATTERN:
        raise ValueError(f"the pattern is longer than {MAX_PATTERN:,} characters")
    try:
        return re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise ValueError(f"not a regular expression: {exc.msg}{where}") from None
    except (OverflowError, RecursionError) as exc:
        raise ValueError(f"not a regular expression: {exc}") from None


class _Worker:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._answers: queue.Queue[str | None] = queue.Queue()

    def _start(self) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _WORKER],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True, encoding="utf-8", errors="surrogatepass",
        )
        answers: queue.Queue[str | None] = queue.Queue()
        # A thread reads the answers, so that waiting for one can time out on any platform.
        threading.Thread(target=_read_lines, args=(process, answers), name="regex-worker-reader", daemon=True).start()
        self._process, self._answers = process, answers
        try:
            ready = self._answer(START_TIMEOUT) == "ready"
        except RegexTimeout:
            ready = False
        if not ready:
            self._kill()
            raise RuntimeError("the regular-expression worker did not start")
        return process

    def _answer(self, timeout: float) -> str | None:
        try:
            return self._answers.get(timeout=timeout)
        except queue.Empty:
            raise RegexTimeout from None

    def search(self, pattern: str, text: str, flags: int, timeout: float) -> Match | None:
        # Not ensure_ascii: two lone surrogates, escaped as \ud83d\ude00, would come back as one character.
        job = json.dumps({"pattern": pattern, "text": text, "flags": flags, "shown": MAX_MATCH_SHOWN}, ensure_ascii=False) + "\n"
        with self._lock:
            process = self._process if self._process and self._process.poll() is None else self._start()
            assert process.stdin is not None
            process.stdin.write(job)
            process.stdin.flush()
            try:
                line = self._answer(timeout)
            except RegexTimeout:
                self._kill()
                raise
        if line is None:
            raise RuntimeError("the regular-expression worker ended unexpectedly")
        answer = json.loads(line)
        if "error" in answer:
            raise ValueError(answer["error"])
        found = answer["match"]
        return None if found is None else Match(*found)

    def stop(self) -> None:
        with self._lock:
            self._kill()

    def _kill(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()
        if process is not None:
            for stream in (process.stdin, process.stdout):
                if stream is not None:
                    stream.close()


def _read_lines(process: subprocess.Popen[str], answers: queue.Queue[str | None]) -> None:
    assert process.stdout is not None
    try:
        for line in process.stdout:
            answers.put(line.rstrip("\n"))
    except (OSError, ValueError):  # closed under us by stop()
        pass
    answers.put(None)


_worker = _Worker()


def search(pattern: str, text: str, *, ignore_case: bool = False, timeout: float = DEFAULT_TIMEOUT) -> Match | None:
    """The first match of ``pattern`` in ``text`` (as :func:`re.search`), or None.

    ValueError for a pattern that is too long or no regular expression, or a text longer than
    MAX_TEXT; :class:`RegexTimeout` when the search takes longer than ``timeout`` seconds.
    """
    compiled = compile_pattern(pattern, ignore_case=ignore_case)
    if len(text) > MAX_TEXT:
        raise ValueError(f"the text is longer than {MAX_TEXT:,} characters")
    return _worker.search(pattern, text, compiled.flags, timeout)


def stop_worker() -> None:
    """End the worker process now (it would end with this process anyway)."""
    _worker.stop()
