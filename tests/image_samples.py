"""Images for tests, made with Pillow: small ones of each type, and a photo as a chat would send it."""

from __future__ import annotations

import io
from functools import cache

from PIL import Image as PILImage

from lib.images.image import MEDIA_TYPES, Image


def encode(picture: PILImage.Image, media_type: str = "image/png", **options: object) -> bytes:
    out = io.BytesIO()
    picture.save(out, MEDIA_TYPES[media_type], **options)
    return out.getvalue()


def small(color: tuple[int, int, int] = (200, 30, 30), media_type: str = "image/png", size: tuple[int, int] = (8, 6),
          name: str = "dot.png") -> Image:
    """A tiny image of one colour: each colour gives other bytes, so another digest."""
    picture = PILImage.new("RGB", size, color)
    return Image(encode(picture, media_type), media_type, *size, name=name)


@cache
def photo_bytes(quality: int = 80, seed: int = 0) -> bytes:
    """A 896 × 672 JPEG of about 160 kB (250 kB at quality 90), like a prepared phone photo: noise
    compresses as badly as detail. Another ``seed`` gives another photo."""
    width, height = 896, 672
    gradient = PILImage.linear_gradient("L").resize((width, height))
    noise = PILImage.effect_noise((width, height), 20)
    picture = PILImage.merge("RGB", (gradient, noise, gradient.transpose(PILImage.Transpose.FLIP_LEFT_RIGHT)))
    return encode(picture, "image/jpeg", quality=quality)


def photo(name: str = "holiday.jpg", note: str | None = None, *, quality: int = 80, seed: int = 0) -> Image:
    return Image(photo_bytes(quality, seed), "image/jpeg", 896, 672, name=name, note=note)
