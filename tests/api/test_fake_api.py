"""lib.api.fake_api: the fake's own contract, read with plain requests over 127.0.0.1.

The wire-format and timing tests run under each framing of the answers (``framing`` fixture)."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
import requests
from PIL import Image as PILImage

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
from lib.api.models import GEMMA_MODELS
from lib.api.sse import iter_sse_data, iter_sse_events
from tests.conftest import CANARY_KEY
from tests.images.pictures import SKY, encode

MODEL = "google/gemma-3-27b-it"
AUTH = {"Authorization": f"Bearer {CANARY_KEY}"}
MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hi."}]


@pytest.fixture(params=FRAMINGS)
def framing(request: pytest.FixtureRequest, fake_api: FakeAPI) -> Framing:
    """Run the test once per framing of the fake's answers."""
    fake_api.framing = request.param
    return request.param


def post(api: FakeAPI, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
         path: str = "/chat/completions") -> requests.Response:
    body = body if body is not None else {"model": MODEL, "messages": MESSAGES, "stream": True}
    headers = AUTH if headers is None else headers
    return requests.post(api.url + path, json=body, headers=headers, timeout=5, stream=True)


def events(response: requests.Response) -> list[str]:
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/event-stream"
    return list(iter_sse_data(response.iter_lines()))


def chunks(response: requests.Response) -> list[dict[str, Any]]:
    return [json.loads(e) for e in events(response) if e != "[DONE]"]


def text_of(parsed: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"]["content"] for c in parsed if c["choices"])


# -- the wire format -----------------------------------------------------------------


def test_stream_chunks_look_like_the_apis(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="Hello there, friend."))
    response = post(fake_api)
    assert response.headers["x-request-id"]
    data = events(response)
    assert "[DONE]" not in data, "the documented ending has no [DONE]"
    parsed = [json.loads(e) for e in data]
    ids = {c["id"] for c in parsed}
    assert len(ids) == 1 and ids.pop().startswith("gen-")
    for chunk in parsed:
        assert chunk["object"] == "chat.completion.chunk"
        assert chunk["provider"] == "FakeRun"
        assert chunk["model"] == f"{MODEL}:free"
        assert isinstance(chunk["created"], int)
    *text_chunks, final = parsed
    assert [c["choices"][0]["delta"]["content"] for c in text_chunks] == ["Hello", " there,", " friend."]
    assert all(c["choices"][0]["delta"]["role"] == "assistant" for c in text_chunks)
    assert [c["choices"][0]["finish_reason"] for c in text_chunks] == [None, None, "stop"]
    assert final["choices"] == []
    usage = final["usage"]
    prompt = count_prompt_tokens(MESSAGES)
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (prompt, 3, prompt + 3)
    expected = round((prompt * DEMO_PRICE_IN + 3 * DEMO_PRICE_OUT) / 1e6, 9)
    assert usage["cost"] == pytest.approx(expected)
    assert final["meta"]["usage"]["usd_spent"] == pytest.approx(expected)
    assert final["meta"]["usage"]["credits_used"] > 0


def test_ending_done_adds_done_after_usage(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="a b", ending="done"))
    data = events(post(fake_api))
    assert data[-1] == "[DONE]"
    assert json.loads(data[-2])["choices"] == [] and "usage" in json.loads(data[-2])


def test_ending_usage_in_choice(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="a b", ending="usage_in_choice"))
    data = events(post(fake_api))
    assert data[-1] == "[DONE]"
    parsed = [json.loads(e) for e in data[:-1]]
    assert all(c["choices"] for c in parsed), "no choices-[] chunk"
    assert parsed[-1]["choices"][0]["finish_reason"] == "stop" and "usage" in parsed[-1]
    assert all("usage" not in c for c in parsed[:-1])


def test_ending_bare_has_no_usage(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="a b", ending="bare"))
    data = events(post(fake_api))
    assert data[-1] == "[DONE]"
    assert all("usage" not in json.loads(e) for e in data[:-1])


@pytest.mark.parametrize(
    ("cost_in", "in_usage", "in_meta"), [("usage", True, True), ("meta", False, True), ("none", False, False)]
)
def test_where_the_cost_goes(fake_api: FakeAPI, cost_in: str, in_usage: bool, in_meta: bool) -> None:
    fake_api.plan(Behaviour(reply="a b", cost_in=cost_in))  # type: ignore[arg-type]
    final = chunks(post(fake_api))[-1]
    assert ("cost" in final["usage"]) is in_usage
    assert ("meta" in final) is in_meta


