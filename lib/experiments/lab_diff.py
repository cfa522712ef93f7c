"""Two runs of one test set, cell by cell: which replies changed, which checks flipped, what cost moved.

Cells are matched by row and set-up position: a run again after editing the template or a
set-up compares each row's reply with the one before. Checks are matched by label, so a check
added or removed shows as a check with no result on one side. Rows whose values changed in the
test set meanwhile are listed, since their replies answer different prompts.

A cell without a finished reply (never sent after a cancel or the cost cap, or stopped half-way)
was not run, as the run's banner and label count: cells run in neither run are left out, and a
cell run in one only is counted apart ("not run in Before"), not as a change.
"""

from __future__ import annotations

from dataclasses import dataclass

from lib.errors import RunsNotComparableError
from lib.experiments.lab_run import LabCell, LabResult

#: costs closer than this (USD) count as the same
COST_TOLERANCE = 1e-9
#: the statuses of a cell that was run: its reply came to an end (done, or a request error)
RAN = ("done", "failed")


def _ran(cell: LabCell | None) -> bool:
    return cell is not None and cell.status in RAN


@dataclass(frozen=True)
class CheckChange:
    label: str
    #: None when the check did not run on that side (added, removed, the reply failed)
    before: bool | None
    after: bool | None


@dataclass(frozen=True)
class CellDiff:
    row: int
    setup: int
    before: LabCell | None
    after: LabCell | None
    text_changed: bool
    status_changed: bool
    checks: tuple[CheckChange, ...]
    cost_before: float | None
    cost_after: float | None

    @property
    def checks_changed(self) -> tuple[CheckChange, ...]:
        return tuple(c for c in self.checks if c.before != c.after)

    @property
    def cost_delta(self) -> float | None:
        if self.cost_before is None or self.cost_after is None:
            return None
        return self.cost_after - self.cost_before

    @property
    def cost_changed(self) -> bool:
        delta = self.cost_delta
        return (self.cost_before is None) != (self.cost_after is None) or (delta is not None and abs(delta) > COST_TOLERANCE)

    @property
    def ran_before(self) -> bool:
        return _ran(self.before)

    @property
    def ran_after(self) -> bool:
        return _ran(self.after)

    @property
    def changed(self) -> bool:
        if not (self.ran_before and self.ran_after):
            return False  # not run in one run or both: see RunDiff.not_run_before / not_run_after
        return self.text_changed or self.status_changed or bool(self.checks_changed) or self.cost_changed


@dataclass(frozen=True)
class RunDiff:
    cells: tuple[CellDiff, ...]
    #: rows (0-based) whose variable values differ between the two runs
    rows_changed: tuple[int, ...]
    #: set-up positions whose set-up differs
    setups_changed: tuple[int, ...]

    @property
    def compared(self) -> tuple[CellDiff, ...]:
        """The cells run in both runs: the only ones that can have changed."""
        return tuple(c for c in self.cells if c.ran_before and c.ran_after)

    @property
    def changed(self) -> tuple[CellDiff, ...]:
        return tuple(c for c in self.cells if c.changed)

    @property
    def not_run_before(self) -> tuple[CellDiff, ...]:
        return tuple(c for c in self.cells if c.ran_after and not c.ran_before)

    @property
    def not_run_after(self) -> tuple[CellDiff, ...]:
        return tuple(c for c in self.cells if c.ran_before and not c.ran_after)

    @property
    def newly_passing(self) -> int:
        return sum(1 for c in self.cells for k in c.checks_changed if k.after is True and k.before is False)

    @property
    def newly_failing(self) -> int:
        return sum(1 for c in self.cells for k in c.checks_changed if k.after is False and k.before is True)


def _outcomes(run: LabResult, cell: LabCell | None) -> dict[str, bool]:
    if cell is None:
        return {}
    return {check.label: result.passed for check, result in zip(run.checks, cell.checks, strict=False)}


def _cell_diff(a: LabResult, b: LabResult, row: int, setup: int) -> CellDiff:
    before, after = a.cell(row, setup), b.cell(row, setup)
    old, new = _outcomes(a, before), _outcomes(b, after)
    labels = dict.fromkeys([c.label for c in a.checks] + [c.label for c in b.checks])
    return CellDiff(
        row=row, setup=setup, before=before, after=after,
        text_changed=(before.text if before else None) != (after.text if after else None),
        status_changed=(before.status if before else None) != (after.status if after else None),
        checks=tuple(CheckChange(label, old.get(label), new.get(label)) for label in labels),
        cost_before=before.cost_usd if before else None,
        cost_after=after.cost_usd if after else None,
    )


def diff(run_a: LabResult, run_b: LabResult) -> RunDiff:
    """``run_b`` against ``run_a``; RunsNotComparableError when they are not runs of one test set."""
    if run_a.test_set != run_b.test_set or not run_a.test_set:
        raise RunsNotComparableError(
            f"Runs of different test sets cannot be compared cell by cell ({run_a.test_set or 'unsaved'!s} "
            f"and {run_b.test_set or 'unsaved'!s})."
        )
    rows = max(len(run_a.rows), len(run_b.rows))
    setups = max(len(run_a.setups), len(run_b.setups))
    cells = tuple(_cell_diff(run_a, run_b, r, s) for r in range(rows) for s in range(setups))
    rows_changed = tuple(
        r for r in range(rows)
        if r >= len(run_a.rows) or r >= len(run_b.rows) or run_a.rows[r] != run_b.rows[r]
    )
    setups_changed = tuple(
        s for s in range(setups)
        if s >= len(run_a.setups) or s >= len(run_b.setups) or run_a.setups[s] != run_b.setups[s]
    )
    return RunDiff(cells, rows_changed, setups_changed)
