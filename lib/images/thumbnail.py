"""A small copy of a stored image, for lists and previews that need not fetch the whole image.

Made once, when the store first keeps an image (:meth:`lib.store.database.Store.save`), and
kept beside it. An image that is no larger than a thumbnail is its own thumbnail: none is made.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image as PILImage
from PIL import ImageOps

from lib.errors import ImageError
from lib.images.image import Image

#: the longest side of a thumbnail, in pixels
THUMBNAIL_SIDE = 256
THUMBNAIL_TYPE = "image/webp"
THUMBNAIL_QUALITY = 80


@dataclass(frozen=True)
class Thumbnail:
    data: bytes
    media_type: str


def make_thumbnail(image: Image, side: int = THUMBNAIL_SIDE) -> Thumbnail | None:
    """A WebP of ``image`` whose longest side is ``side``; None when the image is that small already.

    WebP: a quarter of a JPEG's bytes at this size, and it keeps a PNG's transparency.
    ImageError when Pillow cannot read the bytes.
    """
    if max(image.width, image.height) <= side:
        return None
    try:
        with PILImage.open(io.BytesIO(image.data)) as opened:
            # A JPEG decodes at 1/2, 1/4 or 1/8 of its size for a fraction of the work.
            opened.draft("RGB", (side, side))
            small = ImageOps.contain(opened.convert("RGBA" if _has_alpha(opened) else "RGB"), (side, side))
        out = io.BytesIO()
        small.save(out, "WEBP", quality=THUMBNAIL_QUALITY)
    except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError) as exc:
        raise ImageError(f"No thumbnail could be made of the image {image.name or image.digest[:12]}: {exc}") from exc
    return Thumbnail(out.getvalue(), THUMBNAIL_TYPE)


def _has_alpha(image: PILImage.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
