"""A conversation as a file: JSON (complete, re-importable), Markdown, or one HTML page.

JSON holds the whole tree, every branch and figure, under a ``format``/``version`` header
that :mod:`lib.store.importing` checks. Markdown and HTML are transcripts for people: the
branch on screen, with the system prompt, the model and each reply's figures.

The HTML page is meant to be mailed to people who will open it in a browser, so model
and user text is treated as hostile: every character of it is escaped, the only markup
is what this module writes (paragraphs, line breaks, code), no link is ever made, and a
Content-Security-Policy forbids scripts, frames and remote loads should anything slip by.

A comparison (#12) exports as JSON (``"format": "gemma-chat-comparison"``: set-ups, every column's
thread as the conversation JSON holds it, votes) and as one HTML page with the columns side by side,
under the same rules as a conversation's page.

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
from lib.experiments.compare import Comparison, Vote, best_marks
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
    return _file_name(conversation.title, "conversation", extension)


def _file_name(title: str, fallback: str, extension: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:60].rstrip("-")
    return f"{slug or fallback}.{extension}"


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


def _page(title: str, body: list[str], style: str = _STYLE) -> str:
    """A whole HTML page around ``body``: nothing to load, nothing to run (see the module's docstring)."""
    head = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title>",
        f"<style>\n{style}\n</style>",
        "</head>",
        "<body>",
    ]
    return "\n".join([*head, *body, "</body>", "</html>"]) + "\n"


def _figures_html(message: Message, best: frozenset[str] = frozenset()) -> list[str]:
    """The figures line under a reply; those in ``best`` marked as the best across columns."""
    if message.stats is None:
        return []
    e = html.escape
    spans = "".join(
        f'<span class="best">{e(label)}: {e(value)} ★</span>' if label in best else f"<span>{e(label)}: {e(value)}</span>"
        for label, value in figures(message.stats)
    )
    return [f'<p class="figures">{spans}</p>']


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
        body += _figures_html(message)
        body += [f'<p class="note">{e(note)}</p>' for note in _notes(message)]
        body.append("</section>")
    return _page(title, body)


# -- for the download buttons ------------------------------------------------------------


@dataclass(frozen=True)
class ExportFormat:
    label: str
    extension: str
    mime: str
    #: a Conversation, or a Comparison for COMPARISON_EXPORT_FORMATS
    render: Callable[[Any], str]


#: in the order the History page shows its buttons
EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("JSON", "json", "application/json", to_json),
    ExportFormat("Markdown", "md", "text/markdown", to_markdown),
    ExportFormat("HTML", "html", "text/html", to_html),
)


# -- comparisons (#12) -------------------------------------------------------------------

COMPARISON_FORMAT = "gemma-chat-comparison"
COMPARISON_VERSION = 1

#: what the comparison's columns are called, in column order (not the blind order on screen)
COLUMN_NAMES = "ABCD"

def comparison_title(comparison: Comparison) -> str:
    """Its own title, else its first question's (as History lists it)."""
    return comparison.title or next((t.title for t in comparison.threads if t.title), "")


def comparison_filename(comparison: Comparison, extension: str) -> str:
    return _file_name(comparison_title(comparison), "comparison", extension)


def comparison_to_dict(comparison: Comparison) -> dict[str, Any]:
    return {
        "id": comparison.id,
        "title": comparison.title,
        "created": comparison.created,
        "updated": comparison.updated,
        "blind": comparison.blind,
        "order": list(comparison.order),
        "setups": [setup.to_dict() for setup in comparison.setups],
        "threads": [thread.to_dict() for thread in comparison.threads],
        "votes": [vote.to_dict() for vote in comparison.votes],
    }


