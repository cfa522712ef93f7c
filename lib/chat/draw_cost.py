"""What drawing a message's Markdown would cost the browser, told from its lines before it is drawn.

Streamlit's ``st.markdown`` (react-markdown in the browser) crashes on deep nesting and takes
seconds on big tables, again at every view of a streamed reply: 5,000 nested ``>`` ended in
"Maximum call stack size exceeded", and a 2,000-row table streamed over 10 s was on screen 34 s
after its stream ended. A text past any limit below is shown as plain text instead, whole.

The limits, from ``bench/draw_cost.py`` (Chromium on a 2-core machine; ``bench/results.md``,
section 7), each with a wide margin over what chat text holds:

* nesting: block quotes crash the page from 2,000 levels; a list 500 deep adds 2.7 s to a draw
  and 1.2 s to every redraw (1,000 deep: 36 s, then a crash). markdown-it-py, on the HTML path,
  drops what is nested deeper than its ``maxNesting``. No chat text nests 20 levels.
* table cells: streamed over 10 s, 1,803 cells were on screen 0.3 s after the stream's end,
  4,008 cells 5.8 s after; drawn at once, 16,008 cells take 6.4 s, and 4.9 s at every redraw.
* block quotes and list items: streamed over 10 s, 2,000 list items were on screen 0.3 s after
  the stream's end, 5,000 were 4.1 s after; drawn at once, 5,000 add 1.0 s.
* characters: 100,000 characters of paragraphs add 0.5 s to a draw (0.3 s to a redraw), 620,000
  add 2.2 s (0.9 s). No reply of Gemma 3 (8,192 tokens at most) comes near 100,000.

The check reads each line once with anchored patterns that cannot backtrack far, so a streamed
reply is checked at every view: 3 ms for 100,000 characters of paragraphs, 12 ms for 5,000 list items.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

#: deepest nesting of block quotes and lists on one line
MAX_NESTING = 20
#: cells of all tables together (header rows included)
MAX_TABLE_CELLS = 2_000
#: block quotes and list items opened
MAX_BLOCKS = 2_000
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


class _Tally:
    """The counts of :class:`DrawCost`, read one line at a time."""

    def __init__(self) -> None:
        self.nesting = self.blocks = self.rows = self.cells = 0
        self.fence: str | None = None  # the fence of the code block the lines are in
        self.columns = 0  # of the table the lines are in
        self.indents: list[int] = []  # the indentation of each open list level
        self.previous_quotes = 0
        self.previous_body = ""

    def read(self, line: str) -> None:
        if not line and self.fence is None:  # the most common line of all
            self._blank()
            return
        quoted = _QUOTES.match(line)
        quotes = quoted.group(0).count(">") if quoted else 0
        body = line[quoted.end() :] if quoted else line
        if self._in_code(body):
            return
        if not body.strip():
            self._blank()
            return
        self._table_row(body)
        self.blocks += max(0, quotes - self.previous_quotes)
        self.previous_quotes, self.previous_body = quotes, body
        self._containers(quotes, body)

    def _blank(self) -> None:
        """A blank line ends tables and block quotes (not lists)."""
        self.previous_quotes = self.columns = 0
        self.previous_body = ""

    def _in_code(self, body: str) -> bool:
        """Whether the line opens, closes or is in a fenced code block, which is drawn as it is."""
        if (opening := _FENCE.match(body.lstrip(" \t"))) is not None:
            marker = opening.group(1)
            if self.fence is None:
                self.fence = marker[0] * len(marker)
            elif marker.startswith(self.fence):
                self.fence = None
            return True
        return self.fence is not None

    def _table_row(self, body: str) -> None:
        if not self.columns:
            self.columns = _columns(self.previous_body, body)  # a delimiter row: its header is a row
        if self.columns:  # a row has as many cells as its header, whatever it holds
            self.rows += 1
            self.cells += self.columns

    def _containers(self, quotes: int, body: str) -> None:
        markers = _CONTAINERS.match(body)
        lists = len(_LIST_MARKER.findall(markers.group(0))) if markers else 0
        indent = len(body) - len(body.lstrip(" \t"))
        if markers and lists:
            while self.indents and self.indents[-1] >= indent:
                self.indents.pop()
            self.indents.append(indent)
            self.blocks += lists
            quotes += markers.group(0).count(">")  # "- > x" nests a quote in the item
        elif indent == 0:
            self.indents.clear()  # a paragraph at the margin: the lists above have ended
        self.nesting = max(self.nesting, quotes + len(self.indents) + max(0, lists - 1))


def measure(text: str) -> DrawCost:
    """The nesting, block and table counts of ``text``, from its lines (code in fences left out).

    An estimate that errs on the high side: lazy continuation lines and thematic breaks such as
    ``- - -`` are counted as the containers they look like.
    """
    if len(text) > MAX_CHARS:
        return DrawCost(chars=len(text))
    tally = _Tally()
    for line in text.split("\n"):
        tally.read(line)
    return DrawCost(len(text), tally.nesting, tally.blocks, tally.rows, tally.cells)


def plain_text_reason(text: str) -> str | None:
    """Why ``text`` is shown as plain text rather than Markdown, as a caption; None to draw it as Markdown."""
    reason = measure(text).reason()
    return f"Shown as plain text: {reason}." if reason else None
