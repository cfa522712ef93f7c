"""#16 at scale: ``.venv/bin/python -m bench.scale``: search and History over 10,000 conversations,
a rerun with 1,000 messages, the server's memory over 200 turns and 20 sessions.

1. **Search** (``Store.search``) over 10,000 conversations of 10 messages (100,000 messages, the
   realistic text of ``bench/history.py``) on SQLite and, when ``CHAT_TEST_PG_URL`` is set,
   PostgreSQL: p50 and p90 over probes from rare to in-every-message, and one of two characters
   (which the trigram indexes cannot answer and so scans).
2. **History draw** with those 10,000: the History page's script time (AppTest, a new session each
   time, this process), first page and after one "Show more"; the chat page's first run beside it
   (its sidebar lists them too).
3. **Rerun with 1,000 messages** on a real server (``bench.run.server_reruns``: opened from the
   sidebar, then a rerun that changes nothing, timed by ``bench/serve.py``).
4. **Memory**: a real server's RSS over one session of 200 turns, then after 20 sessions of 5 turns
   each that open and close, once Streamlit has dropped them (``server.disconnectedSessionTTL``).

Turn 1 against the floor is ``bench.run``'s section 1–2: ``python -m bench.run --only turn1``.

Writes ``bench/scale.json`` and ``bench/scale.md`` (section 10 of ``bench/results.md``). Options:
``--only search,history,rerun,memory`` (``--only memory`` keeps the other sections of ``scale.json``),
``--conversations N`` (10,000), ``--runs N`` (10), ``--memory-runs N`` (2), ``--report-only``.
"""

from __future__ import annotations

import argparse
import gc
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
from bench.run import KEY, ROOT, ScriptTimer, environment, machine, new_session, pct, start_server
from lib.api.fake_api import Behaviour, FakeAPI
from lib.chat.conversation import Conversation
from lib.store.database import Store
from tests.e2e import harness

HERE = Path(__file__).resolve().parent
MODEL = "google/gemma-3-27b-it"
#: what the probes look for, from one conversation to every message; "ok" has two characters
PROBES = {
    "rare word (1 conversation)": "quetzal",
    "title of one": "bench chat 4321",
    "phrase in 1 of 10 messages": "explain item 3 in",
    "in every answer": "sixty to eighty words",
    "nowhere": "no such words here",
    "two characters": "ok",
}
TARGETS = {"search_p50_ms": 100, "history_ms": 1000, "rerun_ms": 100}


def conversation(number: int, messages: int) -> Conversation:
    chat = history.fill(Conversation(system_prompt="You are helpful.", model=MODEL), messages)
    chat.title = f"Bench chat {number}"
    # Times spread over years, oldest first.
    chat.created = chat.updated = 1_600_000_000 + number * 3_000
    for index, message in enumerate(chat.messages.values()):
        message.created = chat.created + index
        # One word in one conversation, a two-letter one in a few: the probes look for them.
        if number == 17 and index == 1:
            message.content += " Quetzals live in cloud forests."
        if number % 1000 == 3 and index == 3:
            message.content += " ok"
    return chat


def fill(store: Store, count: int, messages: int = 10, batch: int = 250) -> float:
    """``count`` conversations written a batch per transaction (as many saves, faster); seconds."""
    started = time.perf_counter()
    for first in range(0, count, batch):
        pending = [store._pending(conversation(n, messages)) for n in range(first, min(count, first + batch))]
        with store._transaction(write=True) as conn:
            for item in pending:
                store._write_conversation(conn, item)
    return time.perf_counter() - started


def search_times(store: Store, runs: int) -> dict[str, Any]:
    found: dict[str, int] = {}
    times: dict[str, list[float]] = {}
    for label, probe in PROBES.items():
        found[label] = len(store.search(probe))  # warm
        times[label] = []
        for _ in range(runs):
            clock = time.perf_counter()
            store.search(probe)
            times[label].append((time.perf_counter() - clock) * 1000)
    every = [t for values in times.values() for t in values]
    return {"per_probe": {label: {"hits": found[label], "p50": statistics.median(values), "p90": pct(values, 0.9)}
                          for label, values in times.items()},
            "p50": statistics.median(every), "p90": pct(every, 0.9)}


def backends(tmp: Path) -> dict[str, str]:
    urls = {"SQLite": f"sqlite:///{tmp / 'scale.sqlite3'}"}
    if pg := os.environ.get("CHAT_TEST_PG_URL"):
        from tests.store_fixtures import reset_postgres

        reset_postgres(pg)
        urls["PostgreSQL"] = pg
    return urls


