"""Settled turns of a long chat as ready-made HTML, drawn in a few blocks instead of one
Streamlit element per message.

Every element costs a rerun time, and a rerun happens on every click; a chat of 1,000
messages drawn as chat bubbles takes a quarter of a second each time. Messages that
can no longer change are rendered once (cached by id and content) and sent as a
handful of HTML blocks.
"""

from __future__ import annotations

import base64
import html
import threading
from collections import OrderedDict
from urllib.parse import quote

from lib.chat.conversation import Message
from lib.chat.markdown_html import render_markdown
from lib.chat.usage import figures, finish_note
from lib.errors import ImageError
from lib.images.image import Image
from lib.images.thumbnail import make_thumbnail

#: pixels on the long side of an older turn's pictures (shown 160 px wide; twice that for sharp screens)
THUMBNAIL_SIDE = 320
#: messages per HTML block: big enough to keep the element count low, small enough that
#: the browser's diff of a block stays cheap
BLOCK_SIZE = 50
#: characters of rendered HTML (and of the text it was made from) the cache keeps, for every
#: session of the process together: the least recently drawn go first. Bounded by size, not by a
#: count of messages, so that the sessions that came and went leave the server's memory flat (#16);
#: 8 M characters hold a few thousand messages, several times what the chats on screen draw.
CACHE_CHARS = 8_000_000

_cache: OrderedDict[str, tuple[tuple, str]] = OrderedDict()
_cached_chars = 0
_lock = threading.Lock()

def _icon(path: str) -> str:
    """A Material icon as a CSS mask: st.html's sanitizer drops inline <svg>, and an emoji needs a font."""
    svg = f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'><path d='{path}'/></svg>"
    return f'url("data:image/svg+xml,{quote(svg, safe="")}")'


# The shapes of the Material icons Streamlit's own chat avatars and Copy button show
# (face, smart_toy, content_copy), so that older turns look like the recent ones.
_FACE = _icon(
    "M9 11.75a1.25 1.25 0 1 0 0 2.5 1.25 1.25 0 0 0 0-2.5zm6 0a1.25 1.25 0 1 0 0 2.5 1.25 1.25 0 0 0 0-2.5zM12 2"
    "C6.48 2 2 6.48 2 12s4.48 10 10 10 10-4.48 10-10S17.52 2 12 2zm0 18c-4.41 0-8-3.59-8-8 0-.29.02-.58.05-.86 "
    "2.36-1.05 4.23-2.98 5.21-5.37C11.07 8.33 14.05 10 17.42 10c.78 0 1.53-.09 2.25-.26.21.71.33 1.47.33 2.26 "
    "0 4.41-3.59 8-8 8z"
)
_ROBOT = _icon(
    "M20 9V7c0-1.1-.9-2-2-2h-3c0-1.66-1.34-3-3-3S9 3.34 9 5H6c-1.1 0-2 .9-2 2v2c-1.66 0-3 1.34-3 3s1.34 3 3 3v4"
    "c0 1.1.9 2 2 2h12c1.1 0 2-.9 2-2v-4c1.66 0 3-1.34 3-3s-1.34-3-3-3zM7.5 11.5c0-.83.67-1.5 1.5-1.5s1.5.67 1.5 "
    "1.5S9.83 13 9 13s-1.5-.67-1.5-1.5zM16 17H8v-2h8v2zm-1-4c-.83 0-1.5-.67-1.5-1.5S14.17 10 15 10s1.5.67 1.5 "
    "1.5S15.83 13 15 13z"
)
_COPY = _icon(
    "M16 1H4c-1.1 0-2 .9-2 2v14h2V3h12V1zm3 4H8c-1.1 0-2 .9-2 2v14c0 1.1.9 2 2 2h11c1.1 0 2-.9 2-2V7c0-1.1-.9-2"
    "-2-2zm0 16H8V7h11v14z"
)