def test_tokens_per_chunk(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="one two three four five", tokens_per_chunk=2))
    parsed = [c for c in chunks(post(fake_api)) if c["choices"]]
    assert [c["choices"][0]["delta"]["content"] for c in parsed] == ["one two", " three four", " five"]


def test_default_reply_is_the_fake_api_not_the_offline_demo(fake_api: FakeAPI) -> None:
    text = text_of(chunks(post(fake_api)))
    assert "fake AI/ML API" in text and "You said: *Say hi.*" in text
    # A key was sent and the request reached a server: the demo's words would be untrue here.
    assert "offline demo model" not in text and "no request left" not in text and "AIMLAPI_API_KEY" not in text


def test_the_demo_servers_default_reply_is_the_offline_demo_model() -> None:
    with FakeAPI(demo=True) as demo:
        text = text_of(chunks(post(demo, headers={})))
    assert "offline demo model" in text and "AIMLAPI_API_KEY" in text and "fake AI/ML API" not in text


@pytest.mark.parametrize("demo", [False, True])
def test_json_mode_and_schema_mode_are_answered_in_json(demo: bool) -> None:
    schema = {"type": "object", "required": ["name", "tags"], "additionalProperties": False,
              "properties": {"name": {"type": "string"}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}}}}
    with FakeAPI(demo=demo) as api:
        as_object = text_of(chunks(post(api, {"model": MODEL, "messages": MESSAGES, "stream": True,
                                              "response_format": {"type": "json_object"}}, headers={})))
        as_schema = text_of(chunks(post(api, {"model": MODEL, "messages": MESSAGES, "stream": True, "response_format":
                                              {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}},
                                        headers={})))
    assert isinstance(json.loads(as_object), dict)
    jsonschema.validate(json.loads(as_schema), schema)


def test_not_streamed_when_stream_is_false(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="Whole answer."))
    response = post(fake_api, {"model": MODEL, "messages": MESSAGES})
    assert response.headers["Content-Type"] == "application/json"
    # A close-delimited whole answer has no length either: its end is the connection's.
    assert ("Content-Length" in response.headers) is (framing in ("chunked", "gzip"))
    assert response.headers.get("Content-Encoding") == ("gzip" if framing.startswith("gzip") else None)
    data = response.json()
    assert data["object"] == "chat.completion"
    assert data["choices"][0]["message"] == {"role": "assistant", "content": "Whole answer.", "refusal": None}
    assert data["choices"][0]["finish_reason"] == "stop"
    assert data["usage"]["completion_tokens"] == 2


def test_body_json_ignores_stream_true(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="Whole.", body="json"))
    response = post(fake_api)
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["choices"][0]["message"]["content"] == "Whole."


def test_body_no_choices(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="Whole.", body="no_choices"))
    assert post(fake_api).json()["choices"] == []


def test_max_tokens_cut_gives_finish_reason_length(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="one two three four five six"))
    parsed = chunks(post(fake_api, {"model": MODEL, "messages": MESSAGES, "stream": True, "max_tokens": 3}))
    assert text_of(parsed) == "one two three"
    finishes = [c["choices"][0]["finish_reason"] for c in parsed if c["choices"]]
    assert finishes[-1] == "length"
    assert parsed[-1]["usage"]["completion_tokens"] == 3


def test_finish_reason_can_be_set(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="a", finish_reason="content_filter"))
    parsed = chunks(post(fake_api))
    assert parsed[0]["choices"][0]["finish_reason"] == "content_filter"


# -- framing -------------------------------------------------------------------------

HEADERS_OF: dict[str, dict[str, str | None]] = {
    "chunked": {"Transfer-Encoding": "chunked", "Content-Encoding": None, "Connection": None},
    "close": {"Transfer-Encoding": None, "Content-Encoding": None, "Connection": "close"},
    "gzip": {"Transfer-Encoding": "chunked", "Content-Encoding": "gzip", "Connection": None},
    "gzip_close": {"Transfer-Encoding": None, "Content-Encoding": "gzip", "Connection": "close"},
}


