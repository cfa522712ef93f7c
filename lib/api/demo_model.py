"""The offline demo model's answers: plausible, Markdown-rich, and honest about being a demo.

It cannot see, but it can measure: an image in the last user message is described from its
pixels (size, shape, main colours, brightness; :mod:`lib.images.describe`), so that a demo
with a photo says something true about it.
"""

from __future__ import annotations

import base64
import binascii
import re

from lib.errors import ImageError
from lib.images.describe import describe

_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", re.I)


def _last_user_content(messages: list[dict]) -> str | list:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            return content if isinstance(content, list) else str(content or "")
    return ""


def _last_user_text(messages: list[dict]) -> str:
    content = _last_user_content(messages)
    if isinstance(content, list):
        return " ".join(p.get("text", "") for p in content if isinstance(p, dict) and p.get("type") == "text")
    return content


def _image_urls(messages: list[dict]) -> list[str]:
    content = _last_user_content(messages)
    parts = [p for p in content if isinstance(p, dict)] if isinstance(content, list) else []
    return [str((p.get("image_url") or {}).get("url", "")) for p in parts if p.get("type") == "image_url"]


def _seen(url: str) -> str:
    """One image, as the demo can tell it: from the pixels of a data: URL."""
    header, _, payload = url.partition(",")
    if not (header.startswith("data:") and header.endswith(";base64")):
        return "a link to an image, which the offline demo does not fetch"
    try:
        return describe(base64.b64decode(payload, validate=True)).sentence()
    except (binascii.Error, ValueError):
        return "data that is not valid base64"
    except ImageError:
        return "data it cannot read as a JPEG, PNG, GIF or WebP image"


def _image_lines(urls: list[str]) -> list[str]:
    """What the demo says about the images it was sent: nothing when there are none."""
    if not urls:
        return []
    if len(urls) == 1:
        return [f"I see **one image**: {_seen(urls[0])}.", ""]
    return [f"I see **{len(urls)} images**:", "", *(f"{n}. {_seen(u)}." for n, u in enumerate(urls, 1)), ""]


def _instructions(messages: list[dict]) -> str:
    for message in messages:
        if message.get("role") in ("system", "developer"):
            return str(message.get("content") or "")
    return ""


def _prompt_line(instructions: str) -> str:
    # A model without a system role (Gemma 3 4B, 12B) has the prompt at the start of the first
    # user message: "0 characters" would read as if the prompt had been lost.
    sent = (f"was sent first ({len(instructions)} characters)" if instructions
            else "went at the start of your first message (this model takes no system role), if one is set")
    return f"- the **system prompt** in force {sent}: edit it in the sidebar and it applies to your next message;"


#: who answers, first thing in the reply: the offline demo (no key) or the fake API (the tests' server)
DEMO_INTRO = ("This is the **offline demo model**: no request left this machine, "
              "so this answer is canned rather than written by Gemma.")
FAKE_INTRO = ("This is the **fake AI/ML API**, a test server on this machine: your request reached it, "
              "and this answer is canned rather than written by Gemma.")
#: the demo's last word; the fake API is reached with a key already, so it has none
_KEY_HINT = ["To talk to Gemma 3 for real, put your key in `AIMLAPI_API_KEY` (environment, `.env` "
             "or `.streamlit/secrets.toml`), or paste it in the sidebar.", ""]


def demo_reply(messages: list[dict]) -> str:
    """An answer built from the conversation, so that a newcomer sees every part of the page work."""
    return _canned(messages, DEMO_INTRO, _KEY_HINT)


def fake_reply(messages: list[dict]) -> str:
    """The same answer, from the fake API: it does not claim that nothing left the machine."""
    return _canned(messages, FAKE_INTRO, [])


def _canned(messages: list[dict], intro: str, closing: list[str]) -> str:
    question = " ".join(_last_user_text(messages).split())
    turns = sum(1 for m in messages if m.get("role") == "user")
    instructions = " ".join(_instructions(messages).split())
    quoted = question if len(question) <= 160 else question[:159] + "…"
    opener = "Hello! " if _GREETING.match(question) else ""
    images = _image_lines(_image_urls(messages))
    lines = [
        f"{opener}{intro}"
        + (" It cannot see: what it says of images is measured from their pixels." if images else ""),
        "",
        *images,
        f"You said: *{quoted or ('(no words, only images)' if images else '(nothing)')}*",
        "",
        "What a real reply would show here, and what you can try now:",
        "",
        "- the reply **streams** in token by token, as the real API sends it;",
        "- under it, the prompt, completion and total **tokens**, the **cost**, the time to "
        "first token, the total time and the speed;",
        _prompt_line(instructions),
        f"- this is turn **{turns}** of the conversation: the whole history is sent every time.",
        "",
        *closing,
        "```python",
        "# the request this app sends, in short",
        'requests.post(f"{base}/chat/completions", json={"model": model, "messages": messages, "stream": True})',
        "```",
    ]
    return "\n".join(lines)
