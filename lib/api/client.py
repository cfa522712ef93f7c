"""The one API client: POST ``{base}/chat/completions`` and stream the reply.

Retries of 429 and 5xx answers are urllib3's :class:`~urllib3.util.Retry` (honouring
``Retry-After``, with exponential backoff); they happen before any text has arrived,
because a status line comes before the body. A hook tells the page about each wait.
"""

from __future__ import annotations

import functools
import inspect
import io
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, TypeVar

import requests
from requests.adapters import HTTPAdapter
from requests.auth import AuthBase
from urllib3.exceptions import HTTPError, InvalidHeader, MaxRetryError, ReadTimeoutError, ResponseError
from urllib3.util import Retry

from lib.api.sse import iter_sse_events
from lib.chat.usage import Cost, Usage, header_cost, reported_cost
from lib.errors import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatError,
    MalformedResponseError,
    ModelNotFoundError,
    OutOfCreditsError,
    RateLimitError,
    RequestCancelledError,
    ServerError,
    StreamInterruptedError,
)
from lib.secret import Secret, redact, redact_error
from lib.settings import Settings, without_credentials

log = logging.getLogger(__name__)

RETRY_STATUSES = (429, 500, 502, 503, 504)
_Method = TypeVar("_Method", bound=Callable[..., Any])
#: called with (seconds to wait, HTTP status) before each automatic retry
RetryHook = Callable[[float, int], None]


@dataclass
class Chunk:
    """What one server-sent event (or a whole non-streamed response) carried."""

    text: str = ""
    finish_reason: str | None = None
    usage: Usage | None = None
    cost: Cost | None = None
    model: str | None = None
    provider: str | None = None
    id: str | None = None


_cancel_local = threading.local()
_sent_local = threading.local()


@contextmanager
def _event_for_this_thread(local: threading.local, event: threading.Event) -> Iterator[None]:
    """``local.event`` is ``event`` while in this block, then what it was before (blocks nest)."""
    previous = getattr(local, "event", None)
    local.event = event
    try:
        yield
    finally:
        local.event = previous


@contextmanager
def cancelled_by(event: threading.Event) -> Iterator[None]:
    """While in this block, on this thread, setting ``event`` ends a wait for a retry at once.

    The wait then raises :class:`RequestCancelledError` and no further request goes out. A
    thread-local because urllib3 waits on the thread that called :meth:`ChatClient.stream`,
    and one client may stream for several replies on several threads.
    """
    with _event_for_this_thread(_cancel_local, event):
        yield


@contextmanager
def sent_signalled_by(event: threading.Event) -> Iterator[None]:
    """While in this block, on this thread, ``event`` is set once a request's body has been written.

    That is when the request has left, before the server answers: a page can hold its drawing
    until then, so that its thread does not compete with the one sending (bench/analysis.md).
    A thread-local for the reason of :func:`cancelled_by`.
    """
    with _event_for_this_thread(_sent_local, event):
        yield


class _SignallingBody(io.BytesIO):
    """A request body that sets an event once it has been read to its end, i.e. written out.

    urllib3 reads a file-like body block by block and sends each block before it reads the next,
    so the read that finds the end comes after the last byte went to the socket.
    """

    def __init__(self, data: bytes, sent: threading.Event) -> None:
        super().__init__(data)
        self._sent = sent

    def read(self, size: int | None = -1, /) -> bytes:
        block = super().read(size)
        if not block:
            self._sent.set()
        return block


def _wait_for_retry(seconds: float) -> None:
    """Sleep before a retry, unless (or until) the request is cancelled (see :func:`cancelled_by`)."""
    event: threading.Event | None = getattr(_cancel_local, "event", None)
    if event is None:
        if seconds > 0:
            time.sleep(seconds)
        return
    # Checked even for no wait: a request stopped before its retry must not send it.
    if event.wait(max(0.0, seconds)):
        # Not a urllib3 or requests exception, so that neither turns it into a retry or a ConnectionError.
        raise RequestCancelledError("Stopped before the automatic retry was sent.")


