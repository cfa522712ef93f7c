"""A conversation as a file: JSON (complete, re-importable), Markdown, or one HTML page.

JSON holds the whole tree, every branch and figure, under a ``format``/``version`` header
that :mod:`lib.store.importing` checks. Markdown and HTML are transcripts for people: the
branch on screen, with the system prompt, the model and each reply's figures.

The HTML page is meant to be mailed to people who will open it in a browser, so model
and user text is treated as hostile: every character of it is escaped, the only markup
is what this module writes (paragraphs, line breaks, code), no link is ever made, and a
Content-Security-Policy forbids scripts, frames and remote loads should anything slip by.

Images: the JSON export carries each one whole (base64, with its digest), byte for byte as the
model saw it. The HTML page shows them inline as ``data:`` URLs, so it stays one file that
loads nothing. The Markdown transcript lists them (name, size, type, digest) instead of
embedding them: many Markdown viewers (GitHub's among them) refuse ``data:`` images, and a
photo would be 200 kB of base64 in the middle of text meant to be read and pasted.
"""

from __future__ import annotations

import html
import json
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lib.chat.conversation import Conversation, Message
from lib.chat.markdown_html import render_markdown
from lib.chat.usage import figures, finish_note
from lib.images.image import MEDIA_TYPES, Image

FORMAT = "gemma-chat"
VERSION = 1

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'"

STATUS_NOTES = {
    "stopped": "Stopped by the user before the end.",
    "incomplete": "Cut off: the connection failed before the reply ended.",
}


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _speaker(message: Message, conversation: Conversation) -> str:
    if message.role == "user":
        return "You"
    model = (message.stats.model if message.stats else None) or message.model or conversation.model
    return f"Assistant ({model})"


def _notes(message: Message) -> list[str]:
    notes = []
    if message.role == "assistant":
        if status := STATUS_NOTES.get(message.status):
            notes.append(status)
        if message.stats and (note := finish_note(message.stats.finish_reason)):
            notes.append(note)
    if message.error:
        notes.append(f"{message.error_title or 'Error'}: {message.error}")
    return notes


