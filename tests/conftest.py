"""Fixtures shared by every test: the fake API on loopback and the official request schemas."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import streamlit as st

from lib.api.client import ChatClient
from lib.api.fake_api import FakeAPI
from lib.api.models import SPECS_DIR
from lib.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent
#: The official OpenAPI specs: the copy vendored with the app, or AIMLAPI_SPECS_DIR to check
#: the app against another copy (a newer upstream one, say). The tests read them on their own
#: rather than through lib.api.models, so that what the app derives is checked, not echoed.
SPECS = Path(os.environ.get("AIMLAPI_SPECS_DIR") or SPECS_DIR)
#: a key that must never show up anywhere but the Authorization header
CANARY_KEY = "sk-canary-7f3e9c1d5b2a4e6f8091a2b3c4d5e6f7"


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to connect beyond 127.0.0.1."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if isinstance(address, tuple) and self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0]
            if host not in ("127.0.0.1", "::1", "localhost"):
                raise AssertionError(f"test tried to reach {host}: tests stay on loopback")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(autouse=True)
def _server_on_loopback() -> Iterator[None]:
    """Pages under AppTest run as a server bound to 127.0.0.1 (as the e2e servers are), so that
    they do not warn of a server open to the network; a test that wants that sets the option."""
    from streamlit import config

    before = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", before)


@pytest.fixture(autouse=True)
def _private_data_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test writes to the real ~/.local/share/gemma-chat."""
    monkeypatch.setenv("CHAT_DB_PATH", str(tmp_path / "chats.sqlite3"))
    monkeypatch.delenv("CHAT_DB_URL", raising=False)


@pytest.fixture
def fake_api() -> Iterator[FakeAPI]:
    with FakeAPI(api_key=CANARY_KEY) as api:
        yield api


@pytest.fixture
def settings(fake_api: FakeAPI) -> Settings:
    """Settings pointing at the fake, with the canary key and fast retries."""
    return load_settings(
        {
            "AIMLAPI_API_KEY": CANARY_KEY,
            "AIMLAPI_BASE_URL": fake_api.url,
            "AIMLAPI_RETRY_BACKOFF": "0.01",
            "AIMLAPI_MAX_RETRIES": "2",
            "AIMLAPI_READ_TIMEOUT": "5",
            "AIMLAPI_CONNECT_TIMEOUT": "2",
        }
    )


@pytest.fixture
def client(settings: Settings) -> Iterator[ChatClient]:
    chat = ChatClient(settings)
    yield chat
    chat.close()


@cache
def request_schema(spec_file: str) -> dict[str, Any]:
    """The request-body schema of ``POST /v1/chat/completions`` in an official spec."""
    path = SPECS / spec_file
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the tests need the official specs in {SPECS_DIR} (or AIMLAPI_SPECS_DIR)")
    spec = json.loads(path.read_text())
    return spec["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"]


def validate_request(body: dict[str, Any], spec_file: str = "gemma-3-27b-it.json") -> None:
    """Raise jsonschema.ValidationError unless ``body`` is valid against the official spec."""
    # OpenAPI 3.0's "nullable" is not JSON Schema; the draft-04-ish rest validates as is.
    jsonschema.validate(body, request_schema(spec_file), cls=jsonschema.Draft7Validator)


def isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> None:
    for name in ("AIMLAPI_API_KEY", "AIMLAPI_BASE_URL", "AIMLAPI_MODEL", "CHAT_SYSTEM_PROMPT"):
        monkeypatch.delenv(name, raising=False)
    # A developer's own .env or secrets.toml must not change what the tests see.
    monkeypatch.setenv("CHAT_DOTENV_PATH", str(tmp_path / "none.env"))
    monkeypatch.setenv("CHAT_SECRETS_PATH", str(tmp_path / "none.toml"))
    monkeypatch.setenv("CHAT_DB_PATH", str(tmp_path / "chats.sqlite3"))
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    st.cache_resource.clear()


@pytest.fixture
def app_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_api: FakeAPI) -> Iterator[FakeAPI]:
    isolate_env(
        monkeypatch, tmp_path,
        AIMLAPI_API_KEY=CANARY_KEY, AIMLAPI_BASE_URL=fake_api.url,
        AIMLAPI_RETRY_BACKOFF="0.01", AIMLAPI_MAX_RETRIES="2",
    )
    yield fake_api
    st.cache_resource.clear()
