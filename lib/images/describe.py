"""What can be told about an image without a model: its size, its shape, its main colours, its brightness.

The offline demo model answers with this, so that a demo with a photo says something true
about it. Colours are named in plain words from their hue, saturation and lightness: a table
of a dozen names is all a sentence needs, and reads better than the nearest of 140 CSS names.
"""

from __future__ import annotations

import colorsys
from collections import Counter
from dataclasses import dataclass
from typing import Literal

from PIL import Image as PILImage
from PIL import ImageStat

from lib.images.prepare import DEFAULT_LIMITS, ImageLimits, decode, open_image

Orientation = Literal["landscape", "portrait", "square"]

#: sides within this fraction of each other make a square
_SQUARE = 0.05
#: the image is shrunk to this before its colours are counted: enough for the main ones
_SAMPLE = 64
#: colours kept by the quantizer, then named; names sharing less than MIN_SHARE are left out
_PALETTE = 8
MIN_SHARE = 0.15
MAX_COLOURS = 3
#: hue (degrees) up to which each name applies, for colours that are not grey
_HUES = ((15, "red"), (45, "orange"), (70, "yellow"), (165, "green"), (195, "turquoise"),
         (260, "blue"), (320, "purple"), (345, "pink"), (360, "red"))
#: (upper bound of the mean lightness, 0–1, and its word)
_BRIGHTNESS = ((0.25, "dark"), (0.45, "dim"), (0.65, "medium-bright"), (1.01, "bright"))


def colour_name(rgb: tuple[int, int, int]) -> str:
    """A plain English name for one colour: "blue", "white", "brown"."""
    red, green, blue = (c / 255 for c in rgb)
    hue, saturation, value = colorsys.rgb_to_hsv(red, green, blue)
    chroma = max(red, green, blue) - min(red, green, blue)
    if chroma < 0.12 or value < 0.15:
        return "black" if value < 0.25 else "white" if value > 0.85 else "grey"
    degrees = hue * 360
    name = next(n for bound, n in _HUES if degrees < bound)
    # Dark orange and yellow are what people call brown; pale red is pink.
    if name in ("orange", "yellow") and value < 0.6:
        return "brown"
    if name == "red" and saturation < 0.45 and value > 0.75:
        return "pink"
    return name


@dataclass(frozen=True)
class Description:
    width: int
    height: int
    #: the main colours' names, the largest share first
    colours: tuple[str, ...]
    #: mean lightness, 0 black to 1 white
    brightness: float

    @property
    def orientation(self) -> Orientation:
        if abs(self.width - self.height) <= _SQUARE * max(self.width, self.height):
            return "square"
        return "landscape" if self.width > self.height else "portrait"

    @property
    def brightness_word(self) -> str:
        return next(word for bound, word in _BRIGHTNESS if self.brightness < bound)

    def sentence(self) -> str:
        """``896×672, landscape; mostly blue and white; bright``."""
        colours = " and ".join(", ".join(self.colours).rsplit(", ", 1))
        return f"{self.width}×{self.height}, {self.orientation}; mostly {colours}; {self.brightness_word}"


def _main_colours(sample: PILImage.Image) -> tuple[str, ...]:
    quantized = sample.quantize(_PALETTE, method=PILImage.Quantize.MEDIANCUT)
    palette = quantized.getpalette() or []
    shares: Counter[str] = Counter()
    for count, index in quantized.getcolors() or []:
        rgb = palette[index * 3 : index * 3 + 3]
        shares[colour_name((rgb[0], rgb[1], rgb[2]))] += count
    total = sum(shares.values())
    ranked = [name for name, count in shares.most_common(MAX_COLOURS) if count >= MIN_SHARE * total]
    return tuple(ranked or [shares.most_common(1)[0][0]])


def describe(data: bytes, name: str = "image", limits: ImageLimits = DEFAULT_LIMITS) -> Description:
    """What is computed about the image in ``data`` (best a prepared one: upright, no EXIF left).

    ImageError when it is not an image :func:`lib.images.prepare.prepare` would open.
    """
    with open_image(data, name, limits) as image:
        width, height = image.size
        sample = decode(image, name, (_SAMPLE, _SAMPLE)).convert("RGB")
    sample.thumbnail((_SAMPLE, _SAMPLE))
    brightness = ImageStat.Stat(sample.convert("L")).mean[0] / 255
    return Description(width, height, _main_colours(sample), round(brightness, 3))
