"""lib.images.prepare: what leaves for the API is upright, small, bare JPEG; what cannot is refused by name."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage
from PIL import ImageCms

from lib.errors import ImageError
from lib.images.prepare import DEFAULT_LIMITS, ImageLimits, check_count, open_image, prepare, prepare_all
from lib.settings import load_settings
from tests.images.pictures import (
    BLUE,
    RED,
    encode,
    opened,
    photo_like,
    red_top_left,
    with_metadata,
    with_size,
)


def close(pixel: tuple[int, ...], colour: tuple[int, int, int], slack: int = 12) -> bool:
    return all(abs(a - b) <= slack for a, b in zip(pixel, colour, strict=True))


@pytest.fixture(scope="module")
def phone_photo() -> bytes:
    """12 megapixels as a phone stores them: 4000×3000 turned, orientation 6, GPS and all."""
    return with_metadata(photo_like(3000, 4000))


# -- a phone photo -----------------------------------------------------------------------------


def test_a_phone_photo_leaves_upright_at_896_pixels_and_100_to_200_kb(phone_photo: bytes) -> None:
    assert opened(phone_photo).size == (4000, 3000)  # as stored: sideways
    image = prepare(phone_photo, "IMG_0001.jpg")
    assert (image.width, image.height) == (672, 896)
    assert opened(image.data).size == (672, 896)
    assert image.media_type == "image/jpeg" and opened(image.data).format == "JPEG"
    assert 50_000 <= len(image.data) <= 250_000
    assert image.name == "IMG_0001.jpg" and image.note is None


def test_the_exif_orientation_is_applied() -> None:
    image = prepare(with_metadata(red_top_left(1200, 900)), "turned.jpg")
    pixels = opened(image.data)
    assert pixels.size == (896, 672)
    assert close(pixels.getpixel((20, 20)), RED)
    assert close(pixels.getpixel((pixels.width - 20, 20)), BLUE)
    assert close(pixels.getpixel((20, pixels.height - 20)), BLUE)


def test_a_photo_whose_exif_is_garbage_is_taken_as_it_is() -> None:
    image = prepare(encode(red_top_left(100, 80), "JPEG", exif=b"Exif\x00\x00garbage"), "odd.jpg")
    assert (image.width, image.height) == (100, 80) and b"garbage" not in image.data


@pytest.mark.parametrize("icc", [True, False], ids=["with-icc-profile", "without"])
def test_no_metadata_is_left_neither_to_pillow_nor_in_the_bytes(icc: bool) -> None:
    photo = with_metadata(photo_like(600, 800), icc=icc)
    source = opened(photo)
    assert source.getexif().get_ifd(0x8825) and {"xmp", "comment"} <= set(source.info)  # the test photo has them
    data = prepare(photo, "IMG_0001.jpg").data
    image = opened(data)
    assert not image.getexif()
    assert not set(image.info) & {"exif", "xmp", "icc_profile", "comment", "photoshop", "mp"}
    for needle in (b"Exif", b"SecretCam", b"X-42", b"xmpmeta", b"Berlin", b"home sweet home", b"ICC_PROFILE"):
        assert needle not in data, needle
    assert data.count(b"\xff\xe1") == 0  # no APP1 segment (where EXIF and XMP live) at all


def test_a_small_image_is_not_enlarged() -> None:
    image = prepare(encode(red_top_left(300, 200), "PNG"), "small.png")
    assert (image.width, image.height) == (300, 200)


def test_the_long_side_and_quality_follow_the_limits() -> None:
    source = encode(photo_like(1600, 1200), "JPEG", quality=95)
    small = prepare(source, "a.jpg", ImageLimits(max_side=400, quality=50))
    assert (small.width, small.height) == (400, 300)
    assert len(small.data) < len(prepare(source, "a.jpg", ImageLimits(max_side=400, quality=90)).data)


# -- other types and modes ---------------------------------------------------------------------


def test_a_png_with_transparency_is_flattened_on_white_and_says_so() -> None:
    picture = PILImage.new("RGBA", (400, 200), (0, 0, 0, 0))
    picture.paste((*BLUE, 255), (200, 0, 400, 200))
    image = prepare(encode(picture, "PNG"), "logo.png")
    pixels = opened(image.data)
    assert image.media_type == "image/jpeg" and pixels.mode == "RGB"
    assert close(pixels.getpixel((50, 100)), (255, 255, 255))
    assert close(pixels.getpixel((350, 100)), BLUE)
    assert image.note and "white" in image.note


def test_an_alpha_channel_with_nothing_transparent_needs_no_note() -> None:
    screenshot = PILImage.new("RGBA", (400, 200), (*BLUE, 255))
    assert prepare(encode(screenshot, "PNG"), "screenshot.png").note is None


def test_a_palette_png_with_a_transparent_colour_is_flattened_too() -> None:
    picture = PILImage.new("P", (40, 40), 0)
    picture.putpalette([*RED, *BLUE] + [0] * 762)
    picture.paste(1, (20, 0, 40, 40))
    pixels = opened(prepare(encode(picture, "PNG", transparency=0), "icon.png").data)
    assert close(pixels.getpixel((5, 20)), (255, 255, 255)) and close(pixels.getpixel((35, 20)), BLUE)


def test_an_animated_gif_sends_its_first_frame_and_says_so() -> None:
    frames = [PILImage.new("RGB", (120, 80), colour) for colour in (RED, BLUE, RED)]
    gif = encode(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)
    image = prepare(gif, "dance.gif")
    assert close(opened(image.data).getpixel((60, 40)), RED, slack=30)
    assert image.note == "Only the first of this animated GIF's 3 frames is sent."


def test_a_still_gif_and_a_webp_are_taken() -> None:
    assert prepare(encode(red_top_left(100, 100), "GIF"), "still.gif").note is None
    webp = prepare(encode(red_top_left(1000, 500), "WEBP"), "pic.webp")
    assert (webp.width, webp.height, webp.media_type) == (896, 448, "image/jpeg")


def test_a_phones_multi_picture_jpeg_is_a_photo_not_an_animation() -> None:
    """Many phones write MPO (a JPEG followed by previews or a depth map): only the photo is sent, with no note."""
    mpo = encode(red_top_left(1200, 900), "MPO", save_all=True, append_images=[red_top_left(300, 200)])
    assert opened(mpo).format == "MPO"
    image = prepare(mpo, "IMG_0002.jpg")
    assert (image.width, image.height, image.note) == (896, 672, None)


def test_sixteen_bit_grey_keeps_its_shade() -> None:
    pixels = opened(prepare(encode(PILImage.new("I;16", (60, 40), 30000), "PNG"), "scan.png").data)
    assert close(pixels.getpixel((30, 20)), (117, 117, 117), slack=3)


def test_a_cmyk_jpeg_becomes_rgb() -> None:
    pixels = opened(prepare(encode(PILImage.new("CMYK", (60, 40), (0, 255, 255, 0)), "JPEG"), "print.jpg").data)
    assert pixels.mode == "RGB" and close(pixels.getpixel((30, 20)), (255, 0, 0), slack=20)


def test_an_icc_profile_is_applied_and_dropped_and_a_broken_one_only_dropped() -> None:
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for profile in (srgb, b"not a profile"):
        data = prepare(encode(PILImage.new("RGB", (60, 40), BLUE), "JPEG", icc_profile=profile), "p.jpg").data
        assert "icc_profile" not in opened(data).info
        assert close(opened(data).getpixel((30, 20)), BLUE)


# -- refusals ----------------------------------------------------------------------------------


def refusal(data: bytes, name: str, limits: ImageLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(ImageError) as info:
        prepare(data, name, limits)
    assert f"“{name}”" in str(info.value)
    return str(info.value)


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (encode(red_top_left(40, 40), "BMP"), "a BMP image"),
        (encode(red_top_left(40, 40), "TIFF"), "a TIFF image"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>', "an SVG drawing"),
        (b"just some notes, not a picture\n", "a text file"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "a HEIC photo"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "a PDF document"),
    ],
)
def test_a_type_the_api_does_not_list_is_refused_by_content_whatever_its_name(data: bytes, kind: str) -> None:
    message = refusal(data, "holiday.png")
    assert kind in message and "JPEG, PNG, GIF or WebP" in message


def test_unknown_bytes_are_refused_without_guessing() -> None:
    message = refusal(bytes(range(256)) * 4, "mystery.jpg")
    assert "is not a JPEG, PNG, GIF or WebP image" in message


def test_a_truncated_jpeg_is_refused_as_damaged(phone_photo: bytes) -> None:
    assert "damaged or cut short" in refusal(phone_photo[: len(phone_photo) // 2], "half.jpg")


def test_a_png_with_a_broken_body_is_refused_as_damaged() -> None:
    png = bytearray(encode(photo_like(200, 100), "PNG"))
    png[200:260] = bytes(60)
    assert "damaged or cut short" in refusal(bytes(png), "broken.png")


@pytest.mark.parametrize("fmt", ["GIF", "PNG", "WEBP"])
def test_an_animation_cut_short_anywhere_is_taken_or_refused_never_a_crash(fmt: str) -> None:
    """Counting frames reads them all: a frame cut short (after the first) must not escape as IndexError."""
    frames = [PILImage.new("RGB", (60, 40), colour) for colour in (RED, BLUE, RED)]
    animation = encode(frames[0], fmt, save_all=True, append_images=frames[1:], duration=100)
    for length in range(1, len(animation)):
        try:
            prepare(animation[:length], "cut.gif")
        except ImageError:
            pass


def test_a_decompression_bomb_is_refused_before_it_is_decoded() -> None:
    """A 100 000 × 100 000 PNG header on 80 bytes: Pillow's own bomb check refuses it unopened."""
    bomb = with_size(encode(PILImage.new("P", (1, 1)), "PNG"), 100_000, 100_000)
    assert len(bomb) < 100
    assert "too many pixels" in refusal(bomb, "bomb.png")


