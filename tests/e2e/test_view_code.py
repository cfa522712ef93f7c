"""View code in a real Chromium: the Python shown under a reply, run as it is, sends the chat's very request."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.conftest import CANARY_KEY
from tests.e2e.harness import MESSAGE, ROOT, StreamlitServer, idle, open_chat, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

REPLY = "The answer from the fake, with “quotes” and $dollars."


def set_system_prompt(page: Any, text: str) -> None:
    box = page.get_by_test_id("stSidebar").get_by_role("textbox", name="System prompt")
    box.fill(text)
    box.press("Tab")  # a text area's value reaches the app when it loses focus
    idle(page)


def open_view_code(page: Any) -> Any:
    """Open View code under the last reply and return its dialog."""
    page.locator(MESSAGE).last.get_by_role("button", name="View code").click()
    body = page.get_by_role("dialog").filter(has=page.get_by_role("tab", name="Python"))
    expect(body).to_be_visible()
    return body


def shown_code(popover: Any, tab: str) -> str:
    popover.get_by_role("tab", name=tab).click()
    code = popover.locator("[data-testid=stCode] code").filter(visible=True)
    expect(code).to_have_count(1)
    return code.inner_text()


def test_the_python_shown_under_a_reply_sends_the_chats_request(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    e2e_fake.plan(Behaviour(reply=REPLY), Behaviour(reply=REPLY))
    open_chat(page, app_server)
    set_system_prompt(page, "Answer like a lighthouse keeper.")
    send(page, "What is the weather at sea?")
    wait_for_reply(page, "The answer from the fake")
    [sent] = e2e_fake.bodies()
    # A later system prompt must not change the code of the reply before it.
    set_system_prompt(page, "Answer like a pirate.")

    popover = open_view_code(page)
    python = shown_code(popover, "Python")
    assert "Answer like a lighthouse keeper." in python and "pirate" not in python
    assert "AIMLAPI_API_KEY" in python and CANARY_KEY not in python
    curl = shown_code(popover, "curl")
    assert "$AIMLAPI_API_KEY" in curl and CANARY_KEY not in curl
    # Under the last reply, near the window's foot, the code still gets room to be read.
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.wait_for_timeout(400)
        shown_box = popover.locator("[data-testid=stCode]").filter(visible=True)
        expect(shown_box).to_be_in_viewport(ratio=0.9)
        assert shown_box.bounding_box()["height"] >= 300
        page.screenshot(path=f"/tmp/wt-fixa-view-code-{width}.png")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.keyboard.press("Escape")
    expect(popover).to_have_count(0)

    script = tmp_path / "request.py"
    script.write_text(python)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIMLAPI_")}
    env |= {"AIMLAPI_API_KEY": CANARY_KEY, "AIMLAPI_BASE_URL": e2e_fake.url}
    run = subprocess.run(  # noqa: S603 - the code under test, run as a user would
        [str(ROOT / ".venv/bin/python"), str(script)], env=env, capture_output=True, text=True, timeout=60, check=False,
    )
    assert run.returncode == 0, run.stderr
    assert REPLY in run.stdout
    wait_for(lambda: len(e2e_fake.bodies()) == 2, what="the code's request")
    assert e2e_fake.bodies()[1] == sent, "the code sends the very body the chat sent"
    assert e2e_fake.requests[1].headers.get("Authorization") == f"Bearer {CANARY_KEY}"

    # The key is in no page, no file the app wrote, no log.
    assert CANARY_KEY not in page.content()
    app_files = [p for p in app_server.log_path.parent.rglob("*") if p.is_file()]
    assert app_files, "the app wrote its database and log here"
    for path in app_files:
        assert CANARY_KEY.encode() not in path.read_bytes(), f"the key is in {path}"
