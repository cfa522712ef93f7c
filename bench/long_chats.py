"""Long conversations: ``.venv/bin/python -m bench.long_chats``: import, load, open and rerun at the import limit.

The limit of ``CHAT_IMPORT_MAX_MESSAGES`` and the window of ``lib/chat/window.py`` come from here:

1. Import (``lib.store.importing.import_into``) and ``Store.load`` of a conversation of N messages,
   short ones (the issue's 4.87 MB file held 150,000) and this app's realistic ones
   (``bench/history.py``), on SQLite and, when ``CHAT_TEST_PG_URL`` is set, PostgreSQL.
2. The chat page's script time per rerun (AppTest, this process), for N messages and windows of
   100, 200 and 400 messages and the whole conversation, with the floor (``bench/floor_app.py``,
   which draws every message) beside it.
3. In Chromium against a real server (``bench/serve.py`` times each run): a conversation at the
   limit opened from the sidebar and from the History page's Open, until its latest 200 messages
   are on screen; "Show 200 earlier messages"; a rerun that changes nothing; the History page's
   runs with it selected.

Writes ``bench/long_chats.json`` and ``bench/long_chats.md`` (the section of ``bench/results.md``,
which ``bench.run`` copies in). Options: ``--runs N`` (10), ``--only import,rerun,browser``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit

from bench import history
from bench.run import KEY, ROOT, ScriptTimer, Server, environment, new_session, start_server
from lib.api.fake_api import FakeAPI
from lib.chat.conversation import Conversation
from lib.chat.window import Window
from lib.errors import ImportFormatError
from lib.settings import DEFAULT_IMPORT_MAX_MESSAGES, load_settings
from lib.store.database import Store, database_url
from lib.store.exporting import to_json
from lib.store.importing import import_into
from tests.e2e import harness

HERE = Path(__file__).resolve().parent
LIMIT = DEFAULT_IMPORT_MAX_MESSAGES
MODEL = "google/gemma-3-27b-it"


def short_file(count: int) -> bytes:
    return json.dumps({"messages": [{"role": "user" if n % 2 == 0 else "assistant", "content": f"message {n}"}
                                    for n in range(count)]}).encode()


def realistic(count: int, title: str = "") -> Conversation:
    conversation = history.fill(Conversation(system_prompt="You are helpful.", model=MODEL), count)
    conversation.title = title or f"Bench long chat {count}"
    return conversation


def _import(store: Store, data: bytes, max_messages: int = 10**9) -> tuple[float, str | None]:
    """Seconds to import ``data``, and the id it was saved under (None when refused)."""
    started = time.perf_counter()
    try:
        imported = import_into(store, data, max_bytes=10**9, default_model=MODEL, max_messages=max_messages)
    except ImportFormatError:
        return time.perf_counter() - started, None
    return time.perf_counter() - started, imported.conversation.id


def _load(store: Store, conversation_id: str) -> float:
    started = time.perf_counter()
    store.load(conversation_id)
    return time.perf_counter() - started


# -- 1. import and load ----------------------------------------------------------------------------


def import_and_load(tmp: Path) -> list[dict[str, Any]]:
    urls = {"SQLite": f"sqlite:///{tmp / 'import.sqlite3'}"}
    if os.environ.get("CHAT_TEST_PG_URL"):
        from tests.store_fixtures import reset_postgres

        reset_postgres(os.environ["CHAT_TEST_PG_URL"])
        urls["PostgreSQL"] = os.environ["CHAT_TEST_PG_URL"]
    files = [(f"{n:,} short messages", short_file(n)) for n in (1_000, LIMIT)]
    files += [(f"{n:,} messages like bench/history.py's", to_json(realistic(n)).encode()) for n in (1_000, 5_000)]
    issue = short_file(150_000)
    rows = []
    for backend, url in urls.items():
        store = Store(url)
        for what, data in files:
            took, saved = _import(store, data)
            assert saved is not None
            loaded = _load(store, saved)
            rows.append({"backend": backend, "what": what, "bytes": len(data), "import": took, "load": loaded})
            print(f"  {backend}, {what}: import {took:.2f} s, load {loaded:.2f} s", flush=True)
        refused, saved = _import(store, issue, LIMIT)
        assert saved is None, "150,000 messages were imported"
        rows.append({"backend": backend, "what": "150,000 short messages (the issue's), refused", "bytes": len(issue),
                     "import": refused, "load": None})
        print(f"  {backend}: 150,000 refused in {refused:.2f} s", flush=True)
        if backend == "SQLite":  # what the issue saw, without the limit: once is enough
            took, saved = _import(store, issue)
            assert saved is not None
            rows.append({"backend": backend, "what": "150,000 short messages, without the limit", "bytes": len(issue),
                         "import": took, "load": _load(store, saved)})
        store.close()
    return rows


# -- 2. script time per rerun (AppTest) ------------------------------------------------------------


def apptest_reruns(fake: FakeAPI, tmp: Path, runs: int) -> list[dict[str, Any]]:
    from streamlit.testing.v1 import AppTest

    env = {"AIMLAPI_API_KEY": KEY, "AIMLAPI_BASE_URL": fake.url, "CHAT_DOTENV_PATH": str(tmp / "none.env"),
           "CHAT_SECRETS_PATH": str(tmp / "none.toml"), "CHAT_DB_PATH": str(tmp / "apptest.sqlite3")}
    rows = []
    with environment(**env), ScriptTimer() as timer:
        for size in (1_000, LIMIT):
            for window in (100, 200, 400, None):
                streamlit.cache_resource.clear()
                at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
                at.run()
                chat = at.session_state["chat"]
                history.fill(chat.conversation, size)
                at.session_state["message_window"] = Window(chat.conversation.id, size=window or 10**9)
                at.run()
                at.run()  # warm: saved, rendered once, caches full
                timer.times.clear()
                for _ in range(runs if window else 3):
                    at.run()
                assert not at.exception, at.exception
                rows.append({"messages": size, "window": window, "script": [t * 1000 for t in timer.times]})
                print(f"  AppTest app, {size} messages, window {window}: "
                      f"{statistics.median(timer.times) * 1000:.0f} ms", flush=True)
            at = AppTest.from_file(str(HERE / "floor_app.py"), default_timeout=300)
            at.run()
            at.session_state["messages"] = [
                {"role": "user" if i % 2 == 0 else "assistant",
                 "content": history.question(i // 2 + 1) if i % 2 == 0 else history.answer(i // 2 + 1)}
                for i in range(size)
            ]
            at.run()
            timer.times.clear()
            for _ in range(3):
                at.run()
            rows.append({"messages": size, "window": "floor", "script": [t * 1000 for t in timer.times]})
            print(f"  AppTest floor, {size} messages: {statistics.median(timer.times) * 1000:.0f} ms", flush=True)
    streamlit.cache_resource.clear()
    return rows


# -- 3. in the browser -----------------------------------------------------------------------------


#: JavaScript: click the button ``[where, label]`` and resolve with the ms until the frame after the page
#: shows ``first`` in the older turns' HTML and ``last`` in the last chat bubble (``last`` may be empty)
CLICK_UNTIL_SHOWN = """([where, label, first, last]) => new Promise(resolve => {
  const shown = () => Array.from(document.querySelectorAll('[data-testid=stHtml] p')).some(p => p.textContent === first)
    && (!last || (Array.from(document.querySelectorAll('[data-testid=stChatMessage]')).pop() || {textContent: ''})
        .textContent.includes(last));
  const started = performance.now();
  const observer = new MutationObserver(() => {
    if (shown()) { observer.disconnect(); requestAnimationFrame(() => resolve(performance.now() - started)); }
  });
  observer.observe(document, {subtree: true, childList: true, characterData: true});
  const buttons = Array.from(document.querySelectorAll(where + ' button'));  // icons are text (ligatures)
  (buttons.find(b => b.innerText.trim() === label) || buttons.find(b => b.innerText.includes(label))).click();
})"""


def click_until_shown(page: Any, where: str, label: str, first_index: int, size: int, last: bool = True) -> float:
    """Seconds from a click to the messages from ``first_index`` to the last on screen (the page's clock)."""
    first = history.question(first_index // 2 + 1)
    final = history.answer(size // 2).splitlines()[-1] if last else ""
    return page.evaluate(CLICK_UNTIL_SHOWN, [where, label, first, final]) / 1000


def _runs_since(app: Server, before: int) -> list[dict[str, Any]]:
    return [r for r in app.runs()[before:] if r["ended"] == "done"]


def browser(app: Server, runs: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    settings = load_settings({k: v for k, v in app.server.env.items() if k.startswith(("AIMLAPI_", "CHAT_"))})
    store = Store(database_url(settings))
    conversation = realistic(LIMIT, "Bench long chat at the limit")
    store.save(conversation)
    result: dict[str, Any] = {"messages": LIMIT, "sidebar": [], "history": [], "earlier": [], "rerun": [],
                              "history_runs": []}
    with sync_playwright() as playwright:
        chromium = harness.launch_chromium(playwright)
        try:
            for _ in range(3):
                context, page = new_session(chromium, app)
                result["sidebar"].append(click_until_shown(page, "[data-testid=stSidebar]", conversation.title,
                                                           LIMIT - 200, LIMIT))
                page.wait_for_timeout(1000)
                result["earlier"].append(click_until_shown(page, "body", "Show 200 earlier messages",
                                                           LIMIT - 400, LIMIT, last=False))
                page.wait_for_timeout(1000)
                page.get_by_test_id("stSidebar").get_by_text("Sampling parameters").click()
                page.wait_for_timeout(500)
                for _ in range(runs):
                    before = len(app.runs())
                    page.get_by_role("button", name="Reset to API defaults").click()
                    harness.wait_for(lambda b=before: _runs_since(app, b), 30, what="a rerun")
                    result["rerun"].append(_runs_since(app, before)[0]["seconds"] * 1000)
                    page.wait_for_timeout(200)

                before = len(app.runs())
                page.goto(app.server.url + "/History")  # it opens with the latest conversation selected
                page.get_by_role("combobox", name="Conversation").wait_for()
                harness.wait_for(lambda b=before: _runs_since(app, b), 60, what="the History page's run")
                page.wait_for_timeout(1000)
                page.get_by_role("button", name="Rename").click()  # the same title: a run, and its st.rerun
                harness.wait_for(lambda b=before: len(_runs_since(app, b)) >= 2, 60, what="History runs")
                page.wait_for_timeout(500)
                result["history_runs"] += [r["seconds"] * 1000 for r in app.runs()[before:]]
                page.wait_for_timeout(500)
                result["history"].append(click_until_shown(page, "body", "Open", LIMIT - 200, LIMIT))
                context.close()
                print(f"  browser: sidebar {result['sidebar'][-1]:.2f} s, History {result['history'][-1]:.2f} s, "
                      f"earlier {result['earlier'][-1]:.2f} s", flush=True)
        finally:
            chromium.close()
            store.close()
    return result


# -- the report ------------------------------------------------------------------------------------


def _ms(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "—"


def _load(data: dict[str, Any]) -> str:
    if not data.get("load"):
        return ""
    start, end = data["load"]
    return (f" The machine's load average (1 min), other work on its 2 cores included, was {start:.1f} at the start "
            f"and {end:.1f} at the end.")


def report(data: dict[str, Any]) -> str:
    out = [
        "## 8. Long conversations", "",
        f"Measured {data['date']} by `.venv/bin/python -m bench.long_chats` on the machine above. The import limit "
        f"(`CHAT_IMPORT_MAX_MESSAGES`, {LIMIT:,}) and the chat page's window (the latest 200 messages, 200 more per "
        f"click of *Show 200 earlier messages*) come from these numbers.{_load(data)}", "",
    ]
    if rows := data.get("import"):
        out += ["**Import and load** (`import_into`, then `Store.load`), seconds:", "",
                "| Database | File | MB | import | load |", "|---|---|---:|---:|---:|"]
        for r in rows:
            load = "—" if r["load"] is None else f"{r['load']:.2f}"
            out.append(f"| {r['backend']} | {r['what']} | {r['bytes'] / 1e6:.2f} | {r['import']:.2f} | {load} |")
        out.append("")
    if rows := data.get("rerun"):
        out += ["**The chat page's script time per rerun** (AppTest, ms, median), by how many of the latest messages "
                "it draws; the floor draws them all:", "",
                "| Messages | window 100 | window 200 (the app's) | window 400 | whole conversation | floor |",
                "|---:|---:|---:|---:|---:|---:|"]
        for size in sorted({r["messages"] for r in rows}):
            by = {r["window"]: r["script"] for r in rows if r["messages"] == size}
            out.append(f"| {size:,} | {_ms(by.get(100, []))} | {_ms(by.get(200, []))} | {_ms(by.get(400, []))} | "
                       f"{_ms(by.get(None, []))} | {_ms(by.get('floor', []))} |")
        out.append("")
    if b := data.get("browser"):
        out += [f"**In Chromium, a conversation of {b['messages']:,} messages** (like `bench/history.py`'s) on a real "
                "server, three fresh sessions:", "",
                "| | median | max |", "|---|---:|---:|",
                f"| opened from the sidebar → its latest 200 messages on screen, s | {statistics.median(b['sidebar']):.2f} "
                f"| {max(b['sidebar']):.2f} |",
                f"| opened with the History page's Open → the same, s | {statistics.median(b['history']):.2f} | "
                f"{max(b['history']):.2f} |",
                f"| Show 200 earlier messages → on screen, s | {statistics.median(b['earlier']):.2f} | "
                f"{max(b['earlier']):.2f} |",
                f"| a rerun of the chat page that changes nothing (server run), ms | {_ms(b['rerun'])} | "
                f"{max(b['rerun']):.0f} |",
                f"| a run of the History page with it selected (server run), ms | {_ms(b['history_runs'])} | "
                f"{max(b['history_runs']):.0f} |", ""]
    return "\n".join(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", default="import,rerun,browser")
    parser.add_argument("--report-only", action="store_true", help="rewrite long_chats.md from long_chats.json")
    args = parser.parse_args()
    out = HERE / "long_chats.json"
    data: dict[str, Any] = json.loads(out.read_text()) if out.exists() else {}
    if not args.report_only:
        only = set(args.only.split(","))
        data["date"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        data["load"] = [os.getloadavg()[0]]
        tmp = Path(tempfile.mkdtemp(prefix="gemma-long-"))
        if "import" in only:
            print("1. import and load", flush=True)
            data["import"] = import_and_load(tmp)
        with FakeAPI(api_key=KEY) as fake:
            if "rerun" in only:
                print("2. rerun time (AppTest)", flush=True)
                data["rerun"] = apptest_reruns(fake, tmp, args.runs)
            if "browser" in only:
                print("3. in the browser", flush=True)
                app = start_server("app", "app.py", fake, tmp)
                try:
                    data["browser"] = browser(app, args.runs)
                finally:
                    app.server.stop()
        data["load"].append(os.getloadavg()[0])
        out.write_text(json.dumps(data, indent=1))
    (HERE / "long_chats.md").write_text(report(data))
    print(f"wrote {HERE / 'long_chats.md'}")


if __name__ == "__main__":
    main()