def history_draw(url: str, tmp: Path, runs: int) -> dict[str, list[float]]:
    """The History page's script time with the store at ``url``, each in a new session."""
    from streamlit.testing.v1 import AppTest

    env = {"AIMLAPI_API_KEY": KEY, "CHAT_DOTENV_PATH": str(tmp / "none.env"), "CHAT_SECRETS_PATH": str(tmp / "none.toml"),
           "CHAT_DB_URL": url, "CHAT_HISTORY": "on"}
    result: dict[str, list[float]] = {"history": [], "show_more": [], "chat": []}
    with environment(**env), ScriptTimer() as timer:
        streamlit.cache_resource.clear()
        for run in range(runs + 1):
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
            timer.times.clear()
            at.run()
            chat_ms = timer.times[-1] * 1000
            at.switch_page("pages/1_History.py")
            timer.times.clear()
            at.run()
            assert not at.exception, at.exception
            history_ms = timer.times[-1] * 1000
            timer.times.clear()
            at.button(key="history_through_more").click().run()
            more_ms = timer.times[-1] * 1000
            if run == 0:
                continue  # warm-up: imports, the store opened
            result["chat"].append(chat_ms)
            result["history"].append(history_ms)
            result["show_more"].append(more_ms)
    streamlit.cache_resource.clear()
    return result


def drop_closed(browser: Any, app: Any, ttl: int) -> None:
    """Wait until Streamlit may drop the sessions closed so far, and make it: it reaps expired
    sessions only when another one disconnects, so one more visitor comes and goes."""
    time.sleep(ttl + 2)
    context, _page = new_session(browser, app)
    context.close()
    time.sleep(5)  # the dropped sessions' memory is given back a moment later (lib/memory.py)


def memory(fake: FakeAPI, tmp: Path, turns: int, sessions: int, session_turns: int, ttl: int) -> dict[str, Any]:
    """The server's RSS (MiB) as one session goes through ``turns`` turns, and after ``sessions``
    more sessions came, chatted and went."""
    from playwright.sync_api import sync_playwright

    from lib.api import fake_api

    fake_api.fake_reply = None
    # Started as scripts/start starts it: few malloc arenas (MALLOC_ARENA_MAX, see there).
    app = start_server("memory", "app.py", fake, tmp, STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL=str(ttl),
                       MALLOC_ARENA_MAX=os.environ.get("MALLOC_ARENA_MAX", "2"))
    server = app.server

    def mib() -> float:
        return (server.rss_kib() or 0) / 1024

    data: dict[str, Any] = {"started": mib(), "turns": {}, "ttl": ttl, "sessions": sessions}
    try:
        with sync_playwright() as playwright:
            browser = harness.launch_chromium(playwright)

            def long_session(marker: str) -> dict[int, float]:
                """``turns`` turns in a new session, then closed and dropped; RSS every 25 turns."""
                context, page = new_session(browser, app)
                at = {0: mib()}
                for n in range(1, turns + 1):
                    fake.default = Behaviour(reply=history.answer(n) + f" {marker}{n}z")
                    harness.send(page, history.question(n))
                    harness.wait_for(lambda n=n: page.get_by_text(f"{marker}{n}z").count() > 0, 60,
                                     what=f"turn {n}", page=page)
                    if n % 25 == 0 or n == 1:
                        at[n] = mib()
                        print(f"  {marker} turn {n}: {at[n]:.0f} MiB", flush=True)
                context.close()
                drop_closed(browser, app, ttl)
                return at

            turns_seen = long_session("end")
            data["session_open"] = turns_seen.pop(0)
            data["turns"] = turns_seen
            data["after_long_session"] = mib()
            print(f"  the long session closed: {data['after_long_session']:.0f} MiB", flush=True)
            # The same again: what the first left behind is it reused (caches, allocator room), or does
            # every long session add to the server?
            again = long_session("again")
            data["second_open"] = again.pop(0)
            data["second_turns"] = again
            data["after_second_long_session"] = mib()
            print(f"  the second long session closed: {data['after_second_long_session']:.0f} MiB", flush=True)
            peak = 0.0
            for s in range(sessions):
                context, page = new_session(browser, app)
                for n in range(1, session_turns + 1):
                    marker = f"s{s}t{n}z"
                    fake.default = Behaviour(reply=history.answer(n) + f" {marker}")
                    harness.send(page, history.question(n))
                    harness.wait_for(lambda m=marker, p=page: p.get_by_text(m).count() > 0, 60, what=marker, page=page)
                peak = max(peak, mib())
                context.close()
            data["sessions_peak"] = peak
            drop_closed(browser, app, ttl)
            data["after_sessions"] = mib()
            print(f"  {sessions} sessions came and went: {data['after_sessions']:.0f} MiB", flush=True)
            browser.close()
    finally:
        server.stop()
    return data