def test_stream_headers_of_each_framing(fake_api: FakeAPI, framing: Framing) -> None:
    response = post(fake_api)
    for name, value in HEADERS_OF[framing].items():
        assert response.headers.get(name) == value, name
    assert "Content-Length" not in response.headers
    assert "fake AI/ML API" in text_of(chunks(response))


def test_every_event_can_be_read_as_soon_as_it_is_sent(fake_api: FakeAPI, framing: Framing) -> None:
    """Compressed or not, chunked or not: each event decodes before the next one is written."""
    fake_api.plan(Behaviour(reply="a b c", token_rate=4))  # 0.25 s apart
    response = post(fake_api)
    started = time.monotonic()
    seen = [(time.monotonic() - started, data) for data in iter_sse_events(reads(response))]
    texts = [(at, json.loads(data)["choices"][0]["delta"]["content"]) for at, data in seen[:3]]
    assert [text for _, text in texts] == ["a", " b", " c"]
    # Held back (a buffer, a compressor), events would arrive together at the end.
    (first, _), (second, _), (third, _) = texts
    assert first < 0.2 and second - first > 0.15 and third - second > 0.15, texts


def test_a_close_delimited_body_ends_by_closing_the_connection(fake_api: FakeAPI) -> None:
    import socket as sockets

    fake_api.framing = "close"
    body = json.dumps({"model": MODEL, "messages": MESSAGES, "stream": True}).encode()
    with sockets.create_connection(("127.0.0.1", fake_api.port), timeout=5) as sock:
        sock.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
            % (CANARY_KEY.encode(), len(body), body)
        )
        raw = b""
        while data := sock.recv(65536):
            raw += data
    head, _, rest = raw.partition(b"\r\n\r\n")
    assert b"connection: close" in head.lower() and b"content-length" not in head.lower()
    assert rest.startswith(b"data: {") and rest.endswith(b"\n\n"), "no chunk sizes around the events"


def test_a_behaviour_can_name_its_own_framing(fake_api: FakeAPI) -> None:
    fake_api.framing = "gzip"
    fake_api.plan(Behaviour(reply="x", framing="close"), Behaviour(reply="y"))
    first, second = post(fake_api), post(fake_api)
    assert first.headers.get("Connection") == "close" and "Content-Encoding" not in first.headers
    assert second.headers["Content-Encoding"] == "gzip"
    assert text_of(chunks(first)) == "x" and text_of(chunks(second)) == "y"


def test_framing_is_set_per_server_and_survives_a_reset() -> None:
    with FakeAPI(framing="close") as api:
        api.reset()
        assert post(api, headers={}).headers.get("Connection") == "close"


def test_framing_over_http(fake_api: FakeAPI) -> None:
    requests.post(f"http://127.0.0.1:{fake_api.port}/_fake/plan", json=[{"framing": "gzip_close"}], timeout=5)
    response = post(fake_api)
    assert response.headers["Content-Encoding"] == "gzip" and response.headers["Connection"] == "close"


@pytest.mark.parametrize("status", [400, 429, 503])
def test_errors_under_each_framing_keep_a_length(fake_api: FakeAPI, framing: Framing, status: int) -> None:
    fake_api.plan(Behaviour(status=status, error_message="nope"))
    response = post(fake_api)
    assert response.status_code == status
    assert response.json()["message"] == "nope"
    assert "Content-Length" in response.headers
    assert (response.headers.get("Content-Encoding") == "gzip") == framing.startswith("gzip")


def test_write_size_cuts_events_into_small_writes(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="Grüße 🎉", write_size=5))
    response = post(fake_api)
    pieces = list(reads(response))
    assert len(pieces) > 10
    assert text_of([json.loads(e) for e in iter_sse_events(pieces)]) == "Grüße 🎉"


def test_events_carry_raw_utf8(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="日本"))
    assert "日本".encode() in post(fake_api).raw.read()


def test_command_line_framing_flag() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "lib.api.fake_api", "--port", "0", "--framing", "close"],
        stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().split()[-1]
        body = {"model": MODEL, "messages": MESSAGES, "stream": True}
        response = requests.post(url + "/chat/completions", json=body, timeout=5)
        assert response.headers.get("Connection") == "close"
        assert "Transfer-Encoding" not in response.headers
    finally:
        process.terminate()
        process.wait(5)


