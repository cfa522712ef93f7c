"""Whether an image from outside (an imported file) really is what it says, before it is kept or sent.

An :class:`~lib.images.image.Image` from this app's own preparation is right by construction; one
read from a file only claims its type and size. Sending a wrong one would fail the chat at the
API, and a decompression bomb would take the server's memory when a page first shows it.
"""

from __future__ import annotations

import io
import warnings

from PIL import Image as PILImage

from lib.errors import ImageError
from lib.images.image import MEDIA_TYPES, Image

#: the most pixels an image from outside may have; far above what preparing an image leaves
#: (Gemma 3 sees 896 × 896), far below what would exhaust memory when decoded (64 MB as RGBA)
MAX_PIXELS = 4096 * 4096


def verify_image(image: Image, max_pixels: int = MAX_PIXELS) -> None:
    """ImageError unless ``image.data`` decodes as ``image.media_type`` at ``image.width`` × ``image.height``.

    The size is read from the header and checked before anything is decoded.
    """
    expected = MEDIA_TYPES[image.media_type]
    what = f"The image {image.name[:80]!r}" if image.name else "An image"
    try:
        with warnings.catch_warnings():
            # Pillow only warns about a bomb below twice its own limit: one is refused here all the same.
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(image.data), formats=list(MEDIA_TYPES.values())) as opened:
                found = opened.format
                width, height = opened.size
                if found != expected:
                    raise ImageError(f"{what} is {found}, not {expected} as it says.")
                if width * height > max_pixels:
                    raise ImageError(f"{what} is {width} × {height} pixels, more than the {max_pixels:,} allowed.")
                if (width, height) != (image.width, image.height):
                    raise ImageError(f"{what} is {width} × {height} pixels, not {image.width} × {image.height} as it says.")
                opened.load()
    except ImageError:
        raise
    except (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning):
        raise ImageError(f"{what} is too large to open safely (a decompression bomb).") from None
    except PILImage.UnidentifiedImageError:
        raise ImageError(f"{what} is not an image of a type the API takes ({', '.join(MEDIA_TYPES)}).") from None
    except (OSError, ValueError, SyntaxError, EOFError) as exc:
        raise ImageError(f"{what} is damaged ({exc}).") from None
