"""What drawing a message's Markdown would cost the browser, told from its lines before it is drawn.

Streamlit's ``st.markdown`` (react-markdown in the browser) crashes on deep nesting and takes
seconds on big tables, again on every redraw: a 2,000-row table streamed in 10 s took 45 s to
settle, 3.7 s more at the next turn, and 5,000 nested ``>`` ended in "Maximum call stack size
exceeded". A text past any limit below is shown as plain text instead, whole.

The limits, measured in Chromium on this 2-core machine (``bench/draw_cost.py``; the numbers are
in ``bench/results.md``, section "Drawing one message"), each with a wide margin over chat text:

* nesting: block quotes crash the page at 2,000 levels, lists at 1,000 (after 36 s); 100 levels
  add 0.3 s. markdown-it-py (the HTML path) drops what is nested deeper than its ``maxNesting``.
  No chat text nests 20 levels deep.
* table cells: a table streamed over 10 s settles 1.2 s after its end at 2,000 cells, 17 s after
  at 4,000; one draw takes 0.7 s more at 2,000 cells, 6.6 s at 16,000.
* block quotes and list items: 5,000 list items add 1.3 s to a draw, 15,000 quote levels in
  500 quotes 1.3 s (and 0.4 s to every later redraw).
* characters: 250,000 characters of paragraphs add 1.3 s to a draw, 620,000 add 3.5 s (plain
  text: 1 s). No reply of Gemma 3 (8,192 tokens at most) comes near 100,000.

The check reads every line once with anchored regular expressions and no backtracking, so a
streamed reply can be checked at every redraw (0.6 ms for a 50 KB reply).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: deepest nesting of block quotes and lists on one line
MAX_NESTING = 20
#: cells of all tables together (header rows included)
MAX_TABLE_CELLS = 2_000
#: block quotes and list items opened
MAX_BLOCKS = 5_000
#: characters, for Markdown of no particular shape that is simply long
MAX_CHARS = 100_000

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
#: the block quote and list markers that open a line ("> ", "- ", "1. "), as one match
_CONTAINERS = re.compile(r"(?:[ \t]*(?:>|[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)))+")
_LIST_MARKER = re.compile(r"[-+*](?=[ \t]|$)|\d{1,9}[.)](?=[ \t]|$)")
_QUOTES = re.compile(r"(?:[ \t]*>)+")
_DELIMITER_CELL = re.compile(r"[ \t]*:?-+:?[ \t]*")
_PIPE = re.compile(r"(?<!\\)\|")


@dataclass(frozen=True)
class DrawCost:
    """What in a text costs the browser most to draw as Markdown."""

    chars: int = 0
    #: deepest nesting of block quotes and lists on one line
    nesting: int = 0
    #: block quotes and list items opened
    blocks: int = 0
    table_rows: int = 0
    table_cells: int = 0

    def reason(self) -> str | None:
        """Why the text is better shown as plain text, as a caption; None when Markdown is fine."""
        if self.nesting > MAX_NESTING:
            return f"block quotes or lists nested {self.nesting:,} deep are more than the page can draw"
        if self.table_cells > MAX_TABLE_CELLS:
            return (f"{self.table_rows:,} table rows ({self.table_cells:,} cells) are more than the page "
                    "can draw quickly")
        if self.blocks > MAX_BLOCKS:
            return f"{self.blocks:,} block quotes and list items are more than the page can draw quickly"
        if self.chars > MAX_CHARS:
            return f"{self.chars:,} characters are more than the page can draw quickly as Markdown"
        return None


def _cells(row: str) -> list[str]:
    row = row.strip()
    row = row[1:] if row.startswith("|") else row
    row = row[:-1] if row.endswith("|") and not row.endswith("\\|") else row
    return _PIPE.split(row)


def _columns(header: str, delimiter: str) -> int:
    """Columns of the table that ``header`` and ``delimiter`` start (GitHub's rules), 0 if they start none."""
    if "|" not in delimiter or "-" not in delimiter or "|" not in header:
        return 0
    columns = _cells(delimiter)
    if not all(_DELIMITER_CELL.fullmatch(cell) for cell in columns):
        return 0
    return len(columns) if len(_cells(header)) == len(columns) else 0


def measure(text: str) -> DrawCost:
    """The nesting, block and table counts of ``text``, from its lines (code in fences left out).

    An estimate that errs on the high side: lazy continuation lines and thematic breaks such as
    ``- - -`` are counted as the containers they look like.
    """
    if len(text) > MAX_CHARS:
        return DrawCost(chars=len(text))
    nesting = blocks = rows = cells = 0
    fence: str | None = None
    indents: list[int] = []  # the indentation of each open list level
    previous_quotes = columns = 0
    previous_body = ""
    for line in text.split("\n"):
        quoted = _QUOTES.match(line)
        quotes = quoted.group(0).count(">") if quoted else 0
        body = line[quoted.end() :] if quoted else line
        if (opening := _FENCE.match(body.lstrip(" \t"))) is not None:
            marker = opening.group(1)
            if fence is None:
                fence = marker[0] * len(marker)
            elif marker.startswith(fence):
                fence = None
            continue
        if fence is not None:
            continue
        if not body.strip():
            previous_quotes = columns = 0
            previous_body = ""
            continue
        if columns:  # a table's body row: as many cells as its header, whatever the row holds
            rows += 1
            cells += columns
        elif columns := _columns(previous_body, body):
            rows += 1
            cells += columns  # the header row
        blocks += max(0, quotes - previous_quotes)
        previous_quotes, previous_body = quotes, body
        markers = _CONTAINERS.match(body)
        lists = len(_LIST_MARKER.findall(markers.group(0))) if markers else 0
        indent = len(body) - len(body.lstrip(" \t"))
        if lists:
            while indents and indents[-1] >= indent:
                indents.pop()
            indents.append(indent)
            blocks += lists
            # A ">" after a list marker ("- > x") nests too.
            quotes += markers.group(0).count(">") if markers else 0
        elif indent == 0:
            indents.clear()  # a paragraph at the margin: the lists above have ended
        nesting = max(nesting, quotes + len(indents) + max(0, lists - 1))
    return DrawCost(len(text), nesting, blocks, rows, cells)


def plain_text_reason(text: str) -> str | None:
    """Why ``text`` is shown as plain text rather than Markdown, as a caption; None to draw it as Markdown."""
    reason = measure(text).reason()
    return f"Shown as plain text: {reason}." if reason else None
