"""The request behind a reply as code: curl, Python (``requests``) and JavaScript (``fetch``).

Each sends the exact body the app sent, to the same URL, with the headers the app sends (see
:meth:`lib.api.client.ChatClient.stream`). The key is never in the text: Python and JavaScript
read it from the ``AIMLAPI_API_KEY`` environment variable, curl from ``$AIMLAPI_API_KEY``; as a
safety net, a key the body itself holds (pasted into a prompt) is masked (:func:`lib.secret.redact`).

The code follows the API's own samples (``x-codeSamples`` in the vendored specs): ``requests.post``
with ``headers=`` and ``json=`` for Python, ``fetch`` inside ``async function main()`` for
JavaScript, ``curl --request POST --url … --header …`` for the shell.

Streaming: the app streams every reply (``"stream": true``), and the code keeps it so, since it
is the app's request, sent unchanged. It reads the server-sent events and prints the reply as it
comes: each ``data: {json}`` line carries a piece in ``choices[0].delta.content``; the last one
carries ``usage`` with no choices; ``data: [DONE]`` may end it. curl prints the events as they
arrive (``--no-buffer``). A body without ``"stream": true`` gets code that prints
``choices[0].message.content`` of the one JSON answer instead.

How each language has its JSON written, so that any text in a prompt (quotes, backslashes,
newlines, ``$``, backticks, any Unicode) arrives unchanged:

- Python: a dict literal whose strings are :func:`repr`-exact (double-quoted when that needs no
  escape), so that the literal is the body, lone surrogates included.
- JavaScript: JSON inside ``JSON.stringify(…)``, JSON being a JavaScript expression; lone
  surrogates and U+2028/U+2029 are written as ``\\uXXXX`` escapes (in the curl JSON too).
- curl (POSIX shell: bash, zsh, sh): the JSON on the standard input through a quoted here-document
  (``<<'JSON'``), in which the shell expands nothing and quotes need no escaping; and which, unlike
  a ``--data '…'`` argument, has no length limit (a body with images is megabytes).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any, Literal

from lib.secret import Secret, redact
from lib.settings import Settings, without_credentials

Language = Literal["curl", "python", "javascript"]
#: the languages offered, with what a tab calls each and the language a code block highlights
LANGUAGES: dict[Language, tuple[str, str]] = {
    "curl": ("curl", "bash"),
    "python": ("Python", "python"),
    "javascript": ("JavaScript", "javascript"),
}
KEY_VARIABLE = "AIMLAPI_API_KEY"
#: seconds the Python code waits for the server to connect, and between two bytes of a stream
DEFAULT_TIMEOUT = 60.0
#: written as \uXXXX escapes in JSON: lone surrogates (no UTF-8 file holds them) and the two
#: Unicode line separators (invisible, and line breaks to some editors and older JavaScript)
_ESCAPED = re.compile(r"[\ud800-\udfff\u2028\u2029]")
_KEY_NOTE = f"The key is read from the environment: export {KEY_VARIABLE}=… first."


def endpoint(base_url: str) -> str:
    """The URL the app posts to for ``base_url`` (as :attr:`ChatClient.url`), never with a ``user:password@``."""
    return f"{without_credentials(base_url).rstrip('/')}/chat/completions"


def _streamed(body: dict[str, Any]) -> bool:
    return body.get("stream") is True


def _headers(body: dict[str, Any]) -> list[tuple[str, str]]:
    """The headers the app sends, but the key."""
    headers = [("Content-Type", "application/json")]
    if _streamed(body):
        headers.append(("Accept", "text/event-stream"))
    return headers


def _json_text(body: dict[str, Any], indent: int) -> str:
    """The body as JSON that any UTF-8 file holds: Unicode as it is, but lone surrogates and line separators escaped."""
    text = json.dumps(body, indent=indent, ensure_ascii=False)
    return _ESCAPED.sub(lambda m: f"\\u{ord(m[0]):04x}", text)


def _indent_after_first(text: str, spaces: int) -> str:
    # Split on \n only: str.splitlines would also cut at a U+2028 inside a JSON string.
    first, *rest = text.split("\n")
    return "\n".join([first, *(" " * spaces + line for line in rest)])


# -- curl -----------------------------------------------------------------------------------


def _sh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def as_curl(body: dict[str, Any], base_url: str) -> str:
    lines = [f"# The request as the app sent it. {_KEY_NOTE}"]
    if _streamed(body):
        lines.append('# The reply streams: --no-buffer prints each server-sent event ("data: {json}") as it arrives.')
    command = ["curl --no-buffer --fail-with-body" if _streamed(body) else "curl --fail-with-body", "--request POST"]
    command.append(f"--url {_sh_quote(endpoint(base_url))}")
    command.append(f'--header "Authorization: Bearer ${KEY_VARIABLE}"')
    command += [f"--header {_sh_quote(f'{name}: {value}')}" for name, value in _headers(body)]
    command.append("--data-binary @- <<'JSON'")
    lines.append(" \\\n  ".join(command))
    lines += [_json_text(body, 2), "JSON"]
    return "\n".join(lines) + "\n"


# -- Python ---------------------------------------------------------------------------------


def _py_str(text: str) -> str:
    """A Python string literal equal to ``text``: repr's, in double quotes when that needs no escape."""
    literal = repr(text)
    if literal.startswith("'") and '"' not in text and "'" not in text:
        return f'"{literal[1:-1]}"'
    return literal


