"""The Usage page at 100,000 requests: ``.venv/bin/python -m bench.usage``.

1. Each query of ``lib.store.usage`` over 100,000 logged requests (30 days, four models, every
   source and status), on SQLite and, when ``CHAT_TEST_PG_URL`` is set, PostgreSQL.
2. The page's script time per run (AppTest, this process).
3. In Chromium against a real server: from opening the page until every chart is drawn
   (a ``canvas`` or ``svg`` in each ``.vega-embed``); beside it, the floor: the Leaderboard page,
   which queries almost nothing, until its heading shows.

Writes ``bench/usage.json`` and ``bench/usage.md`` (the section of ``bench/results.md``).
Options: ``--rows N`` (100,000), ``--runs N`` (7), ``--only queries,script,browser``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lib.store import usage, usage_page
from lib.store.database import Store
from lib.store.request_log import RequestRow, request_log
from lib.store.usage import UsageFilter

HERE = Path(__file__).resolve().parent
MODELS = ("google/gemma-3-27b-it", "google/gemma-3-12b-it", "google/gemma-3-4b-it", "google/gemma-3n-e4b-it")
SOURCES = ("chat", "chat", "chat", "compare", "lab", "judge")
LABELS = ("Concise", "Coder", None, "27B · temperature 0.2", "Translator")
DAYS = 30


def fill(store: Store, count: int, now: float | None = None, seed: int = 15, batch: int = 5000) -> None:
    """``count`` plausible requests over the last DAYS days: every model, source and ending."""
    rng = random.Random(seed)
    now = now or time.time()
    conversations = [f"bench-chat-{n}" for n in range(max(1, count // 20))]
    rows: list[dict[str, Any]] = []
    for n in range(count):
        model = rng.choice(MODELS)
        status = rng.choices(("ok", "error", "stopped", "cut"), (90, 4, 4, 2))[0]
        prompt, completion = rng.randint(20, 4000), rng.randint(0, 800) if status != "error" else 0
        ttft = rng.lognormvariate(-1.0, 0.5) if status != "error" else None
        rate = rng.uniform(20, 120) if completion > 1 else None
        rows.append(RequestRow(
            id=f"bench-{seed}-{n}", model=model, source=rng.choice(SOURCES), owner="local",
            time=now - rng.uniform(0, DAYS * 86_400), conversation_id=rng.choice(conversations),
            label=rng.choice(LABELS), status=status, error_kind="ServerError" if status == "error" else None,
            retries=rng.choices((0, 1, 2), (95, 4, 1))[0], prompt_tokens=prompt, completion_tokens=completion,
            cost_usd=(prompt * 0.04 + completion * 0.08) / 1e6 if status != "error" else None,
            cost_source=rng.choices(("server", "estimate", "demo"), (90, 5, 5))[0] if status != "error" else None,
            ttft=ttft, duration=(ttft or 0) + completion / (rate or 50), tokens_per_second=rate,
        ).values())
        if len(rows) >= batch:
            _write(store, rows)
            rows = []
    _write(store, rows)


def _write(store: Store, rows: list[dict[str, Any]]) -> None:
    if rows:
        with store._transaction(write=True) as conn:
            conn.execute(request_log.insert(), rows)


def _median_ms(action: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def queries(store: Store, runs: int) -> dict[str, float]:
    everything = UsageFilter(owner="local")
    week = UsageFilter(start=time.time() - 7 * 86_400, owner="local")
    size = usage.bucket_size(everything)
    return {
        "choices": _median_ms(lambda: usage.choices(store, "local"), runs),
        "totals": _median_ms(lambda: usage.totals(store, everything), runs),
        "by_model": _median_ms(lambda: usage.by_model(store, everything), runs),
        "over_time": _median_ms(lambda: usage.over_time(store, everything, size), runs),
        "speed (p50/p90/p99)": _median_ms(lambda: usage.speed(store, everything), runs),
        "costliest": _median_ms(lambda: usage.costliest(store, everything), runs),
        "totals, last 7 days": _median_ms(lambda: usage.totals(store, week), runs),
        "all the page's figures, the whole log": _median_ms(lambda: usage_page.figures(store, everything, size), runs),
        "has the past changed? (kept figures)": _median_ms(lambda: usage_page.settled(store, "local", time.time()), runs),
        "this hour's figures (after a new request)": _median_ms(
            lambda: usage_page.figures(store, usage_page.since(everything, usage_page.settled(
                store, "local", time.time()).until), size), runs),
        "csv (all rows)": _median_ms(lambda: usage.to_csv(store, everything), max(1, runs // 3)),
    }


def script_runs(db_path: Path, runs: int) -> list[float]:
    from streamlit.testing.v1 import AppTest

    from bench.run import ScriptTimer, environment

    env = {"CHAT_DB_PATH": str(db_path), "AIMLAPI_API_KEY": "sk-bench", "CHAT_HISTORY": "on"}
    with environment(**env), ScriptTimer() as timer:
        # Pages link to each other: AppTest opens them from the app's entry point.
        app = AppTest.from_file(str(HERE.parent / "app.py"), default_timeout=120)
        app.run()
        app.switch_page("pages/5_Usage.py").run()
        assert not app.exception, app.exception
        timer.times.clear()
        for _ in range(runs):
            app.run()
    return [t * 1000 for t in timer.times]


def browser(db_path: Path, runs: int) -> dict[str, Any]:
    """Per round: a request logged, then the page opened (cold: this hour's figures read afresh, the
    past's kept), opened again (warm: nothing logged since), and the floor page; in a new session each time."""
    from playwright.sync_api import sync_playwright

    from lib.api.fake_api import FakeAPI
    from lib.store.request_log import finish_request
    from tests.e2e import harness

    charts = "() => [...document.querySelectorAll('.vega-embed')].filter(e => e.querySelector('canvas, svg')).length"
    times: dict[str, list[float]] = {"cold": [], "warm": [], "floor": []}
    store = Store(f"sqlite:///{db_path}")

    def load(kind: str, path: str, done: Any) -> None:
        started = time.perf_counter()
        page.goto(f"{server.url}{path}")
        done()
        times[kind].append((time.perf_counter() - started) * 1000)

    with FakeAPI() as fake, tempfile.TemporaryDirectory() as tmp:
        run_log = Path(tmp) / "runs.jsonl"
        server = harness.StreamlitServer(
            env=harness.clean_env(Path(tmp), AIMLAPI_API_KEY="sk-bench", AIMLAPI_BASE_URL=fake.url,
                                  CHAT_DB_PATH=str(db_path), BENCH_RUN_LOG=str(run_log)),
            log_path=Path(tmp) / "server.log",
            launcher=[sys.executable, "-m", "bench.serve"],
        )
        server.start()
        try:
            with sync_playwright() as playwright:
                chromium = harness.launch_chromium(playwright)
                page = chromium.new_page(viewport={"width": 1280, "height": 900})
                drawn = lambda: page.wait_for_function(f"({charts})() >= 5", timeout=120_000)  # noqa: E731
                page.goto(f"{server.url}/Usage")  # the first run imports Altair and pandas
                drawn()
                for n in range(runs):
                    finish_request(store, RequestRow(id=f"bench-new-{n}", model=MODELS[0], status="ok", cost_usd=0.001))
                    load("cold", "/Usage", drawn)
                    load("warm", "/Usage", drawn)
                    load("floor", "/Leaderboard", lambda: page.get_by_role("heading", name="Leaderboard").wait_for())
                chromium.close()
            logged = [json.loads(line) for line in run_log.read_text().splitlines() if line.strip()]
        finally:
            server.stop()
            store.close()
    # The server's script runs: the first load, then cold, warm and floor by turns.
    seconds = [r["seconds"] * 1000 for r in logged if "seconds" in r][1:]
    return {
        **{f"{kind}_ms": values for kind, values in times.items()},
        **{f"server_{kind}_ms": seconds[i::3] for i, kind in enumerate(("cold", "warm", "floor"))},
    }


def report(data: dict[str, Any]) -> str:
    lines = [
        "## Usage page at 100,000 requests (`python -m bench.usage`)",
        "",
        f"{data['rows']:,} logged requests over {DAYS} days; {data['when']}; load average at the start "
        f"{data['load']}." + (" Other work was running on the machine: figures may be high."
                              if float(str(data["load"]).split()[0]) > 1.5 else " Nothing else was running."),
        "",
        "| query (median ms) | " + " | ".join(data["queries"]) + " |",
        "| --- | " + " | ".join("---" for _ in data["queries"]) + " |",
    ]
    names = list(next(iter(data["queries"].values()), {}))
    for name in names:
        lines.append(f"| {name} | " + " | ".join(f"{data['queries'][b][name]:.0f}" for b in data["queries"]) + " |")
    if data.get("script_ms"):
        s = data["script_ms"]
        lines += ["", f"Page script per run (AppTest, SQLite): median {statistics.median(s):.0f} ms, max {max(s):.0f} ms "
                  f"over {len(s)} runs."]
    if data.get("browser", {}).get("cold_ms"):
        b = data["browser"]

        def med(name: str) -> str:
            return f"{statistics.median(b[name] or [0]):.0f}"

        lines += [
            "",
            f"In Chromium against a real server, opening the page in a new session until its five charts are drawn "
            f"({len(b['cold_ms'])} rounds; median ms, server script in brackets; target 1,000 ms):",
            "",
            "| load | browser | server script |",
            "| --- | --- | --- |",
            f"| after a new request was logged (this hour read afresh, the past kept) | {med('cold_ms')} "
            f"| {med('server_cold_ms')} |",
            f"| again, nothing logged since | {med('warm_ms')} | {med('server_warm_ms')} |",
            f"| floor: the Leaderboard page until its heading shows | {med('floor_ms')} | {med('server_floor_ms')} |",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--only", default="queries,script,browser")
    args = parser.parse_args()
    parts = set(args.only.split(","))
    data: dict[str, Any] = {
        "rows": args.rows, "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "load": " ".join(f"{x:.1f}" for x in os.getloadavg()), "queries": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "usage.sqlite3"
        backends = [("SQLite", f"sqlite:///{db_path}")]
        if url := os.environ.get("CHAT_TEST_PG_URL"):
            from tests.store_fixtures import reset_postgres

            reset_postgres(url)
            backends.append(("PostgreSQL", url))
        for name, url in backends:
            store = Store(url)
            fill(store, args.rows)
            if "queries" in parts:
                data["queries"][name] = queries(store, args.runs)
            store.close()
        if "script" in parts:
            data["script_ms"] = script_runs(db_path, args.runs)
        if "browser" in parts:
            data["browser"] = browser(db_path, args.runs)
    (HERE / "usage.json").write_text(json.dumps(data, indent=2) + "\n")
    (HERE / "usage.md").write_text(report(data))
    print(report(data))


if __name__ == "__main__":
    main()
