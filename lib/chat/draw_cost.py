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
