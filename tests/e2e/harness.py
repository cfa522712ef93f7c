"""Plain helpers for driving the real app: a Streamlit server subprocess, Chromium, the chat page.

No pytest in here, so that the benchmarks (``bench/``) use exactly what the e2e tests use.
Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lib.store.shares import DEFAULT_EXPIRY

ROOT = Path(__file__).resolve().parents[2]
#: Debian's Chromium: Playwright's own browser download cannot work on the build machines
CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A camera that shows a test pattern, allowed without a prompt: for st.camera_input.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]

# -- selectors (data-testid attributes Streamlit renders) -------------------------------

CHAT_INPUT = "[data-testid=stChatInputTextArea]"
FILE_INPUT = "[data-testid=stChatInput] input[type=file]"
MESSAGE = "[data-testid=stChatMessage]"
ASSISTANT_AVATAR = "[data-testid=stChatMessageAvatarAssistant]"
USER_AVATAR = "[data-testid=stChatMessageAvatarUser]"
MESSAGE_TEXT = "[data-testid=stChatMessageContent] [data-testid=stMarkdownContainer]"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment for a server: none of the developer's AIMLAPI_/CHAT_ settings, .env or secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIMLAPI_", "CHAT_", "STREAMLIT_"))}
    tmp.mkdir(parents=True, exist_ok=True)
    env.update(
        CHAT_DOTENV_PATH=str(tmp / "none.env"),
        CHAT_SECRETS_PATH=str(tmp / "none.toml"),
        CHAT_DB_PATH=str(tmp / "chats.sqlite3"),
        PYTHONUNBUFFERED="1",
    )
    env.update(extra)
    return env


@dataclass
class StreamlitServer:
    """``streamlit run <script>`` on 127.0.0.1, its output kept in ``log_path``; restartable."""

    env: dict[str, str]
    log_path: Path
    script: str = "app.py"
    port: int = field(default_factory=free_port)
    #: the command that runs Streamlit; bench/serve.py wraps it to time each script run
    launcher: list[str] = field(default_factory=lambda: [sys.executable, "-m", "streamlit"])
    extra_args: tuple[str, ...] = ()
    process: subprocess.Popen | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, timeout: float = 60) -> StreamlitServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        log.write(f"\n===== start {self.starts + 1} =====\n".encode())
        log.flush()
        command = [
            *self.launcher, "run", self.script,
            "--server.port", str(self.port),
            "--server.headless", "true",
            "--server.address", "127.0.0.1",
            "--browser.gatherUsageStats", "false",
            # The code under test is what was there at start: no reloading of edited files mid-run.
            "--server.fileWatcherType", "none",
            *self.extra_args,
        ]
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()
        self.starts += 1
        wait_until_up(self.process, f"{self.url}/_stcore/health", timeout, "streamlit", self.log_text, self.stop)
        return self

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None

    def restart(self) -> StreamlitServer:
        self.stop()
        return self.start()

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def rss_kib(self) -> int | None:
        """Resident memory of the server process now, in KiB (Linux /proc)."""
        return _proc_status(self.pid, "VmRSS")

    def peak_rss_kib(self) -> int | None:
        """The kernel's high-water mark of the server's resident memory, in KiB."""
        return _proc_status(self.pid, "VmHWM")


def _proc_status(pid: int, field_name: str) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def wait_until_up(
    process: subprocess.Popen, url: str, timeout: float, name: str, log_text: Callable[[], str], stop: Callable[[], None]
) -> None:
    """Until ``url`` answers 200; raises with the tail of the log if ``process`` exits or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with {process.returncode}:\n{log_text()[-3000:]}")
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                if answer.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            stop()
            raise RuntimeError(f"{name} did not answer {url} in {timeout} s:\n{log_text()[-3000:]}")
        time.sleep(0.1)


