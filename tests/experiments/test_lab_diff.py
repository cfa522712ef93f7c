"""lib.experiments.lab_diff: two runs of one test set, cell by cell."""

from __future__ import annotations

import dataclasses

import pytest

from lib.errors import RunsNotComparableError
from lib.experiments.checks import Check
from lib.experiments.lab_diff import diff
from lib.experiments.lab_run import LabCell
from tests.lab_samples import make_run


def test_the_same_run_twice_has_no_changes() -> None:
    changes = diff(make_run(1), make_run(2))
    assert len(changes.cells) == 4 and changes.changed == ()
    assert changes.rows_changed == () and changes.setups_changed == ()


def test_text_pass_fail_and_cost_changes_are_found() -> None:
    after = make_run(2, replies={(1, 0): "a cat, in prose", (0, 0): '{"animal": "cat"} '})
    after.cells[0].stats.cost = dataclasses.replace(after.cells[0].stats.cost, usd=0.5)
    changes = diff(make_run(1), after)
    by_cell = {(c.row, c.setup): c for c in changes.changed}
    assert set(by_cell) == {(0, 0), (1, 0)}
    assert by_cell[0, 0].text_changed and not by_cell[0, 0].checks_changed
    assert by_cell[0, 0].cost_delta == pytest.approx(0.499)
    moved = {k.label: (k.before, k.after) for k in by_cell[1, 0].checks_changed}
    assert moved == {"Valid JSON": (True, False), "Contains “cat” (any case)": (False, True)}
    assert (changes.newly_passing, changes.newly_failing) == (1, 1)


def test_a_check_added_a_row_edited_a_setup_changed_a_cell_missing() -> None:
    before, after = make_run(1), make_run(2)
    after.checks.append(Check("max_chars", "5"))
    for cell in after.cells:
        cell.checks.append(after.checks[-1].run(cell.text))
    after.rows[1] = {"animal": "wolf", "tone": "casual"}
    after.setups[1] = dataclasses.replace(after.setups[1], params={"temperature": 1.0})
    after.cells[-1] = LabCell(1, 1, "skipped")
    changes = diff(before, after)
    assert changes.rows_changed == (1,) and changes.setups_changed == (1,)
    added = next(k for k in changes.cells[0].checks if k.label == "At most 5 characters")
    assert (added.before, added.after) == (None, False)
    last = changes.cells[-1]
    assert last.status_changed and last.cost_after is None and last.cost_changed and last.cost_delta is None


def test_runs_of_different_test_sets_are_not_compared() -> None:
    other = make_run(2)
    other.test_set = "plants"
    with pytest.raises(RunsNotComparableError, match="animals and plants"):
        diff(make_run(1), other)


def test_cells_not_run_are_no_change_and_cells_run_in_one_run_only_are_counted_apart() -> None:
    before, after = make_run(1), make_run(2)
    for cell in before.cells[2:]:  # the first run was cancelled after row 1
        cell.status, cell.text, cell.stats, cell.checks = "skipped", "", None, []
    before.cells[2].status = "cancelled"  # stopped half-way: no reply to compare
    after.cells[3].status, after.cells[3].text, after.cells[3].stats, after.cells[3].checks = "skipped", "", None, []
    changes = diff(before, after)
    assert changes.changed == ()
    assert len(changes.compared) == 2
    assert [(c.row, c.setup) for c in changes.not_run_before] == [(1, 0)]
    assert changes.not_run_after == ()
    from lib.experiments import lab_view
    assert lab_view.diff_summary(changes) == (
        "0 cells changed of 2 run in both · 0 newly passing · 0 newly failing · 1 cell not run in Before")
