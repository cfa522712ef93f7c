"""A value that must never be shown: the API key."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any

_MASK = "***"


class Secret:
    """Holds the API key; every way of printing it prints a mask instead.

    Only :meth:`reveal` gives the value, and only the HTTP client calls it, to build
    the ``Authorization`` header.
    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value.strip()

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return f"Secret({_MASK!r})"

    __str__ = __repr__

    def __reduce__(self) -> tuple:
        # Pickling would write the key into whatever cache or file receives it.
        raise TypeError("a Secret cannot be pickled")


def _plain(secret: Secret | str | None) -> str | None:
    # By what it does, not its class: after Streamlit reloads edited modules, a Secret kept in
    # a cache is an instance of the class as it was before, which isinstance() does not know.
    return secret.reveal() if hasattr(secret, "reveal") else secret  # type: ignore[union-attr]


#: the shortest run of a key's characters masked on its own: a server may echo part of a key
_MIN_RUN = 8
#: the shortest start or end of a key masked next to an elision ("sk-can...e6f7", "****e6f7")
_MIN_END = 4
#: how servers elide the middle of a key they echo
_ELISION = re.compile(r"(?:[*•…]|\.{2,})+")


def _mask_spans(text: str, spans: list[tuple[int, int]]) -> str:
    out, last = [], 0
    for start, end in sorted(spans):
        start = max(start, last)  # overlapping spans: mask their union once
        if start >= end:
            continue
        out += [text[last:start], _MASK]
        last = end
    out.append(text[last:])
    return "".join(out)


@lru_cache(maxsize=8)
def _grams(value: str) -> frozenset[str]:
    # Once per key, not once per log record: every record of every logger is redacted.
    return frozenset(value[i : i + _MIN_RUN] for i in range(len(value) - _MIN_RUN + 1))


def _runs_of(text: str, value: str) -> list[tuple[int, int]]:
    """Spans of ``text`` that are runs of at least :data:`_MIN_RUN` characters of ``value``."""
    if len(value) <= _MIN_RUN:
        return []
    grams = _grams(value)
    spans, i = [], 0
    while i <= len(text) - _MIN_RUN:
        if text[i : i + _MIN_RUN] in grams:
            end = i + _MIN_RUN
            while end < len(text) and text[i : end + 1] in value:
                end += 1
            spans.append((i, end))
            i = end
        else:
            i += 1
    return spans


def _elided_echoes(text: str, value: str) -> list[tuple[int, int]]:
    """Spans like ``sk-can...e6f7`` or ``****e6f7``: the key's start or end beside an elision."""
    if len(value) <= _MIN_END:
        return []
    spans = []
    for match in _ELISION.finditer(text):
        start, end = match.span()
        head = next(
            (n for n in range(min(len(value) - 1, start), _MIN_END - 1, -1) if text[start - n : start] == value[:n]), 0
        )
        tail = next(
            (n for n in range(min(len(value) - 1, len(text) - end), _MIN_END - 1, -1) if text[end : end + n] == value[-n:]),
            0,
        )
        if head or tail:
            spans.append((start - head, end + tail))
    return spans


def redact(text: str, *secrets: Secret | str | None) -> str:
    """Return ``text`` with every occurrence of the given secrets masked.

    Servers echo keys whole or in part ("Incorrect API key provided: sk-can...e6f7"), so
    besides the whole key this masks any run of 8 or more of its characters, and its start
    or end written next to an elision.
    """
    for secret in secrets:
        value = _plain(secret)
        if value and len(value) >= 4:
            text = text.replace(value, _MASK)
            text = _mask_spans(text, _runs_of(text, value))
            text = _mask_spans(text, _elided_echoes(text, value))
    return text


def redact_error(error: BaseException, *secrets: Secret | str | None) -> BaseException:
    """Mask the secrets in every text an exception carries (its args and string attributes), in place.

    For errors built from what a server said, before a page shows or a store saves them.
    """
    error.args = tuple(redact(a, *secrets) if isinstance(a, str) else a for a in error.args)
    for name, value in vars(error).items():
        if isinstance(value, str):
            setattr(error, name, redact(value, *secrets))
    return error


class _Redactor:
    """Masks known secrets in every log record, at the moment the record is made.

    Installed as the record factory, so it covers every logger and every handler,
    including those created after the key became known.
    """

    def __init__(self) -> None:
        self.secrets: set[str] = set()
        self._base: Callable[..., logging.LogRecord] | None = None

    def add(self, secret: Secret | str | None) -> None:
        value = _plain(secret)
        if value and len(value) >= 4:
            self.secrets.add(value)
        if self._base is None:
            self._base = logging.getLogRecordFactory()
            logging.setLogRecordFactory(self._make)

    def _make(self, *args: Any, **kwargs: Any) -> logging.LogRecord:
        assert self._base is not None
        record = self._base(*args, **kwargs)
        if not self.secrets:
            return record
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the logger's problem, not ours
            message = str(record.msg)
        cleaned = redact(message, *self.secrets)
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later from exc_info; format them now, masked.
            formatted = logging.Formatter().formatException(record.exc_info)
            cleaned = f"{cleaned}\n{redact(formatted, *self.secrets)}"
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = cleaned, None
        return record


_redactor = _Redactor()


def protect_logs(secret: Secret | str | None) -> None:
    """Mask ``secret`` in every log record from now on, whichever logger emits it."""
    _redactor.add(secret)
