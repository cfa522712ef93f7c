"""One browser session's chat: the conversation, its client, and how each reply is recorded.

The page keeps one :class:`ChatSession` in ``st.session_state`` and calls it; every
decision about what a reply's outcome means for the conversation is made here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from lib.client import ChatClient
from lib.conversation import Conversation, Message
from lib.demo_mode import demo_settings
from lib.live_reply import LiveReply, start_reply
from lib.request import api_messages, build_body
from lib.settings import Settings
from lib.usage import SessionTotals


@dataclass
class ChatSession:
    conversation: Conversation
    totals: SessionTotals = field(default_factory=SessionTotals)
    _client: ChatClient | None = None

    @classmethod
    def start(cls, settings: Settings) -> ChatSession:
        return cls(Conversation(system_prompt=settings.system_prompt, model=settings.model))

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

    def begin_reply(self, settings: Settings) -> LiveReply:
        """Start streaming the answer to the user message at the leaf."""
        if not self.conversation.awaiting_reply():
            raise ValueError("there is no user message waiting for a reply")
        return start_reply(self.client(settings), self.request_body())

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

    def retry(self) -> None:
        self.conversation.retry()

    def new_chat(self) -> None:
        """An empty conversation with the same system prompt, model and parameters."""
        old = self.conversation
        self.conversation = Conversation(
            system_prompt=old.system_prompt,
            model=old.model,
            instruction_role=old.instruction_role,
            params=dict(old.params),
        )
