"""The chat page on a loaded machine: a server slow to start a run, a tab that takes the server's
messages in bursts. The chat input must be ready again once a reply has ended."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e.harness import CHAT_INPUT, StreamlitServer, open_chat, reply_words, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

#: JavaScript for every page: while ``window.holdMessages`` is set, the server's messages are held
#: until the socket has been quiet for 1 s, then handed to the page all at once (and the hold ends),
#: as a tab too busy to draw takes them: the queued network tasks run back to back, then it draws.
HOLD_MESSAGES = """
(() => {
  const listen = WebSocket.prototype.addEventListener;
  WebSocket.prototype.addEventListener = function (type, listener, options) {
    if (type !== 'message') return listen.call(this, type, listener, options);
    const held = [];
    let timer = null;
    const handOver = () => {
      window.holdMessages = false;
      for (const event of held.splice(0)) listener.call(this, event);
    };
    return listen.call(this, type, (event) => {
      if (!window.holdMessages) return listener.call(this, event);
      held.push(event);
      clearTimeout(timer);
      timer = setTimeout(handOver, 1000);
    }, options);
  };
})();
"""


def test_the_chat_input_is_ready_again_after_a_reply_on_a_busy_server_and_tab(
    new_page: Any, slow_run_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    page = new_page()
    page.context.add_init_script(script=HOLD_MESSAGES)
    open_chat(page, slow_run_server)
    for turn in range(1, 4):
        words = " ".join(f"t{turn}w{i}" for i in range(1, 31))
        e2e_fake.plan(Behaviour(reply=f"{words} END{turn}", token_rate=15))  # 2 s of streaming
        send(page, f"question {turn}")
        # Once the reply is streaming, the tab is busy until the server has gone quiet.
        wait_for(lambda: len(reply_words(page)) >= 3, 20, what="the reply to stream", page=page)  # noqa: B023
        page.evaluate("window.holdMessages = true")
        wait_for_reply(page, f"END{turn}")
        expect(page.locator(CHAT_INPUT), f"turn {turn}: the chat input stayed disabled").to_be_enabled(timeout=5000)
