"""How long preparing an attachment takes on the server: ``python -m bench.images [--reps N]``.

Each format holds the same 12-megapixel photo-like picture (4000×3000, the size of a phone's
photo), made by Pillow, so nothing is downloaded. Prints the median time of ``prepare`` and
the size of what leaves.
"""

from __future__ import annotations

import argparse
import statistics
import time

from lib.images.prepare import ImageLimits, prepare
from tests.images.pictures import encode, photo_like, with_metadata

#: the PNG of a noisy 12 MP picture is larger than CHAT_IMAGE_MAX_BYTES: time it anyway
_LIMITS = ImageLimits(max_bytes=200_000_000)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    picture = photo_like(4000, 3000)
    files = {
        "JPEG (phone photo, EXIF orientation 6)": with_metadata(photo_like(3000, 4000)),
        "PNG": encode(picture, "PNG"),
        "WebP": encode(picture, "WEBP", quality=90),
    }
    print(f"{'file':<40} {'in':>9} {'out':>8} {'median':>8}")
    for label, data in files.items():
        times = []
        for _ in range(args.reps):
            started = time.perf_counter()
            image = prepare(data, label, _LIMITS)
            times.append(time.perf_counter() - started)
        print(f"{label:<40} {len(data) / 1e6:>7.1f}MB {len(image.data) / 1e3:>6.0f}KB {statistics.median(times):>7.2f}s")


if __name__ == "__main__":
    main()
