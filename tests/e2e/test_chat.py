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
    # Paced, so that the speed is measured over a real generation time.
    e2e_fake.plan(Behaviour(reply="alpha beta gamma delta", token_rate=20))
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

    stop = page.get_by_role("button", name="Stop", exact=True)
    clicked = time.monotonic()
    stop.click()
    try:
        wait_for(lambda: page.get_by_text("Stopped:").count() > 0 and stop.count() == 0,
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



SLOW = " ".join(f"calm{i}" for i in range(1, 41))  # 40 tokens at 8/s: 5 s


def start_a_slow_reply(page: Any, server: StreamlitServer, fake: FakeAPI, question: str = "take your time") -> None:
    fake.plan(Behaviour(reply=SLOW, token_rate=8))
    open_chat(page, server)
    send(page, question)
    wait_for(lambda: len(reply_words(page)) >= 3, 15, what="a few streamed words", page=page)


def open_the_sampling_panel(page: Any) -> None:
    page.get_by_test_id("stSidebar").get_by_text("Sampling parameters").click()


def choose_another_model(page: Any) -> None:
    page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name=re.compile("Gemma 3 12B")).click()


def type_in_the_system_prompt(page: Any) -> None:
    prompt = page.get_by_role("textbox", name="System prompt", exact=True)
    prompt.fill("Be brief.")
    prompt.press("Control+Enter")


SIDEBAR_ACTIONS = {
    "open the sampling parameters": open_the_sampling_panel,
    "choose another model": choose_another_model,
    "type in the system prompt": type_in_the_system_prompt,
}


@pytest.mark.parametrize("action", list(SIDEBAR_ACTIONS))
def test_touching_the_sidebar_while_a_reply_streams_does_not_stop_it(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, action: str
) -> None:
    start_a_slow_reply(page, app_server, e2e_fake)
    SIDEBAR_ACTIONS[action](page)
    page.wait_for_timeout(300)
    assert not page.get_by_text("Stopped:").count(), "the click stopped the reply"
    shown = wait_for_reply(page, "calm40", timeout=15)
    assert shown[-1] == ("assistant", SLOW)
    assert page.get_by_text("Stopped:").count() == 0
    assert len(e2e_fake.requests) == 1, "the question was sent again while its reply was streaming"
    # The figures of the whole reply are there, as for any reply.
    caption = page.locator(MESSAGE).last.get_by_test_id("stCaptionContainer").filter(has_text="completion")
    expect(caption).to_contain_text("completion 40")


