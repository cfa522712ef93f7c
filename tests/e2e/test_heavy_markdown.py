"""Markdown that would cost the page too much to draw (issue #10, item 8): shown as plain text, whole,
with a caption saying why, and the page goes on working.

Before: 5,000 nested ``>`` crashed Streamlit's Markdown element ("Maximum call stack size exceeded")
and the reply never showed; a 2,000-row table streamed in 6 s took over 30 s to settle.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from lib.api.fake_api import Behaviour, FakeAPI, split_tokens
from tests.e2e.harness import MESSAGE, StreamlitServer, messages, open_chat, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

DEEP = ">" * 5_000 + " END-OF-DEEP"
TABLE = (
    "Here is the table:\n\n| n | name | note |\n|---|---|---|\n"
    + "\n".join(f"| {n} | row {n} | text |" for n in range(2_000))
    + "\n\nEND-OF-TABLE"
)
#: how long the fake takes to stream the table: a model writes it in minutes, not at once
TABLE_SECONDS = 6


def page_errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    return errors


def last_message_captions(page: Any) -> list[str]:
    return page.locator(MESSAGE).last.locator("[data-testid=stCaptionContainer]").all_inner_texts()


def next_turn_is_quick(page: Any, e2e_fake: FakeAPI) -> None:
    e2e_fake.plan(Behaviour(reply="A normal reply, END-OF-NEXT."))
    started = time.monotonic()
    send(page, "and now something normal")
    wait_for_reply(page, "END-OF-NEXT", timeout=15)
    assert time.monotonic() - started < 5
    assert messages(page)[-1] == ("assistant", "A normal reply, END-OF-NEXT.")


def test_five_thousand_nested_quotes_are_plain_text_and_the_page_keeps_working(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    errors = page_errors(page)
    e2e_fake.plan(Behaviour(reply=DEEP))
    open_chat(page, app_server)
    send(page, DEEP)  # the user's own text is drawn the same way
    shown = wait_for_reply(page, "END-OF-DEEP", timeout=20)
    assert shown[-2:] == [("user", DEEP), ("assistant", DEEP)]  # whole, as typed
    assert page.locator(f"{MESSAGE} [data-testid=stText]").count() == 2
    reason = "Shown as plain text: block quotes or lists nested 5,000 deep are more than the page can draw."
    assert any(reason in caption for caption in last_message_captions(page))
    next_turn_is_quick(page, e2e_fake)
    assert not [e for e in errors if "call stack" in e or "Error" in e], errors
    assert page.locator("[data-testid=stException], [data-testid=stAlert]").count() == 0


def test_a_two_thousand_row_table_is_plain_text_and_later_turns_stay_quick(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    errors = page_errors(page)
    tokens = len(split_tokens(TABLE))
    e2e_fake.plan(Behaviour(reply=TABLE, tokens_per_chunk=10, token_rate=tokens / TABLE_SECONDS))
    open_chat(page, app_server)
    started = time.monotonic()
    send(page, "a table of 2,000 rows, please")
    shown = wait_for_reply(page, "END-OF-TABLE", timeout=TABLE_SECONDS + 15)
    assert time.monotonic() - started < TABLE_SECONDS + 8
    assert shown[-1] == ("assistant", TABLE)
    assert page.locator(f"{MESSAGE} table").count() == 0
    reason = "Shown as plain text: 2,001 table rows (6,003 cells) are more than the page can draw quickly."
    assert any(reason in caption for caption in last_message_captions(page))

    # Copy still gives the whole text, Markdown and all.
    page.locator(MESSAGE).last.get_by_role("button", name="Copy").click()
    code = page.locator("[data-testid=stPopoverBody] [data-testid=stCode]")
    wait_for(lambda: "END-OF-TABLE" in code.inner_text(), what="the Copy box with the whole table")
    assert "| 1999 | row 1999 | text |" in code.inner_text()
    page.keyboard.press("Escape")

    next_turn_is_quick(page, e2e_fake)
    assert not [e for e in errors if "Error" in e], errors
