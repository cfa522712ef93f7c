from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from lib.errors import ImageError
from lib.images.image import Image
from lib.images.thumbnail import THUMBNAIL_SIDE, make_thumbnail
from tests.image_samples import encode, photo, small


def opened(data: bytes) -> PILImage.Image:
    picture = PILImage.open(io.BytesIO(data))
    picture.load()
    return picture


def test_a_photo_becomes_a_webp_of_256_pixels_on_its_long_side() -> None:
    thumbnail = make_thumbnail(photo())
    assert thumbnail is not None and thumbnail.media_type == "image/webp"
    assert (opened(thumbnail.data).format, opened(thumbnail.data).size) == ("WEBP", (THUMBNAIL_SIDE, 192))


def test_a_tall_transparent_png_keeps_its_shape_and_transparency() -> None:
    picture = PILImage.new("RGBA", (300, 900), (255, 0, 0, 0))
    thumbnail = make_thumbnail(Image(encode(picture), "image/png", 300, 900))
    assert thumbnail is not None
    small_copy = opened(thumbnail.data)
    assert small_copy.size == (85, 256) and small_copy.mode == "RGBA"
    assert small_copy.getpixel((10, 10))[3] == 0


def test_an_image_as_small_as_a_thumbnail_is_its_own() -> None:
    assert make_thumbnail(small(size=(256, 100))) is None


def test_bytes_pillow_cannot_read_are_an_image_error() -> None:
    with pytest.raises(ImageError, match="odd.png"):
        make_thumbnail(Image(b"not a png", "image/png", 1000, 1000, name="odd.png"))
