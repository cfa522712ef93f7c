"""lib.api.client: ChatClient against the fake API over real HTTP on 127.0.0.1 (no mocks).

The tests of streaming, Stop, drops and stalls run under every framing of the fake's
answers (chunked, close-delimited, gzip over each): see the ``framing`` fixture."""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import replace

import pytest
import requests

from lib.api.client import (
    ChatClient,
    ChatStream,
    Chunk,
    RetryHook,
    error_from_response,
    parse_chunk,
    parse_error_body,
    sent_signalled_by,
)
from lib.api.fake_api import (
    DEMO_PRICE_IN,
    DEMO_PRICE_OUT,
    FRAMINGS,
    Behaviour,
    FakeAPI,
    Framing,
    count_prompt_tokens,
    split_tokens,
)
from lib.api.request import api_messages, build_body
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
    ServerError,
    StreamInterruptedError,
)
from lib.images.prepare import prepare
from lib.secret import Secret
from lib.settings import Settings
from tests.conftest import CANARY_KEY, validate_request
from tests.images.pictures import encode, red_top_left

MODEL = "google/gemma-3-27b-it"
MESSAGES = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "What is 2 + 2?"},
    {"role": "assistant", "content": "4."},
    {"role": "user", "content": "And times 3?"},
]
BODY = build_body(MODEL, MESSAGES, {"temperature": 0.5, "max_tokens": 200})
REPLY = "Twelve, because four times three is twelve."
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


@pytest.fixture(params=FRAMINGS)
def framing(request: pytest.FixtureRequest, fake_api: FakeAPI) -> Framing:
    """Run the test once per framing of the fake's answers (unless a behaviour names its own)."""
    fake_api.framing = request.param
    return request.param


def read_all(chat: ChatClient, body: dict | None = None, on_retry: RetryHook | None = None) -> list[Chunk]:
    with chat.stream(body or BODY, on_retry=on_retry) as stream:
        return list(stream)


def read_until_error(chat: ChatClient, body: dict | None = None) -> tuple[list[str], ChatError]:
    """Iterate the stream, keeping every text part, and return them with the error that ended it."""
    parts: list[str] = []
    try:
        with chat.stream(body or BODY) as stream:
            for chunk in stream:
                parts.append(chunk.text)
    except ChatError as exc:
        return parts, exc
    raise AssertionError(f"the stream ended without an error after {parts!r}")


def assert_no_key(err: BaseException) -> None:
    for text in (str(err), repr(err), *(str(a) for a in err.args)):
        assert CANARY_KEY not in text
    for attr in ("message", "detail", "request_id"):
        assert CANARY_KEY not in str(getattr(err, attr, ""))
    # the cause chain is suppressed or clean too
    cause = err.__cause__ or err.__context__
    if cause is not None and not err.__suppress_context__:
        assert CANARY_KEY not in str(cause)


def expected_cost(messages: list[dict], reply: str) -> float:
    return round((count_prompt_tokens(messages) * DEMO_PRICE_IN + len(split_tokens(reply)) * DEMO_PRICE_OUT) / 1e6, 9)


def closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


# -- successful replies --------------------------------------------------------------


@pytest.mark.parametrize("ending", ["docs", "done", "usage_in_choice", "bare"])
def test_every_stream_ending_gives_the_whole_reply(client: ChatClient, fake_api: FakeAPI, ending: str, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, ending=ending))  # type: ignore[arg-type]
    chunks = read_all(client)
    assert "".join(c.text for c in chunks) == REPLY
    assert len([c for c in chunks if c.text]) == len(split_tokens(REPLY)), "one token per chunk, streamed"
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["stop"]
    usages = [c.usage for c in chunks if c.usage]
    if ending == "bare":
        assert usages == []
    else:
        assert len(usages) == 1
        usage = usages[0]
        assert usage.completion_tokens == len(split_tokens(REPLY))
        assert usage.prompt_tokens == count_prompt_tokens(MESSAGES)
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert all(c.model == f"{MODEL}:free" for c in chunks)
    assert all(c.provider == "FakeRun" for c in chunks)


def test_docs_ending_puts_usage_on_a_last_chunk_without_text(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, ending="docs"))
    chunks = read_all(client)
    last = chunks[-1]
    assert last.text == "" and last.finish_reason is None
    assert last.usage is not None and last.cost is not None
    assert all(c.usage is None for c in chunks[:-1])


@pytest.mark.parametrize(
    ("cost_in", "source"), [("usage", "reported"), ("meta", "meta"), ("none", None)]
)
def test_cost_from_usage_cost_then_meta_usd_spent(
    client: ChatClient, fake_api: FakeAPI, cost_in: str, source: str | None
) -> None:
    fake_api.plan(Behaviour(reply=REPLY, cost_in=cost_in))  # type: ignore[arg-type]
    costs = [c.cost for c in read_all(client) if c.cost is not None]
    if source is None:
        assert costs == []
    else:
        assert len(costs) == 1
        assert costs[0].source == source
        assert costs[0].usd == pytest.approx(expected_cost(MESSAGES, REPLY))
        assert costs[0].usd > 0


def test_server_ignoring_stream_true_still_gives_a_reply(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, body="json", cost_in="meta"))
    chunks = read_all(client)
    assert len(chunks) == 1
    chunk = chunks[0]
    assert chunk.text == REPLY
    assert chunk.finish_reason == "stop"
    assert chunk.usage is not None and chunk.usage.completion_tokens == len(split_tokens(REPLY))
    assert chunk.cost is not None and chunk.cost.source == "meta"
    assert chunk.model == f"{MODEL}:free"
    assert chunk.id and chunk.id.startswith("gen-")


def test_json_answer_with_no_choices_is_malformed(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, body="no_choices"))
    with pytest.raises(MalformedResponseError) as info:
        read_all(client)
    assert "no choices" in str(info.value)
    assert_no_key(info.value)


