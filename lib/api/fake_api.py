"""A fake AI/ML API on 127.0.0.1 that speaks its wire format over real HTTP.

The tests, the benchmarks and the demo mode all use it. It streams server-sent events
shaped like the API's (``provider``, a ``:free`` model id, a last chunk with
``choices: []`` carrying ``usage`` and ``meta.usage.usd_spent``) and can be told to
misbehave, request by request: error statuses in both of the API's error shapes,
``Retry-After``, delays, a slow token rate, a connection dropped after N chunks, a
malformed chunk, or the other stream endings seen in the wild.

Each answer can come in one of several HTTP framings (:data:`FRAMINGS`), because clients
that stream well over ``Transfer-Encoding: chunked`` can still wait for the end of a body
that a simple server or proxy ends by closing the connection, or that it compresses.

Run it alone with ``python -m lib.api.fake_api --port 8765``; ``POST /_fake/plan`` with a
JSON list of behaviours sets what the next requests get.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import gzip
import json
import re
import socket
import threading
import time
import uuid
import zlib
from collections import deque
from dataclasses import asdict, dataclass, field, fields
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from lib.api.demo_model import DEMO_INTRO, FAKE_INTRO, demo_reply, fake_reply
from lib.api.json_reply import json_reply
from lib.api.models import content_part_types, model_info
from lib.chat.context_gauge import TOKENS_PER_IMAGE
from lib.chat.usage import USD_SPENT_HEADER
from lib.images.image import MEDIA_TYPES

#: how a body is framed on the wire: "chunked" (Transfer-Encoding: chunked); "close" (HTTP/1.0
#: style: Connection: close, no Content-Length, the body ends when the socket closes); "gzip"
#: (Content-Encoding: gzip over chunked, flushed per event); "gzip_close" (gzip, close-delimited)
Framing = Literal["chunked", "close", "gzip", "gzip_close"]
FRAMINGS: tuple[Framing, ...] = ("chunked", "close", "gzip", "gzip_close")

_TOKEN = re.compile(r"\s*\S+|\s+")

#: USD per million tokens the fake bills at, so that demo figures look like real ones
DEMO_PRICE_IN = 0.04
DEMO_PRICE_OUT = 0.08


def split_tokens(text: str) -> list[str]:
    """Cut text into word-sized pieces, each standing for one token."""
    return _TOKEN.findall(text) or ([text] if text else [])


def count_prompt_tokens(messages: list[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, list):
            # Gemma 3 reads every image as the same number of tokens, whatever its size.
            images = sum(1 for p in content if isinstance(p, dict) and p.get("type") == "image_url")
            parts = [p for p in content if not (isinstance(p, dict) and p.get("type") == "image_url")]
            total += images * TOKENS_PER_IMAGE
            content = json.dumps(parts) if parts else ""
        text = content if isinstance(content, str) else json.dumps(content)
        total += 4 + len(split_tokens(text or ""))
    return total


@dataclass
class Behaviour:
    """What the fake does with one request."""

    status: int = 200
    #: "api" {message, path, requestId, statusCode, timestamp}; "problem" application/problem+json;
    #: "openai" {error: {...}}; "text" a non-JSON body
    error_shape: Literal["api", "problem", "openai", "text"] = "api"
    error_message: str | None = None
    retry_after: float | None = None
    #: seconds before the status line (a slow server)
    response_delay: float = 0.0
    #: seconds between the headers and the first text chunk
    first_token_delay: float = 0.0
    #: tokens per second after the first; None streams as fast as it can
    token_rate: float | None = None
    #: the reply text; None: a canned answer (:func:`default_text`)
    reply: str | None = None
    #: tokens in each chunk
    tokens_per_chunk: int = 1
    #: cut the connection without ending the stream after this many text chunks
    drop_after: int | None = None
    #: send a line that is not JSON after this many text chunks
    malformed_after: int | None = None
    #: send an ``{"error": {...}}`` event and end the body after this many text chunks
    error_after: int | None = None
    #: the message of that error event
    error_event_message: str = "Upstream error"
    #: "docs": last chunk choices [] with usage, no [DONE]; "done": the same plus data: [DONE];
    #: "usage_in_choice": usage on the chunk with finish_reason, then [DONE]; "bare": no usage at all
    ending: Literal["docs", "done", "usage_in_choice", "bare"] = "docs"
    #: where the cost goes: "usage" (usage.cost), "meta" (meta.usage.usd_spent only), "header"
    #: (only the x-aimlapi-usd-spent header of a reply that is not streamed), "none"; every one
    #: but "none" also sends meta.usage.usd_spent in a stream's last chunk and the header on a
    #: reply that is not streamed, as the API does
    cost_in: Literal["usage", "meta", "header", "none"] = "usage"
    finish_reason: str = "stop"
    #: "sse" normally; "json" ignores stream: true; "no_choices" answers JSON with choices []
    body: Literal["sse", "json", "no_choices"] = "sse"
    #: how the answer is framed (see :data:`FRAMINGS`); None takes the server's :attr:`FakeAPI.framing`
    framing: Framing | None = None
    #: cut what goes on the wire into writes of this many bytes, a moment apart, so that an
    #: event, a line or a UTF-8 character spans several reads of the client
    write_size: int | None = None
    #: seconds to hold the body open after the stream's ending before finishing it (a lingering server)
    linger: float = 0.0
    #: answer with this body as it is, with :attr:`status` and :attr:`raw_content_type` (a proxy's
    #: login page, a 200 carrying an error): what a server that is not the API may send
    raw_body: str | None = None
    #: the Content-Type of :attr:`raw_body`
    raw_content_type: str = "text/plain; charset=utf-8"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Behaviour:
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None
    #: time.monotonic() when the request's body had arrived
    received: float = field(default_factory=time.monotonic)


@dataclass
class FakeAPI:
    """Start with :meth:`start` (or ``with FakeAPI() as api``); point the client at :attr:`url`."""

    host: str = "127.0.0.1"
    port: int = 0
    #: when set, requests without ``Authorization: Bearer <api_key>`` get a 401
    api_key: str | None = None
    default: Behaviour = field(default_factory=Behaviour)
    requests: list[Recorded] = field(default_factory=list)
    #: False for a long-lived server (the demo mode), whose log would grow without bound
    record_requests: bool = True
    #: the demo mode's server: its canned answers speak as the offline demo model, not as the fake API
    demo: bool = False
    #: streams the client closed before the end (the Stop button)
    disconnects: int = 0
    #: the framing of every answer whose behaviour names none
    framing: Framing = "chunked"
    #: chat requests being answered now, and the most there ever were at once (a bound on concurrency)
    in_flight: int = 0
    max_in_flight: int = 0
    _plan: deque[Behaviour] = field(default_factory=deque)
    #: behaviours for the next requests for one model (several in flight at once, as on the Compare page)
    _plans_by_model: dict[str, deque[Behaviour]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # -- control ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/v1"

    def plan(self, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests, one each; later ones get :attr:`default`."""
        with self._lock:
            self._plan.extend(behaviours)

    def plan_for(self, model: str, *behaviours: Behaviour) -> None:
        """Queue behaviours for the next requests for ``model``; they go before the general plan."""
        with self._lock:
            self._plans_by_model.setdefault(model, deque()).extend(behaviours)

    def reset(self) -> None:
        with self._lock:
            self._plans_by_model.clear()
            self._plan.clear()
            self.requests.clear()
            self.default = Behaviour()
            self.disconnects = 0
            self.max_in_flight = self.in_flight

    def bodies(self) -> list[dict[str, Any]]:
        return [r.body for r in self.requests if r.body is not None]

    def _next(self, model: Any = None) -> Behaviour:
        with self._lock:
            if (queue := self._plans_by_model.get(model)) :
                return queue.popleft()
            return self._plan.popleft() if self._plan else self.default

    def start(self) -> FakeAPI:
        handler = type("Handler", (_Handler,), {"api": self})
        self._server = _QuietServer((self.host, self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        # A short poll interval makes stop() quick: the tests start and stop many servers.
        threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-api", daemon=True
        ).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def serve_until_interrupted(self, banner: str) -> None:
        """Start, print ``banner`` (``{url}`` is the server's), and serve until Ctrl+C or the process ends."""
        self.start()
        print(banner.format(url=self.url), flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            self.stop()

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up (Stop, a dropped test) is normal here, not worth a traceback.
        pass


def _error_body(behaviour: Behaviour, path: str, request_id: str) -> tuple[bytes, str]:
    status = behaviour.status
    message = behaviour.error_message or {
        400: "Invalid payload provided",
        401: "Invalid API key provided",
        403: "You have run out of credits",
        404: "Model not found",
        429: "Too many requests, please slow down",
    }.get(status, "Internal server error")
    if behaviour.error_shape == "problem":
        body = {
            "title": "Request failed",
            "status": status,
            "message": message,
            "requestId": request_id,
            "error": {"name": "ApiError", "message": message},
        }
        return json.dumps(body).encode(), "application/problem+json"
    if behaviour.error_shape == "openai":
        body = {"error": {"message": message, "type": "invalid_request_error", "code": status}}
        return json.dumps(body).encode(), "application/json"
    if behaviour.error_shape == "text":
        return f"<html><body><h1>{status}</h1>{message}</body></html>".encode(), "text/html"
    body = {
        "message": message,
        "path": path,
        "requestId": request_id,
        "statusCode": status,
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
    }
    return json.dumps(body).encode(), "application/json"


def default_text(body: dict[str, Any], *, demo: bool) -> str:
    """The canned answer: JSON when ``response_format`` asks for it (JSON mode and JSON-schema mode
    work offline too), else the demo model's text, introduced as whoever answers."""
    intro = DEMO_INTRO if demo else FAKE_INTRO
    if (as_json := json_reply(body.get("response_format"), intro.replace("**", ""))) is not None:
        return as_json
    return demo_reply(body["messages"]) if demo else fake_reply(body["messages"])


def _validate(body: Any) -> str | None:
    """What the real API (or Gemma's template) would reject, as its message; None when fine."""
    if not isinstance(body, dict):
        return "Body must be a JSON object"
    messages = body.get("messages")
    if not isinstance(body.get("model"), str) or not isinstance(messages, list) or not messages:
        return "model and messages are required"
    info = model_info(body["model"])
    allowed = {"user", "assistant", *info.instruction_roles}
    previous = None
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in allowed:
            return f'messages.{index}.role: Invalid enum value. Expected {" | ".join(sorted(allowed))}, received "{role}"'
        if role in ("user", "assistant") and role == previous:
            return "Conversation roles must alternate user/assistant/user/assistant/..."
        if role in ("user", "assistant"):
            previous = role
        if role == "user" and (problem := _invalid_parts(index, message.get("content"), info.spec)):
            return problem
    return None


def _invalid_parts(index: int, content: Any, spec: str | None) -> str | None:
    """What is wrong with a user message's content parts, in the API's words; None when nothing.

    A model whose spec lists no ``image_url`` part (Gemma 3n) is refused an image, as the real
    API refuses it, rather than answered as if there were none.
    """
    if not isinstance(content, list):
        return None
    allowed = content_part_types(spec, "user") if spec else frozenset({"text"})
    for number, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        where = f"messages.{index}.content.{number}"
        if kind not in allowed:
            return f'{where}.type: Invalid enum value. Expected {" | ".join(sorted(allowed))}, received "{kind}"'
        if kind == "image_url" and (problem := _invalid_image(part.get("image_url"))):
            return f"{where}.image_url.url: {problem}"
    return None


def _invalid_image(image_url: Any) -> str | None:
    """Why an image_url's data: URL cannot be an image the spec lists; None when it can (or is a web URL)."""
    url = image_url.get("url") if isinstance(image_url, dict) else None
    if not isinstance(url, str) or not url:
        return "Required"
    header, _, payload = url.partition(",")
    if not header.startswith("data:"):
        return None
    if header.removeprefix("data:").split(";")[0] not in MEDIA_TYPES or not header.endswith(";base64"):
        return "Invalid image: only base64 JPG/JPEG, PNG, GIF and WEBP data is supported"
    try:
        base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return "Invalid image: the base64 data is malformed"
    return None


class _Handler(BaseHTTPRequestHandler):
    api: FakeAPI
    protocol_version = "HTTP/1.1"
    # Each event goes out as written, as a streaming server's would, not when Nagle allows.
    disable_nagle_algorithm = True

    #: the framing of the answer being written, and its gzip stream when compressed
    _framing: Framing = "chunked"
    _gzip: Any = None
    _write_size: int | None = None

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the tests read what they need from FakeAPI.requests

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str,
        extra: dict[str, str] | None = None,
        framing: Framing = "chunked",
        *,
        keep_length: bool = True,
    ) -> None:
        """A whole answer: with Content-Length unless ``keep_length`` is off under a close framing."""
        compressed = framing in ("gzip", "gzip_close")
        closing = framing in ("close", "gzip_close")
        if compressed:
            body = gzip.compress(body)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        if compressed:
            self.send_header("Content-Encoding", "gzip")
        if keep_length or not closing:
            self.send_header("Content-Length", str(len(body)))
        if closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            from lib.api.models import GEMMA_MODELS

            data = {"object": "list", "data": [{"id": m.id, "object": "model"} for m in GEMMA_MODELS]}
            self._send(200, json.dumps(data).encode(), "application/json")
        else:
            self._send(404, b'{"message":"Not found"}', "application/json")

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        if self.path == "/_fake/plan":
            self.api.plan(*(Behaviour.from_dict(b) for b in (body or [])))
            self._send(200, b"{}", "application/json")
            return
        if self.path == "/_fake/reset":
            self.api.reset()
            self._send(200, b"{}", "application/json")
            return
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._send(404, b'{"message":"Cannot POST ' + self.path.encode() + b'"}', "application/json")
            return
        with self.api._lock:
            self.api.in_flight += 1
            self.api.max_in_flight = max(self.api.max_in_flight, self.api.in_flight)
        try:
            self._chat(body)
        finally:
            with self.api._lock:
                self.api.in_flight -= 1

    def _chat(self, body: Any) -> None:
        headers = {k: v for k, v in self.headers.items()}
        with self.api._lock:
            if self.api.record_requests:
                self.api.requests.append(Recorded(self.path, headers, body if isinstance(body, dict) else None))
        behaviour = self.api._next(body.get("model") if isinstance(body, dict) else None)
        framing = behaviour.framing or self.api.framing
        request_id = str(uuid.uuid4())
        if behaviour.response_delay:
            time.sleep(behaviour.response_delay)
        if self.api.api_key is not None and self.headers.get("Authorization") != f"Bearer {self.api.api_key}":
            behaviour = Behaviour(status=401, error_shape=behaviour.error_shape)
        if behaviour.status == 200 and (problem := _validate(body)):
            behaviour = Behaviour(status=400, error_message=problem)
        if behaviour.raw_body is not None:
            self._send(
                behaviour.status, behaviour.raw_body.encode(), behaviour.raw_content_type,
                {"x-request-id": request_id}, framing, keep_length=False,
            )
            return
        if behaviour.status != 200:
            payload, content_type = _error_body(behaviour, self.path, request_id)
            extra = {"x-request-id": request_id}
            if behaviour.retry_after is not None:
                extra["Retry-After"] = f"{behaviour.retry_after:g}"
            self._send(behaviour.status, payload, content_type, extra, framing)
            return
        self._complete(body, behaviour, request_id, framing)

    # -- a successful answer ---------------------------------------------------------

    def _complete(self, body: dict[str, Any], behaviour: Behaviour, request_id: str, framing: Framing) -> None:
        text = behaviour.reply if behaviour.reply is not None else default_text(body, demo=self.api.demo)
        tokens = split_tokens(text)
        if isinstance(body.get("max_tokens"), (int, float)) and len(tokens) > body["max_tokens"]:
            tokens = tokens[: int(body["max_tokens"])]
            behaviour = Behaviour(**{**asdict(behaviour), "finish_reason": "length"})
        prompt_tokens = count_prompt_tokens(body["messages"])
        usage: dict[str, Any] = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(tokens),
            "total_tokens": prompt_tokens + len(tokens),
        }
        cost = round((prompt_tokens * DEMO_PRICE_IN + len(tokens) * DEMO_PRICE_OUT) / 1_000_000, 9)
        if behaviour.cost_in == "usage":
            usage["cost"] = cost
        meta = {"usage": {"credits_used": len(tokens) * 21, "usd_spent": cost}}
        base = {
            "id": f"gen-{int(time.time())}-{uuid.uuid4().hex[:20]}",
            "provider": "FakeRun",
            "model": f"{body['model']}:free",
            "created": int(time.time()),
        }
        if behaviour.body != "sse" or not body.get("stream"):
            choices = [] if behaviour.body == "no_choices" else [{
                "index": 0, "finish_reason": behaviour.finish_reason, "logprobs": None,
                "message": {"role": "assistant", "content": "".join(tokens), "refusal": None},
            }]
            data = {**base, "object": "chat.completion", "choices": choices, "usage": usage}
            if behaviour.cost_in == "meta":
                data["meta"] = meta
            extra = {"x-request-id": request_id}
            if behaviour.cost_in != "none":
                # As the API does for a reply that is not streamed: the cost in a header too.
                extra[USD_SPENT_HEADER] = f"{cost:.9f}"
            self._send(200, json.dumps(data).encode(), "application/json", extra, framing, keep_length=False)
            return
        self._begin_stream(framing, behaviour.write_size, {"x-request-id": request_id})
        try:
            self._stream(base, tokens, usage, meta, behaviour)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            with self.api._lock:
                self.api.disconnects += 1
            self.close_connection = True

    def _begin_stream(self, framing: Framing, write_size: int | None, extra: dict[str, str]) -> None:
        self._framing = framing
        self._write_size = write_size
        # wbits 31: a gzip header and trailer around the deflate stream, as Content-Encoding wants.
        self._gzip = zlib.compressobj(wbits=31) if framing in ("gzip", "gzip_close") else None
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        if self._gzip is not None:
            self.send_header("Content-Encoding", "gzip")
        if framing in ("close", "gzip_close"):
            self.send_header("Connection", "close")
            self.close_connection = True
        else:
            self.send_header("Transfer-Encoding", "chunked")
        for name, value in extra.items():
            self.send_header(name, value)
        self.end_headers()

    def _wire(self, data: bytes) -> None:
        """Put bytes of the body on the wire, framed, in pieces of :attr:`_write_size` if set."""
        if not data:
            return
        size = self._write_size or len(data)
        for start in range(0, len(data), size):
            piece = data[start : start + size]
            if start:
                time.sleep(0.001)
            if self._framing in ("chunked", "gzip"):
                piece = b"%x\r\n%s\r\n" % (len(piece), piece)
            self.wfile.write(piece)
            self.wfile.flush()

    def _write(self, payload: bytes) -> None:
        if self._gzip is not None:
            # A sync flush per write: each event can be decoded as soon as it arrives.
            payload = self._gzip.compress(payload) + self._gzip.flush(zlib.Z_SYNC_FLUSH)
        self._wire(payload)

    def _end(self) -> None:
        if self._gzip is not None:
            self._wire(self._gzip.flush())
        if self._framing in ("chunked", "gzip"):
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

    def _event(self, data: dict[str, Any] | str) -> None:
        # Raw UTF-8, not \u escapes, as many servers send it: a character can then span reads.
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        self._write(f"data: {text}\n\n".encode())

    def _drop(self) -> None:
        self.wfile.flush()
        self.connection.shutdown(socket.SHUT_RDWR)
        self.close_connection = True

    def _stream(self, base: dict, tokens: list[str], usage: dict, meta: dict, b: Behaviour) -> None:
        chunk = {**base, "object": "chat.completion.chunk"}

        def choice(content: str, finish: str | None) -> dict[str, Any]:
            return {
                "index": 0, "logprobs": None, "finish_reason": finish, "native_finish_reason": finish,
                "delta": {"role": "assistant", "content": content},
            }

        if b.first_token_delay:
            time.sleep(b.first_token_delay)
        step = max(1, b.tokens_per_chunk)
        pieces = ["".join(tokens[i : i + step]) for i in range(0, len(tokens), step)] or [""]
        started = time.monotonic()
        for index, piece in enumerate(pieces):
            if b.drop_after is not None and index >= b.drop_after:
                self._drop()
                return
            if b.error_after is not None and index == b.error_after:
                self._event({"error": {"message": b.error_event_message, "code": 500}})
                self._end()
                return
            if b.malformed_after is not None and index == b.malformed_after:
                self._write(b'data: {"id": "broken", "choices": [{"delta": {"content": "x"\n\n')
            if b.token_rate and index:
                # Pace against the clock, not per sleep, so that the rate holds at high speeds.
                due = started + index * step / b.token_rate
                if (pause := due - time.monotonic()) > 0:
                    time.sleep(pause)
            last = index == len(pieces) - 1
            body = {**chunk, "choices": [choice(piece, b.finish_reason if last else None)]}
            if last and b.ending == "usage_in_choice":
                body["usage"] = usage
            self._event(body)
        if b.ending in ("docs", "done"):
            final = {**chunk, "choices": [], "usage": usage}
            if b.cost_in != "none":
                final["meta"] = meta
            self._event(final)
        if b.ending in ("done", "usage_in_choice", "bare"):
            self._event("[DONE]")
        if b.linger:
            time.sleep(b.linger)
        self._end()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--token-rate", type=float, default=None)
    parser.add_argument("--api-key", default=None)
    parser.add_argument(
        "--framing", choices=FRAMINGS, default="chunked",
        help="how answers are framed on the wire; 'close' ends a body by closing the connection",
    )
    args = parser.parse_args()
    api = FakeAPI(port=args.port, api_key=args.api_key, framing=args.framing)
    api.default = Behaviour(first_token_delay=args.first_token_delay, token_rate=args.token_rate)
    api.serve_until_interrupted("fake AI/ML API on {url}")


if __name__ == "__main__":
    main()
