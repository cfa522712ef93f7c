"""The Usage page of an admin, who may look at every person's requests (#15 with #14), in Chromium,
signed in at a real OpenID Connect provider: alice is the admin, bob is not."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e.harness import CHAT_INPUT, StreamlitServer, idle, send, wait_for_reply
from tests.e2e.oidc import sign_in

EVERYONE = "Everyone's requests"
BOB_ASKS = "What does a narwhal eat nq31?"


def signed_in_chat(page: Any, server: StreamlitServer, subject: str, fake: FakeAPI, text: str, reply: str) -> None:
    sign_in(page, server.url, subject)
    page.locator(CHAT_INPUT).wait_for(state="visible", timeout=30_000)
    fake.plan(Behaviour(reply=reply))
    send(page, text)
    wait_for_reply(page, reply)


def open_usage(page: Any, server: StreamlitServer) -> None:
    page.goto(server.url + "/Usage")
    expect(page.get_by_role("heading", name="Usage")).to_be_visible(timeout=30_000)
    idle(page)


def requests_figure(page: Any) -> str:
    metric = page.get_by_test_id("stMetric").filter(has_text="Requests")
    return metric.get_by_test_id("stMetricValue").inner_text()


def grid_text(page: Any, column: str) -> str:
    """The cells of the table with ``column`` (Streamlit draws tables on a canvas, and keeps an
    accessible copy of their cells in the page)."""
    table = page.get_by_test_id("stDataFrame").filter(has=page.locator("th[role=columnheader]", has_text=column))
    return " | ".join(table.locator("td[role=gridcell]").all_text_contents())


def test_an_admin_sees_everyones_spending_but_not_their_words_and_others_see_no_switch(
    sign_in_server: StreamlitServer, e2e_fake: FakeAPI, new_page: Any
) -> None:
    bob = new_page()
    signed_in_chat(bob, sign_in_server, "bob", e2e_fake, BOB_ASKS, "Mostly fish and squid.")
    alice = new_page()
    signed_in_chat(alice, sign_in_server, "alice", e2e_fake, "Hello from alice", "Hello, Alice.")

    # Bob, no admin: his own request only, and no switch to see more.
    open_usage(bob, sign_in_server)
    assert requests_figure(bob) == "1"
    expect(bob.get_by_text(EVERYONE)).to_have_count(0)

    # Alice: her own by default; with the switch, both, per person by address, bob's chat untitled.
    open_usage(alice, sign_in_server)
    assert requests_figure(alice) == "1"
    alice.get_by_text(EVERYONE).click()
    expect(alice.get_by_role("heading", name="By person")).to_be_visible(timeout=30_000)
    idle(alice)
    assert requests_figure(alice) == "2"
    people = grid_text(alice, "Person")
    assert "alice@example.com" in people and "bob@example.com" in people, people
    costly = grid_text(alice, "Conversation")
    assert "(another person's)" in costly and "Hello from alice" in costly, costly
    assert "narwhal" not in alice.locator("body").inner_text()
