from __future__ import annotations

import random

import pytest

from lib.chat.conversation import Conversation
from lib.chat.usage import Cost, ReplyStats
from lib.experiments.compare import Comparison, Setup, another_gemma, best_marks, differ_in_one_thing

BIG, SMALL = "google/gemma-3-27b-it", "google/gemma-3-4b-it"


def test_a_setup_key_is_the_same_for_equal_setups_and_differs_otherwise() -> None:
    a = Setup(BIG, "Be brief.", params={"temperature": 0.2, "top_p": 0.9})
    assert a.key() == Setup(BIG, "Be brief.", params={"top_p": 0.9, "temperature": 0.2}).key()
    assert a.key() != Setup(SMALL, "Be brief.", params={"temperature": 0.2, "top_p": 0.9}).key()
    assert Setup.from_dict(a.to_dict()) == a
    assert a.label().startswith("Gemma 3 27B · temperature 0.2 · top_p 0.9 · “Be brief.”")


def test_a_new_comparison_sets_the_chats_model_beside_another_gemma_3() -> None:
    assert another_gemma(BIG) != BIG and another_gemma(BIG).startswith("google/gemma-3")
    assert another_gemma("my/own") == BIG
    chat = Conversation(system_prompt="p", model=BIG, params={"temperature": 0.5})
    setups = [Setup.of(chat)]
    assert setups[0] == Setup(BIG, "p", params={"temperature": 0.5})


def test_columns_come_and_go_only_before_the_first_message() -> None:
    comparison = Comparison.start([Setup(BIG), Setup(SMALL)])
    comparison.add_column(Setup(BIG, "Be terse."))
    comparison.add_column(Setup(SMALL, "Be terse."))
    with pytest.raises(ValueError):
        comparison.add_column(Setup(BIG))
    comparison.remove_column(3)
    comparison.threads[0].add_user("hi")
    with pytest.raises(ValueError):
        comparison.remove_column(0)
    with pytest.raises(ValueError):
        Comparison.start([Setup(BIG)])


def test_a_vote_judges_the_latest_turn_and_a_second_vote_replaces_it() -> None:
    comparison = Comparison.start([Setup(BIG), Setup(SMALL)], blind=True)
    with pytest.raises(ValueError):
        comparison.vote("tie")
    for thread in comparison.threads:
        thread.add_user("hi")
        thread.add_reply("hello")
    assert comparison.hidden()
    comparison.vote("win", 1)
    comparison.vote("tie")
    assert [(v.turn, v.outcome, v.winner) for v in comparison.votes] == [(1, "tie", None)]
    assert not comparison.hidden(), "labels show once the turn is voted on"
    with pytest.raises(ValueError):
        comparison.vote("win")
    with pytest.raises(ValueError):
        comparison.vote("tie", 0)


def test_blind_order_is_a_shuffle_of_the_columns() -> None:
    comparison = Comparison.start([Setup(BIG), Setup(SMALL), Setup(BIG, "x")])
    orders = set()
    for seed in range(20):
        comparison.shuffle(random.Random(seed))
        assert sorted(comparison.order) == [0, 1, 2]
        orders.add(tuple(comparison.order))
    assert len(orders) > 1


def test_differ_in_one_thing_copies_a_change_to_every_other_column_but_their_own_difference() -> None:
    setups = [Setup(BIG, "p"), Setup(SMALL, "p"), Setup(BIG, "q")]
    changed = [Setup(BIG, "p", params={"temperature": 0.1}), setups[1], setups[2]]
    out = differ_in_one_thing(changed, 0)
    assert out[1] == Setup(SMALL, "p", params={"temperature": 0.1}), "keeps its own model"
    assert out[2] == Setup(BIG, "q", params={"temperature": 0.1}), "keeps its own system prompt"


def test_the_best_of_each_figure_is_marked_and_a_tie_marks_nobody() -> None:
    fast = ReplyStats(time_to_first_token=0.2, total_time=1.0, cost=Cost(0.001, "reported"))
    slow = ReplyStats(time_to_first_token=0.5, total_time=1.0, cost=Cost(0.002, "reported"))
    marks = best_marks([fast, slow, None])
    assert marks[0] == {"first token", "cost"} and marks[1] == set() and marks[2] == set()
    assert best_marks([fast, None]) == [set(), set()], "one known value compares with nothing"


def test_rows_pair_each_columns_question_with_its_reply() -> None:
    comparison = Comparison.start([Setup(BIG), Setup(SMALL)])
    big, small = comparison.threads
    big.add_user("one")
    big.add_reply("big one")
    small.add_user("one")
    small.fail("server error")
    [row] = comparison.rows()
    assert row[0] is not None and row[0].reply is not None and row[0].reply.content == "big one"
    assert row[1] is not None and row[1].reply is None and row[1].question.error == "server error"


def test_setups_travel_in_an_address_and_bad_ones_are_refused() -> None:
    from lib.experiments.compare import setups_from_address, setups_to_address

    setups = [Setup(BIG, "Be brief ✓", params={"temperature": 0.3}), Setup(SMALL)]
    again, notes = setups_from_address(setups_to_address(setups))
    assert again == setups and notes == []
    for bad in ("", "%%%", setups_to_address([Setup(BIG)]), "x" * 30_000):
        with pytest.raises(ValueError):
            setups_from_address(bad)
    wild = setups_to_address([Setup(BIG, params={"temperature": "hot"}), Setup(SMALL)])
    checked, notes = setups_from_address(wild)
    assert checked[0].params == {} and notes