def comparison_to_json(comparison: Comparison) -> str:
    """The whole comparison: set-ups, every column's thread (every branch, figure and image) and votes."""
    document: dict[str, Any] = {
        "format": COMPARISON_FORMAT,
        "version": COMPARISON_VERSION,
        "exported": datetime.now(UTC).isoformat(timespec="seconds"),
        "comparison": comparison_to_dict(comparison),
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def _column_name(comparison: Comparison, column: int) -> str:
    return f"{COLUMN_NAMES[column]} · {comparison.setups[column].label()}"


def _vote_text(vote: Vote) -> str:
    if vote.outcome == "win" and vote.winner is not None:
        return f"{COLUMN_NAMES[vote.winner]} better ({vote.setups[vote.winner].label()})"
    return "a tie" if vote.outcome == "tie" else "all bad"


def _setups_html(comparison: Comparison) -> list[str]:
    e = html.escape
    body = ['<section class="setups">']
    for column, setup in enumerate(comparison.setups):
        body += [
            '<div class="setup">',
            f'<p class="speaker">{e(_column_name(comparison, column))}</p>',
            f"<p>Model <code>{e(setup.model)}</code></p>",
        ]
        if setup.params:
            body.append(f"<p>Parameters <code>{e(json.dumps(setup.params, ensure_ascii=False, sort_keys=True))}</code></p>")
        if setup.system_prompt.strip():
            body += [f"<p>System prompt (<code>{e(setup.instruction_role)}</code> role)</p>",
                     f'<div class="system">{render_markdown(setup.system_prompt)}</div>']
        body.append("</div>")
    return [*body, "</section>"]


def _reply_html(comparison: Comparison, column: int, question: Message, reply: Message | None,
                asked: Message | None, best: frozenset[str]) -> list[str]:
    e = html.escape
    thread = comparison.threads[column]
    cell = ['<article class="reply">', f'<p class="column-name">{e(_column_name(comparison, column))}</p>']
    if question is not asked and question.content != (asked.content if asked else None):
        cell.append(f'<p class="note">This column was asked: {e(" ".join(question.content.split()))}</p>')
    if reply is None:
        cell.append('<p class="plain-note">No reply.</p>')
    else:
        cell += [f'<p class="plain-note">{e(_speaker(reply, thread))}</p>', render_markdown(reply.content)]
        cell += _figures_html(reply, best)
    cell += [f'<p class="note">{e(note)}</p>' for note in _notes(question) + (_notes(reply) if reply else [])]
    return [*cell, "</article>"]


def comparison_to_html(comparison: Comparison) -> str:
    """The columns side by side for a stakeholder: each question once, each column's reply to it with
    its figures (the best across columns marked ★), the set-ups' labels (shown even if the comparison
    was blind: this is after the fact) and the votes. One file that loads and runs nothing."""
    e = html.escape
    title = comparison_title(comparison) or "Comparison"
    columns = len(comparison.setups)
    rows = comparison.rows()
    turns = len(rows)
    body = [
        f"<h1>{e(title)}</h1>",
        '<ul class="meta">',
        f"<li>Started {e(_when(comparison.created))}; last change {e(_when(comparison.updated))}</li>",
        f"<li>{columns} set-ups · {turns} turns · {len(comparison.votes)} votes"
        f"{' · blind: the labels were hidden until each vote' if comparison.blind else ''}</li>",
        "</ul>",
        *_setups_html(comparison),
    ]
    for turn, cells in enumerate(rows):
        asked = next((cell.question for cell in cells if cell is not None), None)
        marks = best_marks([cell.reply.stats if cell and cell.reply else None for cell in cells])
        body += [f'<section class="turn"><h2>Turn {turn + 1}</h2>', '<div class="question">']
        if asked is not None:
            body += ['<p class="speaker">You</p>', *_images_html(asked), render_markdown(asked.content)]
        body += ["</div>", f'<div class="columns n{columns}">']
        for column, (cell, best) in enumerate(zip(cells, marks, strict=True)):
            if cell is None:
                body.append(f'<article class="reply"><p class="column-name">{e(_column_name(comparison, column))}</p>'
                            '<p class="plain-note">Not asked.</p></article>')
            else:
                body += _reply_html(comparison, column, cell.question, cell.reply, asked, frozenset(best))
        body.append("</div>")
        if vote := comparison.vote_on(turn + 1):
            body.append(f'<p class="vote">Vote: {e(_vote_text(vote))}</p>')
        body.append("</section>")
    return _page(title, body, _STYLE + "\n" + _COMPARISON_STYLE)


_COMPARISON_STYLE = """
body { max-width: 96rem; }
h2 { font-size: 1.15rem; margin: 0 0 .5rem; }
.setups { display: grid; grid-template-columns: repeat(auto-fit, minmax(14rem, 1fr)); gap: .75rem; margin-bottom: 1.5rem; }
.setup { background: #f6f8fa; border-radius: 6px; padding: .5rem .75rem; font-size: .9rem; }
.setup .system { border-left: 3px solid #8250df; padding-left: .5rem; }
.turn { border-top: 1px solid #d1d9e0; padding: 1rem 0; }
.question { background: #ddf4ff; border-radius: 6px; padding: .25rem .75rem; margin-bottom: .75rem; }
.question .speaker { color: #0969da; }
.columns { display: grid; gap: .75rem; }
.columns.n2 { grid-template-columns: repeat(2, minmax(0, 1fr)); }
.columns.n3 { grid-template-columns: repeat(3, minmax(0, 1fr)); }
.columns.n4 { grid-template-columns: repeat(4, minmax(0, 1fr)); }
.reply { border: 1px solid #d1d9e0; border-radius: 6px; padding: .5rem .75rem; min-width: 0; }
.column-name { font-weight: 600; color: #1a7f37; margin: 0 0 .25rem; overflow-wrap: anywhere; }
.best { font-weight: 600; color: #1a7f37; }
.vote { font-weight: 600; margin: .75rem 0 0; }
@media (max-width: 700px) { .columns.n2, .columns.n3, .columns.n4 { grid-template-columns: minmax(0, 1fr); } }
""".strip()

#: in the order the History page shows its buttons
COMPARISON_EXPORT_FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat("JSON", "json", "application/json", comparison_to_json),
    ExportFormat("HTML", "html", "text/html", comparison_to_html),
)
