"""Streaming and Stop in a real Chromium, whatever the HTTP framing of the API's answer.

A server that ends its event stream by closing the connection (no chunks, no length), or
that compresses it, must stream on the page as a chunked one does, and Stop must end it.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from lib.api.fake_api import FRAMINGS, Behaviour, FakeAPI, Framing
from tests.e2e.harness import StreamlitServer, messages, open_chat, reply_words, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

#: 41 tokens at 12 tokens/s: about 3.3 s of streaming
LONG_REPLY = " ".join(f"word{i}" for i in range(1, 41)) + " THE-END"
#: 450 tokens at 30 tokens/s: 15 s if never stopped; a write every 33 ms lets the fake see a hang-up at once
SLOW_REPLY = " ".join(f"slow{i}" for i in range(1, 451))


def last_text(page: Any) -> str:
    shown = messages(page)
    return shown[-1][1] if shown and shown[-1][0] == "assistant" else ""


@pytest.mark.parametrize("framing", FRAMINGS)
def test_the_reply_streams_in_whatever_the_framing(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, framing: Framing
) -> None:
    e2e_fake.plan(Behaviour(reply=LONG_REPLY, token_rate=12, framing=framing))
    open_chat(page, app_server)
    send(page, "Tell me a long story")
    sent = time.monotonic()

    seen: list[tuple[float, str]] = []
    deadline = sent + 20
    while time.monotonic() < deadline:
        text = last_text(page)
        if text and (not seen or text != seen[-1][1]):
            seen.append((time.monotonic() - sent, text))
        if "THE-END" in text and "▌" not in text:
            break
        time.sleep(0.05)
    shown = wait_for_reply(page, "THE-END")
    ended = time.monotonic() - sent

    assert shown == [("user", "Tell me a long story"), ("assistant", LONG_REPLY)]
    partial = [(at, t) for at, t in seen if "THE-END" not in t]
    # Several growing texts before the end: a close-delimited body once showed up all at once.
    assert len(partial) >= 5, seen
    words = [len(t.replace("▌", "").split()) for _, t in partial]
    assert words == sorted(words) and words[0] < words[-1] < 41, words
    assert partial[0][0] < ended - 2.0, f"the first text showed {partial[0][0]:.2f} s in, the end at {ended:.2f} s"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_stop_ends_the_stream_at_once_whatever_the_framing(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, framing: Framing
) -> None:
    e2e_fake.plan(Behaviour(reply=SLOW_REPLY, token_rate=30, framing=framing))
    open_chat(page, app_server)
    send(page, "go slowly")
    wait_for(lambda: len(reply_words(page)) >= 4, 15, what="a few streamed words", page=page)
    assert e2e_fake.disconnects == 0

    stop = page.get_by_role("button", name="Stop", exact=True)
    clicked = time.monotonic()
    stop.click()
    # The fake counts a hang-up when its next write fails: the server side of Stop.
    wait_for(lambda: e2e_fake.disconnects >= 1, 5, interval=0.01, what="the fake to see the stream closed")
    closed_in = time.monotonic() - clicked
    assert closed_in < 0.3, f"the server saw the stream closed {closed_in:.2f} s after Stop"

    wait_for(lambda: page.get_by_role("button", name="Stop", exact=True).count() == 0, 3,
             what="the Stop button to go", page=page)
    partial = last_text(page).replace("▌", "").strip()
    words = partial.split()
    assert 4 <= len(words) < 450 and words == SLOW_REPLY.split()[: len(words)], partial
    time.sleep(1.0)  # the reply must neither grow nor vanish behind the page
    assert last_text(page).replace("▌", "").strip() == partial
    assert len(e2e_fake.requests) == 1, "pressing Stop sent the question again"


@pytest.mark.parametrize("framing", FRAMINGS)
def test_compare_columns_stream_side_by_side_whatever_the_framing(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, framing: Framing
) -> None:
    from playwright.sync_api import expect

    from lib.experiments.compare import Setup, setups_to_address

    big, small = "google/gemma-3-27b-it", "google/gemma-3-4b-it"
    open_chat(page, app_server, path=f"/Compare?setups={setups_to_address([Setup(big), Setup(small)])}")
    e2e_fake.plan_for(big, Behaviour(reply="BIG " + LONG_REPLY, token_rate=12, framing=framing))
    e2e_fake.plan_for(small, Behaviour(reply="SMALL " + LONG_REPLY, token_rate=12, framing=framing))
    send(page, f"stream under {framing}")
    # Part of each reply is on screen while both still stream: the text arrives as it is sent.
    wait_for(lambda: page.get_by_text("BIG word1").count() and page.get_by_text("SMALL word1").count()
             and not page.get_by_text("THE-END").count(), what="both columns part-way", timeout=20)
    expect(page.get_by_text("THE-END")).to_have_count(2, timeout=30_000)
    expect(page.get_by_text("Which answered better?")).to_be_visible(timeout=30_000)
