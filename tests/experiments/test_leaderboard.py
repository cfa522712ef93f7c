"""lib/experiments/leaderboard.py: counts and Bradley–Terry ratings checked against hand computations."""

from __future__ import annotations

import math
import random

import pytest

from lib.experiments.compare import Setup, Vote
from lib.experiments.leaderboard import FEW_VOTES, bradley_terry, leaderboard

A = Setup("google/gemma-3-27b-it", params={"temperature": 0.2})
A_HOT = Setup("google/gemma-3-27b-it", params={"temperature": 1.5})
B = Setup("google/gemma-3-4b-it")
C = Setup("google/gemma-3-12b-it", "Be brief.")


def win(winner: int, *setups: Setup) -> Vote:
    return Vote(1, "win", winner, setups)


def tie(*setups: Setup, bad: bool = False) -> Vote:
    return Vote(1, "bad" if bad else "tie", None, setups)


def elo(strength: float) -> float:
    return 1000 + 400 * math.log10(strength)


# -- the fit -----------------------------------------------------------------------------


def test_plain_fit_of_two_a_two_to_one_record_is_odds_of_two() -> None:
    # p_A / p_B = 2/1 maximises the likelihood; the geometric mean is fixed at 1: p_A = √2, p_B = 1/√2.
    ratings = bradley_terry([("a", "b", 1.0), ("a", "b", 1.0), ("b", "a", 1.0)], prior=0)
    assert ratings["a"] == pytest.approx(elo(math.sqrt(2)))  # 1060.21
    assert ratings["b"] == pytest.approx(elo(1 / math.sqrt(2)))  # 939.79


def test_plain_fit_of_three_whose_records_agree_exactly() -> None:
    # A beat B 2:1, B beat C 2:1, A beat C 4:1: strengths 4:2:1 give each exactly its wins
    # (A: 3·2/3 + 5·4/5 = 6, B: 3·1/3 + 3·2/3 = 3), so they are the maximum; scaled to (2, 1, 1/2).
    games = [("a", "b", 1.0)] * 2 + [("b", "a", 1.0)] + [("b", "c", 1.0)] * 2 + [("c", "b", 1.0)]
    games += [("a", "c", 1.0)] * 4 + [("c", "a", 1.0)]
    ratings = bradley_terry(games, prior=0)
    assert ratings["a"] == pytest.approx(elo(2))  # 1120.41
    assert ratings["b"] == pytest.approx(1000)
    assert ratings["c"] == pytest.approx(elo(0.5))  # 879.59


def test_a_cycle_and_draws_rate_everyone_equal() -> None:
    cycle = [("a", "b", 1.0), ("b", "c", 1.0), ("c", "a", 1.0)]
    assert bradley_terry(cycle, prior=0) == pytest.approx({"a": 1000, "b": 1000, "c": 1000})
    assert bradley_terry([("a", "b", 0.5)] * 3) == pytest.approx({"a": 1000, "b": 1000})


def test_one_win_with_the_prior_is_finite_and_solves_the_likelihood_by_hand() -> None:
    # A beat B once; each drew once with the reference (strength 1). By symmetry p_B = 1/p_A = 1/x,
    # and A's score equation, 1 + ½ = x/(x + 1/x) + x/(x + 1), is solved here by bisection.
    low, high = 1.0, 10.0
    for _ in range(200):
        x = (low + high) / 2
        low, high = (x, high) if x * x / (x * x + 1) + x / (x + 1) < 1.5 else (low, x)
    ratings = bradley_terry([("a", "b", 1.0)])
    assert ratings["a"] == pytest.approx(elo(x))  # x ≈ 2.13: about 1131
    assert ratings["b"] == pytest.approx(elo(1 / x))
    assert 1125 < ratings["a"] < 1135


def test_without_the_prior_an_unbeaten_record_has_no_finite_rating() -> None:
    with pytest.raises(ValueError, match="never"):
        bradley_terry([("a", "b", 1.0)], prior=0)


def test_the_prior_weighs_less_as_votes_add_up() -> None:
    few = bradley_terry([("a", "b", 1.0)] * 2 + [("b", "a", 1.0)])
    many = bradley_terry([("a", "b", 1.0)] * 200 + [("b", "a", 1.0)] * 100)
    exact = elo(math.sqrt(2)) - elo(1 / math.sqrt(2))
    assert few["a"] - few["b"] < many["a"] - many["b"] < exact
    assert many["a"] - many["b"] == pytest.approx(exact, abs=2)


