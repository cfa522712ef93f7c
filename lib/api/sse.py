"""Server-sent events: turn the bytes of an HTTP body into the payloads of ``data:`` fields.

The body arrives in reads of any size: a read can end inside a line, inside a ``\\r\\n``
or inside a multi-byte UTF-8 character. :func:`iter_lines` cuts the reads into whole
lines (decoding only whole lines, so no character is ever split), and
:func:`iter_sse_data` turns lines into event data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

# The spec's line endings: CRLF, LF or a lone CR.
_LINE_END = re.compile(rb"\r\n|\r|\n")


def iter_lines(reads: Iterable[bytes]) -> Iterator[str]:
    """Yield each line of a body given as successive reads, as soon as its ending arrives.

    A line split across reads is joined first; a read ending in ``\\r`` ends its line at
    once (no waiting for the next read), and a ``\\n`` opening the next read is then the
    rest of that ``\\r\\n``, not an empty line. Invalid UTF-8 is replaced, not raised.
    """
    pending = b""
    after_cr = False
    for read in reads:
        if not read:
            continue
        if after_cr and read.startswith(b"\n"):
            read = read[1:]
        after_cr = read.endswith(b"\r")
        buffer = pending + read if pending else read
        start = 0
        for match in _LINE_END.finditer(buffer):
            yield buffer[start : match.start()].decode("utf-8", errors="replace")
            start = match.end()
        pending = buffer[start:]
    if pending:
        yield pending.decode("utf-8", errors="replace")


def iter_sse_data(lines: Iterable[bytes | str]) -> Iterator[str]:
    """Yield the data of each event, joining multi-line ``data:`` fields as the spec says.

    Comment lines (``: keep-alive``, sent by some proxies) and other fields (``event:``,
    ``id:``, ``retry:``) are skipped; a blank line ends an event.
    """
    data: list[str] = []
    for raw in lines:
        line = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        line = line.rstrip("\r\n")
        if not line:
            if data:
                yield "\n".join(data)
                data = []
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        if name == "data":
            data.append(value[1:] if value.startswith(" ") else value)
    if data:
        yield "\n".join(data)


def iter_sse_events(reads: Iterable[bytes]) -> Iterator[str]:
    """The data of each event in a body given as successive reads of any size."""
    return iter_sse_data(iter_lines(reads))
