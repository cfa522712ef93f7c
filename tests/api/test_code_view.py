"""lib/api/code_view.py: the request as curl, Python and JavaScript, run for real against the fake API.

Each generated program is written to a file and run as it is, with the key in the
environment, against a fake that answers 401 to any other key: it must print the reply and
send the very body the app sent. The key must be in none of the texts.
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from lib.api.code_view import LANGUAGES, as_curl, as_javascript, as_python, code_for, code_views, endpoint
from lib.api.fake_api import Behaviour, FakeAPI
from lib.api.request import api_messages, build_body
from lib.secret import Secret
from lib.settings import Settings
from tests.conftest import CANARY_KEY, validate_request

BIG = "google/gemma-3-27b-it"
#: everything that breaks quoting somewhere: quotes of each kind, backslashes, newlines, tabs,
#: shell and template syntax, a here-document's end word, Unicode beyond the BMP, separators
TRICKY = (
    'He said "hi" & it\'s \'\'\' """ \\ \\\\ \\n \\u0041 \\" C:\\temp\n'
    "line two\ttab\r\n$HOME ${HOME} $(echo pwned) `echo pwned` %s {0} {{name}} #{x}\n"
    "JSON\nEOF\n</script> -- ; | && >out <in !! \x00 \x1b[31m é ß 中文 😀 \u2028 \u2029 \ufeff"
)
REPLY = "Voilà — “quoted” reply with $dollars, `ticks`, \\ and 😀 in it."
TIMEOUT = 60


def app_body(*, stream: bool = True, prompt: str = TRICKY) -> dict[str, Any]:
    history = [
        {"role": "user", "content": "First: " + prompt},
        {"role": "assistant", "content": "Noted."},
        {"role": "user", "content": prompt},
    ]
    params = {"temperature": 0.3, "max_tokens": 200, "stop": ["\n\nUser:", "'\"$`"], "response_format": {"type": "text"}}
    body = build_body(BIG, api_messages(prompt, history, BIG), params)
    if not stream:
        body["stream"] = False
        del body["stream_options"]
    return body


def settings_for(fake: FakeAPI, key: str = CANARY_KEY) -> Settings:
    return Settings(api_key=Secret(key), base_url=fake.url)


def run_env(key: str) -> dict[str, str]:
    # A bare environment: no proxy variables a developer's machine may set, only the key.
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "AIMLAPI_API_KEY": key, "LANG": "C.UTF-8"}


def run(command: list[str], key: str = CANARY_KEY) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, env=run_env(key), capture_output=True, text=True, encoding="utf-8", timeout=TIMEOUT)


def sse_text(output: str) -> str:
    """The reply text in server-sent events as curl prints them."""
    text = ""
    for line in output.splitlines():
        if line.startswith("data:") and line[5:].strip() != "[DONE]":
            for choice in json.loads(line[5:]).get("choices", []):
                text += choice["delta"].get("content") or ""
    return text


def node_major() -> int:
    node = shutil.which("node")
    if not node:
        return 0
    found = re.match(r"v(\d+)", subprocess.run([node, "--version"], capture_output=True, text=True).stdout)
    return int(found[1]) if found else 0


needs_curl = pytest.mark.skipif(not shutil.which("curl"), reason="curl is not installed")
needs_node = pytest.mark.skipif(node_major() < 18, reason="Node.js 18 or later (fetch) is not installed")


def test_the_tricky_body_is_valid_for_the_27b() -> None:
    validate_request(app_body(), "gemma-3-27b-it.json")
    validate_request(app_body(stream=False), "gemma-3-27b-it.json")


# -- Python ---------------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_python_run_as_it_is_gets_the_reply_and_sends_the_same_body(fake_api: FakeAPI, tmp_path: Path, stream: bool) -> None:
    body = app_body(stream=stream)
    fake_api.plan(Behaviour(reply=REPLY))
    script = tmp_path / "request.py"
    script.write_text(code_for("python", body, settings_for(fake_api)), encoding="utf-8")
    done = run([sys.executable, str(script)])
    assert done.returncode == 0, done.stderr
    assert done.stdout == REPLY + "\n"
    (received,) = fake_api.requests
    assert received.body == body
    assert received.headers["Authorization"] == f"Bearer {CANARY_KEY}"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers.get("Accept") == ("text/event-stream" if stream else "*/*")


