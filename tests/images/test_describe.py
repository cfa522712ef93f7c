"""lib.images.describe: what the demo model can truly say about an image, computed offline."""

from __future__ import annotations

import pytest
from PIL import Image as PILImage

from lib.errors import ImageError
from lib.images.describe import Description, colour_name, describe
from tests.images.pictures import CLOUD, SKY, encode


def sky_over_snow(width: int = 896, height: int = 672) -> bytes:
    picture = PILImage.new("RGB", (width, height), SKY)
    picture.paste(CLOUD, (0, height * 6 // 10, width, height))
    return encode(picture, "JPEG", quality=85)


def test_a_sky_over_snow() -> None:
    seen = describe(sky_over_snow())
    assert (seen.width, seen.height, seen.orientation) == (896, 672, "landscape")
    assert seen.colours == ("blue", "white")
    assert seen.brightness_word == "bright"
    assert seen.sentence() == "896×672, landscape; mostly blue and white; bright"


def test_portrait_square_and_dark() -> None:
    assert describe(sky_over_snow(300, 500)).orientation == "portrait"
    assert describe(sky_over_snow(500, 490)).orientation == "square"
    night = describe(encode(PILImage.new("RGB", (64, 48), (12, 12, 20)), "PNG"))
    assert night.colours == ("black",) and night.brightness_word == "dark"


def test_a_minor_colour_is_left_out() -> None:
    picture = PILImage.new("RGB", (100, 100), (30, 140, 40))
    picture.paste((220, 30, 30), (0, 0, 10, 100))  # a tenth red
    assert describe(encode(picture, "PNG")).colours == ("green",)


def test_three_colours_read_as_a_list() -> None:
    seen = Description(10, 10, ("red", "green", "blue"), 0.5)
    assert seen.sentence() == "10×10, square; mostly red, green and blue; medium-bright"


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((255, 255, 255), "white"), ((0, 0, 0), "black"), ((128, 128, 128), "grey"),
        ((255, 0, 0), "red"), ((255, 165, 0), "orange"), ((255, 255, 0), "yellow"),
        ((0, 128, 0), "green"), ((0, 128, 128), "turquoise"), ((135, 206, 235), "blue"),
        ((0, 0, 255), "blue"), ((128, 0, 128), "purple"), ((255, 105, 180), "pink"),
        ((255, 192, 203), "pink"), ((139, 69, 19), "brown"),
    ],
)
def test_colour_names(rgb: tuple[int, int, int], name: str) -> None:
    assert colour_name(rgb) == name


def test_what_is_not_an_image_is_refused() -> None:
    with pytest.raises(ImageError, match="a text file"):
        describe(b"hello", "note.txt")
