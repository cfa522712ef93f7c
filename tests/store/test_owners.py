"""Each person's own data (#14): a store bound to one owner reaches nothing of another's.

On SQLite and (with CHAT_TEST_PG_URL) PostgreSQL. Alice fills the store through every kind of
row; Bob, a view of the same database, then finds none of it through any method, cannot change
or delete it, and his own rows of the same names stay apart from hers.
"""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import text

from lib.errors import (
    ComparisonNotFoundError,
    ConversationExistsError,
    ConversationNotFoundError,
    LabRunNotFoundError,
    StoreError,
    TestSetNotFoundError,
)
from lib.experiments.test_sets import TestSet
from lib.people.owner import LOCAL_OWNER, owner_of
from lib.store.database import MIGRATIONS, Store
from lib.store.exporting import to_json
from lib.store.importing import import_into
from tests.comparison_samples import make_comparison
from tests.image_samples import photo, small
from tests.lab_samples import make_run
from tests.samples import make_conversation
from tests.store.test_database import chat_with_images, write_as_version
from tests.store_versions import store_at_version

pytest_plugins = ("tests.store_fixtures",)

ALICE = owner_of("http://127.0.0.1:9000", "alice")
BOB = owner_of("http://127.0.0.1:9000", "bob")


@pytest.fixture
def alice(store: Store) -> Store:
    return store.for_owner(ALICE)


@pytest.fixture
def bob(store: Store) -> Store:
    return store.for_owner(BOB)


def fill(alice: Store) -> dict[str, str]:
    """One of everything, saved by alice; the ids and names to look for."""
    chat = chat_with_images("alice-chat", (photo(),))
    alice.save(chat)
    comparison = make_comparison(1, question="Where do quetzals live?")
    alice.save_comparison(comparison)
    alice.set_preference("presets", {"Pirate": "Arr"})
    alice.save_test_set(TestSet("pets", ["animal"], [{"animal": "cat"}]))
    run = make_run(1)
    alice.save_run(run)
    return {"chat": chat.id, "comparison": comparison.id, "thread": comparison.threads[0].id, "run": run.id,
            "digest": photo().digest}


def test_a_store_is_the_local_persons_unless_told_and_a_view_shares_the_database(store: Store) -> None:
    assert store.owner == LOCAL_OWNER
    view = store.for_owner(ALICE)
    assert (view.owner, view.location, view.url) == (ALICE, store.location, store.url)
    assert view._engine is store._engine and store.owner == LOCAL_OWNER
    with pytest.raises(ValueError):
        store.for_owner("")


def test_another_person_finds_nothing_of_hers_through_any_method(alice: Store, bob: Store) -> None:
    ids = fill(alice)
    assert bob.list() == [] and bob.list(ids=[ids["chat"], ids["thread"]]) == []
    assert not bob.exists(ids["chat"]) and not bob.exists(ids["thread"])
    for unknown in (ids["chat"], ids["thread"], "no-such-id"):
        with pytest.raises(ConversationNotFoundError) as caught:
            bob.load(unknown)
        # The same words as for an id never used: nothing tells that it exists.
        assert str(caught.value) == f"No saved conversation has the id {unknown}."
        with pytest.raises(ConversationNotFoundError):
            bob.totals(unknown)
    assert bob.search("question") == [] and bob.search("quetzals") == [] and bob.search("alice") == []
    assert bob.list_comparisons() == [] and bob.list_comparisons(ids=[ids["comparison"]]) == []
    assert not bob.comparison_exists(ids["comparison"])
    with pytest.raises(ComparisonNotFoundError):
        bob.load_comparison(ids["comparison"])
    assert bob.votes() == []
    assert bob.get_preference("presets") is None
    assert bob.list_test_sets() == [] and bob.list_runs() == [] and bob.list_runs(test_set="pets") == []
    with pytest.raises(TestSetNotFoundError):
        bob.load_test_set("pets")
    with pytest.raises(LabRunNotFoundError):
        bob.load_run(ids["run"])
    # Images are stored once for everyone, but reached only through one's own messages.
    assert bob.image(ids["digest"]) is None and bob.thumbnail(ids["digest"]) is None
    assert alice.image(ids["digest"]) is not None and alice.thumbnail(ids["digest"]) is not None
    # All of it is still hers.
    assert [s.id for s in alice.list()] == [ids["chat"]] and alice.search("quetzals")
    assert [s.id for s in alice.list_comparisons()] == [ids["comparison"]] and alice.votes()
    assert alice.get_preference("presets") == {"Pirate": "Arr"} and alice.list_test_sets() == ["pets"]
    assert [r.id for r in alice.list_runs()] == [ids["run"]]


