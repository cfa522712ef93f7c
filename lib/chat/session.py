"""One browser session's chat: the conversation, its client, and how each reply is recorded.

The page keeps one :class:`ChatSession` in ``st.session_state`` and calls it; every
decision about what a reply's outcome means for the conversation is made here.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from lib.api.client import ChatClient
from lib.api.demo_mode import demo_settings
from lib.api.models import model_info
from lib.api.request import api_messages, build_body
from lib.chat import transcript
from lib.chat.conversation import Conversation, Message, new_id
from lib.chat.live_reply import LiveReply
from lib.chat.recorder import RequestTag
from lib.chat.sent_request import SentRequest, sent_request
from lib.chat.usage import SessionTotals
from lib.errors import ChatError, ConversationNotFoundError, ImageError, TemplateError
from lib.experiments.presets import PresetError, Presets
from lib.experiments.templates import Variable, fill, missing, variables
from lib.images.image import Image
from lib.memory import release_when_gone
from lib.people.owner import LOCAL_OWNER
from lib.settings import Settings
from lib.store.database import Merged, Store

PRESETS_PREFERENCE = "presets"


def message_fingerprint(message: Message) -> tuple:
    """What changes when a message must be saved again."""
    # The stats object is replaced, never changed in place, so its identity stands for it.
    return (
        message.content, message.status, message.error, message.error_title, message.parent, id(message.stats),
        tuple(image.digest for image in message.images),
    )


@dataclass(eq=False)
class _Flight:
    """A reply in flight and where it belongs: it outlives the script run that started it."""

    live: LiveReply
    conversation: Conversation
    #: the user message it answers
    question_id: str
    model: str
    params: dict[str, Any]
    recorded: bool = False
    reply: Message | None = None
    #: script runs drawing it now: while one is, that run records it, after drawing its whole text
    watchers: int = 0
    #: several sessions may share it (a reloaded page): it is recorded once, whoever gets there first
    lock: threading.RLock = field(default_factory=threading.RLock)
    #: the reply's message id, taken now: what arrived is saved under it as it streams
    reply_id: str = field(default_factory=new_id)
    #: whose conversation it is (lib.people.owner): only they may open it while it streams
    owner: str = LOCAL_OWNER
    #: what the conversation does not keep of the body sent (the system prompt then)
    request: SentRequest | None = None


# Replies streaming now, by conversation id, whichever browser session started them: a reloaded
# page (a new session) opens its conversation and draws the reply still streaming into it.
_streaming: dict[str, _Flight] = {}
_streaming_lock = threading.Lock()


def _streaming_into(conversation_id: str, owner: str) -> _Flight | None:
    with _streaming_lock:
        flight = _streaming.get(conversation_id)
    # Another person's reply is no more theirs to see by its id than their saved conversation is.
    return flight if flight is not None and not flight.recorded and flight.owner == owner else None


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
    _saved_generation: int = 0
    #: built-in and the user's own system-prompt presets
    presets: Presets = field(default_factory=Presets)
    #: replies streaming or just ended, each with where it belongs; see :meth:`begin_reply`
    _flights: list[_Flight] = field(default_factory=list)
    #: messages typed while a reply streamed: sent, in order, once it has ended
    queued: list[tuple[str, tuple[Image, ...]]] = field(default_factory=list)
    #: the user says the model id they typed (outside the Gemma specs) reads images
    other_model_reads_images: bool = False
    #: the conversation on screen was deleted elsewhere (History, another tab) since it was saved:
    #: it is no longer saved, until the user keeps it as a new one (:meth:`save_as_new`)
    deleted_elsewhere: bool = False
    #: saves that took changes made elsewhere into the conversation on screen (a rename on History,
    #: another tab's system prompt), for the page to show and to bring its widgets up to date
    merged: list[Merged] = field(default_factory=list)
    #: values given for the system prompt's template variables, kept for the conversation's next requests
    prompt_values: dict[str, str] = field(default_factory=dict)
    # A reply is recorded by its worker thread when it ends, or by the page (Stop); both may
    # try at once, and a script run may read the conversation meanwhile.
    _lock: threading.RLock = field(default_factory=threading.RLock)
    #: what the request log says sent this session's requests (a Compare column says so); None: the chat
    request_source: RequestTag | None = None
    #: the store that logs this session's requests when it saves none itself (a Compare column)
    request_log: Store | None = None
    #: ids of the messages this session drew as older turns (rendered HTML, cached for every session)
    drawn: set[str] = field(default_factory=set)

    @classmethod
    def start(cls, settings: Settings, store: Store | None = None) -> ChatSession:
        session = cls(Conversation(system_prompt=settings.system_prompt, model=settings.model), store=store)
        session.reload_presets()
        release_when_gone(session)
        weakref.finalize(session, transcript.forget, session.drawn)  # not the session: it is gone by then
        return session

    def change_presets(self, change: Callable[[Presets], Presets]) -> None:
        """Apply ``change`` (e.g. ``lambda p: p.add(name, prompt)``) to the presets and keep them.

        With history on it is applied to the presets as saved now, in one transaction, so that
        a preset another session saved meanwhile is kept too (and shows here from now on).
        A PresetError from ``change`` is raised and changes nothing.
        """
        if self.store is None:
            self.presets = change(self.presets)
            return
        try:
            saved = self.store.update_preference(
                PRESETS_PREFERENCE, lambda stored: change(Presets.from_dict(stored or {})).to_dict()
            )
        except PresetError:
            raise
        except ChatError as exc:
            self.save_error = str(exc)
            return
        self.presets = Presets.from_dict(saved)

    def reload_presets(self) -> None:
        """Read the presets again: another session may have changed them."""
        if self.store is None:
            return
        try:
            self.presets = Presets.from_dict(self.store.get_preference(PRESETS_PREFERENCE) or {})
        except ChatError as exc:
            self.save_error = f"Your presets could not be read: {exc}"

    # -- saving ----------------------------------------------------------------------

    def _head(self) -> tuple:
        c = self.conversation
        return (c.id, c.title, c.updated, c.leaf, c.system_prompt, c.instruction_role, c.model, repr(c.params))

    def autosave(self) -> None:
        """Save what changed since the last save; a failure is kept in :attr:`save_error`, never raised.

        An empty conversation is not saved: opening the page must not litter the history.
        """
        with self._lock:
            self._autosave()

    def _autosave(self) -> None:
        if self.store is None or (self.conversation.is_empty() and not self._saved):
            return
        current = {i: message_fingerprint(m) for i, m in self.conversation.messages.items()}
        changed = [i for i, fp in current.items() if self._saved.get(i) != fp]
        removed = [i for i in self._saved if i not in current]
        head = self._head()
        if not changed and not removed and head == self._saved_head:
            return
        try:
            self.store.check_file()
        except ChatError as exc:
            self.save_error = str(exc)
            return
        if self._saved and self._saved_generation != self.store.generation:
            # The store was made anew (its file deleted under the app): all of it goes in again.
            self._saved, self.conversation.revision = {}, None
            changed, removed = list(current), []
        try:
            merged = self.store.save(self.conversation, changed=changed, removed=removed)
        except ConversationNotFoundError:
            # Deleted meanwhile (the History page, another tab): deleting is final. Nothing is
            # written back; the page says so and offers to keep the chat as a new conversation.
            self.deleted_elsewhere = True
            return
        except ChatError as exc:
            self.save_error = str(exc)
            return
        self._saved, self._saved_head, self.save_error = current, self._head(), None
        self._saved_generation = self.store.generation
        if merged:
            self.merged.append(merged)

    def take_merged(self) -> list[Merged]:
        """The merges since the last call (see :attr:`merged`), once each."""
        with self._lock:
            taken, self.merged = self.merged, []
        return taken

    def save_as_new(self) -> None:
        """Keep the chat on screen, deleted elsewhere, as a new conversation (a new id), whole."""
        with self._lock:
            self.conversation.id, self.conversation.revision = new_id(), None
            self._saved, self._saved_head, self.deleted_elsewhere = {}, None, False
            self._autosave()

    def _switch_to(self, conversation: Conversation, saved: bool) -> None:
        """Show ``conversation``; a reply streaming into the one left goes on and is saved there."""
        self.autosave()
        self.deleted_elsewhere = False
        self.queued.clear()
        self.prompt_values.clear()  # another conversation, another system prompt
        self.conversation = conversation
        self._saved = {i: message_fingerprint(m) for i, m in conversation.messages.items()} if saved else {}
        self._saved_head = self._head() if saved else None
        self._saved_generation = self.store.generation if self.store is not None else 0

    def open(self, conversation_id: str) -> None:
        """Continue a saved conversation; raises ConversationNotFoundError or StoreError."""
        if self.store is None or conversation_id == self.conversation.id:
            return
        # A reply still streaming into it (left in the background, or started before a reload)
        # is in that very object: the page draws it on.
        flight = _streaming_into(conversation_id, self.store.owner)
        conversation = flight.conversation if flight is not None else self.store.load(conversation_id)
        self._switch_to(conversation, saved=True)
        if flight is not None:
            with self._lock:
                if flight not in self._flights:
                    self._flights.append(flight)
        if conversation.awaiting_reply() and self.reply_in_flight() is None:
            # An imported chat may end on a question: answer it only when asked to.
            conversation.fail("This message has no reply yet. Press Retry to send it.", "Not answered yet")

    def continue_with(self, conversation: Conversation) -> None:
        """Go on with ``conversation``, a chat made elsewhere (a Compare column's thread), saved from now on."""
        self._switch_to(conversation, saved=False)
        self.autosave()

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

    def sent_system_prompt(self) -> str:
        """The system prompt as it is sent: its template variables filled in (TemplateError when one has no value)."""
        return fill(self.conversation.system_prompt, self.prompt_values)

    def asks_for(self, text: str = "") -> list[Variable]:
        """The template variables a form asks for before ``text`` is sent (TemplateError for a malformed
        template): those of ``text``, and those of the system prompt not given yet; not the built-ins.
        A variable with a default is asked for too, the default filled in, so that it can be changed."""
        variables_ = variables([self.conversation.system_prompt, text])
        return [v for v in variables_ if not v.builtin and v.name not in self.prompt_values]

    def prompt_lacks_values(self) -> bool:
        """Whether the system prompt has variables with no value and no default (it cannot be sent as it is)."""
        try:
            return bool(missing(self.conversation.system_prompt, self.prompt_values))
        except TemplateError:
            return False  # sending says what is wrong with it

    def keep_prompt_values(self, values: dict[str, Any]) -> None:
        """Keep the values of the system prompt's variables among ``values``, for this conversation's requests."""
        names = {v.name for v in variables(self.conversation.system_prompt) if not v.builtin}
        self.prompt_values.update({k: v for k, v in values.items() if k in names and isinstance(v, str) and v.strip()})

    def fill_message(self, text: str, values: dict[str, Any]) -> str:
        """``text`` filled with ``values`` (TemplateError when one is missing); those of the system
        prompt's variables are kept for later requests."""
        filled = fill(text, {**self.prompt_values, **values}, declared_in=[self.conversation.system_prompt])
        self.keep_prompt_values(values)
        return filled

    def request_body(self) -> dict[str, Any]:
        return self._request()[0]

    def _request(self) -> tuple[dict[str, Any], SentRequest]:
        chat, prompt, images = self.conversation, self.sent_system_prompt(), self.reads_images()
        messages = api_messages(prompt, chat.history(), chat.model, chat.instruction_role, images=images)
        body = build_body(chat.model, messages, chat.params)
        return body, sent_request(body, prompt, chat.instruction_role, images)

    def request_tag(self) -> RequestTag:
        """The request log's tag for the next request: who sent it, from which conversation, with which preset."""
        store = self.request_log or self.store
        tag = self.request_source or RequestTag(label=self._preset_name())
        return replace(tag, owner=store.owner if store is not None else tag.owner, conversation_id=self.conversation.id)

    def _preset_name(self) -> str | None:
        preset = self.presets.find_by_prompt(self.conversation.system_prompt)
        return preset.name if preset is not None else None

    def reply_in_flight(self) -> LiveReply | None:
        """The reply streaming into the conversation on screen, if any: a new script run re-attaches to it."""
        with self._lock:
            for flight in self._flights:
                if flight.conversation is self.conversation and not flight.recorded:
                    return flight.live
        return None

    def path(self, live: LiveReply | None = None) -> list[Message]:
        """The messages to draw above ``live``: up to its question, even if it ended (and was recorded) meanwhile."""
        path = self.conversation.path()
        flight = self._flight(live) if live is not None else None
        if flight is not None and flight.conversation is self.conversation:
            ids = [m.id for m in path]
            if flight.question_id in ids:
                return path[: ids.index(flight.question_id) + 1]
        return path

    def reads_images(self) -> bool:
        """Whether the conversation's model takes images: by its spec, or, for a model id outside
        the specs, as the user said."""
        info = model_info(self.conversation.model)
        return info.images or (info.spec is None and self.other_model_reads_images)

    def submit(self, text: str, images: tuple[Image, ...] = ()) -> None:
        """What the user typed and attached: added now, or queued while a reply streams.

        Never merged into the question in flight, never lost: it is sent once the reply ends.
        Images for a model that reads none raise ImageError, and nothing is added.
        """
        if images and not self.reads_images():
            raise ImageError(
                f"{model_info(self.conversation.model).label} reads no images. Choose a Gemma 3 model that "
                "reads them (27B, 12B or 4B), or send the message without images."
            )
        with self._lock:
            if self.reply_in_flight() is not None:
                self.queued.append((text, tuple(images)))
            else:
                self.conversation.add_user(text, tuple(images))

    def begin_reply(self, settings: Settings, *, start: bool = True) -> LiveReply | None:
        """The reply to show: the one in flight, else a new one for the user message at the leaf; None when none is due.

        ``start=False`` leaves a new reply for the caller to start (:meth:`LiveReply.start`), so
        that several can be made ready and then leave together.
        """
        with self._lock:
            if (live := self.reply_in_flight()) is not None:
                return live
            if self.queued:
                self.conversation.add_user(*self.queued.pop(0))
            chat = self.conversation
            if not chat.awaiting_reply() or chat.leaf is None:
                return None
            try:
                body, request = self._request()
            except TemplateError as exc:  # the page asks for the values first; this is the last guard
                chat.fail(f"The system prompt's template: {exc}", "Not sent")
                return None
            flight = _Flight(
                # Its log row is written when it is recorded: by the run drawing it, after the whole text.
                live=LiveReply(
                    self.client(settings), body, tag=self.request_tag(), ledger=self.request_log or self.store,
                    log_end_later=True,
                ),
                conversation=chat,
                question_id=chat.leaf,
                model=chat.model,
                params=dict(chat.params),
                owner=self.store.owner if self.store is not None else LOCAL_OWNER,
                request=request,
            )
            flight.live.on_done = lambda _live: self._ended_unwatched(flight)
            flight.live.on_progress = lambda _live: self._keep_draft(flight)
            # Ended replies are kept only until the next one starts: a late Stop still finds its message.
            self._flights = [f for f in self._flights if not f.recorded]
            self._flights.append(flight)
            with _streaming_lock:
                _streaming[chat.id] = flight
            if start:
                flight.live.start()
            return flight.live

    def _flight(self, live: LiveReply) -> _Flight | None:
        return next((f for f in self._flights if f.live is live), None)

    def stop_reply(self, live: LiveReply | None = None) -> Message | None:
        """Stop (the reply in flight, or ``live``) and record what arrived: the Stop buttons call this."""
        live = live or self.reply_in_flight()
        if live is None:
            return None
        # Not under the lock: the worker records the end under it, and stop() waits for the worker.
        live.stop()
        return self.record(live)

    def record(self, live: LiveReply) -> Message | None:
        """Record how ``live`` ended (stopping it first if it still runs), once; then save at once.

        The reply must outlive a crash of the server, so it is saved as soon as it is recorded.
        """
        if live.running:
            live.stop()
        flight = self._flight(live)
        if flight is None:
            return None
        return self._record(flight)

    @contextmanager
    def watching(self, live: LiveReply) -> Iterator[None]:
        """Around a script run's drawing of ``live``: the run records it when it ends (see :meth:`record`).

        A run cut short (any click reruns the page) records it here if it ended meanwhile;
        a reply that ends with no run drawing it is recorded by its worker thread.
        """
        flight = self._flight(live)
        if flight is None:
            yield
            return
        # flight.lock, not the session's: the reply may be drawn by another session too (a reload),
        # and it is always taken before the session's lock, never after.
        with flight.lock:
            flight.watchers += 1
        try:
            yield
        finally:
            with flight.lock:
                flight.watchers -= 1
                orphaned = flight.watchers == 0 and not live.running
            if orphaned:
                self._record(flight)

    def _ended_unwatched(self, flight: _Flight) -> None:
        # On the worker thread, as the stream ends. A run drawing the reply records it itself,
        # once it has drawn the whole text: saving here would compete with that for the GIL.
        with flight.lock:
            if flight.watchers == 0:
                self._record(flight)

    def _record(self, flight: _Flight) -> Message | None:
        with flight.lock, self._lock:
            if flight.recorded:
                return flight.reply
            try:
                flight.reply = self._finish(flight)
            finally:
                flight.recorded = True
                flight.live.log_end()
                # The callbacks point back at this session: without them a closed session is freed
                # at once, not at Python's next full collection.
                flight.live.on_done = flight.live.on_progress = None
                with _streaming_lock:
                    if _streaming.get(flight.conversation.id) is flight:
                        del _streaming[flight.conversation.id]
                self._save(flight)
            return flight.reply

    def _keep_draft(self, flight: _Flight) -> None:
        """Save what has arrived so far (on the worker thread): a server killed mid-reply loses at most a few seconds."""
        if self.store is None or self.deleted_elsewhere and flight.conversation is self.conversation:
            return
        draft = Message(
            "assistant", flight.live.text, parent=flight.question_id, id=flight.reply_id, status="incomplete",
            model=flight.model, params=flight.params, error_title="Interrupted", request=flight.request,
            error="The app stopped while this reply was streaming; this is the part that had arrived.",
        )
        try:
            self.store.save_draft(flight.conversation.id, draft)
        except ChatError as exc:
            self.save_error = str(exc)

    def _save(self, flight: _Flight) -> None:
        if flight.conversation is self.conversation:
            self.autosave()
        elif self.store is not None:
            # Left in the background: only its question and reply changed since it was last saved.
            changed = [flight.question_id] + ([flight.reply.id] if flight.reply else [])
            try:
                self.store.save(flight.conversation, changed=changed)
            except ConversationNotFoundError:
                return  # deleted meanwhile: deleting is final
            except ChatError as exc:
                self.save_error = str(exc)

    def _finish(self, flight: _Flight) -> Message | None:
        """Put the outcome into the conversation. Text that arrived is always kept as a reply
        (stopped or incomplete); with no text, the user message keeps the error and a Retry button.
        """
        outcome = flight.live.outcome()
        chat, question = flight.conversation, flight.question_id
        if question not in chat.messages:
            return None  # its turn was deleted meanwhile
        if outcome.text or outcome.stats.usage:
            self.totals.add(outcome.stats)
        if not outcome.text:
            if outcome.stopped:
                chat.fail("Stopped before the reply started.", "Stopped", to=question)
            elif outcome.error is not None:
                chat.fail(str(outcome.error), outcome.error.title, to=question)
            else:
                chat.fail("The model returned an empty reply.", "Empty reply", to=question)
            return None
        reply = chat.add_reply(
            outcome.text,
            status=outcome.status,  # type: ignore[arg-type]
            stats=outcome.stats,
            model=flight.model,
            params=flight.params,
            to=question,
            id=flight.reply_id,
            request=flight.request,
        )
        if outcome.error is not None:
            reply.error, reply.error_title = str(outcome.error), outcome.error.title
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
