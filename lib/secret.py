"""A value that must never be shown: the API key."""

from __future__ import annotations

import logging
from collections.abc import Callable
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


def redact(text: str, *secrets: Secret | str | None) -> str:
    """Return ``text`` with every occurrence of the given secrets masked."""
    for secret in secrets:
        value = _plain(secret)
        if value and len(value) >= 4:
            text = text.replace(value, _MASK)
    return text


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
