"""A session that goes on past the latest messages drawn with buttons (#16: what Streamlit keeps
of the older turns' widgets is forgotten, ui/stale_widgets.py): the buttons on screen still work."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e.harness import StreamlitServer, idle, messages, open_chat, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

#: the first turns leave the latest 20 messages (drawn as bubbles with buttons) after 10
TURNS = 13


def test_after_many_turns_the_latest_turns_buttons_still_work(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(*[Behaviour(reply=f"Answer number {n} zq61.") for n in range(TURNS)])
    open_chat(page, app_server)
    for n in range(TURNS):
        send(page, f"Question number {n} zq61")
        wait_for_reply(page, f"Answer number {n} zq61.")
    idle(page)
    page.screenshot(path="/tmp/wtmem-long-session.png", full_page=False)

    # Delete the last question (and its reply) with its own button.
    page.get_by_role("button", name="Delete").last.click()
    wait_for(lambda: messages(page)[-1] == ("assistant", f"Answer number {TURNS - 2} zq61."),
             what="the last turn deleted", page=page)
    # Edit the question before it: its text comes up to be changed.
    idle(page)
    page.get_by_role("button", name="Edit").last.click()
    expect(page.get_by_role("textbox").filter(has_text=f"Question number {TURNS - 2} zq61")).to_be_visible()