# -- auth and validation -------------------------------------------------------------


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": CANARY_KEY}])
def test_401_without_the_right_key(fake_api: FakeAPI, headers: dict[str, str]) -> None:
    response = post(fake_api, headers=headers)
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"message", "path", "requestId", "statusCode", "timestamp"}
    assert body["statusCode"] == 401 and body["path"] == "/v1/chat/completions"
    assert body["requestId"] == response.headers["x-request-id"]
    assert CANARY_KEY not in response.text


def test_a_fake_without_a_key_takes_any_request() -> None:
    with FakeAPI() as api:
        api.plan(Behaviour(reply="open"))
        assert text_of(chunks(post(api, headers={}))) == "open"


def test_400_for_a_system_role_sent_to_4b(fake_api: FakeAPI) -> None:
    response = post(fake_api, {"model": "google/gemma-3-4b-it", "messages": MESSAGES, "stream": True})
    assert response.status_code == 400
    assert response.json()["message"].startswith("messages.0.role")
    assert '"system"' in response.json()["message"]


def test_400_for_a_system_role_sent_to_3n(fake_api: FakeAPI) -> None:
    response = post(fake_api, {"model": "google/gemma-3n-e4b-it", "messages": MESSAGES, "stream": True})
    assert response.status_code == 400


@pytest.mark.parametrize("role", ["system", "developer"])
def test_27b_takes_instruction_roles(fake_api: FakeAPI, role: str) -> None:
    messages = [{"role": role, "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert post(fake_api, {"model": MODEL, "messages": messages, "stream": True}).status_code == 200


def test_400_for_two_user_messages_in_a_row(fake_api: FakeAPI) -> None:
    messages = [{"role": "user", "content": "a"}, {"role": "user", "content": "b"}]
    response = post(fake_api, {"model": MODEL, "messages": messages, "stream": True})
    assert response.status_code == 400
    assert "alternate" in response.json()["message"]


def test_400_for_two_assistant_messages_in_a_row(fake_api: FakeAPI) -> None:
    messages = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                {"role": "assistant", "content": "c"}]
    assert post(fake_api, {"model": MODEL, "messages": messages, "stream": True}).status_code == 400


def image_message(url: str | None = None, text: str = "What is this?") -> dict[str, Any]:
    if url is None:
        url = "data:image/png;base64," + base64.b64encode(encode(PILImage.new("RGB", (800, 600), SKY), "PNG")).decode()
    return {"role": "user", "content": [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": url}}]}


def test_an_image_is_taken_by_27b_and_the_demo_model_describes_it(fake_api: FakeAPI) -> None:
    response = post(fake_api, {"model": MODEL, "messages": [image_message()], "stream": True})
    parsed = chunks(response)
    assert "I see **one image**: 800×600, landscape; mostly blue; medium-bright." in text_of(parsed)
    assert parsed[-1]["usage"]["prompt_tokens"] >= 256, "an image counts as Gemma 3 counts it"


def test_an_image_sent_to_3n_gets_the_apis_400(fake_api: FakeAPI) -> None:
    body = {"model": "google/gemma-3n-e4b-it", "messages": [image_message()], "stream": True}
    response = post(fake_api, body)
    assert response.status_code == 400
    assert response.json()["message"] == (
        'messages.0.content.1.type: Invalid enum value. Expected file | text, received "image_url"'
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("data:image/bmp;base64,Qk0=", "only base64 JPG/JPEG, PNG, GIF and WEBP"),
        ("data:image/png;base64,%%%", "malformed"),
        ("", "Required"),
    ],
)
def test_an_image_url_that_cannot_be_an_image_gets_a_400(fake_api: FakeAPI, url: str, problem: str) -> None:
    response = post(fake_api, {"model": MODEL, "messages": [image_message(url)], "stream": True})
    assert response.status_code == 400
    assert response.json()["message"].startswith("messages.0.content.1.image_url.url: ")
    assert problem in response.json()["message"]


def test_prompt_tokens_count_each_image_as_256() -> None:
    with_image = image_message()
    text_only = {**with_image, "content": with_image["content"][:1]}
    assert count_prompt_tokens([with_image]) == count_prompt_tokens([text_only]) + 256
    assert count_prompt_tokens([with_image, {"role": "assistant", "content": "x"}, with_image]) < 600


@pytest.mark.parametrize("body", [{"model": MODEL}, {"messages": MESSAGES}, {"model": MODEL, "messages": []}])
def test_400_for_a_body_without_model_or_messages(fake_api: FakeAPI, body: dict[str, Any]) -> None:
    assert post(fake_api, body).status_code == 400


# -- misbehaviour on demand ----------------------------------------------------------


def test_error_shape_problem(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(status=403, error_shape="problem"))
    response = post(fake_api)
    assert response.status_code == 403
    assert response.headers["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 403 and body["title"] and body["error"]["message"] == "You have run out of credits"
    assert body["requestId"] == response.headers["x-request-id"]


def test_error_shape_openai(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=400, error_shape="openai", error_message="bad temperature"))
    body = post(fake_api).json()
    assert body == {"error": {"message": "bad temperature", "type": "invalid_request_error", "code": 400}}


def test_error_shape_text(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(status=502, error_shape="text"))
    response = post(fake_api)
    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html"
    with pytest.raises(ValueError):
        response.json()


def test_retry_after_header(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(status=429, retry_after=2), Behaviour(status=503))
    assert post(fake_api).headers["Retry-After"] == "2"
    assert "Retry-After" not in post(fake_api).headers


def test_plan_order_then_default(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=503), Behaviour(reply="second"))
    fake_api.plan(Behaviour(status=404))
    fake_api.default = Behaviour(reply="default")
    assert post(fake_api).status_code == 503
    assert text_of(chunks(post(fake_api))) == "second"
    assert post(fake_api).status_code == 404
    assert text_of(chunks(post(fake_api))) == "default"
    assert text_of(chunks(post(fake_api))) == "default"


def test_plan_over_http(fake_api: FakeAPI) -> None:
    plan = [{"status": 429, "retry_after": 1}, {"reply": "from http", "unknown_field": "ignored"}]
    response = requests.post(f"http://127.0.0.1:{fake_api.port}/_fake/plan", json=plan, timeout=5)
    assert response.status_code == 200
    first = post(fake_api)
    assert first.status_code == 429 and first.headers["Retry-After"] == "1"
    assert text_of(chunks(post(fake_api))) == "from http"


def test_reset_over_http(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(status=500))
    post(fake_api, {"model": MODEL, "messages": MESSAGES})
    assert requests.post(f"http://127.0.0.1:{fake_api.port}/_fake/reset", timeout=5).status_code == 200
    assert fake_api.requests == []
    fake_api.plan()
    assert post(fake_api).status_code == 200


def test_requests_are_recorded(fake_api: FakeAPI) -> None:
    body = {"model": MODEL, "messages": MESSAGES, "stream": True, "temperature": 0.3}
    events(post(fake_api, body))
    (recorded,) = fake_api.requests
    assert recorded.path == "/v1/chat/completions"
    assert recorded.body == body
    assert recorded.headers["Authorization"] == f"Bearer {CANARY_KEY}"
    assert fake_api.bodies() == [body]


def test_control_requests_are_not_recorded(fake_api: FakeAPI) -> None:
    requests.post(f"http://127.0.0.1:{fake_api.port}/_fake/plan", json=[], timeout=5)
    assert fake_api.requests == []


def test_drop_after_cuts_the_connection(fake_api: FakeAPI) -> None:
    fake_api.plan(Behaviour(reply="a b c d e", drop_after=2))
    response = post(fake_api)
    seen: list[str] = []
    with pytest.raises(requests.exceptions.RequestException):
        for line in response.iter_lines():
            seen.append(line.decode())
    assert 'data: {' in seen[0]
    assert len([s for s in seen if s.startswith("data:")]) == 2


@pytest.mark.parametrize("framing", ["close", "gzip_close"])
def test_drop_after_under_close_framing_ends_the_body_without_the_streams_ending(
    fake_api: FakeAPI, framing: Framing
) -> None:
    """Without chunks a cut body is no HTTP error: what is missing is the stream's own ending."""
    fake_api.plan(Behaviour(reply="a b c d e", drop_after=2, framing=framing))
    parsed = [json.loads(e) for e in iter_sse_events(reads(post(fake_api)))]
    assert text_of(parsed) == "a b"
    assert all(c["choices"] and c["choices"][0]["finish_reason"] is None for c in parsed)


def test_malformed_after_sends_a_line_that_is_not_json(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="a b c", malformed_after=1))
    data = events(post(fake_api))
    bad = []
    for item in data:
        try:
            json.loads(item)
        except ValueError:
            bad.append(item)
    assert len(bad) == 1 and bad[0].startswith('{"id": "broken"')


