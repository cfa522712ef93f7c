"""From the file a user picked to the :class:`Image` that is sent and stored: upright, bare, small.

Every attachment goes through :func:`prepare` on the server before anything is sent or kept:

- only JPEG, PNG, GIF and WebP are read (what the API's spec lists), told apart by their
  content, never by the file's name; the file's size and pixel count are checked before
  any pixel is decoded, so a decompression bomb is refused unopened;
- the EXIF orientation is applied, so a phone photo is upright without it;
- it is shrunk to :attr:`ImageLimits.max_side` on its long side: Gemma 3's vision encoder
  sees 896×896 pixels, so more would only be squeezed down by the server after the upload;
- colours with an ICC profile (a phone's Display P3) are converted to sRGB, and the profile
  dropped; a profile that cannot be applied is dropped alone;
- transparent areas are filled with white, what a viewer shows on a light page;
- it is re-encoded as a new JPEG with no metadata at all: no EXIF (GPS position, camera,
  time), XMP, comment or profile is copied. A 12-megapixel photo leaves as roughly
  80–250 KB at quality 85, depending on its detail. WebP would be about 40% smaller, but
  JPEG is the one type every server and model behind an OpenAI-compatible API decodes, and
  the tens of KB saved are not worth an image some provider cannot read.

Time, measured with ``python -m bench.images`` (2 cores, Pillow 13, 12-megapixel pictures):
a phone's JPEG 0.15 s, decoded at a quarter of its size by JPEG's draft mode; the same
picture as PNG 0.5 s, as WebP 0.7 s (neither can be decoded smaller).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence, Sized
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import ImageCms, ImageOps, UnidentifiedImageError

from lib.errors import ImageError
from lib.images.image import MEDIA_TYPES, Image
from lib.settings import (
    DEFAULT_IMAGE_MAX_BYTES,
    DEFAULT_IMAGE_MAX_COUNT,
    DEFAULT_IMAGE_MAX_PIXELS,
    DEFAULT_IMAGE_MAX_SIDE,
    DEFAULT_IMAGE_QUALITY,
    Settings,
)

#: the Pillow formats of the API's types: the only ones read
_READ_FORMATS = tuple(MEDIA_TYPES.values())
#: MPO is how Pillow opens many phones' JPEGs (the photo, then previews or a depth map)
_JPEG_FORMATS = ("JPEG", "MPO")
#: what Pillow raises on a file that is damaged, cut short or lies about itself
_UNREADABLE = (OSError, SyntaxError, ValueError, EOFError, struct.error, IndexError)
_SRGB = ImageCms.createProfile("sRGB")
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class ImageLimits:
    """How images are prepared and which are refused: from the CHAT_IMAGE_* settings."""

    max_side: int = DEFAULT_IMAGE_MAX_SIDE
    quality: int = DEFAULT_IMAGE_QUALITY
    max_count: int = DEFAULT_IMAGE_MAX_COUNT
    max_bytes: int = DEFAULT_IMAGE_MAX_BYTES
    max_pixels: int = DEFAULT_IMAGE_MAX_PIXELS

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageLimits:
        return cls(
            settings.image_max_side, settings.image_quality, settings.image_max_count,
            settings.image_max_bytes, settings.image_max_pixels,
        )


DEFAULT_LIMITS = ImageLimits()


# -- refusals ------------------------------------------------------------------------------


def check_count(images: Sized, limits: ImageLimits = DEFAULT_LIMITS) -> None:
    """ImageError when one message would carry more images than CHAT_IMAGE_MAX_COUNT allows."""
    if len(images) > limits.max_count:
        raise ImageError(
            f"{len(images)} images are attached; one message takes at most {limits.max_count} "
            "(CHAT_IMAGE_MAX_COUNT). Remove some, or send them over several messages."
        )


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB"


def _check_size(data: bytes, name: str, limits: ImageLimits) -> None:
    if not data:
        raise ImageError(f"“{name}” is empty.")
    if len(data) > limits.max_bytes:
        raise ImageError(
            f"“{name}” is {_megabytes(len(data))}; the largest image accepted is "
            f"{_megabytes(limits.max_bytes)} (CHAT_IMAGE_MAX_BYTES)."
        )


def _kind(data: bytes) -> str | None:
    """What a file the API does not take seems to be, from its first bytes, for the message."""
    head = data[:512]
    if head.startswith(b"BM"):
        return "a BMP image"
    if head[:4] in (b"II*\x00", b"MM\x00*"):
        return "a TIFF image"
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"mif1", b"msf1"):
            return "a HEIC photo (an iPhone's format)"
        return "an AVIF image" if brand == b"avif" else "a video or HEIF file"
    if head.startswith(b"%PDF"):
        return "a PDF document"
    if b"<svg" in head.lower():
        return "an SVG drawing"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "a text file"


def _unsupported(data: bytes, name: str) -> ImageError:
    kind = _kind(data)
    what = f"is {kind}, not" if kind else "is not"
    return ImageError(
        f"“{name}” {what} a JPEG, PNG, GIF or WebP image, the types Gemma reads. "
        "Save it as one of those (a screenshot as PNG, a photo as JPEG) and attach it again."
    )


def _damaged(name: str) -> ImageError:
    return ImageError(f"“{name}” could not be read: the file is damaged or cut short.")


def _too_many_pixels(name: str, size: tuple[int, int], limits: ImageLimits) -> ImageError:
    width, height = size
    return ImageError(
        f"“{name}” is {width:,}×{height:,} pixels ({width * height / 1e6:,.0f} megapixels); "
        f"at most {limits.max_pixels / 1e6:g} megapixels are opened (CHAT_IMAGE_MAX_PIXELS). "
        "Shrink it and attach it again."
    )


# -- reading -------------------------------------------------------------------------------


def open_image(data: bytes, name: str, limits: ImageLimits = DEFAULT_LIMITS) -> PILImage.Image:
    """The image in ``data`` opened but not decoded: one of the API's types, with few enough pixels.

    ImageError otherwise. Only the header has been read: decoding errors come at ``load()``.
    """
    try:
        # Only the plugins of the API's types may parse what a user uploaded.
        image = PILImage.open(io.BytesIO(data), formats=_READ_FORMATS)
    except UnidentifiedImageError:
        raise _unsupported(data, name) from None
    except PILImage.DecompressionBombError:
        raise ImageError(
            f"“{name}” has far too many pixels to be opened safely (the limit is "
            f"{limits.max_pixels / 1e6:.0f} megapixels)."
        ) from None
    except _UNREADABLE:
        raise _damaged(name) from None
    if image.width * image.height > limits.max_pixels:
        raise _too_many_pixels(name, image.size, limits)
    return image


def _animation_note(image: PILImage.Image, name: str) -> str | None:
    try:
        # Counting reads through every frame: a damaged one after the first shows here.
        frames = getattr(image, "n_frames", 1)
    except _UNREADABLE:
        raise _damaged(name) from None
    # An MPO's further frames are a phone's previews and depth maps, not an animation.
    if frames <= 1 or image.format in _JPEG_FORMATS:
        return None
    kind = {"GIF": "GIF", "PNG": "PNG", "WEBP": "WebP"}[image.format or "GIF"]
    return f"Only the first of this animated {kind}'s {frames} frames is sent."


def _fitted(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """``size`` shrunk (never grown) to fit ``max_side`` on its long side."""
    scale = min(1.0, max_side / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def decode(image: PILImage.Image, name: str, target: tuple[int, int]) -> PILImage.Image:
    """``image`` from :func:`open_image` with its first frame decoded, at no less than twice
    ``target`` where the format can decode smaller. ImageError when it is damaged or cut short."""
    try:
        if image.format in _JPEG_FORMATS:
            # JPEG decodes at 1/2, 1/4 or 1/8 of its size directly, a 12 MP photo in a fraction
            # of the time. Twice the target keeps the resampling as sharp as from the full size
            # (Pillow's own thumbnail() does the same).
            image.draft("RGB", (target[0] * 2, target[1] * 2))
        image.load()
    except PILImage.DecompressionBombError:
        raise ImageError(f"“{name}” has far too many pixels to be opened safely.") from None
    except _UNREADABLE:
        raise _damaged(name) from None
    return image


def _eight_bit(image: PILImage.Image) -> PILImage.Image:
    """RGB, RGBA, L or CMYK: modes that resample smoothly and that ICC profiles apply to."""
    if image.mode in ("RGB", "RGBA", "L", "CMYK"):
        return image
    if image.mode.startswith("I"):
        # 16-bit grey (a PNG from a scanner or a microscope): converting alone would clip it at
        # 255, all but black turning white; scaled, it keeps its shades.
        return image.convert("I").point(lambda value: value / 256).convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _upright(image: PILImage.Image) -> PILImage.Image:
    """Turned as its EXIF orientation says; as it is when the EXIF block is too broken to read."""
    try:
        return ImageOps.exif_transpose(image)
    except _UNREADABLE:
        return image  # the pixels are fine: only which way up they go is lost with the EXIF


def _in_srgb(image: PILImage.Image) -> PILImage.Image:
    """The colours converted from the image's ICC profile to sRGB, or as they are without one."""
    icc = image.info.get("icc_profile")
    mode = "RGBA" if image.mode == "RGBA" else "RGB"
    if icc:
        try:
            source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
            return ImageCms.profileToProfile(image, source, _SRGB, outputMode=mode)
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken or unusual profile: the pixels as they are are still the best guess
    return image.convert(mode)


