"""What a person does on the chat page, in a real Chromium against the real server and the fake API."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI, count_prompt_tokens
from tests.e2e.harness import MESSAGE, StreamlitServer, messages, open_chat, reply_words, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

LONG_REPLY = " ".join(f"word{i}" for i in range(1, 41)) + " THE-END"


def user_turns(body: dict[str, Any]) -> list[str]:
    return [m["content"] for m in body["messages"] if m["role"] == "user"]


def last_text(page: Any) -> str:
    shown = messages(page)
    return shown[-1][1] if shown and shown[-1][0] == "assistant" else ""


def test_enter_sends_and_the_reply_streams_in(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    # 41 tokens at 12 tokens/s: about 3.3 s of streaming, sampled every 50 ms.
    e2e_fake.plan(Behaviour(reply=LONG_REPLY, token_rate=12))
    open_chat(page, app_server)
    send(page, "Tell me a long story")

    seen: list[str] = []
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = last_text(page)
        if text and (not seen or text != seen[-1]):
            seen.append(text)
        if "THE-END" in text and "▌" not in text:
            break
        time.sleep(0.05)
    shown = wait_for_reply(page, "THE-END")

    assert shown == [("user", "Tell me a long story"), ("assistant", LONG_REPLY)]
    partial = [t for t in seen if "THE-END" not in t]
    # The text grew on screen, word by word, before the end arrived.
    assert len(partial) >= 5, seen
    words = [len(t.replace("▌", "").split()) for t in partial]
    assert words == sorted(words) and words[0] < words[-1] < 41, words
    assert any(t.endswith("▌") for t in partial), "no typing cursor while streaming"
    assert user_turns(e2e_fake.bodies()[0]) == ["Tell me a long story"]


def test_the_system_prompt_typed_in_the_sidebar_goes_with_the_next_request(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="Arr, first."), Behaviour(reply="Arr, second."))
    open_chat(page, app_server)
    send(page, "one")
    wait_for_reply(page, "Arr, first.")

    prompt = page.get_by_role("textbox", name="System prompt", exact=True)
    prompt.fill("You are a pirate. Answer in pirate speak.")
    prompt.press("Control+Enter")  # Streamlit applies a text area on Ctrl+Enter (or on leaving it)
    send(page, "two")
    wait_for_reply(page, "Arr, second.")

    first, second = e2e_fake.bodies()
    assert first["messages"][0]["role"] in ("system", "developer")
    assert first["messages"][0]["content"] != "You are a pirate. Answer in pirate speak."
    assert second["messages"][0] == {"role": first["messages"][0]["role"],
                                     "content": "You are a pirate. Answer in pirate speak."}
    assert user_turns(second) == ["one", "two"]
    # The expander on the page shows the prompt in force.
    page.get_by_text("System prompt in force").click()
    expect(page.get_by_test_id("stExpander").get_by_text("You are a pirate.")).to_be_visible()


def test_the_figures_under_a_reply_are_the_servers(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    e2e_fake.plan(Behaviour(reply="alpha beta gamma delta"))
    open_chat(page, app_server)
    send(page, "count these")
    wait_for_reply(page, "alpha beta gamma delta")

    reply = page.locator(MESSAGE).last
    caption = reply.get_by_test_id("stCaptionContainer").filter(has_text="completion").inner_text()
    prompt_tokens = count_prompt_tokens(e2e_fake.bodies()[0]["messages"])
    assert f"prompt {prompt_tokens}" in caption
    assert "completion 4" in caption
    assert f"total {prompt_tokens + 4}" in caption
    cost = re.search(r"cost \$(\d+\.\d+)", caption)
    assert cost and float(cost.group(1)) > 0, caption
    assert re.search(r"first token \d+(\.\d+)? (ms|s)", caption), caption
    assert re.search(r"speed \d+(\.\d+)? tok/s", caption), caption

    sidebar = page.get_by_test_id("stSidebar")
    requests = sidebar.get_by_test_id("stMetric").filter(has_text="Requests")
    expect(requests.get_by_test_id("stMetricValue")).to_have_text("1")
    tokens_out = sidebar.get_by_test_id("stMetric").filter(has_text="Tokens out")
    expect(tokens_out.get_by_test_id("stMetricValue")).to_have_text("4")


def test_a_401_then_retry_sends_the_message_once(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    e2e_fake.plan(Behaviour(status=401))
    open_chat(page, app_server)
    send(page, "hello")

    error = page.locator(MESSAGE).get_by_test_id("stAlertContentError")
    expect(error).to_be_visible()
    expect(error).to_contain_text("API key")
    assert messages(page) == [("user", "hello")]

    e2e_fake.plan(Behaviour(reply="Now it works."))
    page.get_by_role("button", name="Retry").click()
    shown = wait_for_reply(page, "Now it works.")

    assert shown == [("user", "hello"), ("assistant", "Now it works.")]
    assert [user_turns(b) for b in e2e_fake.bodies()] == [["hello"], ["hello"]]
    expect(page.locator(MESSAGE).get_by_test_id("stAlertContentError")).to_have_count(0)
    expect(page.get_by_role("button", name="Retry")).to_have_count(0)


def test_stop_halts_a_slow_stream_at_once_and_the_partial_reply_stays(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    slow = " ".join(f"slow{i}" for i in range(1, 101))  # 100 tokens at 5/s: 20 s if never stopped
    e2e_fake.plan(Behaviour(reply=slow, token_rate=5), Behaviour(reply="Carrying on."))
    open_chat(page, app_server)
    send(page, "go slowly")
    wait_for(lambda: len(reply_words(page)) >= 4, 15, what="a few streamed words", page=page)

    stop = page.get_by_role("button", name="Stop")
    clicked = time.monotonic()
    stop.click()
    try:
        wait_for(lambda: page.get_by_text("Stopped:").count() > 0 and page.get_by_role("button", name="Stop").count() == 0,
                 3, interval=0.02, what="the reply to show as stopped", page=page)
    finally:
        assert len(e2e_fake.requests) == 1, "pressing Stop sent the question again (a second request)"
    halted_in = time.monotonic() - clicked
    assert halted_in < 1.0, f"Stop took {halted_in:.2f} s"

    partial = last_text(page)
    words = partial.split()
    assert 4 <= len(words) < 100 and words == slow.split()[: len(words)], partial
    time.sleep(1.0)  # the stream must not keep growing behind the page
    assert last_text(page) == partial
    wait_for(lambda: e2e_fake.disconnects >= 1, 5, what="the fake to see the stream closed")

    send(page, "continue")
    shown = wait_for_reply(page, "Carrying on.")
    assert shown == [("user", "go slowly"), ("assistant", partial), ("user", "continue"), ("assistant", "Carrying on.")]
    second = e2e_fake.bodies()[1]["messages"]
    assert {"role": "assistant", "content": partial} in second
    assert [m["role"] for m in second][1:] == ["user", "assistant", "user"]



def start_a_slow_reply_and_open_a_panel(page: Any, server: StreamlitServer, fake: FakeAPI) -> str:
    slow = " ".join(f"calm{i}" for i in range(1, 41))  # 40 tokens at 8/s: 5 s
    fake.plan(Behaviour(reply=slow, token_rate=8))
    open_chat(page, server)
    send(page, "take your time")
    wait_for(lambda: len(reply_words(page)) >= 3, 15, what="a few streamed words", page=page)
    page.get_by_test_id("stSidebar").get_by_text("Sampling parameters").click()  # opening it reruns the page
    return slow


def test_touching_the_sidebar_while_a_reply_streams_never_asks_twice(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    start_a_slow_reply_and_open_a_panel(page, app_server, e2e_fake)
    page.wait_for_timeout(1500)
    assert len(e2e_fake.requests) == 1, "the question was sent again while its reply was streaming"


@pytest.mark.xfail(
    reason="BUG: any click while a reply streams (here: opening the Sampling parameters panel) stops the reply "
    "as if Stop had been pressed: the click's rerun interrupts the streaming run, whose finally records the "
    "partial reply as stopped. Only Stop should stop it; the next run could re-attach to the running reply.",
    strict=True,
)
def test_touching_the_sidebar_while_a_reply_streams_does_not_stop_it(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    slow = start_a_slow_reply_and_open_a_panel(page, app_server, e2e_fake)
    shown = wait_for_reply(page, "calm40", timeout=15)
    assert shown[-1] == ("assistant", slow)
    assert page.get_by_text("Stopped:").count() == 0
