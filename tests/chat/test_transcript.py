from lib.chat.conversation import Conversation
from lib.chat.transcript import cached_message_html, message_html, settled_blocks
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
    assert "Incomplete reply. The connection dropped &lt;b&gt;x&lt;/b&gt;." in out


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
