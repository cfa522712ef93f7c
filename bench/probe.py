"""Timing probes in the page: when Enter was pressed, and when given text first showed up
in the last chat message (a MutationObserver: the DOM change, and the next animation frame,
which is when it is painted). Times are the page's ``performance.now()`` in ms.
"""

from __future__ import annotations

import time
from typing import Any

INIT_SCRIPT = """
(() => {
  const B = window.__bench = {enter: null, sent: null, marks: {}, want: [], long: []};
  try {
    // Main-thread tasks over 50 ms: the page busy rendering rather than showing.
    new PerformanceObserver(list => list.getEntries().forEach(e => B.long.push([e.startTime, e.duration])))
      .observe({type: 'longtask', buffered: true});
  } catch (e) { /* not supported: no long-task figures */ }
  // The first message the page sends after Enter: the rerun request leaving the browser.
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (B.enter !== null && B.sent === null) B.sent = performance.now();
    return send.call(this, data);
  };
  document.addEventListener('keydown', e => {
    if (e.key === 'Enter' && !e.shiftKey && e.target && e.target.getAttribute
        && e.target.getAttribute('data-testid') === 'stChatInputTextArea') {
      B.enter = performance.now();
      B.sent = null;
    }
  }, true);
  const check = () => {
    if (!B.want.length) return;
    const all = document.querySelectorAll('[data-testid=stChatMessage]');
    const last = all[all.length - 1];
    if (!last || !last.querySelector('[data-testid=stChatMessageAvatarAssistant]')) return;
    const text = last.textContent;
    const now = performance.now();
    for (const [name, parts, absent] of B.want) {
      if (name in B.marks) continue;
      if (parts.every(p => text.includes(p)) && !(absent && text.includes(absent))) {
        B.marks[name] = now;
        requestAnimationFrame(() => { B.marks[name + '@frame'] = performance.now(); });
      }
    }
  };
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true});
})();
"""


def arm(page: Any, want: list[tuple[str, list[str], str | None]]) -> None:
    """Forget earlier marks; watch for each (name, texts that must all be in the last reply, text that must not)."""
    page.evaluate("(want) => { const B = window.__bench; B.enter = null; B.marks = {}; B.want = want; }",
                  [[name, parts, absent] for name, parts, absent in want])


def collect(page: Any, names: list[str], timeout: float = 60) -> dict[str, float]:
    """Wait until every mark (and its painted frame) is in; ms since Enter for each."""
    deadline = time.monotonic() + timeout
    wanted = [*names, *(n + "@frame" for n in names)]
    while True:
        state = page.evaluate("() => ({enter: window.__bench.enter, sent: window.__bench.sent, marks: window.__bench.marks})")
        if state["enter"] is not None and all(n in state["marks"] for n in wanted):
            sent = {"sent": state["sent"] - state["enter"]} if state.get("sent") is not None else {}
            return {n: state["marks"][n] - state["enter"] for n in wanted} | {"enter": state["enter"]} | sent
        if time.monotonic() > deadline:
            raise TimeoutError(f"marks {wanted} not all seen in {timeout} s: {state}")
        time.sleep(0.02)


def clock_offset_ms(page: Any, samples: int = 7) -> float:
    """browser epoch ms (timeOrigin + now) minus Python's time.time() * 1000, from the tightest sample."""
    best: tuple[float, float] | None = None
    for _ in range(samples):
        before = time.time()
        browser = page.evaluate("() => performance.timeOrigin + performance.now()")
        after = time.time()
        rtt = after - before
        offset = browser - (before + after) / 2 * 1000
        if best is None or rtt < best[0]:
            best = (rtt, offset)
    assert best is not None
    return best[1]


def epoch_ms(page: Any, performance_ms: float) -> float:
    return page.evaluate("(t) => performance.timeOrigin + t", performance_ms)


def long_tasks(page: Any, start: float, end: float) -> float:
    """ms of main-thread long tasks (over 50 ms each) that ran between two performance.now() times."""
    tasks = page.evaluate("() => window.__bench.long")
    return sum(max(0.0, min(t + d, end) - max(t, start)) for t, d in tasks)