def _row(label: str, values: list[float], target: float | None = None) -> str:
    median = statistics.median(values)
    verdict = "" if target is None else ("meets" if median < target else "**MISSES**")
    return f"| {label} | {median:.0f} | {pct(values, 0.9):.0f} | {verdict} |"


def memory_report(runs: list[dict[str, Any]], date: str) -> list[str]:
    """The memory table, a column per run (the machine is shared: each run's numbers against its own start)."""
    m = runs[0]
    heads = " | ".join(f"run {i + 1}" for i in range(len(runs)))

    def row(label: str, values: list[float], signed: bool = False) -> str:
        return f"| {label} | " + " | ".join(f"{v:+.1f}" if signed else f"{v:.1f}" for v in values) + " |"

    lines = ["", f"**Server memory** ({date}; RSS, MiB; the server started as `scripts/start` starts it, "
             "`MALLOC_ARENA_MAX=2`; Streamlit drops a closed session after "
             f"`server.disconnectedSessionTTL`, here {m['ttl']} s, once another session disconnects: "
             "the bench waits that long and lets one more visitor come and go):", "",
             f"| When | {heads} |", "|---|" + "---:|" * len(runs),
             row("started", [r["started"] for r in runs]),
             row("one session open (the app's modules loaded)", [r["session_open"] for r in runs])]
    for n in runs[0]["turns"]:
        lines.append(row(f"… turn {n}", [r["turns"][n] for r in runs]))
    lines += [row("that session closed and dropped", [r["after_long_session"] for r in runs]),
              *([row(f"a second session of {max(int(k) for k in m['turns'])} turns, the same: its last turn",
                     [max(r["second_turns"].values()) for r in runs]),
                 row("… closed and dropped", [r["after_second_long_session"] for r in runs])]
                if all("second_turns" in r for r in runs) else []),
              row(f"{m.get('sessions', 20)} sessions of 5 turns, one after another: peak", [r["sessions_peak"] for r in runs]),
              row("… all closed and dropped", [r["after_sessions"] for r in runs]),
              row("**200 turns: growth while open** (last turn − session open)",
                  [max(r["turns"].values()) - r["session_open"] for r in runs], signed=True),
              row("**kept after it closed** (closed − session open)",
                  [r["after_long_session"] - r["session_open"] for r in runs], signed=True),
              *([row("**the second 200 turns: growth while open** (its last turn − the first closed)",
                     [max(r["second_turns"].values()) - r["after_long_session"] for r in runs], signed=True),
                 row("**kept after the second closed** (second closed − first closed)",
                     [r["after_second_long_session"] - r["after_long_session"] for r in runs], signed=True)]
                if all("second_turns" in r for r in runs) else []),
              row("**20 sessions that came and went** (all closed − the long sessions closed)",
                  [r["after_sessions"] - r.get("after_second_long_session", r["after_long_session"])
                   for r in runs], signed=True)]
    if note := runs[0].get("note"):
        lines += ["", note]
    return lines