def test_finish_reason_length_is_passed_on(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply=REPLY, finish_reason="length"))
    chunks = read_all(client)
    assert [c.finish_reason for c in chunks if c.finish_reason] == ["length"]


def test_stream_request_id_comes_from_the_response_header(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY))
    with client.stream(BODY) as stream:
        list(stream)
        assert stream.request_id and UUID.match(stream.request_id)
    assert stream.closed


def test_the_connection_is_reused_for_the_next_turn(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="one"), Behaviour(status=400), Behaviour(reply="two"))
    assert "".join(c.text for c in read_all(client)) == "one"
    with pytest.raises(BadRequestError):
        read_all(client)
    assert "".join(c.text for c in read_all(client)) == "two"
    assert len(fake_api.requests) == 3


def test_the_sent_event_is_set_once_the_request_is_written_before_the_answer(
    client: ChatClient, fake_api: FakeAPI
) -> None:
    fake_api.plan(Behaviour(reply=REPLY, response_delay=1.0))
    sent = threading.Event()
    opened: list[ChatStream] = []

    def send() -> None:
        with sent_signalled_by(sent):
            opened.append(client.stream(BODY))

    thread = threading.Thread(target=send)
    thread.start()
    assert sent.wait(0.8), "not set while the server held the whole request and had not answered"
    assert not opened, "the answer was not due for a second"
    thread.join(5)
    with opened[0] as stream:
        assert "".join(chunk.text for chunk in stream) == REPLY
    assert fake_api.bodies() == [BODY], "the body went out as JSON, unchanged"


def test_without_the_context_no_event_is_touched(client: ChatClient, fake_api: FakeAPI) -> None:
    outer = threading.Event()
    with sent_signalled_by(outer):
        pass
    fake_api.plan(Behaviour(reply=REPLY))
    assert "".join(c.text for c in read_all(client)) == REPLY
    assert not outer.is_set(), "an event left from an earlier block"


# -- streaming whatever the framing ------------------------------------------------


