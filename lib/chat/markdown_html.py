"""Markdown to HTML that is safe to show: raw HTML in the text is escaped, never passed on.

markdown-it-py with ``html: False`` escapes every tag, and its link validation drops
``javascript:``, ``vbscript:``, ``file:`` and ``data:`` URLs (except images of safe types).
Used for long chat histories and the HTML export, where Streamlit's own Markdown element
is not what draws the text.
"""

from __future__ import annotations

from functools import lru_cache

from markdown_it import MarkdownIt


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    # breaks: a single newline in a chat message is a line break, as in every chat app.
    options = {"html": False, "linkify": False, "typographer": False, "breaks": True, "xhtmlOut": False}
    return MarkdownIt("commonmark", options).enable(["table", "strikethrough"])


def render_markdown(text: str) -> str:
    """HTML for ``text``; anything that looks like markup in it comes out as visible text."""
    return _parser().render(text)
