"""Prompt-lab runs for tests, built the same way every time (no requests sent)."""

from __future__ import annotations

from lib.chat.usage import Cost, ReplyStats, Usage
from lib.experiments.checks import Check
from lib.experiments.compare import Setup
from lib.experiments.lab_run import LabCell, LabResult, Template
from tests.samples import T0

SETUPS = [Setup("google/gemma-3-27b-it", params={"temperature": 0.2}), Setup("google/gemma-3-4b-it")]
ROWS = [{"animal": "cat", "tone": "formal"}, {"animal": "dog", "tone": "casual"}]
CHECKS = [Check("json"), Check("contains", "cat", case_sensitive=False)]


def make_run(seed: int = 0, *, replies: dict[tuple[int, int], str] | None = None, cost: float = 0.001) -> LabResult:
    """A finished run of 2 rows × 2 set-ups over the test set "animals"; ``replies`` overrides cells' texts."""
    cells = []
    for row in range(len(ROWS)):
        for setup in range(len(SETUPS)):
            text = (replies or {}).get((row, setup), f'{{"animal": "{ROWS[row]["animal"]}"}}')
            stats = ReplyStats(usage=Usage(12, 8, 20), cost=Cost(cost * (setup + 1), "reported"),
                               time_to_first_token=0.1 * (setup + 1), total_time=0.5, model=SETUPS[setup].model)
            cells.append(LabCell(row, setup, "done", text, stats, None, [c.run(text) for c in CHECKS]))
    return LabResult(
        Template("Describe {{animal}}, {{tone|formal,casual}}.", "Answer in JSON."), list(SETUPS), list(CHECKS),
        [dict(r) for r in ROWS], cells, test_set="animals", id=f"run-{seed:04d}", created=T0 + seed,
    )
