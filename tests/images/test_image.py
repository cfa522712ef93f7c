from __future__ import annotations

import base64

import pytest

from lib.api.request import api_messages
from lib.chat.conversation import Conversation, Message
from lib.images.image import Image

PNG_1X1 = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def test_an_image_round_trips_through_its_dict_byte_for_byte() -> None:
    image = Image(PNG_1X1, "image/png", 1, 1, name="dot.png")
    again = Image.from_dict(image.to_dict())
    assert again == image and again.data == PNG_1X1 and again.digest == image.digest


def test_an_image_whose_data_does_not_match_its_digest_is_refused() -> None:
    data = Image(PNG_1X1, "image/png", 1, 1).to_dict() | {"digest": "0" * 64}
    with pytest.raises(ValueError):
        Image.from_dict(data)


def test_a_type_the_api_does_not_take_is_refused() -> None:
    with pytest.raises(ValueError):
        Image(b"BM...", "image/bmp", 1, 1)


def test_a_message_with_images_is_sent_as_text_and_image_url_parts() -> None:
    chat = Conversation(system_prompt="", model="google/gemma-3-27b-it")
    image = Image(PNG_1X1, "image/png", 1, 1)
    chat.add_user("What is this?", images=(image,))
    [sent] = api_messages("", chat.history(), chat.model)
    assert sent == {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is this?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG_1X1).decode()}},
        ],
    }


def test_an_edit_keeps_the_images_unless_told_otherwise() -> None:
    chat = Conversation(system_prompt="", model="m")
    image = Image(PNG_1X1, "image/png", 1, 1)
    first = chat.add_user("look", images=(image,))
    assert chat.edit(first.id, "look again").images == (image,)
    assert chat.edit(first.id, "never mind", images=()).images == ()


def test_a_message_dict_carries_its_images() -> None:
    message = Message("user", "hi", images=(Image(PNG_1X1, "image/png", 1, 1),))
    assert Message.from_dict(message.to_dict()).images == message.images
    assert "images" not in Message("user", "no images").to_dict()
