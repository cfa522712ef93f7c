"""Settled turns of a long chat as ready-made HTML, drawn in a few blocks instead of one
Streamlit element per message.

Every element costs a rerun time, and a rerun happens on every click; a chat of 1,000
messages drawn as chat bubbles takes a quarter of a second each time. Messages that
can no longer change are rendered once (cached by id and content) and sent as a
handful of HTML blocks.
"""

from __future__ import annotations

import html
import threading
from collections import OrderedDict

from lib.chat.conversation import Message
from lib.chat.markdown_html import render_markdown
from lib.chat.usage import figures, finish_note

#: messages per HTML block: big enough to keep the element count low, small enough that
#: the browser's diff of a block stays cheap
BLOCK_SIZE = 50
_CACHE_LIMIT = 50_000

_cache: OrderedDict[str, tuple[tuple, str]] = OrderedDict()
_lock = threading.Lock()

CSS = """
<style>
.gc-msg { display: flex; gap: .75rem; padding: .75rem 1rem; border-radius: .5rem; margin-bottom: .5rem; }
.gc-user { background: rgba(240, 242, 246, .5); }
.gc-avatar { flex: 0 0 2rem; height: 2rem; border-radius: .5rem; display: flex; align-items: center;
  justify-content: center; font-size: 1rem; }
.gc-user .gc-avatar { background: rgb(255, 75, 75); color: white; }
.gc-assistant .gc-avatar { background: rgb(255, 164, 33); color: white; }
.gc-body { flex: 1 1 auto; min-width: 0; overflow-wrap: anywhere; }
.gc-body > p:last-child { margin-bottom: 0; }
.gc-body pre { background: rgb(248, 249, 251); padding: .75rem; border-radius: .5rem; overflow-x: auto; }
.gc-figures { color: rgba(49, 51, 63, .6); font-size: .875rem; margin-top: .25rem; }
.gc-note { font-size: .875rem; margin-top: .25rem; }
</style>
"""


def _fingerprint(message: Message) -> tuple:
    # The stats object is replaced, never changed in place, so its identity stands for it.
    return (message.content, message.status, message.error, id(message.stats))


def message_html(message: Message) -> str:
    """One message as HTML: its text as safe Markdown, its notes and its figures."""
    parts = [render_markdown(message.content)]
    if message.role == "assistant":
        if message.status == "stopped":
            parts.append('<div class="gc-note">⏹ Stopped before the end.</div>')
        elif message.status == "incomplete":
            parts.append(f'<div class="gc-note">⚠️ Incomplete reply. {html.escape(message.error or "")}</div>')
        if message.stats is not None:
            line = " · ".join(f"{html.escape(label)} <b>{html.escape(value)}</b>" for label, value in figures(message.stats))
            parts.append(f'<div class="gc-figures">{line}</div>')
            if note := finish_note(message.stats.finish_reason):
                parts.append(f'<div class="gc-note">✂️ {render_markdown(note)}</div>')
    avatar = "🧑" if message.role == "user" else "✨"
    return (
        f'<div class="gc-msg gc-{message.role}"><div class="gc-avatar">{avatar}</div>'
        f'<div class="gc-body">{"".join(parts)}</div></div>'
    )


def cached_message_html(message: Message) -> str:
    key = _fingerprint(message)
    with _lock:
        hit = _cache.get(message.id)
        if hit is not None and hit[0] == key:
            _cache.move_to_end(message.id)
            return hit[1]
    rendered = message_html(message)
    with _lock:
        _cache[message.id] = (key, rendered)
        if len(_cache) > _CACHE_LIMIT:
            _cache.popitem(last=False)
    return rendered


def settled_blocks(messages: list[Message], size: int = BLOCK_SIZE) -> list[str]:
    """The messages as HTML blocks of ``size`` messages each, oldest first."""
    rendered = [cached_message_html(m) for m in messages]
    return ["".join(rendered[i : i + size]) for i in range(0, len(rendered), size)]