def test_response_delay(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="a", response_delay=0.3))
    started = time.monotonic()
    post(fake_api).close()
    assert time.monotonic() - started >= 0.28


def reads(response: requests.Response) -> Iterator[bytes]:
    """The body as it arrives: ``iter_lines`` would wait for the end of a close-delimited one."""
    while data := response.raw.read1(decode_content=True):
        yield data


def _chunk_times(response: requests.Response) -> list[float]:
    times = []
    for data in iter_sse_events(reads(response)):
        if '"content"' in data:
            times.append(time.monotonic())
    return times


def test_token_rate_is_roughly_honoured(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="a b c d e f g h i", token_rate=20))  # 9 tokens: 8 gaps of 50 ms
    times = _chunk_times(post(fake_api))
    assert len(times) == 9
    span = times[-1] - times[0]
    assert 0.25 <= span <= 1.5


def test_no_token_rate_streams_fast(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply=" ".join("x" * 50)))
    times = _chunk_times(post(fake_api))
    assert len(times) == 50
    assert times[-1] - times[0] < 0.5


def test_first_token_delay(fake_api: FakeAPI, framing: Framing) -> None:
    fake_api.plan(Behaviour(reply="a", first_token_delay=0.3))
    started = time.monotonic()
    response = post(fake_api)
    headers_at = time.monotonic() - started
    times = _chunk_times(response)
    assert headers_at < 0.25, "the headers come before the delay"
    assert times[0] - started >= 0.28