def test_text_arrives_as_it_is_generated(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    """A close-delimited body used to be read to its end before the first chunk came out."""
    reply = " ".join(f"w{i}" for i in range(12))
    fake_api.plan(Behaviour(reply=reply, token_rate=5))  # 11 gaps of 0.2 s
    started = time.monotonic()
    arrivals: list[float] = []
    parts: list[str] = []
    with client.stream(BODY) as stream:
        for chunk in stream:
            if chunk.text:
                arrivals.append(time.monotonic() - started)
                parts.append(chunk.text)
    total = time.monotonic() - started
    assert "".join(parts) == reply
    assert total > 2.0
    assert arrivals[0] < 0.5, f"the first text came {arrivals[0]:.2f} s in, of {total:.2f} s"
    assert arrivals[len(arrivals) // 2] < total - 0.7, "the middle of the reply came at the end"


def start_reading(stream: ChatStream) -> tuple[threading.Thread, list[str], list[BaseException]]:
    """Read ``stream`` on a thread, as the app's worker does; the page thread stays free to close it."""
    parts: list[str] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            for chunk in stream:
                parts.append(chunk.text)
        except BaseException as exc:  # noqa: BLE001 - handed to the test to assert on
            errors.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    return thread, parts, errors


def wait_until(condition: object, timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.01)
    assert condition(), "timed out"  # type: ignore[operator]


def test_close_ends_a_stream_read_on_another_thread_at_once(
    client: ChatClient, fake_api: FakeAPI, framing: Framing
) -> None:
    reply = " ".join(f"w{i}" for i in range(40))
    fake_api.plan(Behaviour(reply=reply, token_rate=5))
    stream = client.stream(BODY)
    thread, parts, errors = start_reading(stream)
    wait_until(lambda: "".join(parts))
    started = time.monotonic()
    stream.close()
    thread.join(1.0)
    elapsed = time.monotonic() - started
    assert not thread.is_alive() and elapsed < 0.3, f"the reader took {elapsed:.2f} s to end"
    assert errors == [], "Stop is not an error"
    kept = "".join(parts)
    assert kept and reply.startswith(kept) and kept != reply
    wait_until(lambda: fake_api.disconnects == 1)


def test_close_while_the_server_is_silent(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, first_token_delay=2.0))
    stream = client.stream(BODY)
    thread, parts, errors = start_reading(stream)
    time.sleep(0.2)
    started = time.monotonic()
    stream.close()
    thread.join(1.0)
    assert not thread.is_alive() and time.monotonic() - started < 0.3
    assert parts == [] and errors == []


def test_characters_and_lines_split_across_reads(
    client: ChatClient, fake_api: FakeAPI, framing: Framing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each event reaches the client in 7-byte writes: lines and UTF-8 characters span reads."""
    reply = "Grüße aus Köln: 日本語, emoji 🎉🎈, naïve ✓ — fin."
    fake_api.plan(Behaviour(reply=reply, tokens_per_chunk=4, write_size=7))
    reads: list[bytes] = []
    real = ChatStream._reads

    def counted(self: ChatStream) -> object:
        for data in real(self):
            reads.append(data)
            yield data

    monkeypatch.setattr(ChatStream, "_reads", counted)
    chunks = read_all(client)
    assert "".join(c.text for c in chunks) == reply
    assert "\ufffd" not in "".join(c.text for c in chunks)
    assert chunks[-1].usage is not None
    assert len(reads) > 3 * len(chunks), f"{len(reads)} reads for {len(chunks)} events: the test split nothing"


def test_a_drop_between_events_of_a_close_delimited_stream_is_not_an_ending(
    client: ChatClient, fake_api: FakeAPI
) -> None:
    """Without framing, a dropped connection looks like a normal end: only the stream's ending tells."""
    fake_api.plan(Behaviour(reply=REPLY, drop_after=2, framing="close"))
    parts, err = read_until_error(client)
    assert isinstance(err, StreamInterruptedError)
    assert "".join(parts) == "".join(split_tokens(REPLY)[:2])


def test_an_http_1_0_server_streams_too(settings: Settings) -> None:
    """Python's http.server as it comes: an HTTP/1.0 status line, no Connection header, no length."""
    listener = socket.create_server(("127.0.0.1", 0))
    events = [
        {"choices": [{"delta": {"content": "Hello"}, "finish_reason": None}]},
        {"choices": [{"delta": {"content": " there"}, "finish_reason": "stop"}]},
    ]

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            # The whole request must be read: closing with bytes unread would reset the connection.
            request = b""
            while b"\r\n\r\n" not in request:
                request += conn.recv(65536)
            head, _, body = request.partition(b"\r\n\r\n")
            length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
            while len(body) < length:
                body += conn.recv(65536)
            conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n")
            for event in events:
                conn.sendall(b"data: " + json.dumps(event).encode() + b"\n\n")
                time.sleep(0.6)

    threading.Thread(target=serve, daemon=True).start()
    chat = ChatClient(replace(settings, base_url=f"http://127.0.0.1:{listener.getsockname()[1]}/v1"))
    started = time.monotonic()
    arrivals: list[tuple[float, str]] = []
    try:
        with chat.stream(BODY) as stream:
            arrivals = [(time.monotonic() - started, c.text) for c in stream]
    finally:
        listener.close()
    assert [text for _, text in arrivals] == ["Hello", " there"]
    assert arrivals[0][0] < 0.4 < 0.5 < arrivals[1][0]


# -- what is sent --------------------------------------------------------------------


def test_authorization_header_is_bearer_key(client: ChatClient, fake_api: FakeAPI) -> None:
    read_all(client)
    headers = {k.lower(): v for k, v in fake_api.requests[0].headers.items()}
    assert headers["authorization"] == f"Bearer {CANARY_KEY}"
    assert headers["content-type"] == "application/json"
    assert "text/event-stream" in headers["accept"]
    assert fake_api.requests[0].path == "/v1/chat/completions"


def test_posted_body_has_full_history_and_include_usage(client: ChatClient, fake_api: FakeAPI) -> None:
    read_all(client)
    (body,) = fake_api.bodies()
    assert body["model"] == MODEL
    assert body["messages"] == MESSAGES
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["temperature"] == 0.5 and body["max_tokens"] == 200
    validate_request(body, "gemma-3-27b-it.json")


def test_no_key_sends_no_authorization_header(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatClient(replace(settings, api_key=Secret("")))
    with pytest.raises(AuthenticationError):
        read_all(chat)
    headers = {k.lower() for k in fake_api.requests[0].headers}
    assert "authorization" not in headers


# -- HTTP errors ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, BadRequestError, False),
        (401, AuthenticationError, False),
        (403, OutOfCreditsError, False),
        (404, ModelNotFoundError, False),
        (418, APIStatusError, True),
        (422, APIStatusError, True),
    ],
)
def test_client_errors_map_to_their_class_and_are_not_retried(
    client: ChatClient, fake_api: FakeAPI, status: int, cls: type[ChatError], retryable: bool
) -> None:
    fake_api.plan(Behaviour(status=status), Behaviour(reply="should not be reached"))
    calls: list[tuple[float, int]] = []
    with pytest.raises(cls) as info:
        read_all(client, on_retry=lambda s, st: calls.append((s, st)))
    err = info.value
    assert type(err) is cls
    assert err.status == status
    assert err.retryable is retryable
    assert len(fake_api.requests) == 1
    assert calls == []
    assert_no_key(err)


def test_400_shows_the_apis_own_message(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(status=400, error_message="temperature must be less than or equal to 2"))
    with pytest.raises(BadRequestError) as info:
        read_all(client)
    assert "temperature must be less than or equal to 2" in str(info.value)
    assert str(info.value).startswith("The API rejected the request")


def test_400_from_the_fakes_validation_names_the_bad_role(client: ChatClient, fake_api: FakeAPI) -> None:
    body = build_body("google/gemma-3-4b-it", [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}])
    with pytest.raises(BadRequestError) as info:
        read_all(client, body)
    assert "messages.0.role" in str(info.value)
    assert '"system"' in str(info.value)


def test_an_image_sent_to_3n_is_a_bad_request_naming_the_image_part(client: ChatClient, fake_api: FakeAPI) -> None:
    """What the app's own refusal (a model that reads no images) is tested against: the API's answer."""
    photo = prepare(encode(red_top_left(300, 200), "PNG"), "photo.png")
    history = [{"role": "user", "content": "What is this?", "images": (photo,)}]
    body = build_body("google/gemma-3n-e4b-it", api_messages("", history, "google/gemma-3n-e4b-it"))
    with pytest.raises(BadRequestError) as info:
        read_all(client, body)
    assert "messages.0.content.1.type" in str(info.value) and '"image_url"' in str(info.value)
    assert not info.value.retryable


def test_401_mentions_the_key_and_where_to_set_it(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=401))
    with pytest.raises(AuthenticationError) as info:
        read_all(client)
    text = str(info.value)
    assert "AIMLAPI_API_KEY" in text
    assert "sidebar" in text and ".env" in text and "secrets.toml" in text
    assert "Invalid API key provided" in text
    assert_no_key(info.value)


def test_wrong_key_is_a_401_that_does_not_echo_either_key(settings: Settings, fake_api: FakeAPI) -> None:
    wrong = "sk-wrong-0123456789abcdef"
    chat = ChatClient(settings.with_key(wrong))
    with pytest.raises(AuthenticationError) as info:
        read_all(chat)
    assert wrong not in str(info.value) and wrong not in repr(info.value)
    assert fake_api.requests[0].headers["Authorization"] == f"Bearer {wrong}"
    assert_no_key(info.value)