def _size_text(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 1_000_000 else f"{max(1, round(size / 1000))} kB"


def image_caption(image: Image) -> str:
    """What an image is, in words: ``holiday.jpg (896 × 672 JPEG, 160 kB)``."""
    kind = MEDIA_TYPES[image.media_type]
    return f"{image.name or 'image'} ({image.width} × {image.height} {kind}, {_size_text(len(image.data))})"


def _images_shown(conversation: Conversation) -> int:
    return sum(len(m.images) for m in conversation.path())


def _hidden_versions(conversation: Conversation) -> int:
    return len(conversation.messages) - len(conversation.path())


def filename(conversation: Conversation, extension: str) -> str:
    """A file name from the title: ASCII letters, digits and dashes, e.g. ``my-question.md``."""
    ascii_title = unicodedata.normalize("NFKD", conversation.title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].rstrip("-")
    return f"{slug or 'conversation'}.{extension}"


# -- JSON --------------------------------------------------------------------------------


def to_json(conversation: Conversation) -> str:
    document: dict[str, Any] = {
        "format": FORMAT,
        "version": VERSION,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "conversation": conversation.to_dict(),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


# -- Markdown ----------------------------------------------------------------------------


def _figures_text(message: Message) -> str | None:
    if message.stats is None:
        return None
    return " · ".join(f"{label}: {value}" for label, value in figures(message.stats))


def to_markdown(conversation: Conversation) -> str:
    lines = [
        f"# {conversation.title or 'Conversation'}",
        "",
        f"- Model: `{conversation.model}`",
        f"- Started: {_when(conversation.created)}",
        f"- Last message: {_when(conversation.updated)}",
    ]
    if hidden := _hidden_versions(conversation):
        lines.append(f"- This is the branch on screen; {hidden} other message versions are only in the JSON export.")
    if _images_shown(conversation):
        lines.append("- Images are listed by name here; the HTML export shows them, the JSON export keeps them.")
    lines.append("")
    if conversation.system_prompt.strip():
        lines += [f"## System prompt (`{conversation.instruction_role}` role)", ""]
        lines += [f"> {line}".rstrip() for line in conversation.system_prompt.strip().splitlines()]
        lines.append("")
    for message in conversation.path():
        lines += ["---", "", f"### {_speaker(message, conversation)}", "", *_images_markdown(message)]
        lines += [message.content.rstrip(), ""]
        if figures_line := _figures_text(message):
            lines += [f"*{figures_line}*", ""]
        for note in _notes(message):
            lines += [f"> **Note:** {note}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _code_span(text: str) -> str:
    """``text`` as inline code, shown as typed by every Markdown viewer and plain to read as text."""
    flat = " ".join(text.split())
    fence = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    padded = f" {flat} " if flat.startswith("`") or flat.endswith("`") else flat
    return f"{fence}{padded}{fence}"


def _images_markdown(message: Message) -> list[str]:
    """One line per image: name (a file's name, not our Markdown), size, type and digest."""
    if not message.images:
        return []
    lines = [
        f"- Image {_code_span(image.name or 'image')}: {image.width} × {image.height} {MEDIA_TYPES[image.media_type]}, "
        f"{_size_text(len(image.data))}, sha256 `{image.digest}`"
        for image in message.images
    ]
    return [*lines, ""]


# -- HTML --------------------------------------------------------------------------------

_STYLE = """
body { font: 16px/1.5 system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; color: #1f2328; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
.meta { color: #59636e; font-size: .9rem; margin: 0 0 1.5rem; padding: 0; list-style: none; }
.system { background: #f6f8fa; border-left: 4px solid #8250df; padding: .5rem 1rem; margin-bottom: 1.5rem; }
.message { border-top: 1px solid #d1d9e0; padding: .75rem 0; }
.speaker { font-weight: 600; margin: 0 0 .25rem; }
.user .speaker { color: #0969da; }
.assistant .speaker { color: #1a7f37; }
.figures { color: #59636e; font-size: .85rem; }
.figures span { white-space: nowrap; margin-right: .9rem; }
.plain-note { color: #59636e; font-size: .85rem; }
.note { background: #fff8c5; padding: .25rem .5rem; font-size: .9rem; }
pre { background: #f6f8fa; padding: .75rem; overflow-x: auto; white-space: pre-wrap; }
code { font-family: ui-monospace, monospace; font-size: .9em; }
p { margin: .5rem 0; overflow-wrap: anywhere; }
.images { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0; }
.images figure { margin: 0; max-width: 100%; }
.images img { display: block; max-width: 100%; max-height: 24rem; width: auto; height: auto; border-radius: 4px; }
.images figcaption { color: #59636e; font-size: .8rem; overflow-wrap: anywhere; }
""".strip()


def _images_html(message: Message) -> list[str]:
    """The message's images inline, as data: URLs: the page stays one file and loads nothing."""
    if not message.images:
        return []
    e = html.escape
    shown = [
        f'<figure><img src="{image.data_uri()}" alt="{e(image.name or "image")}" width="{image.width}" '
        f'height="{image.height}"><figcaption>{e(image_caption(image))}</figcaption></figure>'
        for image in message.images
    ]
    return ['<div class="images">', *shown, "</div>"]


def to_html(conversation: Conversation) -> str:
    e = html.escape
    title = conversation.title or "Conversation"
    body: list[str] = [
        f"<h1>{e(title)}</h1>",
        '<ul class="meta">',
        f"<li>Model: <code>{e(conversation.model)}</code></li>",
        f"<li>Started {e(_when(conversation.created))}; last message {e(_when(conversation.updated))}</li>",
    ]
    if hidden := _hidden_versions(conversation):
        body.append(f"<li>This is the branch on screen; {hidden} other message versions are only in the JSON export.</li>")
    body.append("</ul>")
    if conversation.system_prompt.strip():
        body += [
            '<section class="system">',
            f'<p class="speaker">System prompt (<code>{e(conversation.instruction_role)}</code> role)</p>',
            render_markdown(conversation.system_prompt),
            "</section>",
        ]
    for message in conversation.path():
        body += [
            f'<section class="message {"user" if message.role == "user" else "assistant"}">',
            f'<p class="speaker">{e(_speaker(message, conversation))}</p>',
            *_images_html(message),
            render_markdown(message.content),
        ]
        if message.stats is not None:
            spans = "".join(f"<span>{e(label)}: {e(value)}</span>" for label, value in figures(message.stats))
            body.append(f'<p class="figures">{spans}</p>')
        body += [f'<p class="note">{e(note)}</p>' for note in _notes(message)]
        body.append("</section>")
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        f"<style>\n{_STYLE}\n</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>"]) + "\n"


# -- for the download buttons ------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    label: str
    extension: str
    mime: str
    render: Callable[[Conversation], str]


#: in the order the History page shows its buttons
EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("JSON", "json", "application/json", to_json),
    ExportFormat("Markdown", "md", "text/markdown", to_markdown),
    ExportFormat("HTML", "html", "text/html", to_html),
)
