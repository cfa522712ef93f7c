"""An image attached to a message, as it is sent, stored and exported: bytes that are final.

The bytes are the prepared image (see :mod:`lib.images.prepare`), never the file the user
picked: they are what the model saw, so they are stored, exported and imported unchanged,
and the same bytes are one stored image however many messages carry them (``digest``).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from typing import Any

#: the image types the API's spec lists for ``image_url`` parts, by MIME type
MEDIA_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}


@dataclass(frozen=True)
class Image:
    data: bytes
    media_type: str
    width: int
    height: int
    #: the name of the file it was made from, for the user's eyes only
    name: str = ""
    #: what preparing it changed that the user should know ("first frame of an animated GIF")
    note: str | None = None
    digest: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.media_type not in MEDIA_TYPES:
            raise ValueError(f"not an image type the API takes: {self.media_type!r}")
        object.__setattr__(self, "digest", hashlib.sha256(self.data).hexdigest())

    def data_uri(self) -> str:
        """What an ``image_url`` part carries: the bytes themselves, base64 in a data: URL."""
        return f"data:{self.media_type};base64,{base64.b64encode(self.data).decode('ascii')}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "digest": self.digest,
            "media_type": self.media_type,
            "width": self.width,
            "height": self.height,
            "name": self.name,
            "note": self.note,
            "data": base64.b64encode(self.data).decode("ascii"),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Image:
        """Read what :meth:`to_dict` wrote; ValueError when the data is not base64 or not the digest's."""
        raw = base64.b64decode(data["data"], validate=True)
        image = cls(raw, data["media_type"], int(data["width"]), int(data["height"]), data.get("name") or "", data.get("note"))
        if data.get("digest") not in (None, image.digest):
            raise ValueError("an image's data does not match its digest")
        return image