def test_403_is_out_of_credits(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=403))
    with pytest.raises(OutOfCreditsError) as info:
        read_all(client)
    assert "credits" in str(info.value)
    assert info.value.title == "Out of credits"


def test_404_is_model_not_found(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=404))
    with pytest.raises(ModelNotFoundError) as info:
        read_all(client)
    assert "model" in str(info.value).lower()
    assert "AIMLAPI_BASE_URL" in str(info.value)


def test_wrong_base_path_is_a_404(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatClient(replace(settings, base_url=fake_api.url + "/nope"))
    with pytest.raises(ModelNotFoundError) as info:
        read_all(chat)
    assert "Cannot POST" in str(info.value)


@pytest.mark.parametrize("shape", ["api", "problem", "openai", "text"])
@pytest.mark.parametrize("status", [400, 403, 503])
def test_every_error_shape_gives_a_clear_message_and_the_request_id(
    client: ChatClient, fake_api: FakeAPI, shape: str, status: int
) -> None:
    fake_api.plan(*[Behaviour(status=status, error_shape=shape, error_message="the thing broke")] * 3)  # type: ignore[arg-type]
    with pytest.raises(APIStatusError) as info:
        read_all(client)
    err = info.value
    text = str(err)
    assert "the thing broke" in text
    if shape == "text":
        assert "not JSON" in text
        assert "<html>" in text
    assert err.request_id and UUID.match(err.request_id)
    assert f"Request id: {err.request_id}." in text
    assert text.count("Request id") == 1
    assert_no_key(err)


# -- retries -------------------------------------------------------------------------


def test_429_with_retry_after_is_retried_then_succeeds(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=429, retry_after=1), Behaviour(reply=REPLY))
    calls: list[tuple[float, int]] = []
    started = time.monotonic()
    chunks = read_all(client, on_retry=lambda s, st: calls.append((s, st)))
    elapsed = time.monotonic() - started
    assert "".join(c.text for c in chunks) == REPLY
    assert calls == [(1.0, 429)]
    assert len(fake_api.requests) == 2
    assert elapsed >= 0.9, "Retry-After: 1 was not honoured"
    assert fake_api.bodies()[0] == fake_api.bodies()[1], "the retry sends the same body"


def test_429_persisting_is_a_rate_limit_error_after_max_retries(client: ChatClient, fake_api: FakeAPI) -> None:
    assert client.settings.max_retries == 2
    fake_api.plan(*[Behaviour(status=429)] * 5)
    calls: list[tuple[float, int]] = []
    with pytest.raises(RateLimitError) as info:
        read_all(client, on_retry=lambda s, st: calls.append((s, st)))
    assert len(fake_api.requests) == 3, "one request plus max_retries retries"
    assert [status for _, status in calls] == [429, 429]
    assert info.value.status == 429
    assert "Rate limited" in str(info.value)
    assert_no_key(info.value)


