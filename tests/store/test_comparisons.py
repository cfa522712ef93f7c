"""Comparisons (#12) in the store, on SQLite and (with CHAT_TEST_PG_URL) on PostgreSQL."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select, update

import lib.store.database as store_module
from lib.chat.conversation import Conversation
from lib.errors import (
    ComparisonChangedError,
    ComparisonExistsError,
    ComparisonNotFoundError,
    ConversationNotFoundError,
    StoreError,
)
from lib.experiments.compare import Comparison, Setup, Vote
from lib.store.database import MIGRATIONS, Store
from tests.comparison_samples import BIG, MIDDLE, SMALL, make_comparison
from tests.image_samples import photo
from tests.samples import T0, make_conversation
from tests.store.test_database import image_rows, write_as_version

pytest_plugins = ("tests.store_fixtures",)


def test_a_comparison_comes_back_whole(store: Store) -> None:
    original = make_comparison(1, setups=(BIG, SMALL, MIDDLE), images=(photo(),))
    original.title, original.blind, original.order = "Bananas", True, [2, 0, 1]
    store.save_comparison(original)
    loaded = store.load_comparison(original.id)
    assert loaded == original
    assert [t.to_dict() for t in loaded.threads] == [t.to_dict() for t in original.threads]
    assert loaded.threads[0].path()[0].images == (photo(),)
    assert loaded.votes == original.votes and loaded.votes[0].setups == (BIG, SMALL, MIDDLE)
    assert (loaded.turns, loaded.order, loaded.blind) == (2, [2, 0, 1], True)
    # Loaded, it saves again as the same copy: no conflict with itself.
    loaded.vote("tie")
    store.save_comparison(loaded)
    assert [v.outcome for v in store.load_comparison(original.id).votes] == ["win", "tie"]


def test_unknown_comparison(store: Store) -> None:
    with pytest.raises(ComparisonNotFoundError):
        store.load_comparison("nope")
    assert not store.comparison_exists("nope")
    assert store.delete_comparison("nope") is False


def test_columns_are_not_chats_but_their_text_is_found_once_naming_the_comparison(store: Store) -> None:
    chat = make_conversation(1)
    store.save(chat)
    comparison = make_comparison(2, setups=(BIG, SMALL, MIDDLE), question="Where do quetzals live?")
    store.save_comparison(comparison)
    assert [s.id for s in store.list()] == [chat.id]
    assert store.list(ids=[t.id for t in comparison.threads]) == []
    # The chat page's delete cannot take a column away from its comparison.
    assert store.delete(comparison.threads[0].id) is False
    assert store.exists(comparison.threads[0].id)

    hits = store.search("QUETZALS")
    # The title and the question, once each, though three columns hold them.
    assert [(h.comparison_id, h.role) for h in hits] == [(comparison.id, None), (comparison.id, "user")]
    assert {h.title for h in hits} == {"Where do quetzals live?"}
    answers = store.search("answers turn 1")
    assert len(answers) == 3, "each column's reply is its own text"
    assert {h.comparison_id for h in answers} == {comparison.id}
    comparison.title = "Birds"
    store.save_comparison(comparison)
    assert {h.title for h in store.search("quetzals")} == {"Birds"}
    assert {h.comparison_id for h in store.search("bananas")} == {None}


def test_list_comparisons_with_columns_turns_votes_and_cost(store: Store) -> None:
    older = make_comparison(1)
    newer = make_comparison(5, setups=(BIG, SMALL, MIDDLE), turns=3)
    newer.title = "Three models"
    empty = Comparison.start([BIG, SMALL])
    empty.id = "empty"
    for item in (empty, *empty.threads):
        item.updated = T0 - 100
    for comparison in (older, newer, empty):
        store.save_comparison(comparison)
    summaries = store.list_comparisons()
    assert [s.id for s in summaries] == [newer.id, older.id, "empty"]
    three, two, nothing = summaries
    assert three.title == "Three models" and two.title == "What is a banana?" and nothing.title == ""
    assert three.labels == tuple(s.label() for s in (BIG, SMALL, MIDDLE))
    assert three.models == ("google/gemma-3-27b-it", "google/gemma-3-4b-it", "google/gemma-3-12b-it")
    assert (three.turns, three.votes, three.totals.requests) == (3, 1, 9)
    assert three.totals.cost_usd == pytest.approx(3 * (0.001 + 0.002 + 0.003))
    assert two.cost_text() == "$0.006"
    assert (nothing.turns, nothing.votes, nothing.totals.requests) == (0, 0, 0)
    assert [s.id for s in store.list_comparisons(limit=1)] == [newer.id]
    assert [s.id for s in store.list_comparisons(ids=["empty", "gone"])] == ["empty"]


def test_delete_comparison_takes_its_columns_and_their_images_but_not_its_votes(store: Store) -> None:
    shared, own = photo(seed=1), photo(seed=2)
    chat = Conversation(system_prompt="", model="google/gemma-3-27b-it", id="chat")
    chat.add_user("also here", images=(shared,))
    store.save(chat)
    comparison = make_comparison(3, images=(shared, own))
    store.save_comparison(comparison)
    assert set(image_rows(store)) == {shared.digest, own.digest}
    assert store.delete_comparison(comparison.id) is True
    assert store.delete_comparison(comparison.id) is False
    assert not store.comparison_exists(comparison.id)
    assert not any(store.exists(t.id) for t in comparison.threads)
    assert set(image_rows(store)) == {shared.digest}
    assert store.load("chat") == chat
    assert store.search("banana") == []
    assert [v.id for v in store.votes()] == ["k0003-v1"]


def test_a_save_that_fails_in_one_column_saves_nothing(store: Store) -> None:
    comparison = make_comparison(4)
    comparison.threads[1].messages["k0004-c1-a1"].content = None  # type: ignore[assignment] - NOT NULL
    with pytest.raises(StoreError):
        store.save_comparison(comparison)
    assert not store.comparison_exists(comparison.id)
    assert not store.exists(comparison.threads[0].id)
    assert store.votes() == []


# -- two writers -------------------------------------------------------------------------


def test_a_copy_never_saved_does_not_overwrite_one_with_its_id(store: Store) -> None:
    store.save_comparison(make_comparison(6))
    with pytest.raises(ComparisonExistsError):
        store.save_comparison(make_comparison(6))


def test_a_save_after_a_delete_does_not_bring_it_back(store: Store) -> None:
    comparison = make_comparison(7)
    store.save_comparison(comparison)
    store.delete_comparison(comparison.id)
    comparison.vote("bad")
    with pytest.raises(ComparisonNotFoundError):
        store.save_comparison(comparison)
    assert not store.comparison_exists(comparison.id)
    assert not store.exists(comparison.threads[0].id)


def test_changes_in_two_tabs_are_merged_field_by_field(store: Store) -> None:
    comparison = make_comparison(8)
    store.save_comparison(comparison)
    first, second = store.load_comparison(comparison.id), store.load_comparison(comparison.id)
    first.title = "Renamed in the first tab"
    first.set_setup(0, Setup("google/gemma-3-27b-it", "Be long."))
    store.save_comparison(first)
    second.blind = True
    second.set_setup(1, Setup("google/gemma-3n-e4b-it"))
    merged = store.save_comparison(second)
    assert set(merged.adopted) == {"title", "setup 0"} and not merged.lost
    assert second.title == "Renamed in the first tab"
    assert second.setups[0].system_prompt == "Be long."
    stored = store.load_comparison(comparison.id)
    assert stored.title == "Renamed in the first tab" and stored.blind
    assert [s.model for s in stored.setups] == ["google/gemma-3-27b-it", "google/gemma-3n-e4b-it"]
    assert stored.threads[0].system_prompt == "Be long." and stored.threads[1].model == "google/gemma-3n-e4b-it"


def test_the_later_of_two_changes_to_one_field_loses_and_is_handed_back(store: Store) -> None:
    comparison = make_comparison(9)
    store.save_comparison(comparison)
    first, second = store.load_comparison(comparison.id), store.load_comparison(comparison.id)
    first.title = "First"
    store.save_comparison(first)
    second.title = "Second"
    merged = store.save_comparison(second)
    assert merged.lost == {"title": "Second"}
    assert second.title == store.load_comparison(comparison.id).title == "First"


def test_messages_sent_in_two_tabs_are_both_kept(store: Store) -> None:
    comparison = make_comparison(10)
    store.save_comparison(comparison)
    first, second = store.load_comparison(comparison.id), store.load_comparison(comparison.id)
    for copy_, text in ((first, "from the first"), (second, "from the second")):
        for thread in copy_.threads:
            thread.add_user(text)
            thread.add_reply(f"answer {text}")
        store.save_comparison(copy_)
    stored = store.load_comparison(comparison.id)
    assert all(len(t.messages) == 8 for t in stored.threads)


def test_a_column_added_or_removed_in_another_tab_is_not_overwritten(store: Store) -> None:
    comparison = Comparison.start([BIG, SMALL])
    store.save_comparison(comparison)
    first, second = store.load_comparison(comparison.id), store.load_comparison(comparison.id)
    first.add_column(MIDDLE)
    store.save_comparison(first)
    second.title = "changed"
    with pytest.raises(ComparisonChangedError):
        store.save_comparison(second)
    assert len(store.load_comparison(comparison.id).setups) == 3
    assert store.load_comparison(comparison.id).title == ""

    # A column removed in this copy (before the first message) goes from the store with it.
    first.remove_column(2)
    store.save_comparison(first)
    assert len(store.load_comparison(comparison.id).threads) == 2
    with store._transaction(write=False) as conn:
        assert len(conn.execute(select(store_module.conversations)).all()) == 2


def test_a_second_vote_on_a_turn_replaces_the_first_and_the_later_of_two_tabs_stands(store: Store) -> None:
    comparison = make_comparison(11)
    store.save_comparison(comparison)
    first, second = store.load_comparison(comparison.id), store.load_comparison(comparison.id)
    first.vote("win", 1)  # turn 2
    first.vote("tie")  # turn 2 again: replaces it
    store.save_comparison(first)
    assert [(v.turn, v.outcome) for v in store.load_comparison(comparison.id).votes] == [(1, "win"), (2, "tie")]
    second.vote("bad")  # later still: stands
    store.save_comparison(second)
    stale = copy.deepcopy(first)
    stale.votes[-1] = Vote(2, "win", 0, tuple(stale.setups), created=T0, id="stale")  # an older vote
    store.save_comparison(stale)
    assert [(v.turn, v.outcome) for v in stale.votes] == [(1, "win"), (2, "bad")], "the copy takes on the stored votes"
    assert [(v.turn, v.outcome) for v in store.votes()] == [(1, "win"), (2, "bad")]


# -- the leaderboard's votes -------------------------------------------------------------


def test_votes_are_counted_once_however_often_a_comparison_is_imported(store: Store) -> None:
    comparison = make_comparison(12)
    store.save_comparison(comparison)
    again = make_comparison(12)
    again.id = "imported-copy"
    for thread in again.threads:
        thread.id = f"copy-{thread.id}"
    store.save_comparison(again)
    assert [v.id for v in store.votes()] == ["k0012-v1"]
    assert [v.id for v in store.load_comparison("imported-copy").votes] == ["k0012-v1"]


def test_clear_votes_resets_the_leaderboard_but_comparisons_keep_showing_theirs(store: Store) -> None:
    kept, deleted = make_comparison(13), make_comparison(14)
    store.save_comparison(kept)
    store.save_comparison(deleted)
    store.delete_comparison(deleted.id)
    assert {v.id for v in store.votes()} == {"k0013-v1", "k0014-v1"}
    store.clear_votes()
    assert store.votes() == []
    assert [v.id for v in store.load_comparison(kept.id).votes] == ["k0013-v1"]
    store.save_comparison(kept)  # saving its copy again does not count its old vote again
    assert store.votes() == []
    with store._transaction(write=False) as conn:
        assert conn.execute(select(store_module.votes.c.id)).scalars().all() == ["k0013-v1"]
    kept.vote("tie")  # a vote cast after the reset counts
    store.save_comparison(kept)
    assert [v.outcome for v in store.votes()] == ["tie"]


def test_a_vote_edited_into_nonsense_is_left_out(store: Store) -> None:
    comparison = make_comparison(15)
    comparison.vote("tie")
    store.save_comparison(comparison)
    with store._transaction(write=True) as conn:
        conn.execute(update(store_module.votes).where(store_module.votes.c.turn == 2).values(winner=7))
    assert [v.turn for v in store.votes()] == [1]
    assert [v.turn for v in store.load_comparison(comparison.id).votes] == [1]


def test_a_comparison_edited_into_nonsense_is_a_store_error(store: Store) -> None:
    comparison = make_comparison(16)
    store.save_comparison(comparison)
    with store._transaction(write=True) as conn:
        conn.execute(update(store_module.comparisons).values(setups=[{"no model": 1}]))
    with pytest.raises(StoreError, match="damaged"):
        store.load_comparison(comparison.id)
    assert [s.labels for s in store.list_comparisons()] == [("?",)]


def test_a_thread_saved_on_its_own_stays_a_column(store: Store) -> None:
    """The live page may save a column as a chat is saved (a reply, a draft): it stays a column."""
    comparison = make_comparison(17)
    store.save_comparison(comparison)
    thread = comparison.threads[1]
    thread.add_user("one more")
    store.save(thread)
    assert store.list() == []
    assert len(store.load_comparison(comparison.id).threads[1].messages) == 5
    with pytest.raises(ConversationNotFoundError):
        store.delete_comparison(comparison.id)
        store.save(thread)


# -- migration ---------------------------------------------------------------------------


def test_migration_7_adds_comparisons_to_a_version_6_database_with_chats(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    kept = make_conversation(18)
    write_as_version(store_url, 6, monkeypatch, kept)
    new = Store(store_url)
    assert new.schema_version() == MIGRATIONS[-1].number
    assert new.load(kept.id).to_dict() == kept.to_dict()
    assert [s.id for s in new.list()] == [kept.id]
    comparison = make_comparison(19)
    new.save_comparison(comparison)
    assert new.load_comparison(comparison.id) == comparison
    assert [s.id for s in new.list()] == [kept.id]
    new.close()
