"""lib.api.demo_model: the offline demo's answer, and what it says about the images it is sent."""

from __future__ import annotations

import base64

from PIL import Image as PILImage

from lib.api.demo_model import demo_reply
from lib.api.request import api_messages
from lib.chat.conversation import Conversation
from lib.images.prepare import prepare
from tests.images.pictures import CLOUD, SKY, encode


def sky_photo() -> bytes:
    picture = PILImage.new("RGB", (1600, 1200), SKY)
    picture.paste(CLOUD, (0, 700, 1600, 1200))  # more sky than snow
    return encode(picture, "JPEG")


def sent(text: str, *photos: bytes, model: str = "google/gemma-3-27b-it") -> list[dict]:
    """The messages the app sends for one user message with these photos attached."""
    chat = Conversation(system_prompt="Be brief.", model=model)
    chat.add_user(text, images=tuple(prepare(p, f"photo{n}.jpg") for n, p in enumerate(photos, 1)))
    return api_messages(chat.system_prompt, chat.history(), model)


def test_a_photo_is_described_from_its_pixels() -> None:
    reply = demo_reply(sent("What do you see?", sky_photo()))
    assert "I see **one image**: 896×672, landscape; mostly blue and white; bright." in reply
    assert "It cannot see" in reply, "the demo says it measured rather than looked"
    assert "You said: *What do you see?*" in reply


def test_several_photos_are_listed_in_order() -> None:
    dark = encode(PILImage.new("RGB", (300, 600), (10, 10, 10)), "PNG")
    reply = demo_reply(sent("", sky_photo(), dark))
    assert "I see **2 images**:" in reply
    assert "1. 896×672, landscape; mostly blue and white; bright." in reply
    assert "2. 300×600, portrait; mostly black; dark." in reply
    assert "You said: *(no words, only images)*" in reply


def test_a_model_without_a_system_role_gets_the_same_description() -> None:
    reply = demo_reply(sent("What is it?", sky_photo(), model="google/gemma-3-4b-it"))
    assert "I see **one image**: 896×672" in reply


def test_a_web_url_or_unreadable_data_is_said_so_without_failing() -> None:
    parts = [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(b"text").decode()}},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,%%%"}},
    ]
    reply = demo_reply([{"role": "user", "content": parts}])
    assert "1. a link to an image, which the offline demo does not fetch." in reply
    assert "2. data it cannot read as a JPEG, PNG, GIF or WebP image." in reply
    assert "3. data that is not valid base64." in reply


def test_only_the_last_user_message_is_described() -> None:
    first = sent("Look", sky_photo())
    later = [*first, {"role": "assistant", "content": "Nice."}, {"role": "user", "content": "And now?"}]
    reply = demo_reply(later)
    assert "I see" not in reply and "It cannot see" not in reply


def test_a_prompt_folded_into_the_first_message_is_not_said_to_be_empty() -> None:
    # For 12B it said "sent first (0 characters)", as if the system prompt had been lost.
    folded = demo_reply(sent("Hello there", model="google/gemma-3-12b-it"))
    assert "0 characters" not in folded
    assert "went at the start of your first message" in folded
    assert "was sent first (9 characters)" in demo_reply(sent("Hello there"))