# Measured from st.chat_message, st.markdown, st.text and st.caption under this app's light theme.
CSS = f"""
<style>
.gc-msg {{ display: flex; gap: .5rem; padding: 1rem; border-radius: .5rem; margin-bottom: 1rem; }}
.gc-assistant {{ padding-right: 0; }}
.gc-user {{ background: rgba(240, 242, 246, .5); }}
.gc-avatar {{ flex: 0 0 2rem; width: 2rem; height: 2rem; border-radius: .5rem; position: relative; }}
.gc-avatar::after {{ content: ""; position: absolute; inset: .375rem; background: #fff;
  -webkit-mask: var(--gc-icon) center / contain no-repeat; mask: var(--gc-icon) center / contain no-repeat; }}
.gc-user .gc-avatar {{ background: rgb(217, 74, 87); --gc-icon: {_FACE}; }}
.gc-assistant .gc-avatar {{ background: rgb(224, 104, 43); --gc-icon: {_ROBOT}; }}
.gc-body {{ flex: 1 1 auto; min-width: 0; overflow-wrap: anywhere; line-height: 1.6; }}
.gc-body > p:last-child {{ margin-bottom: 0; }}
.gc-body code {{ font-family: "Source Code Pro", monospace; font-size: .75em; background: rgb(247, 247, 246);
  padding: .2em .4em; border-radius: .25rem; overflow-wrap: break-word; }}
.gc-body pre {{ background: rgb(247, 247, 246); border-radius: .5rem; padding: 1rem 0 1rem 1rem; margin: 0 0 1rem;
  overflow-x: auto; }}
.gc-body pre code {{ font-size: .875rem; line-height: 1.6; background: none; padding: 0 1rem 0 0; border-radius: 0;
  display: inline-block; white-space: pre; overflow-wrap: normal; }}
.gc-body pre.plain-text {{ font: inherit; white-space: pre-wrap; overflow-wrap: anywhere; background: none; padding: 0; }}
.gc-body .plain-note {{ color: rgba(47, 45, 43, .6); font-size: .875rem; margin: 0; }}
.gc-figures {{ color: rgba(47, 45, 43, .6); font-size: .875rem; margin-top: .25rem; }}
.gc-figures b {{ color: rgb(47, 45, 43); font-weight: 600; }}
.gc-note {{ font-size: .875rem; margin-top: .5rem; }}
.gc-warning {{ background: rgba(255, 227, 18, .1); color: rgb(146, 108, 5); padding: .75rem 1rem;
  border-radius: .5rem; }}
.gc-copy {{ margin-top: .5rem; font-size: .875rem; --gc-icon: {_COPY}; }}
.gc-copy > summary {{ display: inline-flex; align-items: center; gap: .5rem; cursor: pointer; list-style: none;
  padding: .5rem 0; user-select: none; }}
.gc-copy > summary::-webkit-details-marker {{ display: none; }}
.gc-copy > summary::before {{ content: ""; width: 1rem; height: 1rem; background: currentColor;
  -webkit-mask: var(--gc-icon) center / contain no-repeat; mask: var(--gc-icon) center / contain no-repeat; }}
.gc-copy > summary:hover {{ color: rgb(255, 75, 75); }}
.gc-copy textarea {{ display: block; width: 100%; box-sizing: border-box; margin-top: .25rem; padding: .75rem;
  font-family: "Source Code Pro", monospace; font-size: .875rem; line-height: 1.6; border: 1px solid rgba(49, 51, 63, .2);
  border-radius: .5rem; background: rgb(247, 247, 246); color: inherit; resize: vertical; }}
.gc-images {{ display: flex; flex-wrap: wrap; gap: .5rem; margin-bottom: .5rem; }}
.gc-image {{ width: 160px; max-width: 100%; height: auto; border-radius: .5rem; }}
.gc-copy .gc-hint {{ color: rgba(47, 45, 43, .6); }}
</style>
"""

#: most lines a Copy box shows before it scrolls
COPY_ROWS = 12


def _fingerprint(message: Message) -> tuple:
    # The stats object is replaced, never changed in place, so its identity stands for it.
    return (message.content, message.status, message.error, id(message.stats), tuple(i.digest for i in message.images))