def test_more_pixels_than_the_setting_allows_are_refused_unopened() -> None:
    big = with_size(encode(PILImage.new("P", (1, 1)), "PNG"), 8000, 8000)
    message = refusal(big, "poster.png")
    assert "8,000×8,000" in message and "64 megapixels" in message and "CHAT_IMAGE_MAX_PIXELS" in message
    with pytest.raises(ImageError):
        open_image(encode(red_top_left(100, 100), "PNG"), "tiny.png", ImageLimits(max_pixels=9_999))


def test_a_file_larger_than_the_byte_limit_is_refused_before_it_is_read() -> None:
    message = refusal(b"\xff\xd8" + bytes(2_000_000), "huge.jpg", ImageLimits(max_bytes=1_000_000))
    assert "2.0 MB" in message and "1.0 MB" in message and "CHAT_IMAGE_MAX_BYTES" in message


def test_an_empty_file_is_refused() -> None:
    assert "empty" in refusal(b"", "nothing.png")


def test_more_images_than_one_message_takes_are_refused() -> None:
    check_count([b""] * 5)
    with pytest.raises(ImageError, match="6 images .* at most 5 .*CHAT_IMAGE_MAX_COUNT"):
        check_count([b""] * 6)
    with pytest.raises(ImageError, match="at most 2"):
        check_count(["a", "b", "c"], ImageLimits(max_count=2))