def _py(value: Any, indent: int) -> str:
    """``value`` (a JSON value) as a Python literal, nested by 4 spaces per level like the API's sample."""
    pad, inner = " " * indent, " " * (indent + 4)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{_py_str(str(k))}: {_py(v, indent + 4)}," for k, v in value.items()]
        return "{\n" + "\n".join(items) + f"\n{pad}}}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        items = [f"{inner}{_py(v, indent + 4)}," for v in value]
        return "[\n" + "\n".join(items) + f"\n{pad}]"
    if isinstance(value, str):
        return _py_str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return f'float("{value}")'
    return repr(value)  # True, False, None, numbers


_PY_STREAM = """
# The reply streams as server-sent events: a "data: {json}" line per piece, each piece in
# choices[0].delta.content; the last event carries usage, and "data: [DONE]" may end it.
for line in response.iter_lines():
    if not line.startswith(b"data:"):
        continue
    data = line[len(b"data:"):].strip()
    if data == b"[DONE]":
        break
    chunk = json.loads(data)
    if "error" in chunk:
        raise SystemExit(f"The stream failed: {chunk['error']}")
    for choice in chunk.get("choices", []):
        print(choice["delta"].get("content") or "", end="", flush=True)
print()
"""

_PY_WHOLE = """
data = response.json()
print(data["choices"][0]["message"]["content"])
"""


def as_python(body: dict[str, Any], base_url: str, *, timeout: float = DEFAULT_TIMEOUT) -> str:
    headers = [f"        {_py_str(name)}: {_py_str(value)}," for name, value in _headers(body)]
    headers.append(f"        \"Authorization\": f\"Bearer {{os.environ['{KEY_VARIABLE}']}}\",")
    imports = "import json\nimport os\n" if _streamed(body) else "import os\n"
    lines = [
        imports,
        "import requests",
        "",
        f"# The request as the app sent it. {_KEY_NOTE}",
        "response = requests.post(",
        f"    {_py_str(endpoint(base_url))},",
        "    headers={",
        *headers,
        "    },",
        f"    json={_py(body, 4)},",
        *(["    stream=True,"] if _streamed(body) else []),
        f"    timeout={timeout:g},",
        ")",
        "if not response.ok:",
        '    raise SystemExit(f"HTTP {response.status_code}: {response.text}")',
    ]
    return "\n".join(lines) + "\n" + (_PY_STREAM if _streamed(body) else _PY_WHOLE)


# -- JavaScript -----------------------------------------------------------------------------


def _js_str(text: str) -> str:
    return "'" + json.dumps(text, ensure_ascii=False)[1:-1].replace("\\\"", '"').replace("'", "\\'") + "'"


