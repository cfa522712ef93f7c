"""A value that must never be shown: the API key."""

from __future__ import annotations

import logging

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


def redact(text: str, *secrets: Secret | str | None) -> str:
    """Return ``text`` with every occurrence of the given secrets masked."""
    for secret in secrets:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            text = text.replace(value, _MASK)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks known secrets in every record it passes."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add(self, secret: Secret | str | None) -> None:
        value = secret.reveal() if isinstance(secret, Secret) else secret
        if value and len(value) >= 4:
            self._secrets.add(value)

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        message = record.getMessage()
        cleaned = redact(message, *self._secrets)
        if record.exc_info and record.exc_info[1] is not None:
            # Tracebacks are formatted later from exc_info; format them now, masked.
            formatted = logging.Formatter().formatException(record.exc_info)
            cleaned = f"{cleaned}\n{redact(formatted, *self._secrets)}"
            record.exc_info = None
            record.exc_text = None
        record.msg, record.args = cleaned, None
        return True


_filter = RedactingFilter()


def protect_logs(secret: Secret | str | None) -> None:
    """Mask ``secret`` in every log record from now on, whichever logger emits it."""
    _filter.add(secret)
    # Filters on a logger do not see records propagated from its children, so the
    # filter goes on every handler (Streamlit gives its own loggers handlers of their own).
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if _filter not in handler.filters:
                handler.addFilter(_filter)
