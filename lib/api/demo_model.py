"""The offline demo model's answers: plausible, Markdown-rich, and honest about being a demo."""

from __future__ import annotations

import re

_GREETING = re.compile(r"^\s*(hi|hello|hey|good (morning|afternoon|evening))\b", re.I)


def _last_user_text(messages: list[dict]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content or "")
    return ""


def _instructions(messages: list[dict]) -> str:
    for message in messages:
        if message.get("role") in ("system", "developer"):
            return str(message.get("content") or "")
    return ""


def demo_reply(messages: list[dict]) -> str:
    """An answer built from the conversation, so that a newcomer sees every part of the page work."""
    question = " ".join(_last_user_text(messages).split())
    turns = sum(1 for m in messages if m.get("role") == "user")
    instructions = " ".join(_instructions(messages).split())
    quoted = question if len(question) <= 160 else question[:159] + "…"
    opener = "Hello! " if _GREETING.match(question) else ""
    lines = [
        f"{opener}This is the **offline demo model**: no request left this machine, "
        "so this answer is canned rather than written by Gemma.",
        "",
        f"You said: *{quoted or '(nothing)'}*",
        "",
        "What a real reply would show here, and what you can try now:",
        "",
        "- the reply **streams** in token by token, as the real API sends it;",
        "- under it, the prompt, completion and total **tokens**, the **cost**, the time to "
        "first token, the total time and the speed;",
        f"- the **system prompt** in force was sent first ({len(instructions)} characters): "
        "edit it in the sidebar and it applies to your next message;",
        f"- this is turn **{turns}** of the conversation: the whole history is sent every time.",
        "",
        "To talk to Gemma 3 for real, put your key in `AIMLAPI_API_KEY` (environment, `.env` "
        "or `.streamlit/secrets.toml`), or paste it in the sidebar.",
        "",
        "```python",
        "# the request this app sends, in short",
        'requests.post(f"{base}/chat/completions", json={"model": model, "messages": messages, "stream": True})',
        "```",
    ]
    return "\n".join(lines)