def test_retries_turned_off(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatClient(replace(settings, max_retries=0))
    fake_api.plan(Behaviour(status=429), Behaviour(reply="never"))
    calls: list[tuple[float, int]] = []
    with pytest.raises(RateLimitError):
        read_all(chat, on_retry=lambda s, st: calls.append((s, st)))
    assert len(fake_api.requests) == 1
    assert calls == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried_then_raise(
    client: ChatClient, fake_api: FakeAPI, status: int, framing: Framing
) -> None:
    fake_api.plan(*[Behaviour(status=status)] * 3)
    calls: list[tuple[float, int]] = []
    with pytest.raises(ServerError) as info:
        read_all(client, on_retry=lambda s, st: calls.append((s, st)))
    assert len(fake_api.requests) == 3
    assert [st for _, st in calls] == [status, status]
    assert all(seconds < 1 for seconds, _ in calls), "backoff follows AIMLAPI_RETRY_BACKOFF=0.01"
    assert info.value.status == status
    assert f"({status})" in str(info.value)
    assert_no_key(info.value)


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_error_then_success(client: ChatClient, fake_api: FakeAPI, status: int) -> None:
    fake_api.plan(Behaviour(status=status), Behaviour(reply=REPLY))
    calls: list[tuple[float, int]] = []
    chunks = read_all(client, on_retry=lambda s, st: calls.append((s, st)))
    assert "".join(c.text for c in chunks) == REPLY
    assert [st for _, st in calls] == [status]


def test_the_retry_hook_is_per_call(client: ChatClient, fake_api: FakeAPI) -> None:
    first: list[int] = []
    fake_api.plan(Behaviour(status=503), Behaviour(reply="a"), Behaviour(status=503), Behaviour(reply="b"))
    read_all(client, on_retry=lambda s, st: first.append(st))
    read_all(client)  # no hook: the first call's hook must not fire again
    assert first == [503]


def test_fractional_retry_after_is_still_a_retried_429(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    """urllib3 alone raises InvalidHeader on "0.2", which used to surface as 'Could not reach …'."""
    fake_api.plan(Behaviour(status=429, retry_after=0.2), Behaviour(reply=REPLY))
    calls: list[tuple[float, int]] = []
    assert "".join(c.text for c in read_all(client, on_retry=lambda s, st: calls.append((s, st)))) == REPLY
    assert calls == [(pytest.approx(0.2), 429)]
    assert len(fake_api.requests) == 2


# -- network faults ------------------------------------------------------------------


def test_connection_refused(settings: Settings) -> None:
    chat = ChatClient(replace(settings, base_url=f"http://127.0.0.1:{closed_port()}/v1"))
    started = time.monotonic()
    with pytest.raises(APIConnectionError) as info:
        read_all(chat)
    assert type(info.value) is APIConnectionError
    assert "connection refused" in str(info.value)
    assert "127.0.0.1" in str(info.value)
    assert "HTTPConnectionPool" not in str(info.value)
    assert time.monotonic() - started < 2
    assert_no_key(info.value)


def test_read_timeout_before_the_first_byte_is_not_retried(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatClient(replace(settings, read_timeout=0.3))
    fake_api.plan(Behaviour(response_delay=1.0, reply="late"))
    started = time.monotonic()
    with pytest.raises(APIConnectionError) as info:
        read_all(chat)
    assert time.monotonic() - started < 0.9
    assert len(fake_api.requests) == 1, "a read timeout may have started a paid generation: no retry"
    assert_no_key(info.value)


def test_read_timeout_before_the_first_byte_is_a_timeout_error(settings: Settings, fake_api: FakeAPI) -> None:
    """With read=0 urllib3 wraps the ReadTimeoutError in MaxRetryError and requests raises a plain
    ConnectionError, not ReadTimeout: it used to surface as APIConnectionError with urllib3 noise."""
    chat = ChatClient(replace(settings, read_timeout=0.3))
    fake_api.plan(Behaviour(response_delay=1.0, reply="late"))
    with pytest.raises(APITimeoutError) as info:
        read_all(chat)
    assert "AIMLAPI_READ_TIMEOUT" in str(info.value)
    assert "HTTPConnectionPool" not in str(info.value)


def test_stall_before_the_first_text(settings: Settings, fake_api: FakeAPI, framing: Framing) -> None:
    chat = ChatClient(replace(settings, read_timeout=0.3))
    fake_api.plan(Behaviour(reply="late", first_token_delay=1.0))
    parts, err = read_until_error(chat)
    assert isinstance(err, APITimeoutError)
    assert parts == []
    assert "AIMLAPI_READ_TIMEOUT" in str(err)
    assert_no_key(err)


def test_stall_mid_stream_keeps_the_partial_text(settings: Settings, fake_api: FakeAPI, framing: Framing) -> None:
    chat = ChatClient(replace(settings, read_timeout=0.3))
    fake_api.plan(Behaviour(reply="alpha beta gamma", token_rate=1.0))
    started = time.monotonic()
    parts, err = read_until_error(chat)
    assert isinstance(err, (APITimeoutError, StreamInterruptedError))
    assert "".join(parts) == "alpha"
    assert time.monotonic() - started < 0.9
    if isinstance(err, APITimeoutError):
        assert "stalled" in str(err) and "0.3 s" in str(err)
    assert_no_key(err)


@pytest.mark.parametrize("after", [1, 3])
def test_drop_after_n_chunks_is_interrupted_with_partial_text(
    client: ChatClient, fake_api: FakeAPI, after: int, framing: Framing
) -> None:
    fake_api.plan(Behaviour(reply=REPLY, drop_after=after))
    parts, err = read_until_error(client)
    assert isinstance(err, StreamInterruptedError)
    assert "".join(parts) == "".join(split_tokens(REPLY)[:after])
    assert err.retryable
    assert_no_key(err)


def test_malformed_chunk(client: ChatClient, fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=REPLY, malformed_after=2))
    parts, err = read_until_error(client)
    assert isinstance(err, MalformedResponseError)
    assert "".join(parts) == "".join(split_tokens(REPLY)[:2])
    assert "not JSON" in str(err)
    assert_no_key(err)


# -- the key never shows -------------------------------------------------------------


def test_key_not_in_client_or_settings_repr(client: ChatClient, settings: Settings) -> None:
    for text in (repr(client), str(client), repr(settings), str(settings), repr(settings.api_key), f"{settings.api_key}"):
        assert CANARY_KEY not in text
    assert settings.api_key.reveal() == CANARY_KEY, "the key is really there, only hidden"


# -- parsing units -------------------------------------------------------------------


def test_parse_chunk_reads_delta_content_and_finish_reason() -> None:
    data = {"id": "gen-1", "model": "m:free", "provider": "P",
            "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hi"}, "finish_reason": None}]}
    chunk = parse_chunk(json.dumps(data))
    assert (chunk.text, chunk.finish_reason, chunk.model, chunk.provider, chunk.id) == ("Hi", None, "m:free", "P", "gen-1")
    assert chunk.usage is None and chunk.cost is None


def test_parse_chunk_null_content_is_empty_text() -> None:
    chunk = parse_chunk(json.dumps({"choices": [{"delta": {"content": None}, "finish_reason": "stop"}]}))
    assert chunk.text == "" and chunk.finish_reason == "stop"


def test_parse_chunk_error_event_mid_stream() -> None:
    data = json.dumps({"error": {"message": "upstream overloaded"}, "requestId": "req-123"})
    with pytest.raises(StreamInterruptedError) as info:
        parse_chunk(data)
    assert "upstream overloaded" in str(info.value)
    assert info.value.request_id == "req-123"
    assert "req-123" in str(info.value)


@pytest.mark.parametrize("data", ["not json", "[1, 2]", '"text"', "{"])
def test_parse_chunk_rejects_what_is_not_a_json_object(data: str) -> None:
    with pytest.raises(MalformedResponseError):
        parse_chunk(data)


def test_parse_error_body_shapes() -> None:
    api = {"message": "Invalid payload provided", "path": "/v1/chat/completions", "requestId": "r-1",
           "statusCode": 400, "timestamp": "2025-01-01T00:00:00.000Z"}
    assert parse_error_body(json.dumps(api)) == ("Invalid payload provided", "r-1")
    problem = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "messages is required",
               "requestId": "r-2"}
    assert parse_error_body(json.dumps(problem)) == ("messages is required", "r-2")
    assert parse_error_body(json.dumps({"title": "Only a title"})) == ("Only a title", None)
    openai = {"error": {"message": "bad model", "type": "invalid_request_error"}, "request_id": "r-3"}
    assert parse_error_body(json.dumps(openai)) == ("bad model", "r-3")
    assert parse_error_body(json.dumps({"error": "plain string"})) == ("plain string", None)
    listed = {"message": ["temperature must be <= 2", "top_p must be <= 1"]}
    assert parse_error_body(json.dumps(listed)) == ("temperature must be <= 2; top_p must be <= 1", None)
    assert parse_error_body("<html>502 Bad Gateway</html>") == (None, None)
    assert parse_error_body("[]") == (None, None)
    assert parse_error_body("") == (None, None)