def test_a_message_sent_while_a_reply_streams_waits_for_it(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    start_a_slow_reply(page, app_server, e2e_fake)
    e2e_fake.plan(Behaviour(reply="Second answer."))
    # A click elsewhere first: in the re-attached run the input is a plain input again.
    open_the_sampling_panel(page)
    page.wait_for_timeout(300)
    send(page, "and one more thing")
    expect(page.get_by_text("Sends when the reply above ends.")).to_be_visible()
    shown = wait_for_reply(page, "Second answer.", timeout=20)
    assert shown == [
        ("user", "take your time"), ("assistant", SLOW), ("user", "and one more thing"), ("assistant", "Second answer.")
    ]
    assert page.get_by_text("Stopped:").count() == 0
    second = e2e_fake.bodies()[1]["messages"]
    assert [m["content"] for m in second[1:]] == ["take your time", SLOW, "and one more thing"]


def test_opening_another_conversation_lets_the_reply_finish_and_save(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="An earlier answer."))
    open_chat(page, app_server)
    send(page, "An earlier chat")
    wait_for_reply(page, "An earlier answer.")
    page.get_by_test_id("stSidebar").get_by_role("button", name="New chat").click()
    wait_for(lambda: messages(page) == [], 10, what="an empty chat", page=page)

    e2e_fake.plan(Behaviour(reply=SLOW, token_rate=8))
    send(page, "A slow one")
    wait_for(lambda: len(reply_words(page)) >= 3, 15, what="a few streamed words", page=page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_role("button", name="An earlier chat").click()
    wait_for(lambda: messages(page)[:1] == [("user", "An earlier chat")], 10, what="the earlier chat", page=page)
    # Back to the slow one: still streaming, or finished in the background, and whole.
    sidebar.get_by_role("button", name="A slow one").click()
    shown = wait_for_reply(page, "calm40", timeout=15)
    assert shown == [("user", "A slow one"), ("assistant", SLOW)]
    assert page.get_by_text("Stopped:").count() == 0
    assert len(e2e_fake.requests) == 2


def test_the_chat_inputs_stop_ends_the_reply_and_keeps_its_text(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    start_a_slow_reply(page, app_server, e2e_fake)
    stop = page.get_by_test_id("stChatInputStopButton")
    expect(stop).to_be_visible()
    clicked = time.monotonic()
    stop.click()
    wait_for(lambda: e2e_fake.disconnects >= 1, 3, interval=0.01, what="the stream to be closed")
    closed_in = time.monotonic() - clicked
    assert closed_in < 0.3 + 0.2, f"the stream closed {closed_in:.2f} s after Stop"  # 0.2 s for the click's own round trip
    wait_for(lambda: page.get_by_text("Stopped:").count() > 0, 5, what="the reply to show as stopped", page=page)
    partial = last_text(page)
    words = partial.split()
    assert 3 <= len(words) < 40 and words == SLOW.split()[: len(words)], partial
    assert len(e2e_fake.requests) == 1
    # The server reports no usage for a stream cut short: the tokens are counted here, marked ≈.
    caption = page.locator(MESSAGE).last.get_by_test_id("stCaptionContainer").filter(has_text="completion")
    expect(caption).to_contain_text(re.compile(r"completion ≈[1-9]"))
    tokens_out = page.get_by_test_id("stSidebar").get_by_test_id("stMetric").filter(has_text="Tokens out")
    expect(tokens_out.get_by_test_id("stMetricValue")).to_have_text(re.compile(r"≈[1-9]"))


def test_nothing_is_doubled_or_left_faded_while_a_reply_streams(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="The first answer."))
    open_chat(page, app_server)
    send(page, "first")
    wait_for_reply(page, "The first answer.")
    e2e_fake.plan(Behaviour(reply=SLOW, token_rate=8))
    send(page, "second")
    rows: list[list[int]] = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        # How many action rows (each has one Copy) every message on screen shows.
        rows.append(page.evaluate(
            """() => Array.from(document.querySelectorAll('[data-testid=stMainBlockContainer] [data-testid=stChatMessage]'))
                 .map(m => Array.from(m.querySelectorAll('button')).filter(b => b.innerText.includes('Copy')).length)"""
        ))
        time.sleep(0.05)
    assert len(reply_words(page)) > 3, "the reply should be streaming still"
    doubled = [r for r in rows if any(n > 1 for n in r)]
    assert doubled == [], f"a message showed more than one action row while the reply streamed: {doubled[:3]}"
    # Nor is the sidebar left faded from the last run (gauge, totals, conversations).
    faded = page.evaluate(
        "() => Array.from(document.querySelectorAll('[data-testid=stSidebar] [data-stale=true]')).map(e => e.innerText)"
    )
    assert faded == [], f"faded in the sidebar while the reply streamed: {faded[:3]}"


def test_a_reload_while_a_reply_streams_lets_it_go_on_and_shows_it(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    start_a_slow_reply(page, app_server, e2e_fake)
    wait_for(lambda: "?c=" in page.url, 5, what="the conversation's address")
    page.reload()
    # The new page (a new session) draws the reply still streaming into its conversation.
    shown = wait_for_reply(page, "calm40", timeout=20)
    assert shown == [("user", "take your time"), ("assistant", SLOW)]
    assert page.get_by_text("Stopped:").count() == 0
    assert len(e2e_fake.requests) == 1


def test_a_tab_closed_while_a_reply_streams_leaves_it_to_finish_and_be_saved(
    new_page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    page = new_page()
    start_a_slow_reply(page, app_server, e2e_fake, question="finish without me")
    wait_for(lambda: "?c=" in page.url, 5, what="the conversation's address")
    address = page.url
    page.close()
    page = new_page()
    page.wait_for_timeout(5500)  # the rest of the 5 s stream
    page.goto(address)
    shown = wait_for_reply(page, "calm40", timeout=20)
    assert shown == [("user", "finish without me"), ("assistant", SLOW)]
    assert page.get_by_text("Stopped:").count() == 0
    assert len(e2e_fake.requests) == 1
