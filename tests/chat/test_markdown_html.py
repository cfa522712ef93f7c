from html.parser import HTMLParser

import pytest

from lib.chat.markdown_html import render_markdown

DANGEROUS_TAGS = {"script", "iframe", "svg", "object", "embed", "img", "style", "link", "meta"}


class _Audit(HTMLParser):
    """Collects what in an HTML fragment could run: tags, event handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in DANGEROUS_TAGS:
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{tag} {name}=")
            if name in ("href", "src") and (value or "").strip().lower().startswith(("javascript:", "vbscript:", "data:")):
                self.problems.append(f"{tag} {name}={value}")


def audit(html: str) -> list[str]:
    parser = _Audit()
    parser.feed(html)
    return parser.problems

HOSTILE = [
    "<script>window.pwned=1</script>",
    '<img src=x onerror="window.pwned=2">',
    "[click](javascript:window.pwned=3)",
    '<iframe src="javascript:window.pwned=4"></iframe>',
    "<a href='javascript:alert(1)'>x</a>",
    "[x](JaVaScRiPt:alert(1))",
    "[x](vbscript:msgbox(1))",
    "![x](javascript:alert(1))",
    '<svg onload="alert(1)">',
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markup_comes_out_inert(text: str) -> None:
    assert audit(render_markdown(text)) == []


def test_the_audit_itself_catches_live_markup() -> None:
    assert audit('<img src=x onerror="a()"><a href=" JavaScript:x">l</a><script></script>') == [
        "<img>", "img onerror=", "a href= JavaScript:x", "<script>",
    ]


def test_markdown_still_renders() -> None:
    html = render_markdown("**bold** and `code`\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~gone~~ [ok](https://example.com)")
    assert "<strong>bold</strong>" in html and "<code>code</code>" in html
    assert "<table>" in html and "<s>gone</s>" in html and 'href="https://example.com"' in html


def test_tags_are_shown_as_text() -> None:
    assert "&lt;script&gt;" in render_markdown("<script>x</script>")