def launch_chromium(playwright: Any, **kwargs: Any) -> Any:
    """Debian's Chromium, headless, with nothing that would reach beyond loopback."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, **kwargs)


# -- the chat page, with Playwright's sync API --------------------------------------------


def open_chat(page: Any, server: StreamlitServer, path: str = "/", timeout: float = 60_000) -> None:
    page.goto(server.url + path)
    page.locator(CHAT_INPUT).wait_for(state="visible", timeout=timeout)


def attach_and_send(page: Any, files: list[Path], text: str) -> None:
    """Pick files in the chat input, type, press Enter: what a person does."""
    from playwright.sync_api import expect

    page.locator(FILE_INPUT).set_input_files([str(f) for f in files])
    for file in files:
        expect(page.locator("[data-testid=stChatInput]").get_by_text(file.name)).to_be_visible()
    box = page.locator(CHAT_INPUT)
    box.click()
    box.fill(text)
    # Streamlit keeps Send disabled (and ignores Enter) until every upload has finished
    expect(page.get_by_test_id("stChatInputSubmitButton")).to_be_enabled()
    box.press("Enter")


def send(page: Any, text: str, rest_ms: float = 0) -> None:
    """Type into the chat input and press Enter, as a person does (after resting ``rest_ms``)."""
    box = page.locator(CHAT_INPUT)
    box.click()
    box.fill(text)
    if rest_ms:
        page.wait_for_timeout(rest_ms)
    box.press("Enter")


#: JavaScript: [(role, text of the message's first Markdown or plain-text block)] for every chat message
#: on screen; the labels of buttons (Stop, Copy …), alerts and captions are not the message's text
MESSAGES_JS = """
() => Array.from(document.querySelectorAll('[data-testid=stChatMessage]'))
  .filter(m => !m.closest('[data-stale=true]'))
  .map(m => [
    m.querySelector('[data-testid=stChatMessageAvatarAssistant]') ? 'assistant'
      : (m.querySelector('[data-testid=stChatMessageAvatarUser]') ? 'user' : 'other'),
    ((Array.from(m.querySelectorAll(['stMarkdownContainer', 'stText']
        .map(id => `[data-testid=stChatMessageContent] [data-testid=${id}]`).join(', ')))
      .find(e => !e.closest('button, [data-testid=stAlert], [data-testid=stExpander]'))) || {innerText: ''})
      .innerText.trim()
  ])
"""


def messages(page: Any) -> list[tuple[str, str]]:
    return [tuple(m) for m in page.evaluate(MESSAGES_JS)]


def wait_for(
    condition: Any, timeout: float = 20, interval: float = 0.05, what: str = "condition", page: Any = None
) -> Any:
    """Poll ``condition()`` until it returns something truthy; raise TimeoutError with ``what``
    (and the messages on ``page``, when given)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            seen = f"; on screen: {messages(page)!r}" if page is not None else ""
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}{seen}")
        time.sleep(interval)


def reply_words(page: Any) -> list[str]:
    """The words of the last message if it is a reply (the typing cursor left out)."""
    shown = messages(page)
    if not shown or shown[-1][0] != "assistant":
        return []
    return shown[-1][1].replace("▌", " ").split()


def running(page: Any) -> bool:
    """Whether the app's script is running (Streamlit's status widget, or our Stop button, is up)."""
    return bool(
        page.evaluate(
            """() => !!document.querySelector('[data-testid=stStatusWidget]')
                 || !!Array.from(document.querySelectorAll('[data-testid=stButton] button'))
                        .find(b => b.innerText.includes('Stop'))"""
        )
    )


def wait_for_reply(page: Any, contains: str, timeout: float = 30) -> list[tuple[str, str]]:
    """Wait until the last message is a settled assistant reply containing ``contains``."""

    def settled() -> list[tuple[str, str]] | None:
        shown = messages(page)
        if shown and shown[-1][0] == "assistant" and contains in shown[-1][1] and "▌" not in shown[-1][1]:
            if not running(page):
                return shown
        return None

    return wait_for(settled, timeout, what=f"a settled reply containing {contains!r}", page=page)


