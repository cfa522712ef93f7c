import pytest

from lib.chat import transcript
from lib.chat.conversation import Conversation
from lib.chat.transcript import COPY_ROWS, CSS, cached_message_html, copy_box, message_html, settled_blocks
from lib.chat.usage import Cost, ReplyStats, Usage
from tests.chat.test_markdown_html import audit


def chat_of(turns: int) -> Conversation:
    chat = Conversation("sys", "google/gemma-3-27b-it")
    for i in range(turns):
        chat.add_user(f"question {i}")
        chat.add_reply(f"**answer** {i}", stats=ReplyStats(usage=Usage(10, 5, 15), cost=Cost(0.0001, "reported")))
    return chat


def test_blocks_hold_every_message_in_order() -> None:
    path = chat_of(60).path()
    blocks = settled_blocks(path, size=50)
    assert len(blocks) == 3
    joined = "".join(blocks)
    positions = [joined.index(f"question {i}<") for i in range(60)]
    assert positions == sorted(positions)
    assert joined.count('class="gc-msg gc-assistant"') == 60


def test_a_reply_shows_its_figures_and_notes() -> None:
    chat = chat_of(1)
    reply = chat.path()[-1]
    reply.status = "incomplete"
    reply.error = "The connection dropped <b>x</b>."
    out = message_html(reply)
    assert "<strong>answer</strong>" in out and "completion <b>5</b>" in out and "$0.0001" in out
    assert "<strong>Incomplete reply.</strong> The connection dropped &lt;b&gt;x&lt;/b&gt;." in out


def test_hostile_text_is_inert() -> None:
    chat = Conversation("", "m")
    chat.add_user('<script>alert(1)</script><img src=x onerror="alert(2)">')
    chat.add_reply("[x](javascript:alert(3)) <iframe src=x></iframe>")
    assert audit("".join(settled_blocks(chat.path()))) == []


def test_the_cache_follows_changes_to_a_message() -> None:
    chat = chat_of(1)
    user = chat.path()[0]
    first = cached_message_html(user)
    assert cached_message_html(user) is first
    user.content = "changed"
    assert "changed" in cached_message_html(user)


def test_the_cache_keeps_a_bounded_size_whatever_the_sessions_drew(monkeypatch: pytest.MonkeyPatch) -> None:
    # Sessions come and go; what they drew must not pile up in the server for good (#16).
    monkeypatch.setattr(transcript, "CACHE_CHARS", 200_000)
    for number in range(300):
        chat = Conversation("", "m")
        chat.add_user(f"question {number} " + "x" * 1000)
        chat.add_reply(f"answer {number} " + "y" * 1000)
        for message in chat.path():
            cached_message_html(message)
    assert transcript._cached_chars == sum(transcript._size(*entry) for entry in transcript._cache.values())
    assert 150_000 < transcript._cached_chars <= 200_000
    latest = chat.path()[-1]
    assert cached_message_html(latest) is cached_message_html(latest), "the latest stay cached"


# -- older turns look like recent ones -------------------------------------------------


def _has_emoji(text: str) -> bool:
    # Pictographs, dingbats and symbols that show as empty boxes without an emoji font.
    return any(0x2300 <= ord(c) <= 0x23FF or 0x2600 <= ord(c) <= 0x27BF or ord(c) >= 0x1F000 for c in text)


def test_no_emoji_anywhere_in_older_turns() -> None:
    chat = chat_of(2)
    reply = chat.path()[-1]
    reply.status = "stopped"
    reply.stats = ReplyStats(usage=Usage(1, 2, 3), finish_reason="length")
    incomplete = chat.path()[1]
    incomplete.status = "incomplete"
    incomplete.error = "The connection dropped."
    html = "".join(settled_blocks(chat.path()))
    assert not _has_emoji(html)
    assert not _has_emoji(CSS.replace("…", ""))
    assert "Stopped:" in html and "Incomplete reply." in html and "maximum length" in html


def test_avatars_are_drawn_by_css_with_the_chat_icons() -> None:
    html = "".join(settled_blocks(chat_of(1).path()))
    assert html.count('<div class="gc-avatar" aria-hidden="true"></div>') == 2, "no text, so no font is needed"
    # st.html drops inline <svg> (its sanitizer allows HTML only): the icons are CSS masks.
    assert "<svg" not in html
    assert CSS.count("data:image/svg+xml,") == 3
    user_rule = next(line for line in CSS.splitlines() if line.startswith(".gc-user .gc-avatar"))
    reply_rule = next(line for line in CSS.splitlines() if line.startswith(".gc-assistant .gc-avatar"))
    assert "rgb(217, 74, 87)" in user_rule and "--gc-icon" in user_rule
    assert "rgb(224, 104, 43)" in reply_rule and "--gc-icon" in reply_rule


def test_code_is_styled_like_st_markdown() -> None:
    chat = Conversation("", "m")
    chat.add_user("code?")
    chat.add_reply("Use `x < y`:\n\n```python\nif a < b:\n    pass\n```")
    out = message_html(chat.path()[-1])
    assert '<pre><code class="language-python">if a &lt; b:' in out
    assert "<code>x &lt; y</code>" in out
    assert '.gc-body pre {' in CSS and "rgb(247, 247, 246)" in CSS and '"Source Code Pro", monospace' in CSS


def test_a_reply_has_a_copy_of_its_raw_text_and_a_question_has_none() -> None:
    chat = Conversation("", "m")
    chat.add_user("a question")
    chat.add_reply("**bold** line one\nline two")
    question, reply = (message_html(m) for m in chat.path())
    assert "gc-copy" not in question, "recent questions have no Copy either"
    assert '<details class="gc-copy"><summary>Copy</summary>' in reply
    assert ">**bold** line one\nline two</textarea>" in reply, "the Markdown source, as typed"
    assert 'rows="2"' in reply


def test_the_copy_box_keeps_hostile_text_as_text() -> None:
    hostile = '</textarea><script>alert(1)</script><img src=x onerror="alert(2)"> & </details>'
    chat = Conversation("", "m")
    chat.add_user("hi")
    chat.add_reply(hostile)
    out = message_html(chat.path()[-1])
    assert audit(out) == []
    box = out[out.index("<textarea"):]
    assert box.count("</textarea>") == 1 and box.endswith("</textarea></details></div></div>")
    assert "&lt;/textarea&gt;&lt;script&gt;" in box


def test_a_long_reply_copy_box_scrolls_after_a_few_lines() -> None:
    out = copy_box("\n".join(f"line {i}" for i in range(100)))
    assert f'rows="{COPY_ROWS}"' in out


def test_an_older_turn_shows_its_images_as_thumbnails_inside_the_page() -> None:
    from lib.chat.conversation import Message
    from lib.chat.transcript import message_html
    from tests.image_samples import photo

    picture = photo('<img src=x onerror=alert(1)>.jpg')
    shown = message_html(Message("user", "look", images=(picture,)))
    assert shown.count('<img class="gc-image" src="data:image/webp;base64,') == 1
    assert "onerror=alert" not in shown.replace("onerror=alert(1)&gt;", ""), "the name is text, not markup"
    assert picture.data_uri() not in shown, "a thumbnail, not the whole image"