# -- the boards --------------------------------------------------------------------------


def test_counts_per_setup_a_three_way_win_a_tie_and_both_bad() -> None:
    board = leaderboard([win(0, A, B, C), tie(A, B), tie(B, C, bad=True)])
    by_key = {s.key: s for s in board.setups}
    a, b, c = by_key[A.key()], by_key[B.key()], by_key[C.key()]
    assert (a.wins, a.losses, a.ties, a.bad, a.votes) == (1, 0, 1, 0, 2)
    assert (b.wins, b.losses, b.ties, b.bad, b.votes) == (0, 1, 1, 1, 3)
    assert (c.wins, c.losses, c.ties, c.bad, c.votes) == (0, 1, 0, 1, 2)
    assert a.label == A.label() and board.votes == 3
    # The same games the fit is given by hand: A beat B and C; A–B and B–C drew.
    expected = bradley_terry([("a", "b", 1.0), ("a", "c", 1.0), ("a", "b", 0.5), ("b", "c", 0.5)])
    assert [a.rating, b.rating, c.rating] == pytest.approx([expected["a"], expected["b"], expected["c"]])
    assert [s.key for s in board.setups] == [A.key(), B.key(), C.key()]


def test_both_bad_rates_as_a_tie() -> None:
    bad = leaderboard([win(0, A, B), tie(A, B, bad=True)])
    tied = leaderboard([win(0, A, B), tie(A, B)])
    assert [s.rating for s in bad.setups] == pytest.approx([s.rating for s in tied.setups])
    assert (bad.setups[0].bad, bad.setups[0].ties) == (1, 0)


def test_the_model_board_joins_settings_and_skips_votes_within_one_model() -> None:
    board = leaderboard([win(0, A, B), win(0, A_HOT, B), win(1, A, A_HOT)])
    assert len(board.setups) == 3
    assert {s.key: s.votes for s in board.setups} == {A.key(): 2, A_HOT.key(): 2, B.key(): 2}
    [big, small] = board.models
    assert (big.key, big.label, big.wins, big.votes) == ("google/gemma-3-27b-it", "Gemma 3 27B", 2, 2)
    assert (small.key, small.losses, small.votes) == ("google/gemma-3-4b-it", 2, 2)
    # Twice A beat B: the same as bradley_terry of those two games.
    assert big.rating == pytest.approx(bradley_terry([("x", "y", 1.0)] * 2)["x"])


def test_the_order_of_the_votes_does_not_matter() -> None:
    votes = [win(0, A, B), win(1, A, B, C), tie(B, C), win(2, A, B, C), tie(A, C, bad=True), win(0, C, A)]
    first = leaderboard(votes)
    shuffled = votes[:]
    random.Random(4).shuffle(shuffled)
    again = leaderboard(shuffled)
    assert [(s.key, s.wins, s.votes) for s in first.setups] == [(s.key, s.wins, s.votes) for s in again.setups]
    assert [s.rating for s in first.setups] == pytest.approx([s.rating for s in again.setups])


def test_few_votes_are_marked() -> None:
    board = leaderboard([win(0, A, B)] * (FEW_VOTES - 1) + [win(0, A, C)])
    by_key = {s.key: s for s in board.setups}
    assert not by_key[A.key()].few_votes and by_key[A.key()].votes == FEW_VOTES
    assert by_key[B.key()].few_votes and by_key[C.key()].few_votes


def test_no_votes_no_lines() -> None:
    board = leaderboard([])
    assert board.setups == board.models == [] and board.votes == 0


def test_equal_ratings_share_a_rank_in_the_table() -> None:
    from lib.experiments.leaderboard import Standing, table_rows

    rows = table_rows([Standing("a", "A", 0, 0, 1, 0, 1, 1000.0), Standing("b", "B", 0, 0, 1, 0, 1, 1000.0),
                       Standing("c", "C", 0, 1, 0, 0, 1, 900.0)], "Model")
    assert [(r["Model"], r["Rank"]) for r in rows] == [("A", 1), ("B", 1), ("C", 3)]