def copy_box(text: str) -> str:
    """A Copy that needs no script (st.html runs none): the raw text in a box, to select and copy.

    Inside a <textarea> the escaped text is shown as typed, so Markdown and any markup in it
    stay text; Ctrl+A there selects this message only.
    """
    rows = min(max(text.count("\n") + 1, 2), COPY_ROWS)
    return (
        '<details class="gc-copy"><summary>Copy</summary>'
        '<span class="gc-hint">Click in the box, select all (Ctrl/Cmd+A) and copy (Ctrl/Cmd+C).</span>'
        f'<textarea readonly rows="{rows}" spellcheck="false">{html.escape(text)}</textarea></details>'
    )


def images_html(images: tuple[Image, ...]) -> str:
    """A message's images as small pictures inside the page (data: URLs of thumbnails): st.html
    fetches nothing, and a thumbnail keeps a long chat's HTML light."""
    shown = []
    for image in images:
        try:
            thumbnail = make_thumbnail(image, side=THUMBNAIL_SIDE)
        except ImageError:
            thumbnail = None
        data, media_type = (thumbnail.data, thumbnail.media_type) if thumbnail else (image.data, image.media_type)
        source = f"data:{media_type};base64,{base64.b64encode(data).decode('ascii')}"
        label = html.escape(image.name or "image")
        shown.append(f'<img class="gc-image" src="{source}" alt="{label}" title="{label}">')
    return f'<div class="gc-images">{"".join(shown)}</div>' if shown else ""


def message_html(message: Message) -> str:
    """One message as HTML: its images, its text as safe Markdown, its notes, its figures and, for a reply, a Copy."""
    parts = [images_html(message.images), render_markdown(message.content)]
    if message.role == "assistant":
        if message.status == "stopped":
            parts.append('<div class="gc-note">Stopped: this is the part of the reply that arrived before you pressed Stop.'
                         "</div>")
        elif message.status == "incomplete":
            parts.append(
                f'<div class="gc-note gc-warning"><strong>Incomplete reply.</strong> {html.escape(message.error or "")}</div>'
            )
        if message.stats is not None:
            line = " · ".join(f"{html.escape(label)} <b>{html.escape(value)}</b>" for label, value in figures(message.stats))
            served = f" · {html.escape(message.stats.model)}" if message.stats.model else ""
            parts.append(f'<div class="gc-figures">{line}{served}</div>')
            if note := finish_note(message.stats.finish_reason):
                parts.append(f'<div class="gc-note gc-warning">{render_markdown(note)}</div>')
        parts.append(copy_box(message.content))
    return (
        f'<div class="gc-msg gc-{message.role}"><div class="gc-avatar" aria-hidden="true"></div>'
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
    global _cached_chars
    with _lock:
        if (old := _cache.pop(message.id, None)) is not None:
            _cached_chars -= _size(*old)
        _cache[message.id] = (key, rendered)
        _cached_chars += _size(key, rendered)
        while _cached_chars > CACHE_CHARS and len(_cache) > 1:
            _cached_chars -= _size(*_cache.popitem(last=False)[1])
    return rendered


def forget(message_ids: set[str]) -> None:
    """Drop the rendered HTML of these messages: the session that drew them has gone (#16). Another
    session showing them renders them again."""
    global _cached_chars
    with _lock:
        for message_id in message_ids:
            if (old := _cache.pop(message_id, None)) is not None:
                _cached_chars -= _size(*old)


def _size(key: tuple, rendered: str) -> int:
    # The key holds the message's text: kept alive by the cache after its session has gone.
    return len(rendered) + len(key[0])


def settled_blocks(messages: list[Message], size: int = BLOCK_SIZE, drawn: set[str] | None = None) -> list[str]:
    """The messages as HTML blocks of ``size`` messages each, oldest first; their ids added to ``drawn``
    (a session's, so that :func:`forget` drops what it rendered once it has gone)."""
    rendered = [cached_message_html(m) for m in messages]
    if drawn is not None:
        drawn.update(m.id for m in messages)
    return ["".join(rendered[i : i + size]) for i in range(0, len(rendered), size)]
