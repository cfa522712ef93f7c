"""The fake API in a process of its own, for the benchmarks that time a turn in the browser.

The real API runs on another machine: its CPU is not the app's. A fake in the benchmark's
own process shares an interpreter with Playwright's client, and in the turn-1 runs it read a
request the app had already written up to 50 ms late in a few turns of twenty, app and floor
alike. In a process of its own, at a higher priority (nice -10 by default, which needs root;
without it the fake runs at the usual priority and says so), it answers as a server that does
not share the client's cores would.

:class:`FakeProcess` starts ``python -m bench.fake_process`` and is driven over HTTP: the
``default`` and ``framing`` it is given go to the fake in that process, :meth:`timings` brings
back :mod:`bench.fake_timing`'s marks and :meth:`priority` the nice value it runs at.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import requests

from lib.api.fake_api import Behaviour, FakeAPI, Framing

ROOT = Path(__file__).resolve().parent.parent


class Timings(NamedTuple):
    """When each stream's first and last bytes went out (by the reply's first token) and each
    question's request arrived (by its last word); ``time.time()``."""

    first_byte: dict[str, float]
    last_byte: dict[str, float]
    request_at: dict[str, float]


class FakeProcess:
    """A :class:`~lib.api.fake_api.FakeAPI` in a child process: ``url``, ``default``, ``framing``."""

    def __init__(self, api_key: str, nice: int = -10) -> None:
        self.api_key = api_key
        self.nice = nice
        self.url = ""
        self._process: subprocess.Popen[str] | None = None
        self._control = requests.Session()

    def start(self) -> FakeProcess:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bench.fake_process", "--api-key", self.api_key, "--nice", str(self.nice)],
            cwd=ROOT, stdout=subprocess.PIPE, text=True,
        )
        line = self._process.stdout.readline() if self._process.stdout else ""
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the fake API's process did not start: {line!r}")
        self.url = line.strip()
        return self

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=10)
            self._process = None

    def _post(self, what: str, data: Any) -> None:
        self._control.post(f"{self.url}/_bench/{what}", json=data, timeout=10).raise_for_status()

    @property
    def default(self) -> Behaviour:
        raise AttributeError("the fake's behaviour lives in its own process; set it, do not read it")

    @default.setter
    def default(self, behaviour: Behaviour) -> None:
        self._post("default", dataclasses.asdict(behaviour))

    @property
    def framing(self) -> Framing:
        raise AttributeError("the fake's framing lives in its own process; set it, do not read it")

    @framing.setter
    def framing(self, framing: Framing) -> None:
        self._post("framing", framing)

    def timings(self) -> Timings:
        marks = self._marks()
        return Timings(marks["first_byte"], marks["last_byte"], marks["request_at"])

    def priority(self) -> int:
        """The nice value the fake runs at (what was asked, or 0 when it was not allowed)."""
        return int(self._marks()["nice"])

    def _marks(self) -> dict[str, Any]:
        return self._control.get(f"{self.url}/_bench/marks", timeout=10).json()

    def __enter__(self) -> FakeProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    from bench import fake_timing
    from lib.api import fake_api

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--nice", type=int, default=0, help="the process's nice value (below 0 needs root)")
    args = parser.parse_args()
    if args.nice:
        try:
            os.setpriority(os.PRIO_PROCESS, 0, args.nice)
        except PermissionError:
            print(f"bench.fake_process: nice {args.nice} not allowed, running at the usual priority", file=sys.stderr)
    api = FakeAPI(api_key=args.api_key)
    timed_post, plain_get = fake_api._Handler.do_POST, fake_api._Handler.do_GET

    def do_post(handler: Any) -> None:
        if not handler.path.startswith("/v1/_bench/"):
            return timed_post(handler)
        data = json.loads(handler.rfile.read(int(handler.headers.get("Content-Length") or 0)) or b"null")
        if handler.path.endswith("/default"):
            api.default = Behaviour.from_dict(data)
        elif handler.path.endswith("/framing"):
            api.framing = data
        handler._send(200, b"{}", "application/json")

    def do_get(handler: Any) -> None:
        if handler.path != "/v1/_bench/marks":
            return plain_get(handler)
        marks = {"first_byte": fake_timing.FIRST_BYTE, "last_byte": fake_timing.LAST_BYTE, "request_at": fake_timing.REQUEST_AT,
                 "nice": os.getpriority(os.PRIO_PROCESS, 0)}
        handler._send(200, json.dumps(marks).encode(), "application/json")

    fake_api._Handler.do_POST, fake_api._Handler.do_GET = do_post, do_get  # type: ignore[method-assign]
    api.serve_until_interrupted("{url}")  # the first line FakeProcess.start reads


if __name__ == "__main__":
    main()
