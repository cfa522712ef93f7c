"""One browser session's chat: the conversation, its client, and how each reply is recorded.

The page keeps one :class:`ChatSession` in ``st.session_state`` and calls it; every
decision about what a reply's outcome means for the conversation is made here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from lib.api.client import ChatClient
from lib.api.demo_mode import demo_settings
from lib.api.request import api_messages, build_body
from lib.chat.conversation import Conversation, Message
from lib.chat.live_reply import LiveReply, start_reply
from lib.chat.usage import SessionTotals
from lib.errors import ChatError
from lib.experiments.presets import Presets
from lib.settings import Settings
from lib.store.database import Store

PRESETS_PREFERENCE = "presets"


def _fingerprint(message: Message) -> tuple:
    # The stats object is replaced, never changed in place, so its identity stands for it.
    return (message.content, message.status, message.error, message.error_title, message.parent, id(message.stats))


@dataclass
class ChatSession:
    conversation: Conversation
    totals: SessionTotals = field(default_factory=SessionTotals)
    #: where conversations are saved; None when history is off
    store: Store | None = None
    #: why the last save failed, for the page to show; None when it worked
    save_error: str | None = None
    _client: ChatClient | None = None
    _saved: dict[str, tuple] = field(default_factory=dict)
    _saved_head: tuple | None = None
    #: built-in and the user's own system-prompt presets
    presets: Presets = field(default_factory=Presets)
    #: the reply being streamed, until it is recorded
    _live: LiveReply | None = None
    #: the reply recorded last and what that gave, so that recording it again gives the same
    _recorded: tuple[LiveReply, Message | None] | None = None
    # Two script runs of one browser session can overlap (Streamlit's fastReruns starts the
    # next run before the interrupted one has unwound): one reply is recorded once, by whichever
    # gets here first, and a new one starts only after that.
    _lock: threading.RLock = field(default_factory=threading.RLock)

    @classmethod
    def start(cls, settings: Settings, store: Store | None = None) -> ChatSession:
        session = cls(Conversation(system_prompt=settings.system_prompt, model=settings.model), store=store)
        if store is not None:
            try:
                session.presets = Presets.from_dict(store.get_preference(PRESETS_PREFERENCE) or {})
            except ChatError as exc:
                session.save_error = f"Your presets could not be read: {exc}"
        return session

    def set_presets(self, presets: Presets) -> None:
        """Use ``presets`` from now on, and keep them for the next visits when history is on."""
        self.presets = presets
        if self.store is not None:
            try:
                self.store.set_preference(PRESETS_PREFERENCE, presets.to_dict())
            except ChatError as exc:
                self.save_error = str(exc)

    # -- saving ----------------------------------------------------------------------

    def _head(self) -> tuple:
        c = self.conversation
        return (c.id, c.title, c.updated, c.leaf, c.system_prompt, c.instruction_role, c.model, repr(c.params))

    def autosave(self) -> None:
        """Save what changed since the last save; a failure is kept in :attr:`save_error`, never raised.

        An empty conversation is not saved: opening the page must not litter the history.
        """
        if self.store is None or (self.conversation.is_empty() and not self._saved):
            return
        current = {i: _fingerprint(m) for i, m in self.conversation.messages.items()}
        changed = [i for i, fp in current.items() if self._saved.get(i) != fp]
        removed = [i for i in self._saved if i not in current]
        head = self._head()
        if not changed and not removed and head == self._saved_head:
            return
        try:
            # Deleted meanwhile (the History page, another tab): the chat on screen is saved
            # whole again rather than as a husk of its latest changes.
            if self._saved and not self.store.exists(self.conversation.id):
                changed = list(current)
            self.store.save(self.conversation, changed=changed, removed=removed)
        except ChatError as exc:
            self.save_error = str(exc)
            return
        self._saved, self._saved_head, self.save_error = current, head, None

    def _switch_to(self, conversation: Conversation, saved: bool) -> None:
        self.autosave()
        self.conversation = conversation
        self._saved = {i: _fingerprint(m) for i, m in conversation.messages.items()} if saved else {}
        self._saved_head = self._head() if saved else None

    def open(self, conversation_id: str) -> None:
        """Continue a saved conversation; raises ConversationNotFoundError or StoreError."""
        if self.store is None or conversation_id == self.conversation.id:
            return
        conversation = self.store.load(conversation_id)
        self._switch_to(conversation, saved=True)
        if conversation.awaiting_reply():
            # An imported chat may end on a question: answer it only when asked to.
            conversation.fail("This message has no reply yet. Press Retry to send it.", "Not answered yet")

    def delete_turn(self, user_id: str) -> None:
        self.conversation.delete_turn(user_id)
        self.autosave()

    # -- the client ------------------------------------------------------------------

    def client(self, settings: Settings) -> ChatClient:
        """A client for these settings, kept between turns for its open connection."""
        effective = demo_settings(settings) if settings.demo else settings
        if self._client is None or self._client.settings != effective:
            if self._client is not None:
                self._client.close()
            self._client = ChatClient(effective)
        return self._client

    # -- a turn ----------------------------------------------------------------------

    def request_body(self) -> dict[str, Any]:
        chat = self.conversation
        messages = api_messages(chat.system_prompt, chat.history(), chat.model, chat.instruction_role)
        return build_body(chat.model, messages, chat.params)

    def settle(self) -> None:
        """Stop and record a reply still streaming from an earlier, interrupted run."""
        with self._lock:
            if self._live is not None:
                self.record(self._live)

    def begin_reply(self, settings: Settings) -> LiveReply | None:
        """Start streaming the answer to the user message at the leaf; None when none is due."""
        with self._lock:
            self.settle()
            if not self.conversation.awaiting_reply():
                return None
            self._live = start_reply(self.client(settings), self.request_body())
            return self._live

    def finish_reply(self, live: LiveReply) -> Message | None:
        """Record how ``live`` ended; stops it first if it is still running (Stop, or a rerun).

        Text that arrived is always kept as a reply (stopped or incomplete); with no text,
        the user message keeps the error and a Retry button.
        """
        live.stop()
        outcome = live.outcome()
        chat = self.conversation
        if outcome.text or outcome.stats.usage:
            self.totals.add(outcome.stats)
        if not outcome.text:
            if outcome.stopped:
                chat.fail("Stopped before the reply started.", "Stopped")
            elif outcome.error is not None:
                chat.fail(str(outcome.error), outcome.error.title)
            else:
                chat.fail("The model returned an empty reply.", "Empty reply")
            return None
        reply = chat.add_reply(
            outcome.text,
            status=outcome.status,  # type: ignore[arg-type]
            stats=outcome.stats,
            model=chat.model,
            params=dict(chat.params),
        )
        if outcome.error is not None:
            reply.error, reply.error_title = str(outcome.error), outcome.error.title
        return reply

    def record(self, live: LiveReply) -> Message | None:
        """:meth:`finish_reply` once, then save at once: the reply must outlive a crash of the server."""
        with self._lock:
            if self._recorded is not None and self._recorded[0] is live:
                return self._recorded[1]
            reply = None
            try:
                reply = self.finish_reply(live)
            finally:
                self._recorded = (live, reply)
                if self._live is live:
                    self._live = None
                self.autosave()
            return reply

    def retry(self) -> None:
        self.conversation.retry()

    def new_chat(self) -> None:
        """An empty conversation with the same system prompt, model and parameters."""
        old = self.conversation
        fresh = Conversation(
            system_prompt=old.system_prompt,
            model=old.model,
            instruction_role=old.instruction_role,
            params=dict(old.params),
        )
        self._switch_to(fresh, saved=False)
