"""Markdown to HTML that is safe to show: raw HTML in the text is escaped, never passed on.

markdown-it-py with ``html: False`` escapes every tag, and its link validation drops
``javascript:``, ``vbscript:``, ``file:`` and ``data:`` URLs (except images of safe types).
Used for long chat histories and the HTML export, where Streamlit's own Markdown element
is not what draws the text. Text that the chat page shows as plain text (:mod:`lib.chat.draw_cost`)
is plain text here too.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import urlsplit

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from lib.chat.draw_cost import MAX_NESTING, plain_text_reason


def _host(url: str) -> str:
    try:
        return urlsplit(url).hostname or "this page"
    except ValueError:
        return "an unreadable address"


def _image_as_link(self: RendererHTML, tokens: list[Token], idx: int, options: OptionsDict, env: EnvType) -> str:
    # An <img> from another host is fetched by every browser that shows the reply, with its
    # address (which a prompt-injected model can fill with the user's data): a link instead.
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    label = html.escape(f"image: {alt} ({_host(src)})" if alt else f"image ({_host(src)})")
    return f'<a href="{html.escape(src)}" rel="noopener noreferrer nofollow">{label}</a>'


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # breaks: a single newline in a chat message is a line break, as in every chat app.
    # maxNesting: what is nested deeper is dropped, and the preset's 20 levels lose the text of a
    # list 10 deep (a list level takes two, its item's paragraph one more); deeper text than
    # MAX_NESTING never gets here.
    options = {"html": False, "linkify": False, "typographer": False, "breaks": True, "xhtmlOut": False,
               "maxNesting": 3 * MAX_NESTING + 10}
    parser = MarkdownIt("commonmark", options).enable(["table", "strikethrough"])
    parser.add_render_rule("image", _image_as_link)
    return parser


_INLINE_IMAGE = re.compile(r'!\[([^\]\n]*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"\n]*")?\s*\)')
_CODE_SPAN = re.compile(r"(`+)(?:.+?)\1", re.S)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")


def _defang_line(line: str) -> str:
    out = []
    last = 0
    for span in _CODE_SPAN.finditer(line):
        out.append(_defang_text(line[last : span.start()]))
        out.append(span.group(0))
        last = span.end()
    out.append(_defang_text(line[last:]))
    return "".join(out)


def _defang_text(text: str) -> str:
    text = _INLINE_IMAGE.sub(
        lambda m: f"[image{': ' + m.group(1) if m.group(1) else ''} ({_host(m.group(2))})]({m.group(2)})", text
    )
    return text.replace("![", "\\![")  # a reference-style image: the "!" shown, the rest a link


def without_images(text: str) -> str:
    """Markdown for Streamlit's own renderer with every image turned into a link naming its host.

    Model output must load nothing from other hosts when it is shown; code (fenced, indented
    by a fence's rules, or in backticks) is left as it is, since it shows as typed anyway.
    """
    if "![" not in text:
        return text
    lines = text.split("\n")
    fence: str | None = None
    for index, line in enumerate(lines):
        if (opening := _FENCE.match(line)) is not None:
            marker = opening.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is None and not line.startswith(("    ", "\t")):
            lines[index] = _defang_line(line)
    return "\n".join(lines)


def literal(text: str) -> str:
    """Text for Streamlit's Markdown (a page, a button label) that shows as typed: a title or an id
    is the user's or a file's text, not our Markdown, and must not become an image or a link."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|<>~$])", r"\\\1", text)


def render_markdown(text: str) -> str:
    """HTML for ``text``; anything that looks like markup in it comes out as visible text.

    Text that would cost the page too much to draw as Markdown comes out whole, escaped, in a
    ``<pre class="plain-text">``, with a note saying why (``<p class="plain-note">``).
    """
    if (reason := plain_text_reason(text)) is not None:
        return f'<pre class="plain-text">{html.escape(text)}</pre>\n<p class="plain-note">{html.escape(reason)}</p>\n'
    return _parser().render(text)
