"""What the benchmarks learn from the fake API: when each question's request arrived, and
when its stream's first and last bytes went out (``time.time()``, the clock the page's times are
put on).

Importing this module patches :mod:`lib.api.fake_api`'s handler, in this process only; the
marks are keyed by the question's last word (``REQUEST_AT``) and the reply's first token
(``FIRST_BYTE``, ``LAST_BYTE``), which the benchmarks make unique per turn.
"""

from __future__ import annotations

import io
import json
import time
from typing import Any

from lib.api import fake_api
from lib.api.fake_api import Behaviour

FIRST_BYTE: dict[str, float] = {}
LAST_BYTE: dict[str, float] = {}
REQUEST_AT: dict[str, float] = {}

_original_stream = fake_api._Handler._stream
_original_end = fake_api._Handler._end
_original_event = fake_api._Handler._event
_original_post = fake_api._Handler.do_POST


def _timed_stream(self: Any, base: dict, tokens: list[str], usage: dict, meta: dict, b: Behaviour) -> None:
    self._bench_marker = tokens[0].strip() if tokens else ""
    _original_stream(self, base, tokens, usage, meta, b)


def _timed_event(self: Any, data: dict | str) -> None:
    marker = getattr(self, "_bench_marker", None)
    if marker and marker not in FIRST_BYTE:
        FIRST_BYTE[marker] = time.time()  # the stream's first event, as it is handed to the socket
    _original_event(self, data)


def _timed_end(self: Any) -> None:
    if getattr(self, "_bench_marker", None):
        LAST_BYTE[self._bench_marker] = time.time()  # the stream's end, as it is handed to the socket
    _original_end(self)


def _timed_post(self: Any) -> None:
    # Peek at the body to learn which question this is, then let the fake read it as usual.
    arrived = time.time()
    length = int(self.headers.get("Content-Length") or 0)
    raw = self.rfile.read(length) if length else b""
    try:
        body = json.loads(raw or b"null")
        question = next(m["content"] for m in reversed(body["messages"]) if m["role"] == "user")
        REQUEST_AT[question.split()[-1]] = arrived
    except (ValueError, KeyError, TypeError, StopIteration, AttributeError):
        pass
    connection_file, self.rfile = self.rfile, io.BufferedReader(io.BytesIO(raw))  # type: ignore[assignment]
    try:
        _original_post(self)
    finally:
        self.rfile = connection_file  # the next request on this kept-alive connection


fake_api._Handler._stream = _timed_stream
fake_api._Handler._end = _timed_end
fake_api._Handler._event = _timed_event
fake_api._Handler.do_POST = _timed_post
