"""Comparisons for tests, built the same way every time (ids and times included)."""

from __future__ import annotations

from lib.chat.conversation import Message
from lib.chat.usage import Cost, ReplyStats, Usage
from lib.experiments.compare import Comparison, Setup, Vote
from lib.images.image import Image
from tests.samples import T0

BIG = Setup("google/gemma-3-27b-it", "Be brief.", params={"temperature": 0.2})
SMALL = Setup("google/gemma-3-4b-it", "Be brief.", params={"temperature": 0.2})
MIDDLE = Setup("google/gemma-3-12b-it")


def make_comparison(
    seed: int = 0, *, setups: tuple[Setup, ...] = (BIG, SMALL), turns: int = 2, images: tuple[Image, ...] = (),
    question: str = "What is a banana?",
) -> Comparison:
    """A comparison of ``setups`` with ``turns`` answered questions in each column (the first with
    ``images``), figures on every reply, and a vote on the first turn: the first column won it."""
    prefix = f"k{seed:04d}"
    comparison = Comparison.start(list(setups))
    comparison.id, comparison.created = f"cmp-{seed:04d}", T0 + seed
    for column, (setup, thread) in enumerate(zip(setups, comparison.threads, strict=True)):
        thread.id, thread.created, thread.title = f"{prefix}-col{column}", T0 + seed, question
        parent = None
        for turn in range(turns):
            asked = Message("user", question if turn == 0 else f"And follow-up {turn}?", parent=parent,
                            id=f"{prefix}-c{column}-u{turn}", created=T0 + seed + turn, images=images if turn == 0 else ())
            stats = ReplyStats(
                usage=Usage(10, 20 + column, 30 + column), cost=Cost(0.001 * (column + 1), "reported"),
                time_to_first_token=0.2 + column / 10, total_time=1.0 + column, model=setup.model,
            )
            reply = Message("assistant", f"Column {column} answers turn {turn}: a **yellow** fruit.", parent=asked.id,
                            id=f"{prefix}-c{column}-a{turn}", created=T0 + seed + turn + 0.5, stats=stats,
                            model=setup.model, params=dict(setup.params))
            thread.messages.update({asked.id: asked, reply.id: reply})
            parent = reply.id
        thread.leaf = parent
        thread.updated = T0 + seed + turns
    comparison.votes = [Vote(1, "win", 0, tuple(setups), created=T0 + seed + 1, id=f"{prefix}-v1")]
    comparison.updated = T0 + seed + turns
    return comparison
