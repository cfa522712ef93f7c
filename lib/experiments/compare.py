"""A comparison: one message to two to four set-ups, each column with its own thread.

A set-up is everything that decides a reply but the history: model, system prompt (and the
role it goes in), sampling parameters. Each column keeps its own :class:`Conversation`, so
that a column's later turns see its own earlier replies. Votes say which column answered a
turn better; :mod:`lib.experiments.leaderboard` adds them up.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import random
import time
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lib.api.models import GEMMA_MODELS, model_info
from lib.api.params import validate_params
from lib.chat.conversation import Conversation, Message, Revision, new_id
from lib.chat.usage import ReplyStats
from lib.errors import ChatError

MIN_COLUMNS, MAX_COLUMNS = 2, 4
#: the figures compared across columns, and whether less is better
COMPARED = {"first token": True, "time": True, "speed": False, "cost": True}
#: decimals each is compared to: as shown, so that two figures shown equal are a tie
PRECISION = {"first token": 2, "time": 2, "speed": 1, "cost": 6}
#: what a vote says: one column better, a tie, or both (all) bad
Outcome = Literal["win", "tie", "bad"]


@dataclass(frozen=True)
class Setup:
    """What a column sends besides the history."""

    model: str
    system_prompt: str = ""
    instruction_role: str = "system"
    params: dict[str, Any] = field(default_factory=dict)

    def key(self) -> str:
        """The same for equal set-ups, wherever and whenever they were made (the leaderboard's key)."""
        text = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def label(self) -> str:
        """A short name: the model's, and what else is set."""
        parts = [model_info(self.model).label]
        # a dict (response_format) as JSON, not as Python's repr: the label goes into exports
        parts += [f"{name} {value if isinstance(value, str | int | float) else json.dumps(value)}"
                  for name, value in sorted(self.params.items())]
        if self.system_prompt.strip():
            prompt = " ".join(self.system_prompt.split())
            parts.append(f"“{prompt[:40]}{'…' if len(prompt) > 40 else ''}”")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "system_prompt": self.system_prompt,
            "instruction_role": self.instruction_role,
            "params": dict(self.params),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Setup:
        return cls(
            model=str(data["model"]),
            system_prompt=str(data.get("system_prompt") or ""),
            instruction_role=str(data.get("instruction_role") or "system"),
            params=dict(data.get("params") or {}),
        )

    @classmethod
    def of(cls, conversation: Conversation) -> Setup:
        """The set-up a chat uses now."""
        return cls(conversation.model, conversation.system_prompt, conversation.instruction_role, dict(conversation.params))

    def thread(self, title: str = "") -> Conversation:
        """An empty conversation that sends as this set-up."""
        return Conversation(
            system_prompt=self.system_prompt, model=self.model, instruction_role=self.instruction_role,
            params=dict(self.params), title=title,
        )


def another_gemma(model: str) -> str:
    """A Gemma 3 model other than ``model`` to compare it with: the next smaller one, else the largest."""
    ids = [m.id for m in GEMMA_MODELS]
    if model in ids and ids.index(model) + 1 < len(ids):
        return ids[ids.index(model) + 1]
    return next(i for i in ids if i != model)


@dataclass(frozen=True)
class Vote:
    """One judgement of one turn: ``winner`` is a column index for a win, None for a tie or all bad."""

    turn: int
    outcome: Outcome
    winner: int | None
    #: the set-ups as they were when voted on, in column order (a later edit does not rewrite history)
    setups: tuple[Setup, ...]
    created: float = field(default_factory=time.time)
    id: str = field(default_factory=new_id)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "turn": self.turn, "outcome": self.outcome, "winner": self.winner,
            "setups": [s.to_dict() for s in self.setups], "created": self.created,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Vote:
        return cls(
            turn=int(data["turn"]), outcome=data["outcome"], winner=data.get("winner"),
            setups=tuple(Setup.from_dict(s) for s in data["setups"]), created=float(data["created"]), id=data["id"],
        )


@dataclass(frozen=True)
class Cell:
    """One column's part of a turn: its question (which holds the error when the request failed) and its reply."""

    question: Message
    reply: Message | None


@dataclass
class Comparison:
    """Set-ups side by side, a thread for each, and the votes on their turns."""

    setups: list[Setup]
    threads: list[Conversation]
    id: str = field(default_factory=new_id)
    title: str = ""
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    #: labels hidden and columns shuffled until the turn is voted on
    blind: bool = False
    #: the column shown in each place (a permutation of the column indexes); shuffled per turn when blind
    order: list[int] = field(default_factory=list)
    votes: list[Vote] = field(default_factory=list)
    #: set by the store when it loads or saves this copy; None for one it never held
    revision: Revision | None = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        if not MIN_COLUMNS <= len(self.setups) <= MAX_COLUMNS or len(self.threads) != len(self.setups):
            raise ValueError(f"a comparison has {MIN_COLUMNS} to {MAX_COLUMNS} columns, each with its thread")
        if sorted(self.order) != list(range(len(self.setups))):
            self.order = list(range(len(self.setups)))

    @classmethod
    def start(cls, setups: list[Setup], *, blind: bool = False) -> Comparison:
        return cls(list(setups), [s.thread() for s in setups], blind=blind)

    # -- reading ---------------------------------------------------------------------

    @property
    def turns(self) -> int:
        """Messages sent so far (the same in every column)."""
        return max((sum(1 for m in t.path() if m.role == "user") for t in self.threads), default=0)

    def is_empty(self) -> bool:
        return all(t.is_empty() for t in self.threads)

    def rows(self) -> list[list[Cell | None]]:
        """The turns, oldest first: for each, every column's cell (None where a column has no such turn)."""
        pairs = [_pairs(thread.path()) for thread in self.threads]
        count = max((len(p) for p in pairs), default=0)
        return [[p[turn] if turn < len(p) else None for p in pairs] for turn in range(count)]

    def vote_on(self, turn: int) -> Vote | None:
        return next((v for v in self.votes if v.turn == turn), None)

    def hidden(self) -> bool:
        """Whether labels are hidden now: blind, and the latest turn not yet voted on."""
        return self.blind and self.turns > 0 and self.vote_on(self.turns) is None

    # -- changing --------------------------------------------------------------------

    def set_setup(self, column: int, setup: Setup) -> None:
        """Use ``setup`` in a column from its next message on (its thread keeps what it sent before)."""
        self.setups[column] = setup
        thread = self.threads[column]
        thread.model, thread.system_prompt = setup.model, setup.system_prompt
        thread.instruction_role, thread.params = setup.instruction_role, dict(setup.params)

    def add_column(self, setup: Setup) -> None:
        if len(self.setups) >= MAX_COLUMNS:
            raise ValueError(f"at most {MAX_COLUMNS} columns")
        if not self.is_empty():
            raise ValueError("columns can be added only before the first message")
        self.setups.append(setup)
        self.threads.append(setup.thread())
        self.order.append(len(self.setups) - 1)

    def remove_column(self, column: int) -> None:
        if len(self.setups) <= MIN_COLUMNS:
            raise ValueError(f"at least {MIN_COLUMNS} columns")
        if not self.is_empty():
            raise ValueError("columns can be removed only before the first message")
        del self.setups[column], self.threads[column]
        self.order = list(range(len(self.setups)))

    def shuffle(self, rng: random.Random | None = None) -> None:
        """A new order of the columns on screen (blind mode, for each turn)."""
        self.order = list(range(len(self.setups)))
        (rng or random.Random()).shuffle(self.order)

    def vote(self, outcome: Outcome, winner: int | None = None) -> Vote:
        """Judge the latest turn; a second vote on it replaces the first."""
        if self.turns == 0:
            raise ValueError("nothing to vote on yet")
        if (outcome == "win") != (winner is not None) or (winner is not None and not 0 <= winner < len(self.setups)):
            raise ValueError("a win names one column; a tie or 'bad' names none")
        vote = Vote(self.turns, outcome, winner, tuple(self.setups))
        self.votes = [v for v in self.votes if v.turn != vote.turn] + [vote]
        self.updated = time.time()
        return vote


def differ_in_one_thing(setups: list[Setup], changed: int) -> list[Setup]:
    """Every column made equal to column ``changed`` in all but the one field each column differs in.

    The field a column differs in is the one where it differs from the first column (the model,
    by default); with the switch on, a change in one column's other fields is copied to all.
    """
    source = setups[changed]
    out = []
    for index, setup in enumerate(setups):
        if index == changed:
            out.append(setup)
            continue
        own = _differing_field(setups[0], setup) or "model"
        out.append(replace(source, **{own: getattr(setup, own)}))
    return out


def _differing_field(base: Setup, other: Setup) -> str | None:
    for name in ("model", "system_prompt", "params", "instruction_role"):
        if getattr(base, name) != getattr(other, name):
            return name
    return None


def _pairs(path: list[Message]) -> list[Cell]:
    cells: list[Cell] = []
    for message in path:
        if message.role == "user":
            cells.append(Cell(message, None))
        elif cells:
            cells[-1] = Cell(cells[-1].question, message)
    return cells


#: the longest ``?setups=`` this app reads (four set-ups with long system prompts fit)
MAX_ADDRESS = 20_000


def setups_to_address(setups: list[Setup]) -> str:
    """The set-ups as a URL-safe text, for ``?setups=`` (a comparison not saved yet)."""
    text = json.dumps([s.to_dict() for s in setups], separators=(",", ":"), ensure_ascii=False)
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def setups_from_address(text: str) -> tuple[list[Setup], list[str]]:
    """The set-ups an address carries, and notes on what was left out; ValueError when it holds none."""
    if len(text) > MAX_ADDRESS:
        raise ValueError("The address is too long to hold set-ups.")
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode())
        setups = [Setup.from_dict(item) for item in data]
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError, KeyError, AttributeError):
        raise ValueError("The address does not hold set-ups this app can read.") from None
    if not MIN_COLUMNS <= len(setups) <= MAX_COLUMNS:
        raise ValueError(f"The address holds {len(setups)} set-ups; a comparison has {MIN_COLUMNS} to {MAX_COLUMNS}.")
    notes, checked = [], []
    for setup in setups:
        try:
            params = validate_params(setup.model, setup.params)
        except ChatError as exc:
            params = {}
            notes.append(f"Parameters of {setup.model} were left out: {exc}")
        checked.append(replace(setup, params=params))
    return checked, notes


def best_marks(stats: list[ReplyStats | None]) -> list[set[str]]:
    """For each column, the figures (labels of :data:`COMPARED`) in which it is the best of all columns."""
    values: dict[str, list[float | None]] = {
        "first token": [s.time_to_first_token if s else None for s in stats],
        "time": [s.total_time if s else None for s in stats],
        "speed": [s.tokens_per_second if s else None for s in stats],
        "cost": [s.cost.usd if s and s.cost and s.cost.usd is not None else None for s in stats],
    }
    marks: list[set[str]] = [set() for _ in stats]
    for label, column_values in values.items():
        column_values = [None if v is None else round(v, PRECISION[label]) for v in column_values]
        known = [v for v in column_values if v is not None]
        if len(known) < 2:
            continue  # nothing to compare with
        best = min(known) if COMPARED[label] else max(known)
        if all(v == best for v in known):
            continue  # a tie marks nobody
        for index, value in enumerate(column_values):
            if value == best:
                marks[index].add(label)
    return marks