def idle(page: Any, timeout: float = 30) -> None:
    """Wait until the page's script has ended: text typed while a run ends can be reset by it."""
    wait_for(lambda: not running(page), what="the page to be idle", timeout=timeout)
    page.wait_for_timeout(300)


def search_history(page: Any, server: StreamlitServer, text: str) -> None:
    """Open the History page and search all conversations for ``text``, as a person does."""
    from playwright.sync_api import expect

    page.goto(server.url + "/History")
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    search = page.get_by_role("textbox", name="Search all conversations")
    search.fill(text)
    search.press("Enter")


# -- share links (#14): making one, what it shows, revoking it ---------------------------------

#: a share link as the owner copies it off the page
SHARE_LINK = re.compile(r"^http://127\.0\.0\.1:\d+/Shared\?token=[A-Za-z0-9_-]{43}$")


def open_shared_links(page: Any, server: StreamlitServer) -> None:
    """Open the History page as far as its list of shared links."""
    from playwright.sync_api import expect

    page.goto(server.url + "/History")
    expect(page.get_by_role("heading", name="Shared links")).to_be_visible(timeout=30_000)
    idle(page)


def make_link(page: Any, button: str, expiry: str = DEFAULT_EXPIRY) -> str:
    """Open a Share popover, pick the expiry, make the link and read it as the owner would copy it."""
    from playwright.sync_api import expect

    page.get_by_role("button", name=button, exact=True).click()
    popover = page.get_by_test_id("stPopoverBody")
    expect(popover.get_by_role("button", name="Make a read-only link")).to_be_visible()
    expect(popover.get_by_role("combobox", name="Link expires")).to_have_value(DEFAULT_EXPIRY)  # a forgotten link ends
    if expiry != DEFAULT_EXPIRY:
        popover.get_by_role("combobox", name="Link expires").click()
        page.get_by_role("option", name=expiry, exact=True).click()
        idle(page)
    popover.get_by_role("button", name="Make a read-only link").click()
    code = popover.get_by_test_id("stCode")
    expect(code).to_contain_text("/Shared?token=")
    link = code.inner_text().strip()
    assert SHARE_LINK.match(link), link
    page.keyboard.press("Escape")
    return link


def assert_read_only(page: Any, absent: tuple[str, ...] = ()) -> None:
    """Nothing to type into, nothing to press, nothing of the owner's: no sidebar, no message box,
    no sign-in wall, and none of the texts ``absent``."""
    from playwright.sync_api import expect

    expect(page.locator(CHAT_INPUT)).to_have_count(0)
    expect(page.get_by_test_id("stSidebar")).to_have_count(0)
    expect(page.get_by_test_id("stButton")).to_have_count(0)
    expect(page.get_by_test_id("stPopover")).to_have_count(0)
    expect(page.get_by_role("textbox")).to_have_count(0)
    expect(page.get_by_role("button", name="Sign in")).to_have_count(0)
    for text in absent:
        expect(page.get_by_text(text)).to_have_count(0)


def revoke(page: Any, server: StreamlitServer, title: str) -> None:
    """Revoke the link to ``title`` on the History page, confirming, as the owner does."""
    from playwright.sync_api import expect

    open_shared_links(page, server)
    card = page.get_by_test_id("stVerticalBlock").filter(has_text=title).last
    card.get_by_role("button", name="Revoke").click()
    expect(page.get_by_text("Anyone holding the link will see not-found.")).to_be_visible()
    card = page.get_by_test_id("stVerticalBlock").filter(has_text=title).last
    card.get_by_role("button", name="Revoke for good").click()
    expect(page.get_by_text(f"Revoked the link to “{title}”: it shows not-found now.")).to_be_visible()


def assert_not_found(page: Any, absent: tuple[str, ...] = ()) -> None:
    """The one plain not-found of an unknown, revoked or expired link: no image, nothing else."""
    from playwright.sync_api import expect

    expect(page.get_by_role("heading", name="Not found")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Nothing is shared at this address.")).to_be_visible()
    assert_read_only(page, absent)
    expect(page.locator("img")).to_have_count(0)