class NotifyingRetry(Retry):
    """urllib3's Retry, telling a hook how long it is about to wait and why.

    It waits no longer than ``max_wait``: an answer whose Retry-After asks for more is handed
    back as it is (see :meth:`increment`), for :class:`ChatClient` to say how long the server
    asked; and its waits end early when the request is cancelled (:func:`cancelled_by`).
    """

    def __init__(
        self, *args: Any, on_wait: RetryHook | None = None, max_wait: float | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.on_wait = on_wait
        self.max_wait = max_wait

    def new(self, **kw: Any) -> NotifyingRetry:
        retry = super().new(**kw)
        retry.on_wait = self.on_wait
        retry.max_wait = self.max_wait
        return retry

    def wait_beyond_cap(self, response: Any) -> float | None:
        """The wait ``response``'s Retry-After asks for when it is longer than ``max_wait``; else None."""
        if self.max_wait is None or not self.respect_retry_after_header:
            return None
        wait = self.get_retry_after(response)
        return wait if wait is not None and wait > self.max_wait else None

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: Any = None,
        error: Exception | None = None,
        _pool: Any = None,
        _stacktrace: Any = None,
    ) -> NotifyingRetry:
        # The hook that sees the answer before any wait: a MaxRetryError here, with
        # raise_on_status off, makes urllib3 return this answer unread instead of retrying.
        if response is not None and self.wait_beyond_cap(response) is not None:
            raise MaxRetryError(_pool, url or "", ResponseError("Retry-After beyond AIMLAPI_MAX_RETRY_WAIT"))
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def get_backoff_time(self) -> float:
        # urllib3 retries the first failure at once; after a 429 that only earns another 429.
        # Waits here are factor x 1, 2, 4 … from the first retry on.
        failures = len(self.history)
        if failures == 0:
            return 0.0
        return float(min(self.backoff_max, self.backoff_factor * 2 ** (failures - 1)))

    def parse_retry_after(self, retry_after: str) -> float:
        # Servers send fractional seconds or garbage too; neither should end the request.
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:
            return self.get_backoff_time()

    def sleep(self, response: Any = None) -> None:
        # What urllib3's sleep() does (Retry-After when it is set and not 0, else the backoff),
        # but waiting through _wait_for_retry, which a Stop cuts short.
        wait = None
        if response is not None and self.respect_retry_after_header:
            wait = self.get_retry_after(response)
        if not wait:
            wait = self.get_backoff_time()
        if self.on_wait is not None and response is not None:
            self.on_wait(float(wait), int(response.status))
        _wait_for_retry(float(wait))


class _BearerAuth(AuthBase):
    """Sets ``Authorization: Bearer <key>`` (or none without a key) as the last word on it.

    Passed as ``auth=``, so that requests neither takes Basic auth from a ``user:pass@`` in
    the URL nor from ``~/.netrc``; either would replace the bearer header, and the key would
    never be sent.
    """

    def __init__(self, key: Secret) -> None:
        self._key = key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        if self._key:
            request.headers["Authorization"] = f"Bearer {self._key.reveal()}"
        else:
            request.headers.pop("Authorization", None)
        return request

    def __repr__(self) -> str:
        return "_BearerAuth(***)"