def test_python_with_a_wrong_key_fails_with_the_servers_words(fake_api: FakeAPI, tmp_path: Path) -> None:
    script = tmp_path / "request.py"
    script.write_text(code_for("python", app_body(), settings_for(fake_api)), encoding="utf-8")
    done = run([sys.executable, str(script)], key="sk-wrong")
    assert done.returncode == 1
    assert "HTTP 401" in done.stderr and done.stdout == ""


def test_python_reports_an_error_event_in_the_stream(fake_api: FakeAPI, tmp_path: Path) -> None:
    fake_api.plan(Behaviour(reply="one two three", error_after=1, error_event_message="Upstream overloaded"))
    script = tmp_path / "request.py"
    script.write_text(code_for("python", app_body(), settings_for(fake_api)), encoding="utf-8")
    done = run([sys.executable, str(script)])
    assert done.returncode == 1 and "Upstream overloaded" in done.stderr
    assert done.stdout == "one"


def test_python_has_the_shape_of_the_apis_own_sample() -> None:
    code = as_python(app_body(), "https://api.aimlapi.com/v1")
    tree = ast.parse(code)  # valid Python
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and ast.unparse(n.func) == "requests.post"]
    (post,) = calls
    assert ast.literal_eval(post.args[0]) == "https://api.aimlapi.com/v1/chat/completions"
    assert [k.arg for k in post.keywords] == ["headers", "json", "stream", "timeout"]
    # the json= literal is the body itself, exactly
    assert ast.literal_eval(post.keywords[1].value) == app_body()
    assert "import requests" in code and "os.environ['AIMLAPI_API_KEY']" in code


def test_python_literal_of_odd_values() -> None:
    body = {"a": [], "b": {}, "c": None, "d": False, "e": 1.5e-7, "f": -3, "g": ["\ud800", "x"], 'k"\'': "\x00"}
    code = as_python(body, "http://h/v1")
    post = next(n for n in ast.walk(ast.parse(code)) if isinstance(n, ast.Call) and ast.unparse(n.func) == "requests.post")
    assert ast.literal_eval(post.keywords[1].value) == body


# -- curl -------------------------------------------------------------------------------------


@needs_curl
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_curl_run_as_it_is_gets_the_reply_and_sends_the_same_body(fake_api: FakeAPI, tmp_path: Path, stream: bool) -> None:
    body = app_body(stream=stream)
    fake_api.plan(Behaviour(reply=REPLY))
    script = tmp_path / "request.sh"
    script.write_text(code_for("curl", body, settings_for(fake_api)), encoding="utf-8")
    done = run(["sh", str(script)])
    assert done.returncode == 0, done.stderr
    text = sse_text(done.stdout) if stream else json.loads(done.stdout)["choices"][0]["message"]["content"]
    assert text == REPLY
    (received,) = fake_api.requests
    assert received.body == body
    assert received.headers["Authorization"] == f"Bearer {CANARY_KEY}"


@needs_curl
def test_curl_with_a_wrong_key_fails(fake_api: FakeAPI, tmp_path: Path) -> None:
    script = tmp_path / "request.sh"
    script.write_text(code_for("curl", app_body(), settings_for(fake_api)), encoding="utf-8")
    done = run(["sh", str(script)], key="sk-wrong")
    assert done.returncode != 0
    assert "Invalid API key" in done.stdout


@needs_curl
def test_curl_sends_a_body_beyond_the_length_of_one_argument(fake_api: FakeAPI, tmp_path: Path) -> None:
    # Linux refuses a single argument over 128 KiB: a body with an image is larger.
    body = app_body(prompt="x" * 300_000)
    fake_api.plan(Behaviour(reply="ok"))
    script = tmp_path / "request.sh"
    script.write_text(code_for("curl", body, settings_for(fake_api)), encoding="utf-8")
    done = run(["sh", str(script)])
    assert done.returncode == 0, done.stderr[-500:]
    assert fake_api.requests[0].body == body