def _response(status: int, body: str, headers: dict[str, str] | None = None) -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body.encode()
    response.headers.update(headers or {})
    response.encoding = "utf-8"
    return response


def test_error_from_response_prefers_the_body_request_id() -> None:
    err = error_from_response(_response(400, json.dumps({"message": "nope", "requestId": "body-id"}),
                                         {"x-request-id": "header-id"}))
    assert err.request_id == "body-id"
    assert "Request id: body-id." in str(err)


def test_error_from_response_falls_back_to_the_header_request_id() -> None:
    err = error_from_response(_response(502, "Bad Gateway", {"x-request-id": "header-id"}))
    assert isinstance(err, ServerError)
    assert err.request_id == "header-id"
    assert "'Bad Gateway'" in str(err)


def test_error_from_response_with_an_empty_body() -> None:
    err = error_from_response(_response(404, ""))
    assert isinstance(err, ModelNotFoundError)
    assert str(err).endswith(".")
    assert err.request_id is None
    assert "Request id" not in str(err)


def test_error_from_response_truncates_a_huge_html_body() -> None:
    err = error_from_response(_response(500, "<html>" + "x" * 5000 + "</html>"))
    assert len(str(err)) < 400


def test_backoff_waits_grow_from_the_first_retry() -> None:
    from urllib3.util.retry import RequestHistory

    from lib.api.client import NotifyingRetry

    retry = NotifyingRetry(total=5, backoff_factor=1.0, backoff_max=30)
    assert retry.get_backoff_time() == 0.0
    waits = []
    for _ in range(4):
        retry = retry.new(history=(*retry.history, RequestHistory("POST", "/x", None, 500, None)))
        waits.append(retry.get_backoff_time())
    assert waits == [1.0, 2.0, 4.0, 8.0]


# -- each error says its title once ----------------------------------------------------


def shown(err: ChatError) -> str:
    """An error as the pages show it (app.py, ui/messages.py): its title, then its message."""
    return f"**{err.title}.** {err}"


def says_its_title_once(err: ChatError) -> bool:
    # A body that is not JSON is quoted as evidence (a proxy's HTML page), not said by the app.
    text = re.sub(r"not JSON: '.*'", "not JSON: '…'", shown(err)).casefold()
    return text.count(err.title.casefold()) == 1 and not str(err).casefold().startswith(err.title.casefold())


@pytest.mark.parametrize("shape", ["api", "problem", "openai", "text"])
@pytest.mark.parametrize("status", [400, 401, 403, 404, 418, 429, 500, 502, 503, 504])
def test_an_http_error_says_its_title_once(client: ChatClient, fake_api: FakeAPI, status: int, shape: str) -> None:
    fake_api.plan(*[Behaviour(status=status, error_shape=shape, retry_after=0)] * 3)  # type: ignore[arg-type]
    with pytest.raises(APIStatusError) as info:
        read_all(client)
    err = info.value
    assert says_its_title_once(err), shown(err)
    assert f"({status})" in str(err) or f"HTTP {status}" in str(err), "the status is still named"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (500, {"message": "The API had a server error"}),
        (404, {"message": "Model not found."}),
        (500, {"message": "Internal Server Error"}),
        (429, {"error": {"message": "Too Many Requests"}}),
        (403, {"message": "You have run out of credits"}),
    ],
)
def test_a_body_that_only_names_the_error_is_not_repeated(status: int, body: dict) -> None:
    err = error_from_response(_response(status, json.dumps(body)))
    assert says_its_title_once(err), shown(err)
    words = body.get("message") or body["error"]["message"]
    assert words.casefold().rstrip(".") not in str(err).casefold()


def test_the_apis_own_words_are_kept_when_they_add_something() -> None:
    err = error_from_response(_response(500, json.dumps({"message": "upstream model crashed"})))
    assert "upstream model crashed" in str(err)
    assert shown(err).startswith("**The API had a server error.** Internal error (500): upstream model crashed.")


def test_a_refused_connection_says_its_title_once(settings: Settings) -> None:
    chat = ChatClient(replace(settings, base_url=f"http://127.0.0.1:{closed_port()}/v1"))
    with pytest.raises(APIConnectionError) as info:
        read_all(chat)
    assert says_its_title_once(info.value), shown(info.value)


def test_an_unreadable_response_says_its_title_once(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply=REPLY, malformed_after=1))
    _, err = read_until_error(client)
    assert isinstance(err, MalformedResponseError)
    assert says_its_title_once(err), shown(err)


@pytest.mark.parametrize("framing", ["close", "gzip_close"])
def test_a_close_delimited_stream_ends_at_its_usage_even_if_the_server_lingers(
    settings: Settings, fake_api: FakeAPI, framing: Framing
) -> None:
    """A body that ends by closing: once the usage has come, waiting for the close only adds the server's delay."""
    fake_api.plan(Behaviour(reply="all of it", framing=framing, linger=3.0))
    client = ChatClient(settings)
    started = time.monotonic()
    with client.stream(build_body("google/gemma-3-27b-it", [{"role": "user", "content": "hi"}])) as stream:
        chunks = list(stream)
    assert time.monotonic() - started < 1.5
    assert "".join(c.text for c in chunks) == "all of it"
    assert chunks[-1].usage is not None


