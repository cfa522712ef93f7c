"""Long conversations (issue #10, item 7): an import holds at most CHAT_IMPORT_MAX_MESSAGES messages, and
one at that limit opens within seconds on its latest part, the earlier ones a click away.

Before: a file of 150,000 messages was imported in 28 s and its page never finished drawing; one of
10,000 took over 10 s to open, drawing every message.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from lib.settings import DEFAULT_IMPORT_MAX_MESSAGES
from lib.store.database import Store
from tests.e2e.harness import MESSAGE, StreamlitServer, messages, open_chat, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

#: "a few seconds": what a person waits for a conversation to open without wondering
OPENS_WITHIN = 5


def chat_file(count: int) -> bytes:
    turns = [{"role": "user", "content": f"Question {n // 2}"} if n % 2 == 0
             else {"role": "assistant", "content": f"Answer {n // 2}, with **a little** Markdown."}
             for n in range(count)]
    return json.dumps({"title": "A very long chat", "messages": turns}).encode()


def upload(page: Any, data: bytes) -> None:
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
        {"name": "long.json", "mimeType": "application/json", "buffer": data}
    )


def shown(page: Any, text: str) -> bool:
    return page.get_by_text(text, exact=True).count() > 0


def test_a_conversation_at_the_limit_opens_within_seconds_on_its_latest_part(
    new_page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    count = DEFAULT_IMPORT_MAX_MESSAGES
    last = count // 2 - 1
    page = new_page()
    open_chat(page, restartable_server)
    page.goto(restartable_server.url + "/History")
    upload(page, chat_file(count))
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"({count} messages)", timeout=20_000)

    started = time.monotonic()
    page.get_by_role("button", name="Open", exact=True).and_(page.get_by_test_id("stBaseButton-primary")).click()
    # The latest 200 messages: the first of them in the older turns' HTML, the last in a chat bubble.
    wait_for(lambda: messages(page)[-1:] == [("assistant", f"Answer {last}, with a little Markdown.")]
             and shown(page, f"Question {last - 99}"), OPENS_WITHIN + 10, what="the latest 200 messages", page=page)
    assert time.monotonic() - started < OPENS_WITHIN
    assert len(page.locator(MESSAGE).all()) == 20
    assert not shown(page, f"Question {last - 100}")
    earlier = page.get_by_role("button", name="Show 200 earlier messages")
    expect(earlier).to_be_visible()
    expect(page.get_by_text(f"{count - 200:,} earlier messages are not drawn")).to_be_visible()

    started = time.monotonic()
    earlier.click()
    wait_for(lambda: shown(page, f"Question {last - 199}"), OPENS_WITHIN + 10, what="200 earlier messages")
    assert time.monotonic() - started < OPENS_WITHIN
    assert not shown(page, f"Question {last - 200}")
    expect(page.get_by_text(f"{count - 400:,} earlier messages are not drawn")).to_be_visible()

    # The conversation goes on as usual.
    e2e_fake.plan(Behaviour(reply="Still here, END-OF-LONG."))
    started = time.monotonic()
    send(page, "Are you still there?")
    wait_for_reply(page, "END-OF-LONG", timeout=OPENS_WITHIN + 10)
    assert time.monotonic() - started < OPENS_WITHIN
    assert len(e2e_fake.bodies()[-1]["messages"]) == count + 1  # every message, not only those drawn


def test_an_import_of_more_messages_than_the_limit_is_refused_and_stores_nothing(
    page: Any, restartable_server: StreamlitServer
) -> None:
    count = DEFAULT_IMPORT_MAX_MESSAGES + 1
    open_chat(page, restartable_server)
    page.goto(restartable_server.url + "/History")
    expect(page.get_by_text("No saved conversations yet")).to_be_visible()
    upload(page, chat_file(count))
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text(
        re.compile(f"holds {count:,} messages; a conversation may hold at most {count - 1:,} "
                   r"\(CHAT_IMPORT_MAX_MESSAGES\).*Nothing was imported")
    )
    store = Store(f"sqlite:///{restartable_server.env['CHAT_DB_PATH']}")
    try:
        assert store.list() == []
    finally:
        store.close()
