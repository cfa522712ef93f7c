"""How search compares text: both sides folded here in Python, so that SQLite and PostgreSQL agree.

A database's own case folding differs by backend (SQLite's ``lower()`` folds ASCII only,
PostgreSQL's folds one character at a time: a final ``Σ``, ``ß`` or ``ﬁ`` come out unlike
Python's), and PostgreSQL text cannot even hold NUL. So the store keeps a folded copy of every
title and message (columns ``title_folded``, ``content_folded``, made by :func:`fold`) and
searches it for the folded query with a plain substring test, which both backends do alike.

What :func:`fold` makes equal, and why:

* case, by Unicode full case folding (``str.casefold``): ``Σ``/``σ``/``ς``, ``ß``/``ss``/``ẞ``,
  ``ﬁ``/``fi``;
* a capital dotted ``İ`` and ``i``: casefold gives ``i`` plus a combining dot, which a user
  typing ``istanbul`` would never find; the dotless ``ı`` stays a letter of its own;
* composed and decomposed accents (``é`` as one character or as ``e`` + U+0301, as macOS
  file names and some keyboards give it): both sides are brought to NFC, so they find each
  other; a bare ``e`` still does not find ``é``;
* runs of whitespace (tabs, newlines, several spaces) and one space, and no space at either end;
* NUL and U+FFFD, because PostgreSQL stores NUL as U+FFFD (see ``Store._text``).

The stored copies are made by this function: changing what it returns needs a migration
that fills the columns anew.
"""

from __future__ import annotations

import unicodedata

NUL = "\x00"
REPLACEMENT = "\ufffd"
COMBINING_DOT_ABOVE = "\u0307"


def _fold_characters(text: str) -> str:
    """Case, accents' composition and NUL folded; whitespace left as it is."""
    text = text.replace(NUL, REPLACEMENT)
    if text.isascii():
        return text.lower()  # the same as the rest below, much faster
    folded = unicodedata.normalize("NFC", unicodedata.normalize("NFD", text).casefold())
    return folded.replace("i" + COMBINING_DOT_ABOVE, "i")


def fold(text: str) -> str:
    """``text`` as search compares it (see the module's docstring)."""
    return " ".join(_fold_characters(text).split())


def _joins_previous(character: str) -> bool:
    # Combining marks, and the Hangul vowels and finals that NFC composes into a syllable.
    return unicodedata.combining(character) != 0 or "\u1160" <= character <= "\u11ff"


def _segments(flat: str) -> list[tuple[int, int]]:
    """``flat`` cut before every character that composes with none before it."""
    starts = [i for i, character in enumerate(flat) if i == 0 or not _joins_previous(character)]
    return list(zip(starts, [*starts[1:], len(flat)], strict=True))


def find_folded(flat: str, needle: str) -> tuple[int, int] | None:
    """Where in ``flat`` (text whose whitespace runs are single spaces) the first match of
    ``needle`` lies, as :func:`fold` compares them; None when it does not occur.

    The span covers whole original characters, so a match of ``ss`` in ``Straße`` marks the
    ``ß``. Text is folded a few characters at a time to know where each folded character came
    from; for the rare script whose composition spans such pieces, the match is not found.
    """
    wanted = fold(needle)
    if not wanted:
        return None
    if flat.isascii():
        # Folding ASCII keeps every length, so positions carry over as they are.
        position = _fold_characters(flat).find(wanted)
        return None if position < 0 else (position, position + len(wanted))
    folded: list[str] = []
    origin: list[tuple[int, int]] = []
    for start, end in _segments(flat):
        piece = _fold_characters(flat[start:end])
        folded.append(piece)
        origin.extend([(start, end)] * len(piece))
    position = "".join(folded).find(wanted)
    if position < 0:
        return None
    return origin[position][0], origin[position + len(wanted) - 1][1]