# -- other endpoints and helpers -----------------------------------------------------


def test_models_endpoint(fake_api: FakeAPI) -> None:
    response = requests.get(fake_api.url + "/models", timeout=5)
    assert [m["id"] for m in response.json()["data"]] == [m.id for m in GEMMA_MODELS]


def test_unknown_paths_are_404(fake_api: FakeAPI) -> None:
    assert requests.get(fake_api.url + "/nothing", timeout=5).status_code == 404
    assert post(fake_api, path="/completions").status_code == 404


def test_split_tokens_keeps_every_character() -> None:
    for text in ["Hello there, world.", "  leading", "trailing  ", "a\n\nb", "", "   "]:
        assert "".join(split_tokens(text)) == text
    assert split_tokens("one two") == ["one", " two"]
    assert split_tokens("") == []


def test_count_prompt_tokens() -> None:
    assert count_prompt_tokens([]) == 0
    assert count_prompt_tokens([{"role": "user", "content": "one two"}]) == 6
    assert count_prompt_tokens(MESSAGES) > count_prompt_tokens(MESSAGES[1:])


def test_behaviour_from_dict_ignores_unknown_fields() -> None:
    assert Behaviour.from_dict({"status": 500, "bogus": 1}) == Behaviour(status=500)


def test_a_long_lived_fake_can_keep_no_log() -> None:
    import requests

    with FakeAPI(record_requests=False) as quiet:
        body = {"model": "google/gemma-3-27b-it", "messages": [{"role": "user", "content": "hi"}]}
        response = requests.post(f"{quiet.url}/chat/completions", json=body, timeout=5)
        assert response.status_code == 200
        assert quiet.requests == []


def test_the_fake_counts_requests_in_flight_at_once(fake_api: FakeAPI) -> None:
    """``max_in_flight`` is the most chat requests answered at the same moment: a bound on a client's concurrency."""
    from concurrent.futures import ThreadPoolExecutor

    fake_api.default = Behaviour(reply="one two three", first_token_delay=0.5)

    def ask(_: int) -> int:
        body = {"model": MODEL, "messages": MESSAGES, "stream": True}
        return requests.post(f"{fake_api.url}/chat/completions", json=body, headers=AUTH, timeout=5).status_code

    def settled() -> int:
        # the client has the whole answer a moment before the server's handler returns
        deadline = time.monotonic() + 2
        while fake_api.in_flight and time.monotonic() < deadline:
            time.sleep(0.01)
        return fake_api.in_flight

    with ThreadPoolExecutor(3) as pool:
        assert list(pool.map(ask, range(3))) == [200, 200, 200]
    assert fake_api.max_in_flight == 3
    assert settled() == 0
    assert ask(0) == 200 and fake_api.max_in_flight == 3
    assert settled() == 0
    fake_api.reset()
    assert fake_api.max_in_flight == 0