def test_prepare_all_checks_the_count_before_preparing_any() -> None:
    good = encode(red_top_left(50, 50), "PNG")
    assert [i.name for i in prepare_all([(good, "a.png"), (good, "b.png")])] == ["a.png", "b.png"]
    with pytest.raises(ImageError, match="at most 1"):
        prepare_all([(b"broken", "a.png"), (good, "b.png")], ImageLimits(max_count=1))


# -- the settings ------------------------------------------------------------------------------


def test_the_limits_come_from_the_settings() -> None:
    assert ImageLimits.from_settings(load_settings({})) == ImageLimits(896, 85, 5, 20_000_000, 50_000_000)
    settings = load_settings({
        "CHAT_IMAGE_MAX_SIDE": "512", "CHAT_IMAGE_QUALITY": "70", "CHAT_IMAGE_MAX_COUNT": "2",
        "CHAT_IMAGE_MAX_BYTES": "1000000", "CHAT_IMAGE_MAX_PIXELS": "4000000",
    })
    assert ImageLimits.from_settings(settings) == ImageLimits(512, 70, 2, 1_000_000, 4_000_000)


def test_the_output_decodes_as_a_plain_jpeg(phone_photo: bytes) -> None:
    """What the API receives opens in any decoder: baseline JPEG, RGB, nothing else in the file."""
    data = prepare(phone_photo, "IMG_0001.jpg").data
    image = PILImage.open(io.BytesIO(data))
    assert image.format == "JPEG" and image.mode == "RGB" and not getattr(image, "is_animated", False)


def test_a_refusal_among_several_files_names_the_others_which_are_not_sent_either() -> None:
    good = encode(red_top_left(50, 50), "PNG")
    with pytest.raises(ImageError) as refused:
        prepare_all([(good, "red.png"), (b"this is not a picture", "fake.png"), (good, "blue.png")])
    message = str(refused.value)
    assert "“fake.png”" in message and "“red.png”, “blue.png”" in message and "attach them again" in message
    with pytest.raises(ImageError) as alone:
        prepare_all([(b"this is not a picture", "fake.png")])
    assert "Nor did" not in str(alone.value)
