"""The sidebar's sampling fields in a real Chromium: what is typed is sent, what is emptied is not."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e.harness import StreamlitServer, open_chat, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser


def open_sampling_panel(page: Any) -> Any:
    """Open the panel (its fields are drawn only while it is open) and return the Temperature field."""
    page.get_by_test_id("stSidebar").get_by_text("Sampling parameters", exact=True).click()
    field = page.get_by_role("spinbutton", name="Temperature")
    expect(field).to_be_visible()
    return field


def test_a_typed_temperature_is_sent_and_an_emptied_one_is_not(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    e2e_fake.plan(Behaviour(reply="Warm reply."), Behaviour(reply="Default reply."))
    open_chat(page, app_server)
    field = open_sampling_panel(page)
    expect(field).to_have_value("")

    field.fill("0.7")
    field.press("Tab")
    sent = page.get_by_test_id("stSidebar").get_by_text("temperature=", exact=False)
    expect(sent).to_have_text("temperature=0.7")
    send(page, "warm please")
    wait_for_reply(page, "Warm reply.")
    assert e2e_fake.bodies()[0]["temperature"] == 0.7

    # As a person empties a field: select all, Delete, leave it.
    field.click()
    field.press("Control+a")
    field.press("Delete")
    field.press("Tab")
    # The bug showed here as "temperature=0.000" in the field and "temperature=0.0" sent.
    expect(sent).to_have_count(0)
    expect(field).to_have_value("")
    send(page, "default please")
    wait_for_reply(page, "Default reply.")
    wait_for(lambda: len(e2e_fake.bodies()) == 2, what="the second request")
    assert "temperature" not in e2e_fake.bodies()[1]
    assert e2e_fake.bodies()[1]["messages"][-1]["content"] == "default please"
