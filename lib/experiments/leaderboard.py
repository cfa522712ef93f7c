"""The leaderboard: votes on comparisons added up per set-up and per model, with a rating.

Counting. Each vote counts once for each set-up (or model) in it: a win for the winner's, a
loss for every other's; a tie or "both bad" for all of them ("both bad" is kept apart, so that
two poor set-ups are not mistaken for two good ones, but rated as a tie). A vote whose columns
are all one set-up (or, on the model board, one model at different settings) says nothing about
how it fares against another, and is left out of that board.

Rating. Bradley–Terry, fitted by the standard MM algorithm (Hunter 2004, "MM algorithms for
generalized Bradley–Terry models"): each set-up has a strength p, and p_i / (p_i + p_j) is the
chance that i is preferred to j. Unlike Elo it does not depend on the order the votes came in.
A vote among n columns is n − 1 games (the winner beating each other column) or, for a tie,
a drawn game between every pair; a draw counts half a win to each side. Every set-up also
plays one drawn game against a fixed reference of strength 1 (:data:`PRIOR_GAMES`): a set-up
that has only ever won would otherwise get an infinite strength, and a rating resting on one
vote would swing wildly. The reference is also what anchors the scale: strength 1 is 1000.
Ratings are shown on the familiar Elo scale, 1000 + 400·log10(p): 400 points apart means
10 to 1 odds.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import combinations

from lib.api.models import model_info
from lib.experiments.compare import Setup, Vote

#: drawn games each contestant plays against the reference of strength 1
PRIOR_GAMES = 1.0
#: under this many votes a rating is marked as resting on few votes
FEW_VOTES = 10
BASE_RATING = 1000.0
SCALE = 400.0
#: the fit stops when no strength changes by more than this factor (in log10) in one step
TOLERANCE = 1e-10
MAX_ITERATIONS = 10_000

#: (first, second, the first's score: 1 won, 0.5 drawn, 0 lost)
Game = tuple[str, str, float]


@dataclass(frozen=True)
class Standing:
    """One line of the leaderboard."""

    #: :meth:`Setup.key` on the set-up board, the model id on the model board
    key: str
    label: str
    wins: int
    losses: int
    ties: int
    #: votes that said "both bad" (all bad): rated as ties, counted apart
    bad: int
    #: the votes this line rests on (wins + losses + ties + bad)
    votes: int
    rating: float

    @property
    def few_votes(self) -> bool:
        """Whether the rating rests on too few votes to mean much yet."""
        return self.votes < FEW_VOTES


@dataclass(frozen=True)
class Leaderboard:
    setups: list[Standing]
    models: list[Standing]
    #: every vote counted, on either board
    votes: int


def leaderboard(votes: Iterable[Vote]) -> Leaderboard:
    """Both boards from ``votes`` (in any order: the result is the same)."""
    cast = list(votes)
    by_setup = _board(cast, lambda s: s.key(), lambda s: s.label())
    by_model = _board(cast, lambda s: s.model, lambda s: model_info(s.model).label)
    return Leaderboard(by_setup, by_model, len(cast))


def _board(votes: list[Vote], key: Callable[[Setup], str], label: Callable[[Setup], str]) -> list[Standing]:
    counts: dict[str, dict[str, int]] = defaultdict(lambda: {"win": 0, "loss": 0, "tie": 0, "bad": 0})
    labels: dict[str, str] = {}
    games: list[Game] = []
    for vote in votes:
        keys = [key(setup) for setup in vote.setups]
        if len(set(keys)) < 2:
            continue
        for setup, name in zip(vote.setups, keys, strict=True):
            labels.setdefault(name, label(setup))
        winner = keys[vote.winner] if vote.outcome == "win" and vote.winner is not None else None
        for name in set(keys):
            result = "bad" if vote.outcome == "bad" else "tie" if winner is None else "win" if name == winner else "loss"
            counts[name][result] += 1
        games += _games(keys, winner)
    ratings = bradley_terry(games)
    standings = [
        Standing(name, labels[name], c["win"], c["loss"], c["tie"], c["bad"], sum(c.values()), ratings[name])
        for name, c in counts.items()
    ]
    return sorted(standings, key=lambda s: (-s.rating, -s.votes, s.label, s.key))


def _games(keys: list[str], winner: str | None) -> list[Game]:
    """The pairwise games one vote stands for: the winner beat each other set-up, or all drew."""
    distinct = sorted(set(keys))
    if winner is None:
        return [(a, b, 0.5) for a, b in combinations(distinct, 2)]
    return [(winner, other, 1.0) for other in distinct if other != winner]


def bradley_terry(games: Iterable[Game], prior: float = PRIOR_GAMES) -> dict[str, float]:
    """Each contestant's rating on the Elo-like scale, from ``games``, by the MM algorithm.

    ``prior``: drawn games each one plays against a reference of strength 1 (see the module's
    docstring). With ``prior`` 0 the plain maximum-likelihood fit, scaled so that the ratings
    average 1000; it exists only when every contestant has both scored and dropped points
    against the others (else ValueError).
    """
    played = list(games)
    scored: dict[str, float] = defaultdict(float)
    meetings: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for first, second, score in played:
        scored[first] += score
        scored[second] += 1.0 - score
        meetings[first][second] += 1
        meetings[second][first] += 1
    names = sorted(scored)
    if prior <= 0:
        for name in names:
            if scored[name] <= 0 or scored[name] >= sum(meetings[name].values()):
                raise ValueError(f"{name} never scored or never dropped a point: its strength has no finite estimate")
    strength = dict.fromkeys(names, 1.0)
    for _ in range(MAX_ITERATIONS):
        new = {}
        for name in names:
            wins = scored[name] + prior / 2
            pressure = sum(n / (strength[name] + strength[other]) for other, n in meetings[name].items())
            new[name] = wins / (pressure + prior / (strength[name] + 1.0))
        if prior <= 0:
            # The plain fit is determined only up to a common factor: fix the geometric mean at 1.
            mean = math.exp(sum(math.log(p) for p in new.values()) / len(new))
            new = {name: p / mean for name, p in new.items()}
        change = max((abs(math.log10(new[n] / strength[n])) for n in names), default=0.0)
        strength = new
        if change < TOLERANCE:
            break
    return {name: BASE_RATING + SCALE * math.log10(p) for name, p in strength.items()}


def table_rows(standings: list[Standing], noun: str = "Set-up") -> list[dict[str, object]]:
    """The standings as rows for a table, best rating first; ``noun`` heads the names' column.

    Equal ratings share a rank ("1, 1, 3"), as in any sports table.
    """
    ordered = sorted(standings, key=lambda s: -s.rating)
    ranks = [1 + sum(1 for other in ordered if round(other.rating) > round(s.rating)) for s in ordered]
    return [
        {
            "Rank": rank,
            noun: s.label,
            "Rating": round(s.rating),
            "Votes": s.votes,
            "Wins": s.wins,
            "Losses": s.losses,
            "Ties": s.ties,
            "Both bad": s.bad,
            "Note": "few votes" if s.few_votes else "",
        }
        for rank, s in zip(ranks, ordered, strict=True)
    ]