def _without_key(key_of: Callable[[Any], Secret | None]) -> Callable[[_Method], _Method]:
    """Mask the key (``key_of(self)``) in every ChatError the method raises, whole or in part.

    What a server says (an error body, an error event, a page in place of the stream) goes
    into error messages, which the page shows and the store saves; a server may echo the
    key in it ("Incorrect API key provided: sk-…"). Cleaning where errors leave the client
    covers every message built from a server's words, present and future.
    """

    def decorate(method: _Method) -> _Method:
        if inspect.isgeneratorfunction(method):

            @functools.wraps(method)
            def generator(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
                try:
                    yield from method(self, *args, **kwargs)
                except ChatError as exc:
                    # The same exception, cleaned in place: its type, status and request id still hold.
                    raise redact_error(exc, key_of(self)) from exc.__cause__

            return generator  # type: ignore[return-value]

        @functools.wraps(method)
        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return method(self, *args, **kwargs)
            except ChatError as exc:
                raise redact_error(exc, key_of(self)) from exc.__cause__

        return call  # type: ignore[return-value]

    return decorate


class ChatClient:
    """One per browser session: keeps its HTTP connection alive between turns."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._on_retry: RetryHook | None = None
        retry = NotifyingRetry(
            total=settings.max_retries,
            connect=settings.max_retries,
            # A read error after the request went out may have started a paid generation.
            read=0,
            status=settings.max_retries,
            status_forcelist=RETRY_STATUSES,
            allowed_methods=None,
            backoff_factor=settings.retry_backoff,
            # Backoff waits stay within AIMLAPI_MAX_RETRY_WAIT too.
            backoff_max=min(30, settings.max_retry_wait),
            respect_retry_after_header=True,
            raise_on_status=False,
            on_wait=self._notify,
            max_wait=settings.max_retry_wait,
        )
        self._retry = retry
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"ChatClient(base_url={self.base_url!r})"

    @property
    def base_url(self) -> str:
        # Settings strip a user:password from the URL already; settings built by hand may not.
        return without_credentials(self.settings.base_url)

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    def _notify(self, seconds: float, status: int) -> None:
        if self._on_retry is not None:
            self._on_retry(seconds, status)

    def close(self) -> None:
        self.session.close()

    @_without_key(lambda client: client.settings.api_key)
    def stream(
        self,
        body: dict[str, Any],
        on_retry: RetryHook | None = None,
        cancel: threading.Event | None = None,
        request_id: str | None = None,
    ) -> ChatStream:
        """Send ``body`` and return the open stream; raises a :class:`ChatError` on failure.

        Setting ``cancel`` (or the event of an enclosing :func:`cancelled_by`) during a wait for
        a retry raises :class:`RequestCancelledError` at once, the retry unsent.
        """
        if cancel is not None:
            with cancelled_by(cancel):
                return self.stream(body, on_retry, request_id=request_id)
        key = self.settings.api_key
        # Ours, on every request (retries too), so that a logged row can be found in the API's logs.
        headers = {
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
            "X-Client-Request-Id": request_id or str(uuid.uuid4()),
        }
        if key:
            headers["Authorization"] = f"Bearer {key.reveal()}"
        self._on_retry = on_retry
        try:
            sent: threading.Event | None = getattr(_sent_local, "event", None)
            payload = json.dumps(body, allow_nan=False).encode()
            response = self.session.post(
                self.url,
                data=payload if sent is None else _SignallingBody(payload, sent),
                headers=headers,
                auth=_BearerAuth(key),
                stream=True,
                timeout=(self.settings.connect_timeout, self.settings.read_timeout),
            )
        except requests.exceptions.ConnectTimeout:
            raise APITimeoutError(
                f"Could not connect to {self.base_url} within "
                f"{self.settings.connect_timeout:g} s (AIMLAPI_CONNECT_TIMEOUT)."
            ) from None
        except requests.exceptions.RequestException as exc:
            if _timed_out_reading(exc):
                raise APITimeoutError(
                    f"The API did not start answering within {self.settings.read_timeout:g} s "
                    "(AIMLAPI_READ_TIMEOUT)."
                ) from None
            raise APIConnectionError(
                f"Could not reach {self.base_url}: {_reason(exc, key)}."
            ) from None
        finally:
            self._on_retry = None
        if response.status_code in RETRY_STATUSES and (wait := self._retry.wait_beyond_cap(response)) is not None:
            try:
                retried = getattr(getattr(response.raw, "retries", None), "history", ())
                raise _wait_refused(response, wait, self.settings.max_retry_wait, len(retried))
            finally:
                response.close()
        if response.status_code >= 400:
            try:
                retried = getattr(getattr(response.raw, "retries", None), "history", ())
                raise error_from_response(response, retries=len(retried))
            finally:
                response.close()
        return ChatStream(response, self.settings.read_timeout, key=key)


def _duration(seconds: float) -> str:
    """``3600 s (1 h)``: the seconds as the server gave them, and in words a person reads at a glance."""
    text = f"{seconds:g} s"
    if seconds >= 2 * 3600:
        return f"{text} (about {seconds / 3600:.0f} h)"
    if seconds >= 120:
        return f"{text} (about {seconds / 60:.0f} min)"
    return text


def _wait_refused(response: requests.Response, wait: float, cap: float, retries: int) -> ChatError:
    """The error for an answer whose Retry-After asks for more than AIMLAPI_MAX_RETRY_WAIT: not retried."""
    status = response.status_code
    try:
        body = response.text
    except requests.exceptions.RequestException:
        body = ""
    api_message, request_id = parse_error_body(body)
    request_id = request_id or response.headers.get("x-request-id")
    lead = "Rate limited (429)" if status == 429 else f"Server unavailable ({status})"
    after = f" after {retries} automatic retr{'y' if retries == 1 else 'ies'}" if retries else ""
    message = (
        f"{lead}: the server asks to wait {_duration(wait)}{after}, more than "
        f"AIMLAPI_MAX_RETRY_WAIT={cap:g} s, so no automatic retry was made. Press Retry once that time has passed."
    )
    cls = RateLimitError if status == 429 else ServerError
    return cls(message, status=status, request_id=request_id, detail=api_message)


def _timed_out_reading(exc: BaseException) -> bool:
    """A read timeout, whether requests says so or (once urllib3's retries are spent) calls it a ConnectionError."""
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return True
    inner = exc.args[0] if exc.args else None
    return isinstance(getattr(inner, "reason", inner), ReadTimeoutError)


def _reason(exc: BaseException, key: Secret) -> str:
    """A one-line cause for a connection failure, without urllib3's object reprs or the key."""
    text = str(exc)
    for marker in ("Caused by ", "caused by "):
        if marker in text:
            text = text.split(marker, 1)[1]
    text = text.strip("()'\" ")
    if "Connection refused" in text or "Errno 111" in text:
        text = "connection refused"
    elif "Name or service not known" in text or "nodename nor servname" in text or "Failed to resolve" in text:
        text = "the host name could not be resolved"
    return redact(text[:300], key)


def _first_str(*values: Any) -> str | None:
    for value in values:
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def parse_error_body(text: str) -> tuple[str | None, str | None]:
    """The message and request id from either of the API's error shapes (or OpenAI's)."""
    try:
        data = json.loads(text)
    except (ValueError, TypeError):
        return None, None
    if not isinstance(data, dict):
        return None, None
    error = data.get("error")
    nested_message = None
    if isinstance(error, dict):
        nested_message = error.get("message")
    elif isinstance(error, str):
        nested_message = error
    message = data.get("message")
    if isinstance(message, list):
        message = "; ".join(str(m) for m in message)
    text_message = _first_str(message, nested_message, data.get("detail"), data.get("title"))
    request_id = _first_str(data.get("requestId"), data.get("request_id"))
    return text_message, request_id


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: OutOfCreditsError,
    404: ModelNotFoundError,
    429: RateLimitError,
}


def error_from_response(response: requests.Response, retries: int = 0) -> ChatError:
    """Map an HTTP error answer to the error class a user can act on.

    The page shows ``**{title}.** {message}``, so the message goes on from the class's title
    instead of saying it again: the status, the API's own words, then what to do.
    """
    status = response.status_code
    try:
        body = response.text
    except requests.exceptions.RequestException:
        body = ""
    api_message, request_id = parse_error_body(body)
    request_id = request_id or response.headers.get("x-request-id") or response.headers.get("request-id")
    cls = _STATUS_CLASSES.get(status) or (ServerError if status >= 500 else APIStatusError)
    retry_later = "It may be temporary: press Retry in a moment."
    lead, advice = {
        400: ("The API rejected the request (400)", ""),
        401: ("Unauthorized (401)", "Check AIMLAPI_API_KEY in the environment, .env or .streamlit/secrets.toml, "
              "or paste a key in the sidebar."),
        403: ("The API refused the request (403)", "On the AI/ML API this means the account has no credits left: "
              "top up at aimlapi.com, or use another key."),
        404: ("No such model or path (404)", "Check the model id and AIMLAPI_BASE_URL."),
        429: ("Rate limited (429)", "Wait a moment and press Retry."),
        500: ("Internal error (500)", retry_later),
        502: ("Bad gateway (502)", retry_later),
        503: ("Service unavailable (503)", retry_later),
        504: ("Gateway timeout (504)", retry_later),
    }.get(status) or (
        (f"The server failed ({status})", retry_later) if status >= 500 else (f"The API answered with HTTP {status}", "")
    )

    def plain(text: str) -> str:
        return " ".join(text.split()).rstrip(".!").casefold()

    # A body that only names the status ("Model not found", "Internal Server Error") would
    # repeat the title or the lead; the API's words are kept when they add something.
    empty_words = {plain(cls.title), plain(lead.rsplit(" (", 1)[0])} | {plain(s.phrase) for s in HTTPStatus}
    # For these the title and the advice say all there is ("You have run out of credits");
    # a 400's own words are always kept, as they name the bad field.
    says_the_title = status in (403, 404) and plain(cls.title) in plain(api_message or "")
    if api_message is not None and (plain(api_message) in empty_words or says_the_title):
        said = lead
    elif api_message is not None:
        said = f"{lead}: {api_message}"
    elif body.strip():
        said = f"{lead} with a body that is not JSON: {' '.join(body.split())[:200]!r}"
    else:
        said = lead
    if not said.endswith((".", "!", "?")):
        said += "."
    if retries:
        said += f" Retried automatically {retries} time{'' if retries == 1 else 's'}, in vain."
    return cls(f"{said} {advice}".strip(), status=status, request_id=request_id)


class ChatStream:
    """An open reply. Iterate for :class:`Chunk`s; :meth:`close` ends it at once."""

    #: the first bytes of the body, kept to say what came when it held no reply
    _head: bytes = b""

    def __init__(self, response: requests.Response, read_timeout: float, *, key: Secret | None = None) -> None:
        self.response = response
        #: masked in every error the stream raises (see :func:`_without_key`)
        self.key = key
        self._read_timeout = read_timeout
        self.request_id = response.headers.get("x-request-id")
        self.closed = False

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the HTTP connection, which tells the server to stop generating."""
        if self.closed:
            return
        self.closed = True
        # The worker thread may sit in recv() on this socket, holding the reader's lock:
        # response.close() alone would wait for the server's next byte. A shutdown wakes the
        # reader at once. urllib3's shutdown() works even after http.client has let go of the
        # socket (it does as soon as the headers say Connection: close, as close-delimited
        # answers do), where the connection's own socket attribute is already None.
        try:
            self.response.raw.shutdown()
        except (ValueError, RuntimeError, OSError):
            pass  # no socket to wake: the body was read to its end and the connection released
        # Unread, the connection cannot go back to the pool: urllib3 drops the socket.
        self.response.close()

    def _reads(self) -> Iterator[bytes]:
        """The body as it arrives, decompressed, whatever its framing.

        ``read1`` returns what one read of the socket brought (or what is already
        buffered), so a body ended by closing the connection streams as well as a chunked
        one; ``requests``' line and content iterators would read such a body to its end.
        """
        raw = self.response.raw
        while True:
            data = raw.read1(decode_content=True)
            if not data:
                return
            if len(self._head) < _HEAD_BYTES:
                self._head += data[: _HEAD_BYTES - len(self._head)]
            yield data

    def _not_a_reply(self, content_type: str) -> ChatError:
        """The error for a body that held no reply, naming what it held (from :attr:`_head`)."""
        text = self._head.decode("utf-8", "replace")
        status = self.response.status_code
        api_message, request_id = parse_error_body(text)
        if api_message:
            # An error in JSON under another type, or a 200 that carries one: the server's own words.
            return APIStatusError(
                _sentence(f"The API answered {status} with an error in place of a reply: {api_message}"),
                status=status,
                request_id=request_id or self.request_id,
            )
        kind = content_type.split(";", 1)[0].strip() or "no Content-Type"
        snippet = " ".join(text.split())[:_SNIPPET_CHARS]
        if not snippet:
            return MalformedResponseError("The API answered with an empty stream: no reply at all.")
        if kind == "text/event-stream":
            return MalformedResponseError(f"The API's event stream held no reply: {snippet!r}.")
        hint = ""
        if "html" in kind:
            hint = " A proxy or a login page may stand between the app and the API: check AIMLAPI_BASE_URL."
        return MalformedResponseError(
            f"The API answered {status} with {kind} in place of an event stream: {snippet!r}.{hint}",
            request_id=self.request_id,
        )

    @_without_key(lambda stream: stream.key)
    def __iter__(self) -> Iterator[Chunk]:
        content_type = self.response.headers.get("Content-Type", "")
        if "application/json" in content_type:
            # The server ignored stream: true; a whole completion is still a reply.
            yield self._whole_response()
            return
        if "html" in content_type:
            # A proxy's login page, a captive portal: a 200 with a page is no stream; say what it is.
            for _ in self._reads():
                if len(self._head) >= _HEAD_BYTES:
                    break
            raise self._not_a_reply(content_type)
        ended = False
        saw_any = False
        try:
            for data in iter_sse_events(self._reads()):
                if data.strip() == "[DONE]":
                    ended = True
                    break
                chunk = parse_chunk(data)
                saw_any = True
                if chunk.finish_reason or chunk.usage:
                    # The docs' ending: usage arrives with choices: [] and the body closes.
                    ended = True
                yield chunk
                if chunk.usage and not self.response.raw.chunked:
                    # Nothing of the reply comes after its usage, and a body that ends by closing
                    # cannot be reused anyway: not waiting for the close spares a lingering server's
                    # delay (up to AIMLAPI_READ_TIMEOUT). A chunked body is read to its end, so
                    # that its connection goes back to the pool for the next turn.
                    return
        except ReadTimeoutError:
            # After the stream's own ending, a server that keeps the body open is no failure.
            if self.closed or ended:
                return
            raise APITimeoutError(
                f"The stream stalled for more than {self._read_timeout:g} s (AIMLAPI_READ_TIMEOUT)."
            ) from None
        except HTTPError:
            # urllib3's own errors, read1 being urllib3's: ProtocolError (a chunked body cut
            # short, a reset), DecodeError (a gzip stream cut short) …
            if self.closed or ended:
                return
            raise StreamInterruptedError("The connection dropped while the reply was streaming.") from None
        except Exception:
            # Reading a response closed under us fails in assorted ways; after Stop that is the end.
            if self.closed:
                return
            raise
        # A close-delimited body ends the same way whether it is done or dropped: by EOF.
        # Only the stream's own ending tells the two apart.
        if not ended and not self.closed:
            if saw_any:
                raise StreamInterruptedError("The stream ended before the reply was finished.")
            raise self._not_a_reply(content_type)

    def _whole_response(self) -> Chunk:
        try:
            data = self.response.json()
        except ValueError:
            snippet = " ".join(self.response.text.split())[:_SNIPPET_CHARS]
            raise MalformedResponseError(
                f"The API answered with JSON that could not be read: {snippet!r}.", request_id=self.request_id
            ) from None
        choices = data.get("choices") if isinstance(data, dict) else None
        if not choices:
            self._head = self.response.content[:_HEAD_BYTES]
            if parse_error_body(self.response.text)[0]:
                # A 200 whose body is an error ({"error": {"message": …}}): the server's words, not "no choices".
                raise self._not_a_reply(self.response.headers.get("Content-Type", ""))
            raise MalformedResponseError("The API's response held no choices: no reply was generated.")
        first = choices[0] if isinstance(choices[0], dict) else {}
        message = first.get("message") or {}
        return Chunk(
            text=message.get("content") or "",
            finish_reason=first.get("finish_reason") or "stop",
            usage=Usage.from_api(data.get("usage")),
            cost=reported_cost(data.get("usage"), data.get("meta")) or header_cost(self.response.headers),
            model=data.get("model"),
            provider=data.get("provider"),
            id=data.get("id"),
        )


#: how much of a body that is no reply is kept, and how much of it an error message quotes
_HEAD_BYTES = 4096
_SNIPPET_CHARS = 160


def _sentence(text: str) -> str:
    return text if text.endswith((".", "!", "?")) else f"{text}."


def parse_chunk(data: str) -> Chunk:
    """Read one ``data:`` payload of a chat completion stream."""
    try:
        payload = json.loads(data)
    except ValueError:
        raise MalformedResponseError(
            f"The API sent a stream line that is not JSON: {data[:80]!r}."
        ) from None
    if not isinstance(payload, dict):
        raise MalformedResponseError("The API sent a stream event that is not a JSON object.")
    if payload.get("error"):
        message, request_id = parse_error_body(data)
        raise StreamInterruptedError(
            f"The API reported an error mid-stream: {message or 'no details given'}.",
            request_id=request_id,
        )
    chunk = Chunk(
        usage=Usage.from_api(payload.get("usage")),
        cost=reported_cost(payload.get("usage"), payload.get("meta")),
        model=payload.get("model"),
        provider=payload.get("provider"),
        id=payload.get("id"),
    )
    choices = payload.get("choices")
    if isinstance(choices, list) and choices:
        first = choices[0] if isinstance(choices[0], dict) else {}
        delta = first.get("delta") or first.get("message") or {}
        content = delta.get("content") if isinstance(delta, dict) else None
        chunk.text = content if isinstance(content, str) else ""
        chunk.finish_reason = first.get("finish_reason") or None
    return chunk
