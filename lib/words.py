"""Words for counts: "1 turn", "2 turns"."""

from __future__ import annotations


def count(number: int, noun: str, plural: str | None = None) -> str:
    """``number`` and ``noun``, plural unless it is one: ``count(1, "match", "matches")`` is "1 match"."""
    return f"{number:,} {noun if number == 1 else plural or noun + 's'}"