@pytest.mark.parametrize("framing", ["chunked", "gzip"])
def test_a_chunked_stream_that_lingers_after_its_ending_is_no_failure(
    settings: Settings, fake_api: FakeAPI, framing: Framing
) -> None:
    fake_api.plan(Behaviour(reply="all of it", framing=framing, linger=0.5))
    client = ChatClient(replace(settings, read_timeout=0.2))
    with client.stream(build_body("google/gemma-3-27b-it", [{"role": "user", "content": "hi"}])) as stream:
        chunks = list(stream)
    assert "".join(c.text for c in chunks) == "all of it" and chunks[-1].usage is not None


def test_an_error_after_automatic_retries_says_how_many(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(*[Behaviour(status=503)] * 3)
    with pytest.raises(ServerError) as caught:
        client.stream(build_body("google/gemma-3-27b-it", [{"role": "user", "content": "hi"}]))
    assert len(fake_api.requests) == 3  # the first try and AIMLAPI_MAX_RETRIES=2 more
    assert "Retried automatically 2 times, in vain." in str(caught.value)


def test_an_error_without_retries_says_nothing_of_them(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=400))
    with pytest.raises(BadRequestError) as caught:
        client.stream(build_body("google/gemma-3-27b-it", [{"role": "user", "content": "hi"}]))
    assert "Retried" not in str(caught.value)


# -- servers that misbehave (issue #10) -------------------------------------------------


def test_a_retry_after_beyond_the_cap_fails_at_once_naming_the_wait(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=429, retry_after=3600), Behaviour(reply=REPLY))
    started = time.monotonic()
    with pytest.raises(RateLimitError) as caught:
        client.stream(BODY)
    assert time.monotonic() - started < 1
    assert len(fake_api.requests) == 1  # no retry went out
    message = str(caught.value)
    assert "3600 s" in message and "AIMLAPI_MAX_RETRY_WAIT=60 s" in message
    assert "retrying" not in message.casefold()


def test_a_retry_after_within_the_cap_is_still_honoured(settings: Settings, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=429, retry_after=1), Behaviour(reply=REPLY))
    client = ChatClient(replace(settings, max_retry_wait=1))
    waits: list[tuple[float, int]] = []
    started = time.monotonic()
    with client.stream(BODY, on_retry=lambda s, status: waits.append((s, status))) as stream:
        text = "".join(c.text for c in stream)
    assert time.monotonic() - started >= 0.9
    assert text == REPLY and waits == [(1.0, 429)] and len(fake_api.requests) == 2


def test_a_cancelled_retry_wait_sends_no_further_request(client: ChatClient, fake_api: FakeAPI) -> None:
    from lib.errors import RequestCancelledError

    fake_api.plan(Behaviour(status=429, retry_after=2), Behaviour(reply=REPLY))
    cancel = threading.Event()
    threading.Timer(0.3, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(RequestCancelledError):
        client.stream(BODY, cancel=cancel)
    assert time.monotonic() - started < 0.6
    time.sleep(2.2)
    assert len(fake_api.requests) == 1


def test_a_200_html_page_names_its_content_type_and_quotes_it(
    client: ChatClient, fake_api: FakeAPI, framing: Framing
) -> None:
    fake_api.plan(Behaviour(raw_body="<html>Please log in</html>", raw_content_type="text/html"))
    with pytest.raises(MalformedResponseError) as caught:
        read_all(client)
    message = str(caught.value)
    assert "text/html" in message and "<html>Please log in</html>" in message
    assert "empty stream" not in message


def test_a_long_200_html_page_is_quoted_short(client: ChatClient, fake_api: FakeAPI) -> None:
    page = "<html><body>" + "Sign in to continue. " * 500 + "</body></html>"
    fake_api.plan(Behaviour(raw_body=page, raw_content_type="text/html; charset=utf-8"))
    with pytest.raises(MalformedResponseError) as caught:
        read_all(client)
    assert "text/html" in str(caught.value) and len(str(caught.value)) < 500


def test_a_200_json_error_body_gives_the_servers_message(
    client: ChatClient, fake_api: FakeAPI, framing: Framing
) -> None:
    fake_api.plan(
        Behaviour(raw_body='{"error": {"message": "Model overloaded"}}', raw_content_type="application/json")
    )
    with pytest.raises(ChatError) as caught:
        read_all(client)
    assert "Model overloaded" in str(caught.value)
    assert "no choices" not in str(caught.value)


def test_a_200_stream_of_the_wrong_type_with_no_events_names_what_came(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(raw_body="upstream unavailable", raw_content_type="text/plain"))
    with pytest.raises(MalformedResponseError) as caught:
        read_all(client)
    assert "text/plain" in str(caught.value) and "upstream unavailable" in str(caught.value)


# -- a key echoed by the server is neither shown nor stored (issue #10) ------------------

from pathlib import Path  # noqa: E402 - kept with the tests that use it (the module's imports are shared work)


def assert_no_part_of_key(text: str) -> None:
    """Neither the key nor any run of 8 of its characters, nor its elided echo, is in ``text``."""
    for start in range(len(CANARY_KEY) - 7):
        assert CANARY_KEY[start : start + 8] not in text, text
    assert f"...{CANARY_KEY[-4:]}" not in text, text


ECHOES = [
    pytest.param(f"Incorrect API key provided: {CANARY_KEY}", id="whole"),
    pytest.param(f"Incorrect API key provided: {CANARY_KEY[:6]}...{CANARY_KEY[-4:]}", id="elided"),
    pytest.param(f"Key ending {CANARY_KEY[-16:]} is not valid", id="tail"),
]


@pytest.mark.parametrize("echo", ECHOES)
@pytest.mark.parametrize("shape", ["api", "problem", "openai", "text"])
def test_a_401_echoing_the_key_does_not_show_it(client: ChatClient, fake_api: FakeAPI, shape: str, echo: str) -> None:
    fake_api.plan(Behaviour(status=401, error_shape=shape, error_message=echo))  # type: ignore[arg-type]
    with pytest.raises(AuthenticationError) as info:
        read_all(client)
    assert_no_key(info.value)
    for text in (str(info.value), repr(info.value), info.value.message):
        assert_no_part_of_key(text)
    assert "***" in str(info.value), "the server's words are kept, the key masked"


def test_a_400_text_body_quoting_the_key_does_not_show_it(client: ChatClient, fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=400, error_shape="text", error_message=f"bad header Bearer {CANARY_KEY}"))
    with pytest.raises(BadRequestError) as info:
        read_all(client)
    assert_no_part_of_key(str(info.value))
    assert "not JSON" in str(info.value) and "Bearer ***" in str(info.value)


