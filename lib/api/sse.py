"""Server-sent events: turn the lines of an HTTP body into the payloads of ``data:`` fields."""

from __future__ import annotations

from collections.abc import Iterable, Iterator


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
