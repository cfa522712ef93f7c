"""A reply being streamed: read on a worker thread, watched and stoppable from the page.

The page's script thread cannot block on a socket and still react to the Stop button:
Streamlit interrupts a script only when it sends something to the browser. So the HTTP
stream is read here on a worker thread, and :meth:`LiveReply.views` hands the page a
fresh view whenever text arrives, and at least every ``tick`` seconds while it waits, so
that the page always has a reason to redraw and thus a point to be interrupted at.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from lib.api.client import ChatClient, ChatStream, cancelled_by, sent_signalled_by
from lib.chat import recorder
from lib.chat.context_gauge import estimate_usage
from lib.chat.recorder import RequestTag
from lib.chat.usage import ReplyStats, estimate_cost
from lib.errors import ChatError
from lib.secret import redact
from lib.store.request_log import RequestRow

log = logging.getLogger(__name__)

#: least time between two redraws of a short streaming reply (s): one frame, the most a screen shows.
#: Redrawn less often (every 40 ms, as before), the reply's end came a frame late in about 40% of
#: turns in Chromium, against 5% at one redraw a frame (bench/analysis.md).
FRAME = 1 / 60
#: least time between two redraws of a long reply (s), whose Markdown costs the browser more to redraw
LONG_TEXT_INTERVAL = 0.04
#: characters from which a reply is redrawn at most every LONG_TEXT_INTERVAL; shorter, in proportion
LONG_TEXT = 4000


def redraw_interval(characters: int) -> float:
    """Least time between two redraws of a streaming reply this long (s): a frame, up to 40 ms for long text."""
    return min(LONG_TEXT_INTERVAL, max(FRAME, LONG_TEXT_INTERVAL * characters / LONG_TEXT))


@dataclass
class ReplyView:
    """What the page shows while a reply streams."""

    text: str
    #: a status line, e.g. "Rate limited (429): retrying in 2 s", or "" when none
    note: str
    done: bool
    waiting: bool


@dataclass
class ReplyOutcome:
    """How a reply ended, for the conversation to record."""

    text: str
    stats: ReplyStats
    #: None when the reply finished normally or was stopped by the user
    error: ChatError | None
    stopped: bool

    @property
    def status(self) -> str:
        if self.stopped:
            return "stopped"
        return "incomplete" if self.error else "complete"


@dataclass
class LiveReply:
    client: ChatClient
    body: dict[str, Any]
    _parts: list[str] = field(default_factory=list)
    #: why the request is being retried, e.g. "Rate limited (429)"; "" when it is not
    _note: str = ""
    _retry_at: float = 0.0
    _error: ChatError | None = None
    _stopped: bool = False
    _stream: ChatStream | None = None
    #: set by Stop: cuts short a wait for an automatic retry, so that no retry goes out after it
    _cancel: threading.Event = field(default_factory=threading.Event)
    _sent: threading.Event = field(default_factory=threading.Event)
    #: set when the stream has ended, before ``on_done`` records it: the page draws the whole text first
    _ended: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _changed: threading.Event = field(default_factory=threading.Event)
    _done: threading.Event = field(default_factory=threading.Event)
    stats: ReplyStats = field(default_factory=ReplyStats)
    #: called on the worker thread once the reply has ended, before :meth:`wait` returns, so
    #: that the reply is recorded even when no page is watching it (a closed tab, another chat)
    on_done: Callable[[LiveReply], None] | None = None
    #: called on the worker thread at most every ``progress_every`` s while text arrives, so that
    #: what arrived can be kept (a server killed mid-reply loses at most those seconds)
    on_progress: Callable[[LiveReply], None] | None = None
    progress_every: float = 2.0
    #: True: the worker leaves the request log's row to :meth:`log_end`, which the owner calls once the page
    #: has drawn the whole text (a write as the stream ends competes with that drawing for the GIL). The
    #: owner must call it however the reply ends; with no ``on_done`` left at the end, the worker writes it.
    log_end_later: bool = False
    #: where the request comes from, for the request log
    tag: RequestTag = field(default_factory=RequestTag)
    #: the store that logs it and checks the limits; None: the one installed (:func:`recorder.install`)
    ledger: Any = None
    #: ours, sent as X-Client-Request-Id and logged, so that a row can be matched with the API's logs
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    retries: int = 0
    _row: RequestRow | None = None
    _completion_id: str | None = None
    _ledger: Any = None
    _logged: bool = False

    def start(self) -> LiveReply:
        self._started = time.monotonic()
        threading.Thread(target=self._run, name="live-reply", daemon=True).start()
        return self

    # -- worker thread ---------------------------------------------------------------

    def _on_retry(self, seconds: float, status: int) -> None:
        reason = "Rate limited (429)" if status == 429 else f"Server error ({status})"
        self.retries += 1
        with self._lock:
            self._note = reason
            self._retry_at = time.monotonic() + seconds
        self._changed.set()

    def _note_now(self) -> str:
        """The status line as of now: a wait for a retry counts down (the page redraws every tick)."""
        if not self._note:
            return ""
        left = self._retry_at - time.monotonic()
        return f"{self._note}: retrying in {math.ceil(left)} s…" if left >= 0.5 else f"{self._note}: retrying…"

    def _progress(self) -> None:
        callback = self.on_progress  # None once the reply was recorded
        if callback is None:
            return
        try:
            callback(self)
        except Exception as exc:  # noqa: BLE001 - keeping a draft must never cut the reply
            log.error("keeping the reply so far failed: %s", redact(repr(exc), self.client.settings.api_key))

    def _run(self) -> None:
        stats = self.stats
        kept_at = 0.0
        self._ledger = ledger = self.ledger if self.ledger is not None else recorder.installed()
        settings = self.client.settings
        try:
            # Refused here (a limit reached) nothing is sent and nothing logged.
            self._row = recorder.begin(ledger, self.tag, self.body, self.request_id, settings)
            # A context, not an argument of stream(): the stream's signature stays as callers know it.
            with cancelled_by(self._cancel), sent_signalled_by(self._sent):
                stream = self.client.stream(self.body, on_retry=self._on_retry, request_id=self.request_id)
            self._sent.set()  # a client that does not write the body itself (a test's) has sent it by now
            with self._lock:
                self._stream = stream
                self._note = ""
                stopped = self._stopped
            if stopped:
                stream.close()
                return
            stats.request_id = stream.request_id
            with stream:
                for chunk in stream:
                    if chunk.text and stats.time_to_first_token is None:
                        stats.time_to_first_token = time.monotonic() - self._started
                    stats.model = chunk.model or stats.model
                    stats.provider = chunk.provider or stats.provider
                    stats.finish_reason = chunk.finish_reason or stats.finish_reason
                    stats.usage = chunk.usage or stats.usage
                    stats.cost = chunk.cost or stats.cost
                    self._completion_id = chunk.id or self._completion_id
                    if chunk.text:
                        stats.last_token_time = time.monotonic() - self._started
                        with self._lock:
                            self._parts.append(chunk.text)
                        self._changed.set()
                        if self.on_progress is not None and stats.last_token_time - kept_at >= self.progress_every:
                            kept_at = stats.last_token_time
                            self._progress()
        except ChatError as exc:
            with self._lock:
                if not self._stopped:
                    self._error = exc
        except Exception as exc:  # noqa: BLE001 - a fault must reach the page as a message
            key = self.client.settings.api_key
            log.error("unexpected error while streaming: %s", redact(repr(exc), key), exc_info=False)
            with self._lock:
                if not self._stopped:
                    self._error = ChatError(f"Unexpected error: {redact(type(exc).__name__, key)}. It was logged.")
        finally:
            self._sent.set()  # or never will: whoever waits for it goes on
            stats.total_time = time.monotonic() - self._started
            if stats.usage is None and self._parts:
                # Stopped or cut off: the server never sent its count, yet the tokens were generated
                # (and billed). Counted here, marked as an estimate, so that totals do not undercount.
                stats.usage = estimate_usage(self.body.get("messages") or [], "".join(self._parts))
            if stats.cost is None:
                stats.cost = estimate_cost(stats.usage, settings.price_input_per_m, settings.price_output_per_m)
            self._ended.set()
            self._changed.set()
            # After the end is shown (the page draws the whole text on _ended), before wait() returns.
            if not self.log_end_later:
                self.log_end()
            if (on_done := self.on_done) is not None:
                try:
                    on_done(self)
                except Exception as exc:  # noqa: BLE001 - the page must still see the end
                    log.error("recording a finished reply failed: %s", redact(repr(exc), settings.api_key))
            else:
                self.log_end()  # nobody is left to write it
            self._done.set()
            self._changed.set()

    def log_end(self) -> None:
        """Write the request log's row with how the reply ended, once (later calls do nothing); after it ended."""
        with self._lock:
            if self._logged or self._row is None or not self._ended.is_set():
                return  # written already, refused before sending (nothing to log), or not ended yet
            self._logged = True
            error, stopped = self._error, self._stopped
        try:
            recorder.finish(
                self._ledger, self._row, self.stats, error=error, stopped=stopped, retries=self.retries,
                demo=self.client.settings.key_source == "demo", completion_id=self._completion_id,
            )
        except Exception as exc:  # noqa: BLE001 - the reply must end whatever the log does
            log.error("logging the request failed: %s", redact(repr(exc), self.client.settings.api_key))

    # -- page thread -----------------------------------------------------------------

    @property
    def text(self) -> str:
        with self._lock:
            return "".join(self._parts)

    def view(self) -> ReplyView:
        with self._lock:
            text = "".join(self._parts)
            note = self._note_now()
        return ReplyView(text=text, note=note, done=self._ended.is_set(), waiting=not text)

    def views(self, tick: float = 0.2, min_interval: float | None = None) -> Iterator[ReplyView]:
        """Yield a view on a change, at least every ``tick`` s, until the stream ends; the last has ``done``.

        Changes closer together than ``min_interval`` (by default :func:`redraw_interval` of the
        text shown) are drawn together: at 200 tokens a second, redrawing the growing Markdown for
        every token keeps the browser so busy that the end of the reply shows late. The first text
        and the end are never held back: the last view comes as soon as the stream ends, before
        the reply is recorded and saved.
        """
        last_yield = 0.0
        shown: ReplyView | None = None
        while not self._ended.is_set():
            self._changed.wait(tick)
            interval = min_interval if min_interval is not None else redraw_interval(len(shown.text) if shown else 0)
            if last_yield and (hold := interval - (time.monotonic() - last_yield)) > 0:
                self._ended.wait(hold)
            self._changed.clear()
            last_yield = time.monotonic()
            shown = self.view()
            yield shown
        # Not twice the same: a stream that ends while the loop waits was shown whole by its last view.
        if (last := self.view()) != shown:
            yield last

    def wait_sent(self, timeout: float) -> bool:
        """Wait until the request has been written out (or failed, or the reply ended), at most ``timeout`` s.

        The page that started the reply waits here before it draws: the thread sending the request
        then has the interpreter to itself, and the request leaves 2–5 ms sooner than with the
        page drawing beside it (bench/analysis.md). True once sent.
        """
        return self._sent.wait(timeout)

    @property
    def running(self) -> bool:
        """Whether the stream is still being read (False from the moment it ended, before ``on_done``)."""
        return not self._ended.is_set()

    def stop(self) -> None:
        """End generation now: close the HTTP stream, keep what arrived."""
        with self._lock:
            if self._done.is_set() or not self.running:
                return
            self._stopped = True
            self._cancel.set()
            stream = self._stream
        if stream is not None:
            stream.close()
        # Closing the socket wakes the worker at once; let it record its final timings.
        self._done.wait(1.0)

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    def outcome(self) -> ReplyOutcome:
        with self._lock:
            return ReplyOutcome(
                text="".join(self._parts), stats=self.stats, error=self._error, stopped=self._stopped
            )


def start_reply(
    client: ChatClient, body: dict[str, Any], on_done: Callable[[LiveReply], None] | None = None
) -> LiveReply:
    return LiveReply(client, body, on_done=on_done).start()
