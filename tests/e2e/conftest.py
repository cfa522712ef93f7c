"""Fixtures of the end-to-end tests: the fake API in this process, the app as a real Streamlit
server subprocess pointed at it, and Debian's Chromium driven by Playwright's sync API.

Every test gets a fresh browser context (a new Streamlit session) and a reset fake.
In CI (``CI`` set) these tests never skip: a missing Chromium is a failure.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lib.api.fake_api import FakeAPI
from tests.conftest import CANARY_KEY
from tests.e2e.harness import CHROMIUM, ROOT, StreamlitServer, clean_env, launch_chromium
from tests.e2e.oidc import OidcProvider, write_auth_secrets

IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
#: extra ``streamlit run`` options for every server, e.g. "--runner.fastReruns false" to try a config change
EXTRA_ARGS = tuple(shlex.split(os.environ.get("E2E_STREAMLIT_ARGS", "")))


@pytest.fixture(scope="session")
def chromium_path() -> str:
    if not os.access(CHROMIUM, os.X_OK):
        message = f"{CHROMIUM} is missing: run scripts/ensure-chromium (Debian's chromium package)"
        if IN_CI:
            pytest.fail(message + " — CI must run the browser tests", pytrace=False)
        pytest.skip(message)
    return CHROMIUM


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = launch_chromium(playwright)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def e2e_fake() -> Iterator[FakeAPI]:
    """One fake API for the whole run, in this process, so tests can plan it and read its bodies."""
    with FakeAPI(api_key=CANARY_KEY) as api:
        yield api


@pytest.fixture(autouse=True)
def _fresh_fake(request: pytest.FixtureRequest) -> None:
    if "e2e_fake" in request.fixturenames:
        request.getfixturevalue("e2e_fake").reset()


def _keyed_env(tmp: Path, fake: FakeAPI, **extra: str) -> dict[str, str]:
    return clean_env(
        tmp,
        AIMLAPI_API_KEY=CANARY_KEY,
        AIMLAPI_BASE_URL=fake.url,
        AIMLAPI_RETRY_BACKOFF="0.01",
        AIMLAPI_MAX_RETRIES="2",
        AIMLAPI_READ_TIMEOUT="10",
        AIMLAPI_CONNECT_TIMEOUT="2",
        **extra,
    )


def _assert_no_canary(server: StreamlitServer) -> None:
    log = server.log_text()
    assert CANARY_KEY not in log, f"the API key appeared in the server log {server.log_path}"


@pytest.fixture(scope="session")
def app_server(e2e_fake: FakeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app with the canary key from the environment, talking to :func:`e2e_fake`.

    It logs at debug level, so that the log check below sees as much as Streamlit can write.
    """
    tmp = tmp_path_factory.mktemp("app_server")
    server = StreamlitServer(env=_keyed_env(tmp, e2e_fake), log_path=tmp / "server.log",
                             extra_args=("--logger.level", "debug", *EXTRA_ARGS))
    server.start()
    yield server
    server.stop()
    _assert_no_canary(server)


@pytest.fixture(scope="session")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app with no key anywhere: offline demo mode."""
    tmp = tmp_path_factory.mktemp("demo_server")
    server = StreamlitServer(env=clean_env(tmp), log_path=tmp / "server.log", extra_args=EXTRA_ARGS)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def restartable_server(e2e_fake: FakeAPI, tmp_path: Path) -> Iterator[StreamlitServer]:
    """A server of its own with its own database file, for tests that stop and start it."""
    server = StreamlitServer(env=_keyed_env(tmp_path, e2e_fake), log_path=tmp_path / "server.log", extra_args=EXTRA_ARGS)
    server.start()
    yield server
    server.stop()
    _assert_no_canary(server)


@pytest.fixture(scope="module")
def slow_run_server(e2e_fake: FakeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app on a server that starts each full run of a page 0.3 s late, as when it is loaded
    (:mod:`tests.e2e.slow_runs`)."""
    tmp = tmp_path_factory.mktemp("slow_run_server")
    server = StreamlitServer(env=_keyed_env(tmp, e2e_fake, E2E_RUN_DELAY="0.3"), log_path=tmp / "server.log",
                             launcher=[sys.executable, "-m", "tests.e2e.slow_runs"], extra_args=EXTRA_ARGS)
    server.start()
    yield server
    server.stop()
    _assert_no_canary(server)


@pytest.fixture(scope="module")
def oidc_provider(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcProvider]:
    """A real OpenID Connect provider on loopback (oidc-provider-mock) that knows alice, bob and mallory."""
    provider = OidcProvider(log_path=tmp_path_factory.mktemp("oidc") / "provider.log").start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def sign_in_server(
    e2e_fake: FakeAPI, oidc_provider: OidcProvider, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StreamlitServer]:
    """The app with sign-in at :func:`oidc_provider`, from a secrets.toml of its own: people at
    example.com may enter (mallory may not), and alice is the admin."""
    tmp = tmp_path_factory.mktemp("sign_in_server")
    env = _keyed_env(tmp, e2e_fake, CHAT_ALLOWED_EMAILS="@example.com", CHAT_ADMINS="alice@example.com")
    server = StreamlitServer(env=env, log_path=tmp / "server.log", extra_args=EXTRA_ARGS)
    secrets_file = write_auth_secrets(tmp / "secrets.toml", oidc_provider, server.port)
    server.extra_args = ("--secrets.files", str(secrets_file), *EXTRA_ARGS)
    server.start()
    yield server
    server.stop()
    _assert_no_canary(server)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


_FAILED = pytest.StashKey[bool]()
#: screenshots of the pages of a failed test (git-ignored)
RESULTS = ROOT / "test-results"


@pytest.fixture
def new_page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """``new_page()`` opens a page in a fresh browser context (a new Streamlit session).

    At the end every page's HTML is checked for the canary key; a failed test leaves
    screenshots of its pages in ``test-results/``.
    """
    contexts: list[Any] = []

    def make() -> Any:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(20_000)
        contexts.append(context)
        return context.new_page()

    yield make
    try:
        if request.node.stash.get(_FAILED, False):
            RESULTS.mkdir(exist_ok=True)
            for n, context in enumerate(contexts):
                for m, page in enumerate(context.pages):
                    if not page.is_closed():
                        page.screenshot(path=RESULTS / f"{request.node.name}-{n}-{m}.png", full_page=True)
        for context in contexts:
            for page in context.pages:
                if not page.is_closed():
                    assert CANARY_KEY not in page.content(), f"the API key is in the HTML of {page.url}"
    finally:
        for context in contexts:
            context.close()


@pytest.fixture
def page(new_page: Any) -> Any:
    return new_page()
