"""Four columns on the Compare page: ``.venv/bin/python -m bench.compare``.

Four set-ups (Gemma 3 27B, 12B, 4B and 3n) answer one message at 50 tokens/s each. For every
column: the time from the fake's last byte to the whole reply painted on screen (the issue's
target: within 150 ms), and from Enter to the column's first text; beside them the same figures
for a single chat turn on the chat page at the same speed (the overhead per column). Also how
far apart the four requests reached the server. Writes ``bench/compare.json`` and
``bench/compare.md``. Options: ``--reps N`` (5), ``--tokens N`` (100).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.fake_timing import LAST_BYTE
from bench.run import KEY, marked_reply, start_server
from lib.api.fake_api import Behaviour, FakeAPI
from lib.experiments.compare import Setup, setups_to_address
from tests.e2e import harness

HERE = Path(__file__).resolve().parent
MODELS = ("google/gemma-3-27b-it", "google/gemma-3-12b-it", "google/gemma-3-4b-it", "google/gemma-3n-e4b-it")
RATE = 50.0
#: extra settings for the server (CHAT_HISTORY=off to measure without the store)
EXTRA_ENV: dict[str, str] = {}

#: in the page: when each wanted text first shows anywhere in the main area (Date.now(), painted frame)
WATCH = """
(wanted) => {
  const seen = window.__seen = {};
  const check = () => {
    const text = document.body.textContent;
    for (const w of wanted) {
      if (!(w in seen) && text.includes(w)) { seen[w] = -1; requestAnimationFrame(() => { seen[w] = Date.now(); }); }
    }
  };
  window.__watch && window.__watch.disconnect();
  window.__watch = new MutationObserver(check);
  window.__watch.observe(document, {subtree: true, childList: true, characterData: true});
}
"""


def _wait_seen(page: Any, wanted: list[str], timeout: float = 60) -> dict[str, float]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen = page.evaluate("() => window.__seen")
        if all(seen.get(w, -1) > 0 for w in wanted):
            return seen
        time.sleep(0.05)
    raise TimeoutError(f"not all of {wanted} seen")


def one_turn(page: Any, fake: FakeAPI, models: tuple[str, ...], tokens: int, rep: int, tag: str) -> dict[str, list[float]]:
    markers = [f"{tag}{rep}c{i}m" for i in range(len(models))]
    for model, marker in zip(models, markers, strict=True):
        fake.plan_for(model, Behaviour(reply=marked_reply(marker, tokens), token_rate=RATE))
    wanted = [f"{m}a" for m in markers] + [f"{m}z" for m in markers]
    page.evaluate(WATCH, wanted)
    before = len(fake.requests)
    box = page.locator(harness.CHAT_INPUT)
    box.fill(f"question {tag}{rep}")
    enter = time.time() * 1000
    box.press("Enter")
    seen = _wait_seen(page, wanted)
    arrived = [r.received for r in fake.requests[before:]]
    page.wait_for_timeout(1500)  # the run that draws the figures and the votes
    return {
        "enter_to_first": [seen[f"{m}a"] - enter for m in markers],
        "last_byte_to_whole": [seen[f"{m}z"] - LAST_BYTE[f"{m}a"] * 1000 for m in markers],
        "request_spread": [(max(arrived) - min(arrived)) * 1000] if len(arrived) > 1 else [],
    }


def measure(reps: int, tokens: int) -> dict[str, Any]:
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {"compare": {}, "chat": {}}
    with tempfile.TemporaryDirectory() as tmp, FakeAPI(api_key=KEY) as fake, sync_playwright() as playwright:
        browser = harness.launch_chromium(playwright)
        server = start_server("app", "app.py", fake, Path(tmp), **EXTRA_ENV)
        try:
            address = setups_to_address([Setup(m) for m in MODELS])
            for rep in range(reps):
                page = browser.new_page(viewport={"width": 1600, "height": 1000})
                harness.open_chat(page, server.server, path=f"/Compare?setups={address}")
                page.wait_for_timeout(500)
                turn = one_turn(page, fake, MODELS, tokens, rep, "K")
                for name, values in turn.items():
                    results["compare"].setdefault(name, []).extend(values)
                page.close()
                chat = browser.new_page(viewport={"width": 1280, "height": 900})
                harness.open_chat(chat, server.server)
                chat.wait_for_timeout(500)
                single = one_turn(chat, fake, (MODELS[0],), tokens, rep, "S")
                for name, values in single.items():
                    results["chat"].setdefault(name, []).extend(values)
                chat.close()
                print(f"  rep {rep}: compare whole {max(turn['last_byte_to_whole']):.0f} ms (worst column), "
                      f"chat {single['last_byte_to_whole'][0]:.0f} ms", flush=True)
        finally:
            server.server.stop()
            browser.close()
    return results


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else "—"


def _worst(values: list[float]) -> str:
    return f"{max(values):.0f}" if values else "—"


def report(results: dict[str, Any], reps: int, tokens: int) -> str:
    compare, chat = results["compare"], results["chat"]
    ok = bool(compare["last_byte_to_whole"]) and max(compare["last_byte_to_whole"]) <= 150
    return "\n".join([
        "## Compare: four columns at once",
        "",
        f"Four set-ups ({', '.join(MODELS)}) answer one message, {tokens} tokens at {RATE:.0f} tokens/s each, "
        f"{reps} turns (`python -m bench.compare`, {datetime.now(UTC):%Y-%m-%d}); beside them one chat turn on "
        "the chat page at the same speed. Times in ms, in Chromium against a real server; the fake's last byte "
        "is when the stream's end was handed to the socket, the text's time the next painted frame.",
        "",
        "| | Compare, per column: median | worst | Chat page, one reply: median | worst |",
        "|---|---|---|---|---|",
        f"| last byte → whole reply on screen | {_median(compare['last_byte_to_whole'])} | "
        f"{_worst(compare['last_byte_to_whole'])} | {_median(chat['last_byte_to_whole'])} | "
        f"{_worst(chat['last_byte_to_whole'])} |",
        f"| Enter → first text | {_median(compare['enter_to_first'])} | {_worst(compare['enter_to_first'])} | "
        f"{_median(chat['enter_to_first'])} | {_worst(chat['enter_to_first'])} |",
        f"| the four requests reached the server within | {_median(compare['request_spread'])} | "
        f"{_worst(compare['request_spread'])} | | |",
        "",
        f"Target: every column's whole reply on screen within 150 ms of its last byte: "
        f"**{'met' if ok else 'not met'}** (worst {_worst(compare['last_byte_to_whole'])} ms).",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--tokens", type=int, default=100)
    args = parser.parse_args()
    results = measure(args.reps, args.tokens)
    (HERE / "compare.json").write_text(json.dumps(results, indent=1))
    text = report(results, args.reps, args.tokens)
    (HERE / "compare.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