def report(data: dict[str, Any]) -> str:
    lines = [
        "## 10. At scale: 10,000 conversations, 1,000 messages, memory (#16)",
        "",
        f"`python -m bench.scale`, {data['date']}. Machine: {data['machine']}. {data.get('note', '')}",
    ]
    if "search" in data:
        lines += ["", f"**Search** over {data['conversations']:,} conversations of 10 messages (`Store.search`, "
                  f"{data['runs']} runs of each probe, ms):", "",
                  "| Backend | Probe | hits | p50 | p90 |", "|---|---|---:|---:|---:|"]
        for backend, result in data["search"].items():
            for label, probe in result["per_probe"].items():
                lines.append(f"| {backend} | {label} (`{PROBES[label]}`) | {probe['hits']} | {probe['p50']:.1f} | "
                             f"{probe['p90']:.1f} |")
            verdict = "meets" if result["p50"] < TARGETS["search_p50_ms"] else "**MISSES**"
            lines.append(f"| {backend} | **all probes** | | **{result['p50']:.1f}** | **{result['p90']:.1f}** |")
            lines.append(f"| {backend} | target p50 < 100 ms | | {verdict} | |")
            lines.append(f"| {backend} | filling the database took | | {result['fill_seconds']:.0f} s | |")
    if "history" in data:
        lines += ["", f"**History with {data['conversations']:,} conversations** (AppTest script time in this "
                  "process, a new session each run, ms):", "",
                  "| Backend · page | median | p90 | target (< 1 s) |", "|---|---:|---:|---|"]
        for backend, result in data["history"].items():
            lines.append(_row(f"{backend} · History, first page of 100", result["history"], TARGETS["history_ms"]))
            lines.append(_row(f"{backend} · History, Show more (200 listed)", result["show_more"], TARGETS["history_ms"]))
            lines.append(_row(f"{backend} · chat page, first run (sidebar lists 12)", result["chat"]))
    if "rerun" in data:
        lines += ["", "**A rerun with 1,000 messages** on a real server (opened from the sidebar, then "
                  "\"Reset to API defaults\"; the server's own run times, ms):", "",
                  "| | median | p90 | target (< 100 ms) |", "|---|---:|---:|---|",
                  _row("rerun, 1,000 messages", data["rerun"], TARGETS["rerun_ms"])]
    if "memory" in data:
        lines += memory_report(data["memory"] if isinstance(data["memory"], list) else [data["memory"]],
                               data.get("memory_date", data["date"]))
    if note := data.get("turn1"):
        lines += ["", f"**Turn 1 against the floor** (`python -m bench.run --only turn1 --framings chunked`): {note}"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="search,history,rerun,memory")
    parser.add_argument("--conversations", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--ttl", type=int, default=20, help="server.disconnectedSessionTTL for the memory test")
    parser.add_argument("--note", default="", help="what else ran on the machine meanwhile")
    parser.add_argument("--memory-runs", type=int, default=2, help="times the memory part runs (a column each)")
    parser.add_argument("--memory-note", default="", help="what the memory table shows, under it")
    parser.add_argument("--report-only", action="store_true", help="rewrite scale.md from scale.json")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if args.report_only:
        data = json.loads((HERE / "scale.json").read_text())
        if args.memory_note and isinstance(data.get("memory"), list):
            data["memory"][0]["note"] = args.memory_note
            (HERE / "scale.json").write_text(json.dumps(data, indent=1, default=str))
        (HERE / "scale.md").write_text(report(data))
        return
    tmp = Path(tempfile.mkdtemp(prefix="gemma-scale-"))
    print(f"work files in {tmp}", flush=True)
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if only == {"memory"} and (HERE / "scale.json").exists():
        # Only the memory part again: the other sections stay as they were measured.
        data: dict[str, Any] = json.loads((HERE / "scale.json").read_text())
        data["memory_date"] = now
    else:
        data = {"date": now, "conversations": args.conversations, "runs": args.runs, "note": args.note, "machine": ""}
    if only & {"search", "history"}:
        data["search"], data["history"] = {}, {}
        for backend, url in backends(tmp).items():
            store = Store(url)
            seconds = fill(store, args.conversations)
            print(f"{backend}: {args.conversations} conversations written in {seconds:.0f} s", flush=True)
            if "search" in only:
                gc.collect()
                data["search"][backend] = {**search_times(store, args.runs), "fill_seconds": seconds}
                print(f"  search p50 {data['search'][backend]['p50']:.1f} ms, p90 {data['search'][backend]['p90']:.1f}",
                      flush=True)
            store.close()
            if "history" in only:
                data["history"][backend] = history_draw(url, tmp, max(3, args.runs // 2))
                print(f"  History median {statistics.median(data['history'][backend]['history']):.0f} ms", flush=True)
        for key in ("search", "history"):
            if not data[key]:
                del data[key]
    if only & {"rerun", "memory"}:
        from playwright.sync_api import sync_playwright

        from bench.run import server_reruns

        fake = FakeAPI(api_key=KEY).start()
        try:
            if "rerun" in only:
                with sync_playwright() as playwright:
                    browser = harness.launch_chromium(playwright)
                    data["machine"] = machine(browser.version)
                    app = start_server("rerun", "app.py", fake, tmp)
                    try:
                        data["rerun"] = server_reruns(browser, app, [1000], args.runs)[1000]
                    finally:
                        app.server.stop()
                        browser.close()
            if "memory" in only:
                data["memory"] = []
                for run in range(args.memory_runs):
                    print(f"memory, run {run + 1} of {args.memory_runs}", flush=True)
                    data["memory"].append(memory(fake, tmp, args.turns, args.sessions, 5, args.ttl))
                data["memory"][0]["note"] = args.memory_note
        finally:
            fake.stop()
    if isinstance(data["machine"], dict):
        data["machine"] = ", ".join(f"{k} {v}" for k, v in data["machine"].items())
    (HERE / "scale.json").write_text(json.dumps(data, indent=1, default=str))
    (HERE / "scale.md").write_text(report(data))
    print(report(data))


if __name__ == "__main__":
    main()
