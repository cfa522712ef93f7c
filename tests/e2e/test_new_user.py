"""What a new user meets first, in a real Chromium against the real server and the fake API:
a fresh install with nothing to warn about, an icon that needs no network, an import on the
History page, the speed of a reply that came in one piece, an error's title, the session's cost."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from lib.store.database import Store
from lib.store.exporting import to_json
from tests.e2e.harness import MESSAGE, StreamlitServer, open_chat, running, send, wait_for, wait_for_reply
from tests.samples import make_conversation

pytestmark = pytest.mark.browser

#: where the screenshots of the History page after an import go, to look at
SCREENSHOTS = Path("/tmp")


def settle(page: Any, seconds: float = 1.0) -> None:
    """Wait until the script has stopped running and stayed stopped for a moment."""
    quiet_since = time.monotonic()

    def quiet() -> bool:
        nonlocal quiet_since
        if running(page):
            quiet_since = time.monotonic()
        return time.monotonic() - quiet_since >= seconds

    wait_for(quiet, 30, what="the script to finish")


def store_of(server: StreamlitServer) -> Store:
    return Store(f"sqlite:///{server.env['CHAT_DB_PATH']}")


# -- a fresh install ---------------------------------------------------------------------


def test_a_fresh_install_shows_no_warning_and_needs_no_network(page: Any, restartable_server: StreamlitServer) -> None:
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    open_chat(page, restartable_server)
    settle(page)
    alerts = page.get_by_test_id("stAlert")
    assert alerts.count() == 0, alerts.all_inner_texts()
    assert page.get_by_test_id("stException").count() == 0

    # The page icon ships with the app: served by it, never fetched from a font CDN.
    icon = page.locator("link[rel~=icon]").first.get_attribute("href")
    assert icon and not icon.startswith("data:image/svg"), icon
    answer = page.request.get(icon if icon.startswith("http") else restartable_server.url + "/" + icon.lstrip("/"))
    assert answer.status == 200 and answer.headers["content-type"] == "image/png"
    elsewhere = [url for url in requested if urlparse(url).hostname not in ("127.0.0.1", "localhost", None)
                 and not url.startswith(("data:", "blob:"))]
    assert elsewhere == []


# -- importing on the History page --------------------------------------------------------


def upload(page: Any, name: str, data: bytes) -> None:
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(
        {"name": name, "mimeType": "application/json", "buffer": data}
    )


def test_an_import_beside_a_conversation_is_selected_once_without_an_exception(
    new_page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    page = new_page()
    e2e_fake.plan(Behaviour(reply="Already here."))
    open_chat(page, restartable_server)
    send(page, "an existing conversation")
    wait_for_reply(page, "Already here.")
    store = store_of(restartable_server)
    try:
        assert len(store.list()) == 1

        page.goto(restartable_server.url + "/History")
        chosen = page.get_by_role("combobox", name="Conversation")
        expect(chosen).to_have_value(re.compile(r"^an existing conversation · "))
        imported = make_conversation(7)
        upload(page, "chat.json", to_json(imported).encode())

        expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("Imported")
        expect(chosen).to_have_value(re.compile("^" + re.escape(imported.title) + " · "))
        settle(page)
        assert page.get_by_test_id("stException").count() == 0
        assert page.get_by_test_id("stAlertContentError").count() == 0
        assert [s.title for s in store.list()].count(imported.title) == 1

        for width, height in ((1280, 900), (390, 844)):
            page.set_viewport_size({"width": width, "height": height})
            page.wait_for_timeout(300)
            page.screenshot(path=str(SCREENSHOTS / f"history-import-{width}.png"), full_page=True)
        page.get_by_test_id("stFileUploader").scroll_into_view_if_needed()
        page.screenshot(path=str(SCREENSHOTS / "history-import-390-uploader.png"))

        # Reruns, with the uploader still holding the file: no second copy, the selection stays.
        page.set_viewport_size({"width": 1280, "height": 900})
        search = page.get_by_role("textbox", name="Search all conversations")
        search.fill("bananas")
        search.press("Enter")
        settle(page)
        search.fill("")
        search.press("Enter")
        settle(page)
        page.get_by_role("button", name="Rename").click()
        settle(page)
        assert page.get_by_test_id("stException").count() == 0
        expect(chosen).to_have_value(re.compile("^" + re.escape(imported.title) + " · "))
        assert len(store.list()) == 2
        assert [s.title for s in store.list()].count(imported.title) == 1
    finally:
        store.close()


def test_an_import_that_is_not_a_conversation_says_so_and_saves_nothing(
    page: Any, restartable_server: StreamlitServer
) -> None:
    open_chat(page, restartable_server)
    page.goto(restartable_server.url + "/History")
    expect(page.get_by_text("No saved conversations yet")).to_be_visible()
    upload(page, "chat.json", json.dumps({"messages": [{"role": "tool"}]}).encode())
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("Nothing was imported")
    store = store_of(restartable_server)
    try:
        assert store.list() == []
    finally:
        store.close()


def test_the_uploader_states_the_import_limit_once(page: Any, restartable_server: StreamlitServer) -> None:
    open_chat(page, restartable_server)
    page.goto(restartable_server.url + "/History")
    uploader = page.get_by_test_id("stFileUploader")
    expect(uploader).to_contain_text("per file")
    text = uploader.inner_text()
    assert re.findall(r"\d+\s*MB", text) == ["20MB"], text


# -- a reply's figures, an error, the session's cost ---------------------------------------


def figures_of_last_reply(page: Any) -> str:
    reply = page.locator(MESSAGE).last
    return reply.get_by_test_id("stCaptionContainer").filter(has_text="completion").inner_text()


def test_a_reply_in_one_piece_shows_no_speed(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    e2e_fake.plan(Behaviour(reply="The whole answer arrives in a single chunk of text.", tokens_per_chunk=1000))
    open_chat(page, app_server)
    send(page, "all at once, please")
    wait_for_reply(page, "single chunk of text.")
    caption = figures_of_last_reply(page)
    assert "speed —" in caption, caption
    assert "tok/s" not in caption, caption


def test_a_paced_reply_shows_a_plausible_speed(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    e2e_fake.plan(Behaviour(reply=" ".join(f"w{i}" for i in range(12)), token_rate=20))
    open_chat(page, app_server)
    send(page, "slowly, please")
    wait_for_reply(page, "w11")
    caption = figures_of_last_reply(page)
    speed = re.search(r"speed (\d+(?:\.\d+)?) tok/s", caption)
    assert speed, caption
    assert 5 < float(speed.group(1)) < 40, caption  # the fake sends 20 tokens a second


def test_a_server_error_says_its_title_once(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    # The first try and AIMLAPI_MAX_RETRIES=2 retries, all failing.
    e2e_fake.plan(*[Behaviour(status=500)] * 3)
    open_chat(page, app_server)
    send(page, "hello")
    error = page.locator(MESSAGE).get_by_test_id("stAlertContentError")
    expect(error).to_be_visible()
    text = error.inner_text()
    assert text.count("The API had a server error") == 1, text
    assert "(500)" in text and "Request id" in text, text


def test_the_sessions_cost_reads_in_full_in_the_sidebar(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    e2e_fake.plan(Behaviour(reply="alpha beta gamma delta"))
    open_chat(page, app_server)
    send(page, "count these")
    wait_for_reply(page, "alpha beta gamma delta")
    reply_cost = re.search(r"cost (\$\d+\.\d+)", figures_of_last_reply(page))
    assert reply_cost, figures_of_last_reply(page)

    metric = page.get_by_test_id("stSidebar").get_by_test_id("stMetric").filter(has_text="Cost")
    value = metric.get_by_test_id("stMetricValue")
    expect(value).to_have_text(reply_cost.group(1))
    # Streamlit cuts a metric that is wider than its box with an ellipsis (CSS): nothing in
    # the figure may be wider than the box that shows it.
    clipped = value.evaluate(
        """el => [el, ...el.querySelectorAll('*')]
             .filter(e => e.scrollWidth > e.clientWidth + 1)
             .map(e => `${e.tagName} ${e.scrollWidth}>${e.clientWidth}`)"""
    )
    assert clipped == [], clipped


def test_a_time_bomb_import_leaves_history_working_for_everyone(
    new_page: Any, restartable_server: StreamlitServer
) -> None:
    document = json.loads(to_json(make_conversation(8)))
    document["conversation"]["created"] = document["conversation"]["updated"] = 1e308
    for message in document["conversation"]["messages"]:
        if message.get("stats"):
            message["stats"]["cost"] = {"usd": 1e308, "source": "reported"}
    page = new_page()
    open_chat(page, restartable_server)
    page.goto(restartable_server.url + "/History")
    upload(page, "bomb.json", json.dumps(document).encode())
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text("now unknown")
    # Another visitor, later: the page still works and lists it.
    other = new_page()
    other.goto(restartable_server.url + "/History")
    expect(other.get_by_role("combobox", name="Conversation")).to_have_value(
        re.compile("^" + re.escape(document["conversation"]["title"]) + " · ")
    )
    settle(other)
    assert other.get_by_test_id("stException").count() == 0
