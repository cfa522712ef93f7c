"""Comparisons (#12) on the History page in a real browser: listed beside the chats, the HTML export
shows the columns side by side (stacked on a phone) and loads nothing, the JSON export imports back
as a second comparison, and Open goes to the Compare page with the comparison in the address."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.chat.conversation import Conversation
from lib.store.database import Store
from tests.comparison_samples import BIG, MIDDLE, SMALL, make_comparison
from tests.e2e.conftest import EXTRA_ARGS
from tests.e2e.harness import StreamlitServer, clean_env
from tests.e2e.test_new_user import settle, upload
from tests.image_samples import photo

pytestmark = pytest.mark.browser

SCREENSHOTS = Path("/tmp")
SETUPS = (BIG, SMALL, MIDDLE)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StreamlitServer]:
    """The app in demo mode over a database holding a chat and a blind comparison of three set-ups."""
    tmp = tmp_path_factory.mktemp("history-comparisons")
    env = clean_env(tmp)
    store = Store(f"sqlite:///{env['CHAT_DB_PATH']}")
    chat = Conversation(system_prompt="", model="google/gemma-3-27b-it", title="A plain chat")
    chat.add_user("hello")
    chat.add_reply("hi")
    store.save(chat)
    comparison = make_comparison(1, setups=SETUPS, images=(photo(),))
    comparison.title, comparison.blind = "Fruit, three ways", True
    store.save_comparison(comparison)
    store.close()
    started = StreamlitServer(env=env, log_path=tmp / "server.log", extra_args=EXTRA_ARGS)
    started.start()
    yield started
    started.stop()


def download(page: Any, label: str) -> Path:
    """The comparison's export: its buttons come after the chat's, which have the same names."""
    with page.expect_download() as started:
        page.get_by_role("button", name=f"Export {label}", exact=True).last.click()
    return Path(started.value.path())


def open_history(page: Any, server: StreamlitServer) -> None:
    page.goto(server.url + "/History")
    expect(page.get_by_role("heading", name="Comparisons")).to_be_visible(timeout=30_000)
    settle(page)


def test_a_comparison_is_listed_exported_imported_and_opened(new_page: Any, server: StreamlitServer, tmp_path: Path) -> None:
    page = new_page()
    open_history(page, server)
    expect(page.get_by_text("3 set-ups · 2 turns · 1 vote")).to_be_visible()
    # Tall enough to show the whole page: Streamlit scrolls inside its own container.
    for width, height in ((1280, 2000), (390, 3200)):
        page.set_viewport_size({"width": width, "height": height})
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENSHOTS / f"cmpstore-history-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    # The HTML export in a browser: three columns side by side, stacked on a phone, nothing requested.
    html_file = tmp_path / "comparison.html"
    html_file.write_bytes(download(page, "HTML").read_bytes())
    viewer = new_page()
    requested: list[str] = []
    viewer.on("request", lambda request: requested.append(request.url))
    viewer.goto(html_file.as_uri())
    for name, setup in zip("ABC", SETUPS, strict=True):
        expect(viewer.get_by_text(f"{name} · {setup.label()}").first).to_be_visible()
    assert [u for u in requested if not u.startswith(("data:", "file:"))] == []
    first_turn = viewer.locator(".turn").first.locator("article.reply")
    tops = [box["y"] for box in first_turn.evaluate_all("cells => cells.map(c => c.getBoundingClientRect().toJSON())")]
    assert len(tops) == 3 and max(tops) - min(tops) < 1, "side by side on a desktop"
    viewer.screenshot(path=str(SCREENSHOTS / "cmpstore-html-1280.png"), full_page=True)
    viewer.set_viewport_size({"width": 390, "height": 844})
    viewer.wait_for_timeout(200)
    tops = [box["y"] for box in first_turn.evaluate_all("cells => cells.map(c => c.getBoundingClientRect().toJSON())")]
    assert tops == sorted(tops) and tops[1] - tops[0] > 50, "stacked on a phone"
    viewer.screenshot(path=str(SCREENSHOTS / "cmpstore-html-390.png"), full_page=True)

    # The JSON export, imported back through the same uploader: a second comparison.
    upload(page, "comparison.json", download(page, "JSON").read_bytes())
    expect(page.get_by_test_id("stAlertContentSuccess")).to_contain_text(
        "Imported the comparison “Fruit, three ways” (3 set-ups, 2 turns, 1 vote)."
    )
    settle(page)
    assert page.get_by_test_id("stException").count() == 0
    store = Store(f"sqlite:///{server.env['CHAT_DB_PATH']}")
    try:
        assert [s.title for s in store.list_comparisons()] == ["Fruit, three ways"] * 2
        assert [s.title for s in store.list()] == ["A plain chat"]
        expect(page.get_by_role("combobox", name="Comparison")).to_have_value(re.compile("^Fruit, three ways"))
        selected = next(s.id for s in store.list_comparisons() if s.id != "cmp-0001")
    finally:
        store.close()

    # Open: the Compare page, with the comparison in the address.
    page.get_by_test_id("stBaseButton-primary").filter(has_text="Open").last.click()
    page.wait_for_url(re.compile(r"/Compare\?"), timeout=30_000)
    expect(page.get_by_role("heading", name="Compare")).to_be_visible(timeout=30_000)
    assert re.search(rf"[?&]cmp={selected}\b", page.url), page.url
