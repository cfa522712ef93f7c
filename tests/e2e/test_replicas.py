"""Several replicas behind nginx on PostgreSQL (#14 item 6), as scripts/serve-replicas starts them.

A conversation started in a browser that nginx sends to replica r1 goes on in a browser sent to
r2 with nothing lost; two tabs on two replicas going on with one conversation both keep every
message (the store's versioned merge). The route is forced with the sticky cookie nginx sets
(``gc_replica``), and every response names its replica (``X-Gemma-Replica``).

The test starts PostgreSQL, the replicas and nginx itself, and stops them all; it is skipped only
when nginx cannot be installed (outside CI).
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.store.database import Store
from tests.conftest import CANARY_KEY
from tests.e2e.conftest import IN_CI
from tests.e2e.harness import (
    ROOT,
    assert_not_found,
    assert_read_only,
    clean_env,
    free_port,
    idle,
    make_link,
    messages,
    revoke,
    send,
    wait_for,
    wait_for_reply,
)
from tests.store_fixtures import reset_postgres

pytestmark = pytest.mark.browser

REPLICAS = 2
COOKIE = "gc_replica"
HEADER = "x-gemma-replica"


@dataclass
class Deployment:
    url: str
    db_url: str
    run_dir: Path
    process: subprocess.Popen
    replica_ports: list[int]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(30)

    def access_log(self) -> str:
        path = self.run_dir / "nginx-access.log"
        return path.read_text() if path.exists() else ""


def _free_run(count: int) -> int:
    """The first of ``count`` consecutive free ports."""
    while True:
        first = free_port()
        if first + count < 65_000 and all(_free(first + i) for i in range(count)):
            return first


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _listening(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _nginx() -> None:
    done = subprocess.run([ROOT / "scripts" / "ensure-nginx"], capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        message = f"nginx cannot be installed (scripts/ensure-nginx): {done.stderr.strip()[-500:]}"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


def _database() -> str:
    """A PostgreSQL database of this test's own, emptied (scripts/ensure-postgres makes it)."""
    done = subprocess.run(  # noqa: S603
        [ROOT / "scripts" / "ensure-postgres"], env={**os.environ, "PG_TEST_DB": "gemma_chat_replicas_test"},
        capture_output=True, text=True, check=True,
    )
    url = done.stdout.strip().splitlines()[-1].split("=", 1)[1]
    reset_postgres(url)
    return url


