"""How full the model's context window is, and whether the next turn will fit.

The last reply's ``prompt_tokens + completion_tokens`` count everything up to and
including that reply exactly. Anything after it (a user message whose reply failed),
or everything when no reply reported usage, is estimated from its length. The next
turn adds the message being typed and the ``max_tokens`` reserved for the reply: servers
built on vLLM reject a request whose prompt plus ``max_tokens`` exceeds the window.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from lib.api.models import model_info
from lib.chat.conversation import Message
from lib.chat.usage import Usage
from lib.words import count

#: English text averages about four characters per token with Gemma's tokenizer
CHARS_PER_TOKEN = 4
#: each turn is wrapped in ``<start_of_turn>role\n`` ... ``<end_of_turn>\n`` by Gemma's template
TOKENS_PER_MESSAGE = 4
#: Gemma 3's vision encoder turns every image into this many tokens, whatever its size
TOKENS_PER_IMAGE = 256
WARN_FRACTION = 0.8

#: unknown: the model's window is not known, so nothing can be said about fitting
Level = Literal["ok", "warn", "overflow", "unknown"]


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def estimate_content(content: str | list[dict[str, Any]]) -> int:
    """Tokens of a message's content: a string, or a list of text and image_url parts."""
    if isinstance(content, str):
        return estimate_tokens(content)
    total = 0
    for part in content:
        if part.get("type") == "image_url":
            total += TOKENS_PER_IMAGE
        else:
            total += estimate_tokens(str(part.get("text", "")))
    return total


def estimate_message(content: str | list[dict[str, Any]]) -> int:
    return estimate_content(content) + TOKENS_PER_MESSAGE


def estimate_usage(messages: list[dict[str, Any]], reply: str) -> Usage:
    """Tokens of a request and its (partial) reply, counted here: for a reply the server reported none for."""
    prompt = sum(estimate_message(m.get("content") or "") for m in messages)
    completion = estimate_tokens(reply)
    return Usage(prompt, completion, prompt + completion, estimated=True)


@dataclass(frozen=True)
class ContextGauge:
    #: tokens the conversation takes so far (system prompt and path)
    used: int
    #: estimated tokens of the message being typed
    pending: int
    #: tokens kept free for the reply (max_tokens, 0 when unset)
    reserve: int
    #: the model's context window, None when unknown
    window: int | None
    #: whether ``used`` is (partly) estimated rather than counted by the API
    is_estimate: bool
    level: Level
    message: str

    @property
    def next_turn(self) -> int:
        """Tokens the next request needs: history, the new message and the reply reserve."""
        return self.used + self.pending + self.reserve

    @property
    def fraction(self) -> float | None:
        """Share of the window used so far, None when the window is unknown; can exceed 1."""
        return None if self.window is None else self.used / self.window

    @property
    def progress(self) -> float:
        """``fraction`` clamped to 0..1, for a progress bar."""
        return min(self.fraction or 0.0, 1.0)


def _estimate(message: Message) -> int:
    return estimate_message(message.content) + TOKENS_PER_IMAGE * len(message.images)


def _used(system_prompt: str, path: Sequence[Message]) -> tuple[int, bool]:
    """Tokens of the system prompt and path, and whether that is an estimate."""
    for index in range(len(path) - 1, -1, -1):
        usage = path[index].stats.usage if path[index].stats else None
        if usage and usage.prompt_tokens is not None and usage.completion_tokens is not None:
            after = path[index + 1 :]
            counted = usage.prompt_tokens + usage.completion_tokens
            return counted + sum(_estimate(m) for m in after), bool(after) or usage.estimated
    estimate = sum(_estimate(m) for m in path)
    if system_prompt.strip():
        estimate += estimate_message(system_prompt.strip())
    return estimate, bool(estimate)


def gauge(
    model_id: str,
    system_prompt: str = "",
    path: Sequence[Message] = (),
    *,
    pending_text: str = "",
    pending_images: int = 0,
    max_tokens: int | None = None,
) -> ContextGauge:
    """The gauge for sending ``pending_text`` next in a chat whose screen shows ``path``.

    ``path`` is :meth:`Conversation.path`; the latest reply on it with both token counts
    makes the count exact up to there.
    """
    used, is_estimate = _used(system_prompt, path)
    pending = (estimate_message(pending_text) if pending_text.strip() else 0) + TOKENS_PER_IMAGE * pending_images
    reserve = max_tokens or 0
    window = model_info(model_id).context_window
    approx = "≈" if is_estimate else ""
    if window is None:
        text = f"{approx}{used:,} tokens (context window unknown)"
        return ContextGauge(used, pending, reserve, None, is_estimate, "unknown", text)
    share = f"{used / window:.1%}{', estimated' if is_estimate else ''}"
    text = f"{approx}{used:,} of {window:,} tokens ({share})"
    if pending_images:
        text += f"; ≈{TOKENS_PER_IMAGE * pending_images:,} more for the {count(pending_images, 'image')} to send"
    needed = used + pending + reserve
    if needed > window:
        parts = [f"conversation {used:,}"]
        if pending:
            parts.append(f"your message ≈{pending:,}")
        if reserve:
            parts.append(f"reply up to {reserve:,}")
        text = (
            f"The next turn may not fit: it needs about {needed:,} tokens ({' + '.join(parts)}) "
            f"of {window:,}. Start a new chat, shorten the message or lower Max tokens."
        )
        level: Level = "overflow"
    elif needed >= WARN_FRACTION * window:
        level = "warn"
        text = f"{text}. Nearly full: the next turn needs about {needed:,} tokens."
    else:
        level = "ok"
    return ContextGauge(used, pending, reserve, window, is_estimate, level, text)