def test_another_person_cannot_change_or_delete_hers(alice: Store, bob: Store) -> None:
    ids = fill(alice)
    with pytest.raises(ConversationNotFoundError):
        bob.rename(ids["chat"], "Mine now")
    assert bob.delete(ids["chat"]) is False
    assert bob.delete_comparison(ids["comparison"]) is False
    assert bob.delete_test_set("pets") is False and bob.delete_run(ids["run"]) is False
    bob.clear_votes()
    bob.save_draft(ids["chat"], make_conversation(9).path()[-1])
    # A copy of her conversation (say, from her export) saved by him under her id is refused, as a taken id.
    stolen = copy.deepcopy(alice.load(ids["chat"]))
    stolen.revision = None
    stolen.title = "Overwritten"
    with pytest.raises(ConversationExistsError):
        bob.save(stolen)
    # … and a copy that claims to have been loaded before is not found, not merged into hers.
    stolen.revision = alice.load(ids["chat"]).revision
    with pytest.raises(ConversationNotFoundError):
        bob.save(stolen)
    taken = make_run(1)
    taken.note = "his"
    with pytest.raises(StoreError):
        bob.save_run(taken)
    hers = alice.load(ids["chat"])
    assert hers.title != "Overwritten" and len(hers.messages) == 2
    assert alice.exists(ids["chat"]) and alice.comparison_exists(ids["comparison"])
    assert alice.load_test_set("pets").rows == [{"animal": "cat"}] and alice.load_run(ids["run"]).note != "his"
    assert [v.id for v in alice.votes()] == [v.id for v in alice.load_comparison(ids["comparison"]).votes]


def test_names_and_imports_stay_apart(alice: Store, bob: Store) -> None:
    ids = fill(alice)
    bob.set_preference("presets", {"Poet": "Rhyme"})
    bob.save_test_set(TestSet("pets", ["animal"], [{"animal": "dog"}]))
    assert alice.get_preference("presets") == {"Pirate": "Arr"} and bob.get_preference("presets") == {"Poet": "Rhyme"}
    assert alice.load_test_set("pets").rows == [{"animal": "cat"}] and bob.load_test_set("pets").rows == [{"animal": "dog"}]
    # Importing her export makes a conversation of his own, with a fresh id; hers is untouched.
    imported = import_into(bob, to_json(alice.load(ids["chat"])), max_bytes=20_000_000, default_model="m")
    assert imported.conversation.id != ids["chat"]
    assert [s.id for s in bob.list()] == [imported.conversation.id] and [s.id for s in alice.list()] == [ids["chat"]]
    assert bob.image(ids["digest"]) is not None  # his own message shows it now
    # Deleting his copy leaves her image: it is still shown by her message.
    assert bob.delete(imported.conversation.id)
    assert bob.image(ids["digest"]) is None and alice.image(ids["digest"]).data == photo().data


def test_a_persons_image_is_not_reached_by_digest_alone(alice: Store, bob: Store) -> None:
    mine = chat_with_images("bob-chat", (small(),))
    bob.save(mine)
    alice.save(chat_with_images("alice-chat", (photo(),)))
    assert bob.image(small().digest) is not None and bob.image(photo().digest) is None
    assert alice.image(small().digest) is None and alice.thumbnail(small().digest) is None


def test_rows_from_before_sign_in_become_the_local_persons(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = make_conversation(21)
    write_as_version(store_url, 8, monkeypatch, kept)
    at_8 = store_at_version(store_url, 8)
    with at_8._transaction(write=True) as conn:
        conn.execute(text("INSERT INTO preferences (name, value, updated, version) VALUES ('presets', '{\"P\": \"x\"}', 1, 1)"))
        conn.execute(text("INSERT INTO test_sets (name, columns, rows, created, updated) VALUES ('pets', '[\"a\"]', '[]', 1, 1)"))
    at_8.close()
    old = Store(store_url)
    assert old.schema_version() == MIGRATIONS[-1].number
    assert [s.id for s in old.list()] == [kept.id] and old.load(kept.id).messages == kept.messages
    assert old.get_preference("presets") == {"P": "x"} and old.list_test_sets() == ["pets"]
    assert old.for_owner(ALICE).list() == [] and old.for_owner(ALICE).get_preference("presets") is None
    old.for_owner(ALICE).set_preference("presets", {})  # keyed by (owner, name) now
    old.close()
