"""A chat with images on the History page: its HTML export shows them in a real browser and loads
nothing, its JSON export imports back byte for byte, and a damaged image is refused by name."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

import lib.store.database as store_module
from lib.chat.conversation import Conversation
from lib.store.database import Store
from tests.e2e.conftest import EXTRA_ARGS
from tests.e2e.harness import StreamlitServer, clean_env
from tests.e2e.test_new_user import settle, upload
from tests.image_samples import photo, small

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")
TITLE = "Photos from the trip"


def chat_with_images() -> Conversation:
    chat = Conversation(system_prompt="", model="google/gemma-3-27b-it", title=TITLE)
    chat.add_user("What is in this photo?", images=(photo("holiday.jpg"), small(name='<b>"dot"</b>.png')))
    chat.add_reply("A gradient with some noise, and a red dot.")
    return chat


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app in demo mode over a database holding one chat with two images."""
    tmp = tmp_path_factory.mktemp("history-images")
    env = clean_env(tmp)
    store = Store(f"sqlite:///{env['CHAT_DB_PATH']}")
    store.save(chat_with_images())
    store.close()
    started = StreamlitServer(env=env, log_path=tmp / "server.log", extra_args=EXTRA_ARGS)
    started.start()
    yield started
    started.stop()


def store_of(server: StreamlitServer) -> Store:
    return Store(f"sqlite:///{server.env['CHAT_DB_PATH']}")


def open_history(page: Any, server: StreamlitServer) -> None:
    page.goto(server.url + "/History")
    expect(page.get_by_role("heading", name="History")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("textbox", name="Title")).to_have_value(re.compile(r"\S"))


def download(page: Any, label: str) -> Path:
    with page.expect_download() as started:
        page.get_by_role("button", name=f"Export {label}", exact=True).click()
    return Path(started.value.path())


class Sources(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("src", "href", "srcset")]


def test_the_html_export_shows_the_images_and_the_json_export_imports_them_back(
    new_page: Any, server: StreamlitServer, tmp_path: Path
) -> None:
    page = new_page()
    open_history(page, server)
    original = chat_with_images()
    shown = original.path()[0].images

    html_file = tmp_path / "export.html"
    html_file.write_bytes(download(page, "HTML").read_bytes())
    sources = Sources()
    sources.feed(html_file.read_text())
    assert [base64.b64decode(url.split(",", 1)[1]) for url in sources.urls] == [i.data for i in shown]
    assert all(url.startswith("data:image/") for url in sources.urls)

    # In the browser: both images drawn, under the page's own policy, and nothing requested.
    viewer = new_page()
    requested: list[str] = []
    refused: list[str] = []
    viewer.on("request", lambda request: requested.append(request.url))
    viewer.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None)
    viewer.goto(html_file.as_uri())
    drawn = viewer.locator("img").evaluate_all("images => images.map(i => i.complete && i.naturalWidth)")
    assert drawn == [896, 8]
    assert [u for u in requested if not u.startswith(("data:", "file:"))] == [] and refused == []
    expect(viewer.get_by_text('<b>"dot"</b>.png (8 × 6 PNG, 1 kB)')).to_be_visible()
    for width, height in ((1280, 900), (390, 844)):
        viewer.set_viewport_size({"width": width, "height": height})
        viewer.wait_for_timeout(200)
        viewer.screenshot(path=str(SCREENSHOTS / f"imgstore-html-export-{width}.png"), full_page=True)

    # The JSON export, imported back: a second chat whose images are the same bytes, stored once.
    upload(page, "photos.json", download(page, "JSON").read_bytes())
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(f"Imported “{TITLE}” (2 messages)")
    settle(page)
    assert page.get_by_test_id("stException").count() == 0
    store = store_of(server)
    try:
        copies = [store.load(s.id) for s in store.list() if s.title == TITLE]
        assert len(copies) == 2
        for copy in copies:
            assert [(i.data, i.digest, i.name) for i in copy.path()[0].images] == [(i.data, i.digest, i.name) for i in shown]
        with store._transaction(write=False) as conn:
            assert conn.scalar(select(func.count()).select_from(store_module.images)) == 2
    finally:
        store.close()
    for width, height in ((1280, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / f"imgstore-history-import-{width}.png"), full_page=True)


def test_an_export_with_a_damaged_image_is_refused_naming_the_message(new_page: Any, server: StreamlitServer) -> None:
    page = new_page()
    open_history(page, server)
    document = json.loads(download(page, "JSON").read_text())
    question = document["conversation"]["messages"][0]
    question["images"][1]["data"] = base64.b64encode(small((0, 0, 0)).data).decode()  # not the digest's bytes
    store = store_of(server)
    try:
        before = len(store.list())
        upload(page, "damaged.json", json.dumps(document).encode())
        error = page.get_by_test_id("stAlertContentError")
        expect(error).to_contain_text('Image 2 of message')
        expect(error).to_contain_text('("What is in this photo?") is damaged')
        expect(error).to_contain_text("Nothing was imported.")
        page.set_viewport_size({"width": 390, "height": 844})
        error.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / "imgstore-history-refused-390.png"))
        assert len(store.list()) == before
    finally:
        store.close()