@pytest.fixture(scope="module")
def deployment(e2e_fake: FakeAPI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    _nginx()
    db_url = _database()
    tmp = tmp_path_factory.mktemp("replicas")
    port, first = free_port(), _free_run(REPLICAS)
    env = clean_env(
        tmp, AIMLAPI_API_KEY=CANARY_KEY, AIMLAPI_BASE_URL=e2e_fake.url, AIMLAPI_RETRY_BACKOFF="0.01",
        AIMLAPI_MAX_RETRIES="2", CHAT_DB_URL=db_url, PORT=str(port), REPLICA_PORT=str(first), LISTEN="127.0.0.1",
        REPLICAS=str(REPLICAS), SERVE_DIR=str(tmp / "run"),
    )
    log = (tmp / "serve-replicas.log").open("wb")
    process = subprocess.Popen(  # noqa: S603
        [ROOT / "scripts" / "serve-replicas", "--", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    started = Deployment(f"http://127.0.0.1:{port}", db_url, tmp / "run", process, [first + i for i in range(REPLICAS)])
    try:
        wait_for(lambda: "ready: http://localhost" in (tmp / "serve-replicas.log").read_text() or process.poll() is not None,
                 timeout=180, what="serve-replicas to be ready")
        assert process.poll() is None, (tmp / "serve-replicas.log").read_text()
        yield started
    finally:
        started.stop()
        log.close()
    # Ctrl-C or SIGTERM stops every child: nothing answers on any of the ports any more.
    assert process.returncode in (130, 143), process.returncode
    for stopped in (port, *started.replica_ports):
        assert not _listening(stopped), f"something still listens on port {stopped} after serve-replicas stopped"
    assert CANARY_KEY not in "".join(p.read_text(errors="replace") for p in started.run_dir.glob("*.log"))


def routed_page(new_page: Any, deployment: Deployment, replica: str) -> Any:
    """A fresh browser that nginx sends to ``replica`` (r1, r2): its sticky cookie, set beforehand."""
    page = new_page()
    page.context.add_cookies([{"name": COOKIE, "value": replica, "url": deployment.url}])
    return page


def open_on(page: Any, deployment: Deployment, replica: str, path: str = "/") -> None:
    answer = page.goto(deployment.url + path)
    assert answer.headers.get(HEADER) == replica
    open_chat_loaded(page)


def open_chat_loaded(page: Any) -> None:
    page.locator("[data-testid=stChatInputTextArea]").wait_for(state="visible", timeout=60_000)


def address_of(page: Any) -> str:
    wait_for(lambda: "?c=" in page.url, 10, what="the conversation's address in the URL")
    return page.url.split("?", 1)[1]


def stored_texts(deployment: Deployment, conversation_id: str) -> list[str]:
    store = Store(deployment.db_url)
    try:
        return sorted(m.content for m in store.load(conversation_id).messages.values())
    finally:
        store.close()


def one_chat_on_two_replicas(
    new_page: Any, deployment: Deployment, fake: FakeAPI, text: str, reply: str
) -> tuple[Any, Any, str]:
    """A conversation of one turn started in a browser on replica one, then opened in one on replica two."""
    first = routed_page(new_page, deployment, "r1")
    open_on(first, deployment, "r1")
    fake.plan(Behaviour(reply=reply))
    send(first, text)
    wait_for_reply(first, reply)
    address = address_of(first)
    second = routed_page(new_page, deployment, "r2")
    open_on(second, deployment, "r2", "/?" + address)
    wait_for(lambda: len(messages(second)) == 2, what="the conversation on replica two", page=second)
    return first, second, address


def test_nginx_sets_a_sticky_cookie_and_names_the_replica(deployment: Deployment) -> None:
    with urllib.request.urlopen(deployment.url + "/") as answer:  # noqa: S310
        replica = answer.headers[HEADER]
        assert answer.headers["Set-Cookie"].startswith(f"{COOKIE}={replica};")
    for wanted in ("r1", "r2"):
        request = urllib.request.Request(deployment.url + "/_stcore/health", headers={"Cookie": f"{COOKIE}={wanted}"})
        with urllib.request.urlopen(request) as answer:  # noqa: S310
            assert answer.headers[HEADER] == wanted
            assert not any(c.startswith(COOKIE) for c in answer.headers.get_all("Set-Cookie") or [])  # kept as it is


def test_a_conversation_started_on_one_replica_goes_on_on_the_other(
    new_page: Any, deployment: Deployment, e2e_fake: FakeAPI
) -> None:
    first, second, _ = one_chat_on_two_replicas(
        new_page, deployment, e2e_fake, "Started on replica one rp17", "First answer, from replica one."
    )
    e2e_fake.plan(Behaviour(reply="Second answer, from replica two."))
    send(second, "Continued on replica two")
    wait_for_reply(second, "Second answer, from replica two.")
    assert [text for _, text in messages(second)] == [
        "Started on replica one rp17", "First answer, from replica one.",
        "Continued on replica two", "Second answer, from replica two.",
    ]

    # Back on the first replica: all four, from the database the two share.
    first.reload()
    open_chat_loaded(first)
    wait_for(lambda: len(messages(first)) == 4, what="the four messages on replica one", page=first)
    assert messages(first) == messages(second)

    # Each browser's websocket went to its own replica, as the cookie says.
    first.context.close()
    second.context.close()
    # (The reload made the first browser a second websocket.)
    def websockets() -> list[str]:
        return re.findall(r'"GET /_stcore/stream HTTP/1.1" 101 replica=(r\d)', deployment.access_log())

    wait_for(lambda: len(websockets()) >= 3, what="nginx to log the three websockets")
    assert sorted(websockets()) == ["r1", "r1", "r2"]


def test_two_tabs_on_two_replicas_going_on_with_one_conversation_lose_no_message(
    new_page: Any, deployment: Deployment, e2e_fake: FakeAPI
) -> None:
    first, second, address = one_chat_on_two_replicas(
        new_page, deployment, e2e_fake, "One conversation, two replicas tz52", "The start."
    )
    conversation_id = address.split("=", 1)[1]

    # Both tabs hold the same two messages; each now adds its own turn, unaware of the other's.
    e2e_fake.plan(Behaviour(reply="Reply to the first tab."))
    send(first, "From the tab on replica one")
    wait_for_reply(first, "Reply to the first tab.")
    e2e_fake.plan(Behaviour(reply="Reply to the second tab."))
    send(second, "From the tab on replica two")
    wait_for_reply(second, "Reply to the second tab.")

    wanted = sorted([
        "One conversation, two replicas tz52", "The start.",
        "From the tab on replica one", "Reply to the first tab.",
        "From the tab on replica two", "Reply to the second tab.",
    ])
    wait_for(lambda: stored_texts(deployment, conversation_id) == wanted, what="all six messages in the database")
    # And once more from the first tab: its next save must not drop the second tab's turn.
    e2e_fake.plan(Behaviour(reply="Third reply."))
    send(first, "Once more from replica one")
    wait_for_reply(first, "Third reply.")
    texts = stored_texts(deployment, conversation_id)
    assert set(wanted) <= set(texts) and "Third reply." in texts


def test_a_link_shared_through_one_replica_opens_through_the_other_until_revoked(
    new_page: Any, deployment: Deployment, e2e_fake: FakeAPI
) -> None:
    owner = routed_page(new_page, deployment, "r1")
    open_on(owner, deployment, "r1")
    e2e_fake.plan(Behaviour(reply="Worth showing."))
    send(owner, "A chat to show a stakeholder sh33")
    wait_for_reply(owner, "Worth showing.")
    idle(owner)
    link = make_link(owner, "Share this chat")
    assert link.startswith(deployment.url + "/Shared?token=")

    viewer = routed_page(new_page, deployment, "r2")
    answer = viewer.goto(link)
    assert answer.headers.get(HEADER) == "r2"
    wait_for(lambda: "Worth showing." in viewer.locator(".gc-body").all_inner_texts()[-1:][0]
             if viewer.locator(".gc-body").count() else False, what="the shared reply on replica two")
    assert_read_only(viewer)

    revoke(owner, deployment, "A chat to show a stakeholder sh33")
    viewer.reload()
    assert_not_found(viewer)
