"""Store: the prompt lab's test sets and runs (migration 8), on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from lib.errors import LabRunNotFoundError, TestSetNotFoundError
from lib.experiments.lab_diff import diff
from lib.experiments.test_sets import TestSet, read_csv
from lib.store.database import MIGRATIONS, Store
from tests.comparison_samples import make_comparison
from tests.lab_samples import make_run
from tests.samples import make_conversation
from tests.store.test_database import write_as_version

pytest_plugins = ("tests.store_fixtures",)


def test_test_sets_are_saved_by_name_listed_and_replaced(store: Store) -> None:
    pets = read_csv('animal;tone\n"a ""grey""\ncat";formal\n', "pets")
    store.save_test_set(pets)
    store.save_test_set(TestSet("ünïcode", ["x"], [{"x": "1"}]))
    assert store.load_test_set("pets") == pets
    assert set(store.list_test_sets()) == {"pets", "ünïcode"}
    pets.rows.append({"animal": "dog", "tone": "casual"})
    store.save_test_set(pets)
    assert store.load_test_set("pets").rows[-1] == {"animal": "dog", "tone": "casual"}
    assert store.list_test_sets()[0] == "pets"
    assert store.delete_test_set("pets") and not store.delete_test_set("pets")
    with pytest.raises(TestSetNotFoundError):
        store.load_test_set("pets")


def test_runs_are_saved_listed_reopened_and_diffed(store: Store) -> None:
    first = make_run(1)
    second = make_run(2, replies={(0, 1): "not json about a cat\x00"}, cost=0.002)
    other = make_run(3)
    other.test_set = "other"
    for run in (first, second, other):
        store.save_run(run)
    reopened = store.load_run(first.id)
    assert reopened.to_dict() == first.to_dict()
    assert [t.pass_rate for t in reopened.totals()] == [0.75, 0.75]  # the dog row has no cat
    assert [r.id for r in store.list_runs()] == [other.id, second.id, first.id]
    assert [r.id for r in store.list_runs("animals")] == [second.id, first.id]
    changes = diff(store.load_run(first.id), store.load_run(second.id))
    flipped = [c for c in changes.changed if c.text_changed]
    assert [(c.row, c.setup) for c in flipped] == [(0, 1)]
    assert [(k.label, k.before, k.after) for k in flipped[0].checks_changed] == [("Valid JSON", True, False)]
    assert all(c.cost_changed for c in changes.cells)
    # saving again replaces (a run is saved as it goes, then when it ends)
    first.status, first.note = "cancelled", "Cancelled."
    store.save_run(first)
    assert store.load_run(first.id).status == "cancelled" and len(store.list_runs()) == 3
    assert store.delete_run(first.id) and not store.delete_run(first.id)
    with pytest.raises(LabRunNotFoundError):
        store.load_run(first.id)


def test_migration_8_adds_the_lab_to_a_version_7_database(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = make_conversation(21)
    write_as_version(store_url, 7, monkeypatch, kept)
    new = Store(store_url)
    assert new.schema_version() == MIGRATIONS[-1].number >= 8
    assert new.load(kept.id).to_dict() == kept.to_dict()
    comparison = make_comparison(22)
    new.save_comparison(comparison)
    assert new.load_comparison(comparison.id) == comparison
    new.save_run(make_run(4))
    assert new.load_run("run-0004").to_dict() == make_run(4).to_dict()
    new.close()