_JS_STREAM = """
  // The reply streams as server-sent events: a "data: {json}" line per piece, each piece in
  // choices[0].delta.content; the last event carries usage, and "data: [DONE]" may end it.
  const decoder = new TextDecoder();
  let buffer = '';
  for await (const bytes of response.body) {
    buffer += decoder.decode(bytes, { stream: true });
    const lines = buffer.split('\\n');
    buffer = lines.pop();
    for (const line of lines) {
      const data = line.startsWith('data:') ? line.slice(5).trim() : '';
      if (!data || data === '[DONE]') continue;
      const chunk = JSON.parse(data);
      if (chunk.error) throw new Error(`The stream failed: ${JSON.stringify(chunk.error)}`);
      for (const choice of chunk.choices ?? []) {
        process.stdout.write(choice.delta?.content ?? '');
      }
    }
  }
  process.stdout.write('\\n');
"""

_JS_WHOLE = """
  const data = await response.json();
  console.log(data.choices[0].message.content);
"""


def as_javascript(body: dict[str, Any], base_url: str) -> str:
    headers = [f"      {_js_str(name)}: {_js_str(value)}," for name, value in _headers(body)]
    headers.append(f"      'Authorization': `Bearer ${{process.env.{KEY_VARIABLE}}}`,")
    lines = [
        f"// The request as the app sent it. {_KEY_NOTE}",
        "// For Node.js 18 or later, which has fetch: save as request.mjs and run node request.mjs",
        "async function main() {",
        f"  const response = await fetch({_js_str(endpoint(base_url))}, {{",
        "    method: 'POST',",
        "    headers: {",
        *headers,
        "    },",
        f"    body: JSON.stringify({_indent_after_first(_json_text(body, 2), 4)}),",
        "  });",
        "  if (!response.ok) {",
        "    throw new Error(`HTTP ${response.status}: ${await response.text()}`);",
        "  }",
    ]
    tail = ["}", "", "main().catch((error) => {", "  console.error(error.message);", "  process.exitCode = 1;", "});"]
    return "\n".join(lines) + (_JS_STREAM if _streamed(body) else _JS_WHOLE) + "\n".join(tail) + "\n"


# -- all of them ----------------------------------------------------------------------------


def code_for(language: Language, body: dict[str, Any], settings: Settings) -> str:
    """The request as code in ``language``, to the settings' base URL, the key nowhere in it."""
    if language == "curl":
        code = as_curl(body, settings.base_url)
    elif language == "python":
        code = as_python(body, settings.base_url, timeout=settings.read_timeout)
    elif language == "javascript":
        code = as_javascript(body, settings.base_url)
    else:
        raise ValueError(f"no code view in {language!r}")
    return _without_key(code, settings.api_key)


def code_views(body: dict[str, Any], settings: Settings) -> dict[Language, str]:
    """The request as code in every language of :data:`LANGUAGES`."""
    return {language: code_for(language, body, settings) for language in LANGUAGES}


#: how much of a data URL's payload a page shows of the code; the code itself keeps all of it
SHOWN_DATA = 64
_DATA_URL = re.compile(r"(data:[\w.+-]+/[\w.+-]+;base64,)([A-Za-z0-9+/=]+)")


def shortened(code: str, keep: int = SHOWN_DATA) -> tuple[str, int]:
    """``code`` for a page to show: each data URL (an image, megabytes of base64) cut after ``keep``
    characters of its payload, with a note of how many more it holds; and how many were cut."""
    cut = 0

    def shorten(found: re.Match[str]) -> str:
        nonlocal cut
        prefix, payload = found[1], found[2]
        if len(payload) <= keep:
            return found[0]
        cut += 1
        return f"{prefix}{payload[:keep]}…[{len(payload) - keep:,} more characters]"

    return _DATA_URL.sub(shorten, code), cut


def _without_key(code: str, key: Secret) -> str:
    # The code itself never holds the key; a body might, if it was pasted into a message.
    return redact(code, key) if key else code
