"""Which messages of a long conversation the chat page draws: the latest ones, earlier ones on request.

Drawing costs the server and the browser time for every message, on every rerun: drawn whole, a
conversation of 10,000 messages took 8 s to open and 238 ms of script per rerun. The page draws the
latest :data:`STEP` messages (1.0 s to open, 56 ms per rerun) and a button that adds :data:`STEP`
more each click (``bench/long_chats.py``; ``bench/results.md``, section 8).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TypeVar

from lib.chat.transcript import BLOCK_SIZE

#: messages drawn when a conversation is opened, and added by each "Show earlier messages"
STEP = 200

T = TypeVar("T")


@dataclass(frozen=True)
class Window:
    """How many of the latest messages of one conversation are drawn."""

    conversation_id: str
    size: int = STEP

    def of(self, conversation_id: str) -> Window:
        """This window, or a fresh one when another conversation is on screen."""
        return self if conversation_id == self.conversation_id else Window(conversation_id)

    def wider(self) -> Window:
        """The window after a click on "Show earlier messages"."""
        return replace(self, size=self.size + STEP)

    def split(self, path: list[T]) -> tuple[int, list[T]]:
        """How many messages of ``path`` are left out, and those drawn: at least ``size`` of the latest.

        The first one drawn is at a multiple of BLOCK_SIZE, so that the older turns' HTML blocks
        stay the same from one turn to the next (and the browser redraws none of them), and is
        a question, since a path alternates from a question at 0.
        """
        hidden = max(0, len(path) - self.size) // BLOCK_SIZE * BLOCK_SIZE
        return hidden, path[hidden:]

    @staticmethod
    def more(hidden: int) -> int:
        """How many messages the next click adds."""
        return min(hidden, STEP)