def test_a_key_typed_in_the_sidebar_is_masked_in_what_the_server_echoes(settings: Settings, fake_api: FakeAPI) -> None:
    typed = "sk-typed-in-the-sidebar-0123456789"
    fake_api.api_key = typed
    fake_api.plan(Behaviour(status=401, error_message=f"Incorrect API key provided: {typed[:10]}...{typed[-4:]}"))
    with pytest.raises(AuthenticationError) as info:
        read_all(ChatClient(settings.with_key(typed)))
    assert typed[:10] not in str(info.value) and "***" in str(info.value)


@pytest.mark.parametrize("echo", ECHOES)
def test_a_mid_stream_error_event_echoing_the_key_does_not_show_it(
    client: ChatClient, fake_api: FakeAPI, framing: Framing, echo: str
) -> None:
    fake_api.plan(Behaviour(reply=REPLY, error_after=2, error_event_message=echo))
    parts, err = read_until_error(client)
    assert isinstance(err, StreamInterruptedError)
    assert "".join(parts) and "mid-stream" in str(err)
    assert_no_key(err)
    assert_no_part_of_key(str(err))


@pytest.mark.parametrize(
    "behaviour",
    [
        pytest.param(Behaviour(status=401, error_message=f"Incorrect API key provided: {CANARY_KEY}"), id="401"),
        pytest.param(Behaviour(status=400, error_shape="text", error_message=f"key {CANARY_KEY[:12]}…"), id="400-text"),
        pytest.param(
            Behaviour(reply=REPLY, error_after=2, error_event_message=f"key {CANARY_KEY[:6]}...{CANARY_KEY[-4:]}"),
            id="mid-stream",
        ),
    ],
)
def test_nothing_stored_or_exported_holds_the_key(
    settings: Settings, fake_api: FakeAPI, tmp_path: Path, behaviour: Behaviour
) -> None:
    from lib.chat.session import ChatSession
    from lib.store.database import Store
    from lib.store.exporting import to_html, to_json, to_markdown

    store = Store(f"sqlite:///{tmp_path / 'chats.sqlite3'}")
    chat = ChatSession.start(settings, store)
    fake_api.plan(behaviour)
    chat.conversation.add_user("hi")
    live = chat.begin_reply(settings)
    assert live is not None and live.wait(10)
    chat.record(live)
    saved = store.load(chat.conversation.id)
    errors = [m.error for m in saved.path() if m.error]
    assert errors, "the failure is recorded"
    for text in (*errors, to_json(saved), to_markdown(saved), to_html(saved)):
        assert_no_part_of_key(text)


# -- credentials in the base URL (issue #10) ---------------------------------------------


def with_credentials(url: str, userinfo: str = "user:hunter2-secret") -> str:
    return url.replace("://", f"://{userinfo}@", 1)


def test_credentials_in_the_base_url_are_not_sent_and_the_bearer_key_is(fake_api: FakeAPI) -> None:
    from lib.settings import load_settings

    settings = load_settings({"AIMLAPI_API_KEY": CANARY_KEY, "AIMLAPI_BASE_URL": with_credentials(fake_api.url)})
    fake_api.plan(Behaviour(reply=REPLY))
    chunks = read_all(ChatClient(settings))
    assert "".join(c.text for c in chunks) == REPLY
    assert fake_api.requests[0].headers["Authorization"] == f"Bearer {CANARY_KEY}"


@pytest.mark.parametrize("userinfo", ["user:hunter2-secret", ":hunter2-secret", "hunter2-secret"])
def test_settings_made_by_hand_with_credentials_still_send_the_bearer_key(
    settings: Settings, fake_api: FakeAPI, userinfo: str
) -> None:
    chat = ChatClient(replace(settings, base_url=with_credentials(fake_api.url, userinfo)))
    fake_api.plan(Behaviour(status=500, error_message="upstream crashed"), Behaviour(status=500), Behaviour(status=500))
    with pytest.raises(ServerError) as info:
        read_all(chat)
    assert fake_api.requests[0].headers["Authorization"] == f"Bearer {CANARY_KEY}"
    for text in (str(info.value), repr(chat), chat.url):
        assert "hunter2" not in text


def test_a_connection_error_does_not_show_credentials_of_the_base_url(settings: Settings) -> None:
    url = with_credentials(f"http://127.0.0.1:{closed_port()}/v1")
    with pytest.raises(APIConnectionError) as info:
        read_all(ChatClient(replace(settings, base_url=url)))
    assert "hunter2" not in str(info.value) and "127.0.0.1" in str(info.value)


def test_a_netrc_entry_does_not_replace_the_bearer_key(
    client: ChatClient, fake_api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    read_all(client)
    assert fake_api.requests[0].headers["Authorization"] == f"Bearer {CANARY_KEY}"


def test_no_key_sends_no_authorization_even_with_a_netrc_entry(
    settings: Settings, fake_api: FakeAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password netrc-secret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    fake_api.api_key = None
    read_all(ChatClient(replace(settings, api_key=Secret(""))))
    assert "Authorization" not in fake_api.requests[0].headers
