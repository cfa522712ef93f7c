"""Images made by Pillow for the image tests: no binary fixtures in the repository."""

from __future__ import annotations

import io
import random
import struct
import zlib
from typing import Any

from PIL import ExifTags, ImageCms
from PIL import Image as PILImage

RED = (220, 30, 30)
BLUE = (30, 60, 220)
SKY = (70, 130, 220)
CLOUD = (250, 250, 250)


def encode(image: PILImage.Image, fmt: str, **params: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **params)
    return out.getvalue()


def opened(data: bytes) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(data))
    image.load()
    return image


def photo_like(width: int = 4000, height: int = 3000, seed: int = 1) -> PILImage.Image:
    """Smooth colour blobs with sensor-like noise: it compresses as a real photo does, not as flat colour."""
    rnd = random.Random(seed)
    blobs = PILImage.frombytes("RGB", (40, 30), bytes(rnd.randrange(256) for _ in range(40 * 30 * 3)))
    noise = PILImage.effect_noise((width, height), 40).convert("RGB")
    return PILImage.blend(blobs.resize((width, height), PILImage.Resampling.BICUBIC), noise, 0.15)


def red_top_left(width: int, height: int) -> PILImage.Image:
    """Blue, with its top-left quarter red: which way up it is shows at a glance."""
    image = PILImage.new("RGB", (width, height), BLUE)
    image.paste(RED, (0, 0, width // 2, height // 2))
    return image


def with_metadata(upright: PILImage.Image, orientation: int = 6, *, icc: bool = True) -> bytes:
    """A JPEG stored as a camera stores it (turned, with an orientation tag), full of private metadata."""
    stored = upright.transpose(PILImage.Transpose.ROTATE_90) if orientation == 6 else upright
    exif = PILImage.Exif()
    exif[ExifTags.Base.Orientation] = orientation
    exif[ExifTags.Base.Make] = "SecretCam"
    exif[ExifTags.Base.Model] = "Model X-42"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 31.0, 12.0)
    gps[ExifTags.GPS.GPSLongitudeRef] = "E"
    gps[ExifTags.GPS.GPSLongitude] = (13.0, 24.0, 1.0)
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description photoshop:City="Berlin"/></x:xmpmeta>'
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes() if icc else None
    return encode(stored, "JPEG", quality=92, exif=exif, xmp=xmp, icc_profile=profile, comment=b"home sweet home")


def with_size(png: bytes, width: int, height: int) -> bytes:
    """A PNG whose header claims another size (its CRC made right): a decompression bomb's header."""
    assert png[12:16] == b"IHDR"
    header = struct.pack(">II", width, height) + png[24:29]
    crc = struct.pack(">I", zlib.crc32(b"IHDR" + header))
    return png[:16] + header + crc + png[33:]
