"""What drawing one message costs the browser: ``.venv/bin/python -m bench.draw_cost``.

The limits of :mod:`lib.chat.draw_cost` come from here. Each text of :data:`CASES` is drawn in a
page of its own (``bench/draw_cost_app.py``) in Debian's Chromium, as the chat page drew every
message before (``st.markdown``) and as it draws them now (``ui.messages.show_text``: plain text
past the limits). Measured, the page's own clock, minus the same for a one-line message:

* first draw: the page opened -> the caption after the message on screen;
* redraw: a rerun (a click on a button) -> the same; every click and every turn redraws a message;
* streamed: the text grown over a few seconds in views 40 ms apart, as a reply streams ->
  the whole text on screen, minus the streaming time (how far the page fell behind).

Writes ``bench/draw_cost.json`` and ``bench/draw_cost.md`` (the section of ``bench/results.md``,
which ``bench.run`` copies in). Options: ``--reps N`` (3), ``--only name,name`` (the other cases are
kept as last measured).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _table(rows: int, columns: int) -> str:
    head = "| " + " | ".join(f"col {c}" for c in range(columns)) + " |\n|" + "---|" * columns + "\n"
    return head + "\n".join("| " + " | ".join(f"r{r} c{c}" for c in range(columns)) + " |" for r in range(rows))


_TEXTS: dict[str, Callable[[int], str]] = {
    "short": lambda n: "Hello there, a one-line message.",
    "quote": lambda n: ">" * n + " deep",
    "list": lambda n: "\n".join("  " * level + "- item" for level in range(n)),
    "table3": lambda n: _table(n, 3),
    "table8": lambda n: _table(n, 8),
    "items": lambda n: "\n".join(f"- item {i}" for i in range(n)),
    "quotes10": lambda n: "\n\n".join(">" * 10 + f" quote {i}" for i in range(n)),
    "paragraphs": lambda n: "\n\n".join(f"Paragraph {i} with some **bold** and `code` words in a line." for i in range(n)),
}


def text_for(case: str, n: int) -> str:
    return _TEXTS[case](n)


@dataclass(frozen=True)
class Case:
    case: str
    n: int
    what: str
    #: seconds to stream it over; 0 draws it at once
    stream: float = 0

    @property
    def name(self) -> str:
        return f"{self.case}-{self.n}" + (f"-stream{self.stream:g}" if self.stream else "")


CASES: tuple[Case, ...] = (
    Case("quote", 100, "100 nested `>`"),
    Case("quote", 1_000, "1,000 nested `>`"),
    Case("quote", 2_000, "2,000 nested `>`"),
    Case("quote", 5_000, "5,000 nested `>` (the issue's)"),
    Case("list", 100, "a list nested 100 deep"),
    Case("list", 500, "a list nested 500 deep"),
    Case("table3", 600, "table, 600 rows × 3 (1,803 cells)"),
    Case("table3", 2_000, "table, 2,000 rows × 3 (6,003 cells, the issue's)"),
    Case("table8", 250, "table, 250 rows × 8 (2,008 cells)"),
    Case("table8", 2_000, "table, 2,000 rows × 8 (16,008 cells)"),
    Case("items", 2_500, "2,500 list items"),
    Case("items", 5_000, "5,000 list items"),
    Case("quotes10", 500, "500 quotes 10 deep (5,000 block quotes)"),
    Case("paragraphs", 1_600, "paragraphs, 100,000 characters"),
    Case("paragraphs", 10_000, "paragraphs, 620,000 characters"),
    Case("table3", 600, "table, 600 rows × 3, streamed in 10 s", stream=10),
    Case("table8", 500, "table, 500 rows × 8 (4,008 cells), streamed in 10 s", stream=10),
    Case("table3", 2_000, "table, 2,000 rows × 3, streamed in 10 s", stream=10),
    Case("items", 2_000, "2,000 list items, streamed in 10 s", stream=10),
    Case("items", 5_000, "5,000 list items, streamed in 10 s", stream=10),
    Case("quotes10", 200, "200 quotes 10 deep (2,000 block quotes), streamed in 10 s", stream=10),
)

#: JavaScript: the page's clock once the caption after the message says ``mark`` (polled every frame)
_SEEN = """mark => Array.from(document.querySelectorAll('[data-testid=stCaptionContainer]'))
  .some(e => e.textContent.includes(mark)) ? performance.now() : false"""


def _until(page: Any, mark: str, timeout: float) -> float:
    return float(page.wait_for_function(_SEEN, arg=mark, timeout=timeout * 1000, polling="raf").json_value())


def draw(browser: Any, url: str, case: Case, mode: str, timeout: float = 120) -> dict[str, Any]:
    """One page: its first draw, two redraws (ms on the page's clock), and any error it logged."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e).splitlines()[0][:120]))
    page.on("console", lambda m: errors.append(m.text.splitlines()[0][:120]) if m.type == "error" else None)
    result: dict[str, Any] = {"errors": errors}
    try:
        page.goto(f"{url}/?case={case.case}&n={case.n}&mode={mode}&stream={case.stream}")
        result["first"] = _until(page, "END-MARK 0", timeout) - case.stream * 1000
        result["redraws"] = []
        for run in (1, 2):
            started = page.evaluate("performance.now()")
            page.get_by_role("button", name="rerun").click(timeout=timeout * 1000)
            result["redraws"].append(_until(page, f"END-MARK {run}", timeout) - started)
    except Exception as exc:  # noqa: BLE001 - a page that never finishes is a result too
        result["failed"] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    finally:
        context.close()
    return result


def check_ms(case: Case, times: int = 20) -> float:
    """The Python check of lib.chat.draw_cost on this text, ms."""
    from lib.chat.draw_cost import measure

    text = text_for(case.case, case.n)
    started = time.perf_counter()
    for _ in range(times):
        measure(text)
    return (time.perf_counter() - started) / times * 1000


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def run(reps: int, only: set[str]) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    from lib.chat.draw_cost import plain_text_reason
    from tests.e2e.harness import StreamlitServer, clean_env, launch_chromium

    tmp = Path(tempfile.mkdtemp(prefix="gemma-draw-cost-"))
    server = StreamlitServer(env=clean_env(tmp), log_path=tmp / "server.log", script="bench/draw_cost_app.py").start()
    cases = [c for c in CASES if not only or c.name in only or c.case in only]
    data: dict[str, Any] = {"date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), "reps": reps, "cases": [],
                            "load": [os.getloadavg()[0]]}
    try:
        with sync_playwright() as playwright:
            browser = launch_chromium(playwright)
            try:
                draw(browser, server.url, Case("short", 0, "warm-up"), "markdown")
                base = [draw(browser, server.url, Case("short", 0, "one line"), "markdown") for _ in range(reps)]
                data["baseline"] = {"first": _median([r["first"] for r in base]),
                                    "redraw": _median([t for r in base for t in r["redraws"]])}
                print(f"baseline: first {data['baseline']['first']:.0f} ms, redraw {data['baseline']['redraw']:.0f} ms",
                      flush=True)
                for case in cases:
                    text = text_for(case.case, case.n)
                    row: dict[str, Any] = {"name": case.name, "what": case.what, "chars": len(text),
                                           "plain": plain_text_reason(text), "check_ms": check_ms(case)}
                    modes = ("markdown", "app") if row["plain"] else ("markdown",)
                    for mode in modes:
                        # A page that crashes or takes half a minute is measured once.
                        results = [draw(browser, server.url, case, mode)]
                        slow = "failed" in results[0] or results[0].get("first", 0) > 20_000
                        results += [] if slow else [draw(browser, server.url, case, mode) for _ in range(reps - 1)]
                        row[mode] = {
                            "first": _median([r["first"] for r in results if "first" in r]),
                            "redraw": _median([t for r in results for t in r.get("redraws", [])]),
                            "errors": sorted({e for r in results for e in r["errors"]}),
                            "failed": sorted({r["failed"] for r in results if "failed" in r}),
                            "runs": len(results),
                        }
                        print(f"{case.name} {mode}: {row[mode]}", flush=True)
                    data["cases"].append(row)
            finally:
                browser.close()
    finally:
        server.stop()
    data["load"].append(os.getloadavg()[0])
    return data


def _cell(value: float | None, base: float) -> str:
    return "—" if value is None else f"{max(value - base, 0) / 1000:.1f}"


def _outcome(mode: dict[str, Any]) -> str:
    said = " ".join(mode["errors"] + mode["failed"])
    if "call stack" in said:
        return "crashed: Maximum call stack size exceeded"
    return "did not finish" if mode["failed"] else ""


def _load(data: dict[str, Any]) -> str:
    if not data.get("load"):
        return ""
    start, end = data["load"]
    return (f" The machine's load average (1 min), other work on its 2 cores included, was {start:.1f} at the start "
            f"and {end:.1f} at the end.")


def report(data: dict[str, Any]) -> str:
    base = data["baseline"]
    out = [
        "## 7. Drawing one message", "",
        f"Measured {data['date']} by `.venv/bin/python -m bench.draw_cost` (median of {data['reps']}; a case that "
        "crashed or took over 20 s once was not repeated). Each text alone in a page (`bench/draw_cost_app.py`) in "
        "Chromium: *before* is `st.markdown`, as the chat page drew every message; *now* is `ui.messages.show_text`, "
        "which draws text past the limits of `lib/chat/draw_cost.py` as plain text. Seconds on the page's clock beyond "
        f"a one-line message (itself {base['first']:.0f} ms to open, {base['redraw']:.0f} ms to redraw); streamed: "
        "how long after the stream's end the whole text was on screen (views 40 ms apart, as a reply streams). "
        f"*check*: the Python check, run on every view.{_load(data)}", "",
        "| Text | characters | plain text now? | before: first draw / streamed, s | before: redraw, s | now: first / "
        "streamed, s | now: redraw, s | check, ms |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    for row in data["cases"]:
        before, now = row["markdown"], row.get("app")
        first_before = _cell(before["first"], base["first"])
        outcome = _outcome(before)
        plain = "yes" if row["plain"] else "no (drawn as before)"
        now_first = _cell(now["first"], base["first"]) if now else "="
        now_redraw = _cell(now["redraw"], base["redraw"]) if now else "="
        out.append(
            f"| {row['what']} | {row['chars']:,} | {plain} | {first_before}{' (' + outcome + ')' if outcome else ''} | "
            f"{_cell(before['redraw'], base['redraw'])} | {now_first} | {now_redraw} | {row['check_ms']:.1f} |"
        )
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--only", default="", help="case names (quote-5000) or kinds (table3), comma-separated")
    parser.add_argument("--report-only", action="store_true", help="rewrite draw_cost.md from draw_cost.json")
    args = parser.parse_args()
    if args.report_only:
        data = json.loads((HERE / "draw_cost.json").read_text())
    else:
        only = {n for n in args.only.split(",") if n}
        data = run(args.reps, only)
        if only and (HERE / "draw_cost.json").exists():  # the other cases as last measured, in their order
            fresh = {row["name"]: row for row in data["cases"]}
            kept = {row["name"]: row for row in json.loads((HERE / "draw_cost.json").read_text())["cases"]}
            data["cases"] = [fresh.get(c.name) or kept[c.name] for c in CASES if c.name in fresh or c.name in kept]
        (HERE / "draw_cost.json").write_text(json.dumps(data, indent=1))
    (HERE / "draw_cost.md").write_text(report(data))
    print(f"wrote {HERE / 'draw_cost.md'}")


if __name__ == "__main__":
    main()
