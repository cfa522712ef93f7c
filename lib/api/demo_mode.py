"""Offline demo mode: with no API key anywhere, the fake API answers on 127.0.0.1.

The demo server is the same fake API the tests use, started once per process.
"""

from __future__ import annotations

import threading
from dataclasses import replace

from lib.api.fake_api import Behaviour, FakeAPI
from lib.secret import Secret
from lib.settings import Settings

_lock = threading.Lock()
_server: FakeAPI | None = None

#: fast enough to feel live, slow enough that streaming can be seen
DEMO_FIRST_TOKEN_DELAY = 0.35
DEMO_TOKEN_RATE = 60.0


def demo_server() -> FakeAPI:
    global _server
    with _lock:
        if _server is None:
            server = FakeAPI(record_requests=False, demo=True)
            server.default = Behaviour(first_token_delay=DEMO_FIRST_TOKEN_DELAY, token_rate=DEMO_TOKEN_RATE)
            _server = server.start()
        return _server


def demo_settings(settings: Settings) -> Settings:
    """``settings`` pointed at the demo server, marked as demo."""
    return replace(settings, base_url=demo_server().url, api_key=Secret("demo-offline"), key_source="demo")