# -- JavaScript -------------------------------------------------------------------------------


@needs_node
@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
def test_javascript_run_as_it_is_gets_the_reply_and_sends_the_same_body(fake_api: FakeAPI, tmp_path: Path, stream: bool) -> None:
    body = app_body(stream=stream)
    fake_api.plan(Behaviour(reply=REPLY, write_size=7))  # events cut across reads
    script = tmp_path / "request.mjs"
    script.write_text(code_for("javascript", body, settings_for(fake_api)), encoding="utf-8")
    done = run([str(shutil.which("node")), str(script)])
    assert done.returncode == 0, done.stderr
    assert done.stdout == REPLY + "\n"
    (received,) = fake_api.requests
    assert received.body == body
    assert received.headers["Authorization"] == f"Bearer {CANARY_KEY}"


@needs_node
def test_javascript_with_a_wrong_key_fails(fake_api: FakeAPI, tmp_path: Path) -> None:
    script = tmp_path / "request.mjs"
    script.write_text(code_for("javascript", app_body(), settings_for(fake_api)), encoding="utf-8")
    done = run([str(shutil.which("node")), str(script)], key="sk-wrong")
    assert done.returncode == 1 and "HTTP 401" in done.stderr


# -- the key ----------------------------------------------------------------------------------


def test_the_key_is_in_no_text(fake_api: FakeAPI) -> None:
    views = code_views(app_body(), settings_for(fake_api))
    assert set(views) == set(LANGUAGES)
    for language, code in views.items():
        assert CANARY_KEY not in code, language
        assert CANARY_KEY[3:15] not in code, language
        assert "AIMLAPI_API_KEY" in code, language


def test_a_key_pasted_into_a_prompt_is_masked(fake_api: FakeAPI) -> None:
    body = app_body(prompt=f"my key is {CANARY_KEY}, and part of it {CANARY_KEY[5:20]}")
    for code in code_views(body, settings_for(fake_api)).values():
        assert CANARY_KEY not in code and CANARY_KEY[5:20] not in code
        assert "my key is ***" in code


def test_no_key_no_masking(fake_api: FakeAPI) -> None:
    body = app_body(prompt="plain")
    assert code_for("python", body, Settings(base_url=fake_api.url)) == as_python(body, fake_api.url, timeout=60)


# -- the URL ------------------------------------------------------------------------------------


def test_the_url_is_the_clients_without_credentials() -> None:
    assert endpoint("https://api.aimlapi.com/v1") == "https://api.aimlapi.com/v1/chat/completions"
    assert endpoint("http://user:secret@proxy.local:8080/v1/") == "http://proxy.local:8080/v1/chat/completions"
    for make in (as_curl, as_python, as_javascript):
        assert "secret" not in make(app_body(), "http://user:secret@proxy.local/v1")  # type: ignore[operator]


def test_a_url_with_a_quote_is_quoted_for_the_shell() -> None:
    code = as_curl(app_body(), "http://h/it's")
    assert "--url 'http://h/it'\\''s/chat/completions'" in code


def test_an_unknown_language_is_refused(fake_api: FakeAPI) -> None:
    with pytest.raises(ValueError, match="cobol"):
        code_for("cobol", app_body(), settings_for(fake_api))  # type: ignore[arg-type]


def test_a_page_shows_data_urls_shortened_but_the_code_keeps_them() -> None:
    from lib.api.code_view import shortened

    payload = "iVBORw0KGgo" + "A" * 5000
    image = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{payload}"}}
    body = build_body(BIG, [{"role": "user", "content": [image]}])
    code = as_python(body, "http://127.0.0.1:1/v1")
    shown, cut = shortened(code, keep=20)
    assert payload in code and payload not in shown and cut == 1
    assert f"data:image/png;base64,{payload[:20]}…[{len(payload) - 20:,} more characters]" in shown
    assert shortened("data:image/png;base64,abc", keep=20) == ("data:image/png;base64,abc", 0)
