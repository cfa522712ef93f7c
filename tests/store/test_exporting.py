"""Exports: JSON that comes back identical, a Markdown transcript with figures, and a safe HTML page."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

import pytest

from lib.chat.conversation import Conversation
from lib.chat.usage import ReplyStats, Usage, figures
from lib.store.exporting import CSP, EXPORT_FORMATS, filename, to_html, to_json, to_markdown
from lib.store.importing import parse
from tests.image_samples import photo, small
from tests.samples import make_conversation

HOSTILE = [
    "<script>alert('x')</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<img src=x onerror="alert(1)">',
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "[click me](javascript:alert(1)) and <a href=\"javascript:alert(2)\">here</a>",
    "<svg onload=alert(1)><style>body{display:none}</style>",
    "```html\n<script>alert(3)</script>\n```",
    "`<script>inline</script>` and **<b onmouseover=alert(4)>bold</b>**",
    "</code></pre></p><script>alert(5)</script>",
    '"><meta http-equiv="refresh" content="0;url=javascript:alert(6)">',
]


def hostile_conversation() -> Conversation:
    conversation = Conversation(
        system_prompt="<script>alert('system')</script>",
        model='evil"><script>alert("model")</script>',
        title="<script>alert('title')</script> & friends",
    )
    for text in HOSTILE:
        conversation.add_user(text)
        conversation.add_reply(text, model="<img src=x onerror=alert(7)>")
    conversation.add_user("<script>failed</script>")
    conversation.fail("<script>alert('error')</script>", "<b>title</b>")
    return conversation


class TagCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, attrs))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(page: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(page)
    collector.close()
    return collector


# -- JSON --------------------------------------------------------------------------------


def test_json_export_has_a_versioned_header_and_comes_back_identical() -> None:
    original = make_conversation(1, filler=2)
    document = json.loads(to_json(original))
    assert (document["format"], document["version"]) == ("gemma-chat", 1)
    assert Conversation.from_dict(document["conversation"]) == original
    assert parse(to_json(original), max_bytes=10**7, default_model="x") == original


def test_json_export_keeps_every_branch() -> None:
    original = make_conversation(2)
    assert len(original.path()) < len(original.messages)
    ids = {m["id"] for m in json.loads(to_json(original))["conversation"]["messages"]}
    assert ids == set(original.messages)


# -- Markdown ----------------------------------------------------------------------------


def test_markdown_transcript_has_the_prompt_model_and_figures_of_each_reply() -> None:
    conversation = make_conversation(3, filler=1)
    markdown = to_markdown(conversation)
    assert markdown.startswith("# Conversation 3: bananas & <tags>\n")
    assert "`google/gemma-3-27b-it`" in markdown
    assert "> Be <b>helpful</b>.\n> Two lines." in markdown
    assert "(`developer` role)" in markdown
    for message in conversation.path():
        assert message.content in markdown
        if message.stats is not None:
            line = " · ".join(f"{label}: {value}" for label, value in figures(message.stats))
            assert f"*{line}*" in markdown
    filler = conversation.messages["c00003-fa0"].stats
    assert "cost: $0.0010" not in markdown and "cost: $0.001" in markdown  # format_cost's own rounding
    assert "first token: 250 ms" in markdown and "time: 1.50 s" in markdown
    assert filler is not None and f"completion: {filler.usage.completion_tokens}" in markdown
    assert "other message versions are only in the JSON export" in markdown


def test_markdown_notes_stopped_cut_and_failed_messages() -> None:
    conversation = make_conversation(4)
    markdown = to_markdown(conversation)
    assert "Stopped by the user" in markdown
    assert "Cut off: the connection failed" in markdown
    assert "Server error: The API had a server error (502)." in markdown


# -- HTML --------------------------------------------------------------------------------

ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "h1", "ul", "li", "code", "section", "p", "br", "pre", "span", "strong",
}
ALLOWED_ATTRIBUTES = {"lang", "charset", "http-equiv", "content", "name", "class"}


def test_html_is_inert_whatever_the_messages_hold() -> None:
    page = to_html(hostile_conversation())
    lowered = page.lower()
    assert "<script" not in lowered
    assert "<iframe" not in lowered and "<img" not in lowered and "<svg" not in lowered and "<a " not in lowered
    collector = parsed(page)
    for tag, attributes in collector.tags:
        assert tag in ALLOWED_TAGS, tag
        for name, value in attributes:
            assert name in ALLOWED_ATTRIBUTES, (tag, name)
            assert "javascript:" not in (value or "").lower()
    # Exactly one <style> and the four <meta> tags this module writes; hostile ones stayed text.
    assert [t for t, _ in collector.tags].count("style") == 1
    assert [t for t, _ in collector.tags].count("meta") == 4
    # All the hostile text is still there, as text, for the reader to see.
    text = "".join(collector.text)
    assert "<script>alert('x')</script>" in text
    assert '<img src=x onerror="alert(1)">' in text
    assert "javascript:alert(1)" in text


def test_html_escapes_every_field() -> None:
    page = to_html(hostile_conversation())
    assert "<title>&lt;script&gt;alert(&#x27;title&#x27;)&lt;/script&gt; &amp; friends</title>" in page
    assert "&lt;script&gt;alert('system')&lt;/script&gt;" in page
    assert "evil&quot;&gt;&lt;script&gt;" in page
    assert "&lt;script&gt;alert(&#x27;error&#x27;)&lt;/script&gt;" in page


def test_html_forbids_scripts_by_policy_and_needs_nothing_from_outside() -> None:
    page = to_html(make_conversation(5))
    assert f'<meta http-equiv="Content-Security-Policy" content="{CSP}">' in page
    assert "default-src 'none'" in CSP and "script-src" not in CSP
    assert "http://" not in page and "https://" not in page
    assert "<style>" in page and "<link" not in page


def test_html_shows_figures_and_the_system_prompt() -> None:
    conversation = make_conversation(6)
    page = to_html(conversation)
    reply = conversation.messages["c00006-a2"]
    for label, value in figures(reply.stats):  # type: ignore[arg-type]
        assert f"<span>{label}: {value}</span>" in page
    assert "Be &lt;b&gt;helpful&lt;/b&gt;.<br>\nTwo lines." in page


def test_html_export_renders_markdown_and_keeps_unfinished_code_as_code() -> None:
    conversation = Conversation("", "google/gemma-3-27b-it")
    conversation.add_user("One\ntwo")
    conversation.add_reply("- item **bold** and `x < y`\n\n```python\nif a < b:\n    pass")
    page = to_html(conversation)
    assert "<p>One<br>\ntwo</p>" in page
    assert "<li>item <strong>bold</strong> and <code>x &lt; y</code></li>" in page
    assert "<pre><code class=\"language-python\">if a &lt; b:\n    pass</code></pre>" in page


# -- file names and formats --------------------------------------------------------------


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Hello, World! / Ça va?", "hello-world-ca-va"),
        ("", "conversation"),
        ("🍌🍌🍌", "conversation"),
        ("../../etc/passwd", "etc-passwd"),
        ("x" * 100, "x" * 60),
    ],
)
def test_file_names_come_from_the_title(title: str, expected: str) -> None:
    conversation = Conversation(system_prompt="", model="m", title=title)
    assert filename(conversation, "md") == f"{expected}.md"


def test_export_formats_are_json_markdown_html() -> None:
    assert [f.label for f in EXPORT_FORMATS] == ["JSON", "Markdown", "HTML"]
    conversation = make_conversation(7)
    for export in EXPORT_FORMATS:
        assert export.render(conversation)


# -- speed -------------------------------------------------------------------------------


def speed_conversation() -> Conversation:
    """A reply that came in one piece, and one streamed over two seconds."""
    conversation = Conversation("", "google/gemma-3-27b-it")
    conversation.add_user("all at once")
    conversation.add_reply("A whole paragraph in one chunk.", stats=ReplyStats(
        usage=Usage(20, 500, 520), time_to_first_token=0.8, last_token_time=0.8, total_time=0.807))
    conversation.add_user("streamed")
    conversation.add_reply("Token by token.", stats=ReplyStats(
        usage=Usage(20, 41, 61), time_to_first_token=0.5, last_token_time=2.5, total_time=2.6))
    return conversation


def test_exports_show_no_speed_for_a_reply_that_came_in_one_piece() -> None:
    conversation = speed_conversation()
    markdown = to_markdown(conversation)
    page = to_html(conversation)
    assert "speed: —" in markdown and "<span>speed: —</span>" in page
    assert "speed: 20.0 tok/s" in markdown and "<span>speed: 20.0 tok/s</span>" in page


def test_json_export_keeps_the_last_token_time() -> None:
    conversation = speed_conversation()
    document = json.loads(to_json(conversation))
    times = [m["stats"]["last_token_time"] for m in document["conversation"]["messages"] if m["stats"]]
    assert times == [0.8, 2.5]
    assert parse(to_json(conversation), max_bytes=10**7, default_model="x") == conversation


# -- images ------------------------------------------------------------------------------

HOSTILE_NAME = '"><script>alert(1)</script> `x` *y* [z](javascript:alert(2)).png'


def chat_with_images() -> Conversation:
    conversation = Conversation("", "google/gemma-3-27b-it", title="Pictures")
    conversation.add_user("What is in this photo?", images=(photo(note="first frame of an animated GIF"), small()))
    conversation.add_reply("A gradient, and a red dot.")
    edited = conversation.add_user("And this one?", images=(small((0, 0, 255), "image/webp", name=HOSTILE_NAME),))
    conversation.add_reply("A blue one.")
    # A version not on screen, with an image of its own: in the JSON, not in the transcripts.
    conversation.edit(edited.id, "Never mind", images=(small((0, 255, 0), "image/gif", name="green.gif"),))
    conversation.leaf = conversation.children(edited.parent)[0].id
    conversation.leaf = conversation.children(conversation.leaf)[0].id
    return conversation


def test_json_export_carries_every_image_and_comes_back_byte_for_byte() -> None:
    original = chat_with_images()
    document = json.loads(to_json(original))
    carried = [i for m in document["conversation"]["messages"] for i in m.get("images", [])]
    assert len(carried) == 4
    again = parse(to_json(original), max_bytes=10**7, default_model="x")
    assert again == original
    for message in original.messages.values():
        back = again.messages[message.id].images
        assert [i.data for i in back] == [i.data for i in message.images]
        assert [i.digest for i in back] == [i.digest for i in message.images]
        assert [(i.name, i.note) for i in back] == [(i.name, i.note) for i in message.images]


class Sources(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[tuple[str, str, str]] = []
        self.images: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href", "srcset", "poster", "data", "action", "background"):
                self.urls.append((tag, name, value or ""))
        if tag == "img":
            self.images.append(dict(attrs))


def test_html_shows_the_images_on_screen_inline_and_loads_nothing() -> None:
    conversation = chat_with_images()
    page = to_html(conversation)
    sources = Sources()
    sources.feed(page)
    shown = [i for m in conversation.path() for i in m.images]
    assert len(shown) == 3
    # Every URL in the page is one of the images itself: nothing to fetch, from anywhere.
    assert [(tag, name) for tag, name, _ in sources.urls] == [("img", "src")] * 3
    for (_, _, url), image in zip(sources.urls, shown, strict=True):
        assert url == image.data_uri()
        assert base64.b64decode(url.split(",", 1)[1]) == image.data
    assert [(i["alt"], i["width"], i["height"]) for i in sources.images] == [
        (i.name, str(i.width), str(i.height)) for i in shown
    ]
    assert "img-src data:" in CSP and "http" not in CSP
    assert "green.gif" not in page  # the version not on screen
    assert "holiday.jpg (896 × 672 JPEG, " in page


def test_an_image_name_is_text_in_the_html() -> None:
    page = to_html(chat_with_images())
    collector = parsed(page)
    assert all(tag != "script" for tag, _ in collector.tags)
    for tag, attributes in collector.tags:
        assert tag in ALLOWED_TAGS | {"div", "figure", "img", "figcaption"}, tag
        for name, value in attributes:
            assert name in ALLOWED_ATTRIBUTES | {"src", "alt", "width", "height"}, (tag, name)
            assert "javascript:" not in (value or "").lower() or name == "alt"
    assert HOSTILE_NAME in "".join(collector.text)


def test_markdown_lists_the_images_and_says_where_they_are() -> None:
    conversation = chat_with_images()
    markdown = to_markdown(conversation)
    first, tiny = conversation.path()[0].images
    assert "the HTML export shows them, the JSON export keeps them" in markdown
    assert f"- Image `holiday.jpg`: 896 × 672 JPEG, {round(len(first.data) / 1000)} kB, sha256 `{first.digest}`" in markdown
    assert f"- Image `dot.png`: 8 × 6 PNG, 1 kB, sha256 `{tiny.digest}`" in markdown
    # A name with backticks stays one code span, shown as typed.
    assert f"- Image ``{HOSTILE_NAME}``: 8 × 6 WEBP" in markdown
    assert "base64" not in markdown and len(markdown) < 2000
    assert "green.gif" not in markdown
    assert "Images are listed" not in to_markdown(make_conversation(3))
