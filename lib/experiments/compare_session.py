"""One browser session's comparison: a chat session per column, their replies in flight at once.

Each column is a :class:`ChatSession` over its own thread, so a column's reply streams, stops,
fails and retries exactly as a chat's does, and a failure stays in its column. The requests
leave together: every column's reply is started before any is drawn.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field, replace

from lib.chat.conversation import Conversation, new_id
from lib.chat.live_reply import LiveReply
from lib.chat.recorder import RequestTag
from lib.chat.session import ChatSession, message_fingerprint
from lib.errors import ChatError, ImageError
from lib.experiments.compare import Comparison, Outcome, Setup, another_gemma, differ_in_one_thing
from lib.images.image import Image
from lib.people.owner import LOCAL_OWNER
from lib.settings import Settings
from lib.store.database import Store


@dataclass
class CompareSession:
    comparison: Comparison
    store: Store | None = None
    #: why the last save failed, for the page to show
    save_error: str | None = None
    #: keep every column equal to the last one changed, but in the one thing each differs in
    one_difference: bool = False
    columns: list[ChatSession] = field(default_factory=list)
    _rng: random.Random = field(default_factory=random.Random)
    _saved: dict[str, tuple] = field(default_factory=dict)
    _saved_head: tuple | None = None

    def __post_init__(self) -> None:
        if not self.columns:
            self.columns = [ChatSession(thread) for thread in self.comparison.threads]

    @classmethod
    def start(cls, chat: Conversation, store: Store | None = None, *, setups: list[Setup] | None = None) -> CompareSession:
        """A new comparison: ``setups``, or the chat's set-up beside the same with another Gemma 3 model."""
        if setups is None:
            mine = Setup.of(chat)
            setups = [mine, replace(mine, model=another_gemma(mine.model))]
        return cls(Comparison.start(setups), store)

    @classmethod
    def open(cls, comparison: Comparison, store: Store | None) -> CompareSession:
        """A saved comparison, to go on with."""
        session = cls(comparison, store)
        session._saved = {m.id: message_fingerprint(m) for t in comparison.threads for m in t.messages.values()}
        session._saved_head = session._head()
        return session

    # -- set-ups -----------------------------------------------------------------------

    @property
    def editor_id(self) -> str:
        """What the set-up editors' widget keys carry (ui.compare.SetupHolder)."""
        return self.comparison.id

    @property
    def setups(self) -> list[Setup]:
        return self.comparison.setups

    def can_remove(self) -> bool:
        """A column may go while there are more than two and no turn yet."""
        return len(self.comparison.setups) > 2 and self.comparison.is_empty()

    def set_setup(self, column: int, setup: Setup) -> None:
        """A column's new set-up (from its next message on); with one difference on, the others follow."""
        setups = list(self.comparison.setups)
        setups[column] = setup
        if self.one_difference:
            setups = differ_in_one_thing(setups, column)
        for index, each in enumerate(setups):
            if each != self.comparison.setups[index]:
                self.comparison.set_setup(index, each)

    def add_column(self, setup: Setup) -> None:
        self.comparison.add_column(setup)
        self.columns.append(ChatSession(self.comparison.threads[-1]))

    def remove_column(self, column: int) -> None:
        self.comparison.remove_column(column)
        del self.columns[column]

    # -- a turn ------------------------------------------------------------------------

    def send(self, text: str, images: tuple[Image, ...] = ()) -> None:
        """The same message into every column; refused whole (ImageError) if one column's model reads no images."""
        if images:
            blind_to = [c.conversation.model for c in self.columns if not c.reads_images()]
            if blind_to:
                raise ImageError(
                    f"{', '.join(blind_to)} reads no images, so the message was not sent to any column. "
                    "Choose models that read images (Gemma 3 27B, 12B or 4B), or send it without the images."
                )
        for column in self.columns:
            column.submit(text, images)
        if self.comparison.blind:
            self.comparison.shuffle(self._rng)
        if not self.comparison.title:
            self.comparison.title = self.comparison.threads[0].title

    def begin_replies(self, settings: Settings) -> list[LiveReply | None]:
        """Each column's reply in flight (started now if due): all requests leave before any is drawn."""
        for column, setup in zip(self.columns, self.comparison.setups, strict=True):
            column.request_source = RequestTag(
                "compare", comparison_id=self.comparison.id, label=setup.label(),
                owner=self.store.owner if self.store is not None else LOCAL_OWNER,
            )
            column.request_log = self.store
        in_flight = [column.reply_in_flight() for column in self.columns]
        lives = [column.begin_reply(settings, start=False) for column in self.columns]
        for live, was in zip(lives, in_flight, strict=True):
            if live is not None and live is not was:
                live.start()  # every body is built before the first request leaves
        return lives

    def running(self) -> bool:
        return any(column.reply_in_flight() is not None for column in self.columns)

    def stop(self, column: int | None = None) -> None:
        """Stop one column's reply, or all (``None``); what arrived is kept."""
        for index, each in enumerate(self.columns):
            if column is None or index == column:
                each.stop_reply()

    def retry(self, column: int) -> None:
        """Send a column's failed turn again (the others keep theirs)."""
        self.columns[column].retry()

    def vote(self, outcome: Outcome, winner: int | None = None) -> None:
        self.comparison.vote(outcome, winner)
        self.autosave()

    def continue_with(self, column: int) -> Conversation:
        """A copy of a column's thread as a chat of its own (a new id), to go on with alone."""
        chat = copy.deepcopy(self.comparison.threads[column])
        chat.id, chat.revision = new_id(), None
        chat.title = f"{chat.title or 'Comparison'} ({self.comparison.setups[column].label()})"
        return chat

    # -- saving ------------------------------------------------------------------------

    def _head(self) -> tuple:
        c = self.comparison
        return (c.title, c.blind, tuple(c.order), tuple(s.key() for s in c.setups), tuple(v.id for v in c.votes))

    def autosave(self) -> None:
        """Save what changed since the last save, once there is a message; a failure is kept in
        :attr:`save_error`. Every click reruns the page: an unchanged comparison is not written."""
        if self.store is None or self.comparison.is_empty():
            return
        current = {m.id: message_fingerprint(m) for t in self.comparison.threads for m in t.messages.values()}
        changed = [i for i, fp in current.items() if self._saved.get(i) != fp]
        head = self._head()
        if self._saved and not changed and head == self._saved_head:
            return
        try:
            self.store.save_comparison(self.comparison, changed=changed if self._saved else None)
        except ChatError as exc:
            self.save_error = str(exc)
            return
        self._saved, self._saved_head, self.save_error = current, self._head(), None
