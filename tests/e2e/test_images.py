"""Images in the chat, as a person attaches them: picked, prepared, sent, shown, kept, refused."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from lib.api.models import GEMMA_MODELS
from tests.e2e.harness import (
    CHAT_INPUT,
    MESSAGE,
    StreamlitServer,
    attach_and_send,
    idle,
    open_chat,
    wait_for_reply,
)
from tests.images.pictures import photo_like, with_metadata
from ui.attach import PLACEHOLDER

pytestmark = pytest.mark.browser

def choose_model(page: Any, label: str) -> None:
    """Pick ``label`` in the sidebar, and wait for the page drawn for it: a file picked in the chat
    input while the page still redraws it for the new model is lost with the input it went to."""
    page.get_by_test_id("stSidebar").get_by_role("combobox", name="Model").click()
    page.get_by_role("option", name=label).click()
    reads_images = next(m for m in GEMMA_MODELS if m.label == label).images
    expect(page.locator(CHAT_INPUT)).to_have_attribute(
        "placeholder", PLACEHOLDER if reads_images else f"Message {label}: text only, it reads no images")
    idle(page)


def sent_images(body: dict[str, Any]) -> list[PILImage.Image]:
    parts = [p for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
    urls = [p["image_url"]["url"] for p in parts if p["type"] == "image_url"]
    return [PILImage.open(io.BytesIO(base64.b64decode(u.split(",", 1)[1]))) for u in urls]


def test_a_phone_photo_is_sent_upright_small_and_without_its_location_and_kept(
    page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    photo = tmp_path / "IMG_0042.jpg"
    photo.write_bytes(with_metadata(photo_like(3000, 2000)))  # stored turned, with GPS, as a phone does
    e2e_fake.plan(Behaviour(reply="A colourful abstract picture."))
    open_chat(page, restartable_server)
    attach_and_send(page, [photo], "What is in this picture?")
    wait_for_reply(page, "A colourful abstract picture.")

    [sent] = sent_images(e2e_fake.bodies()[-1])
    assert sent.format == "JPEG" and sent.size == (896, 597), "upright (landscape) and shrunk to what Gemma 3 sees"
    assert not sent.getexif() and b"SecretCam" not in sent.fp.getvalue() and b"Berlin" not in sent.fp.getvalue()
    user = page.locator(MESSAGE).filter(has_text="What is in this picture?")
    expect(user.locator("img")).to_have_count(1)
    src = user.locator("img").get_attribute("src") or ""
    assert src.startswith(restartable_server.url + "/media/"), "shown from our own server"
    context = page.get_by_test_id("stSidebar").get_by_text("Context:").inner_text()
    assert int(context.split()[1].replace(",", "")) > 256, "the image's tokens are in the context"

    page.screenshot(path=str(tmp_path / "image-desktop.png"))
    restartable_server.restart()
    page.reload()
    page.locator(CHAT_INPUT).wait_for()
    user = page.locator(MESSAGE).filter(has_text="What is in this picture?")
    expect(user.locator("img")).to_have_count(1, timeout=30_000)  # saved with the conversation

    e2e_fake.plan(Behaviour(reply="Still the same picture."))
    box = page.locator(CHAT_INPUT)
    box.fill("And now?")
    box.press("Enter")
    wait_for_reply(page, "Still the same picture.")
    assert len(sent_images(e2e_fake.bodies()[-1])) == 1, "the image goes with the history of later turns"


def test_an_image_for_a_model_that_reads_none_is_refused_and_the_text_handed_back(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    photo = tmp_path / "cat.png"
    photo_like(300, 200).save(photo)
    open_chat(page, app_server)
    choose_model(page, "Gemma 3n E4B")
    expect(page.locator(CHAT_INPUT)).to_have_attribute("placeholder", "Message Gemma 3n E4B: text only, it reads no images")
    before = len(e2e_fake.requests)
    attach_and_send(page, [photo], "Describe my cat, please")
    expect(page.get_by_text("Not sent.")).to_be_visible()
    expect(page.get_by_test_id("stAlert").filter(has_text="Not sent.")).to_contain_text("reads no images")
    expect(page.locator(CHAT_INPUT)).to_have_value("Describe my cat, please")  # back where it was typed
    assert len(e2e_fake.requests) == before, "nothing reached the server"

    expect(page.get_by_text("1 image waits to go with it", exact=False)).to_be_visible()

    # A model that reads images, Enter: neither the text nor the photo need be given twice.
    e2e_fake.plan(Behaviour(reply="A cat-coloured rectangle."))
    choose_model(page, "Gemma 3 27B")
    expect(page.get_by_text("Not sent.")).to_have_count(0)  # it spoke of the model left behind
    expect(page.get_by_text("Sent with your next message (1 image", exact=False)).to_be_visible()
    expect(page.locator(CHAT_INPUT)).to_have_value("Describe my cat, please")
    page.locator(CHAT_INPUT).press("Enter")
    wait_for_reply(page, "A cat-coloured rectangle.")
    body = e2e_fake.bodies()[-1]
    assert [p["text"] for p in body["messages"][-1]["content"] if p["type"] == "text"] == ["Describe my cat, please"]
    assert len(sent_images(body)) == 1
    expect(page.get_by_text("Not sent.")).to_have_count(0)  # the refusal is over once the message went


def test_a_good_picture_sent_with_a_refused_file_is_named_in_the_refusal_not_dropped_silently(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    red, fake = tmp_path / "red.png", tmp_path / "fake.png"
    photo_like(300, 200).save(red)
    fake.write_text("this is not a picture at all")
    open_chat(page, app_server)
    attach_and_send(page, [red, fake], "Which of these two is red?")
    refusal = page.get_by_test_id("stAlert").filter(has_text="Not sent.")
    expect(refusal).to_contain_text("fake.png")
    expect(refusal).to_contain_text("Nor did “red.png” go")
    expect(page.locator(CHAT_INPUT)).to_have_value("Which of these two is red?")
    assert e2e_fake.bodies() == []


def test_a_file_that_is_no_image_is_refused_by_its_content_not_its_name(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    fake = tmp_path / "holiday.png"
    fake.write_text("this is not a picture at all")
    open_chat(page, app_server)
    before = len(e2e_fake.requests)
    attach_and_send(page, [fake], "look at this")
    expect(page.get_by_text("Not sent.")).to_be_visible()
    expect(page.get_by_text("holiday.png", exact=False).first).to_be_visible()
    assert len(e2e_fake.requests) == before


def test_images_in_older_turns_of_a_long_chat_are_shown_from_the_page_itself(
    page: Any, restartable_server: StreamlitServer
) -> None:
    from lib.chat.conversation import Conversation
    from lib.store.database import Store
    from tests.image_samples import photo

    chat = Conversation(system_prompt="", model="google/gemma-3-27b-it", title="Photos long ago")
    for turn in range(15):
        chat.add_user(f"photo question {turn}", images=(photo(f"p{turn}.jpg", seed=turn),) if turn < 2 else ())
        chat.add_reply(f"answer {turn}")
    store = Store(f"sqlite:///{restartable_server.env['CHAT_DB_PATH']}")
    store.save(chat)
    store.close()
    open_chat(page, restartable_server, path=f"/?c={chat.id}")
    old = page.locator(".gc-msg").filter(has_text="photo question 0")
    expect(old.locator("img.gc-image")).to_have_count(1, timeout=30_000)
    assert (old.locator("img.gc-image").get_attribute("src") or "").startswith("data:image/webp;base64,")
    assert old.locator("img.gc-image").evaluate("img => img.naturalWidth") > 0, "it draws"


def test_a_photo_from_the_camera_goes_with_the_next_message_and_can_be_removed(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    open_chat(page, app_server)
    page.get_by_role("button", name="Camera").click()
    take = page.get_by_role("button", name="Take Photo")
    expect(take).to_be_enabled(timeout=20_000)  # the (fake) camera is on
    page.wait_for_timeout(1500)  # its first frames
    take.click()
    expect(page.get_by_text("Sent with your next message (1 image")).to_be_visible(timeout=20_000)
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Remove").first.click()
    expect(page.get_by_text("Sent with your next message")).to_have_count(0)

    page.get_by_role("button", name="Camera").click()
    page.get_by_role("button", name="Clear photo").click()
    expect(take).to_be_enabled(timeout=20_000)
    page.wait_for_timeout(1500)  # the camera's first frames again: a click before them takes nothing
    take.click()
    expect(page.get_by_text("Sent with your next message (1 image")).to_be_visible(timeout=20_000)
    page.keyboard.press("Escape")
    e2e_fake.plan(Behaviour(reply="A test pattern."))
    box = page.locator(CHAT_INPUT)
    box.click()
    box.fill("What does my camera see?")
    box.press("Enter")
    wait_for_reply(page, "A test pattern.")
    assert len(sent_images(e2e_fake.bodies()[-1])) == 1
    expect(page.get_by_text("Sent with your next message")).to_have_count(0)
    user = page.locator(MESSAGE).filter(has_text="What does my camera see?")
    expect(user.locator("img")).to_have_count(1)


def test_an_image_refused_by_a_text_only_model_can_be_removed_and_the_message_sent_without_it(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    photo = tmp_path / "dog.png"
    photo_like(300, 200).save(photo)
    open_chat(page, app_server)
    choose_model(page, "Gemma 3n E4B")
    attach_and_send(page, [photo], "Is a dog a good pet?")
    expect(page.get_by_text("Not sent.")).to_be_visible()
    expect(page.get_by_text("1 image waiting for a model that reads images", exact=False)).to_be_visible()
    page.get_by_role("button", name="Remove").click()
    expect(page.get_by_text("1 image waiting for a model that reads images", exact=False)).to_have_count(0)

    e2e_fake.plan(Behaviour(reply="Dogs make loyal pets."))
    expect(page.locator(CHAT_INPUT)).to_have_value("Is a dog a good pet?")
    page.locator(CHAT_INPUT).press("Enter")
    wait_for_reply(page, "Dogs make loyal pets.")
    sent = e2e_fake.bodies()[-1]["messages"][-1]["content"]
    assert isinstance(sent, str) and sent.endswith("Is a dog a good pet?"), "text only, as 3n takes it"


def test_a_refused_message_from_a_tab_that_outlived_a_server_restart_comes_back_into_the_input(
    page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    # The new server's session reads the message after the chat input is drawn: its text comes back a run later.
    not_a_picture = tmp_path / "scan.png"
    not_a_picture.write_text("words, not a picture")
    open_chat(page, restartable_server)
    restartable_server.restart()
    page.wait_for_timeout(3000)  # the tab reconnects to the new process
    attach_and_send(page, [not_a_picture], "What does my scan show?")
    expect(page.get_by_text("Not sent.")).to_be_visible(timeout=30_000)
    expect(page.locator(CHAT_INPUT)).to_have_value("What does my scan show?")
    assert e2e_fake.bodies() == []