def _on_white(image: PILImage.Image) -> tuple[PILImage.Image, str | None]:
    """RGB: what is transparent filled with white, and a note when anything was."""
    if image.mode != "RGBA":
        return image, None
    alpha = image.getchannel("A")
    if alpha.getextrema()[0] == 255:
        return image.convert("RGB"), None  # an alpha channel, but nothing transparent
    flat = PILImage.new("RGB", image.size, _WHITE)
    flat.paste(image, mask=alpha)
    return flat, "Transparent areas are sent filled with white."


def _jpeg(image: PILImage.Image, quality: int) -> bytes:
    # A fresh image: nothing of the file's metadata (EXIF, XMP, comment, profile) can follow.
    bare = PILImage.new("RGB", image.size)
    bare.paste(image)
    out = io.BytesIO()
    bare.save(out, "JPEG", quality=quality, optimize=True)
    return out.getvalue()


# -- the whole way -------------------------------------------------------------------------


def prepare(data: bytes, name: str, limits: ImageLimits = DEFAULT_LIMITS) -> Image:
    """The :class:`Image` to send and store for the file ``name`` holding ``data``.

    ImageError, naming the file, when it is too large, not a JPEG, PNG, GIF or WebP,
    damaged, or has too many pixels. See the module's docstring for what is done to it.
    """
    _check_size(data, name, limits)
    with open_image(data, name, limits) as opened:
        animated = _animation_note(opened, name)
        target = _fitted(opened.size, limits.max_side)
        image = _eight_bit(decode(opened, name, target))
        image = image.resize(target, PILImage.Resampling.LANCZOS, reducing_gap=3.0)
        image = _upright(image)
        flat, transparent = _on_white(_in_srgb(image))
    note = " ".join(n for n in (animated, transparent) if n) or None
    return Image(_jpeg(flat, limits.quality), "image/jpeg", flat.width, flat.height, name=name, note=note)


def prepare_all(files: Sequence[tuple[bytes, str]], limits: ImageLimits = DEFAULT_LIMITS) -> tuple[Image, ...]:
    """Each ``(data, name)`` prepared, in order, after checking their number: ImageError at the first refusal.

    The refusal names the other files too: the message goes with none of them, and a picture
    dropped without a word would let a question about it reach the model without it.
    """
    check_count(files, limits)
    prepared: list[Image] = []
    for index, (data, name) in enumerate(files):
        try:
            prepared.append(prepare(data, name, limits))
        except ImageError as exc:
            others = [f"“{other}”" for position, (_, other) in enumerate(files) if position != index]
            if not others:
                raise
            them = "it" if len(others) == 1 else "them"
            raise ImageError(f"{exc} Nor did {', '.join(others)} go, as the message was not sent: attach "
                             f"{them} again with it.") from None
    return tuple(prepared)
