"""Test sets (rows of variable values, by name), read from CSV; a run's results as CSV and JSON.

CSV in: the header row names the variables; a UTF-8 byte-order mark (Excel's "CSV UTF-8") is
dropped; the separator is ``,`` or ``;`` (Excel in much of Europe), whichever the header uses
outside quotes; quoted cells may hold separators, quotes (doubled) and newlines. Too many rows
or bytes, an empty or repeated column name, a row longer than the header: ImportFormatError
naming the line. A short row leaves its last cells empty (a blank counts as not given, so a
variable's default applies).

CSV out: one line per cell, the row's variables, the set-up, status, reply, figures and each
check's ``pass``/``fail``. A text starting with ``=``, ``+``, ``-`` or ``@`` is prefixed with
``'`` so that a spreadsheet shows it instead of running it as a formula (a reply is the model's
text, not to be trusted).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from typing import Any

from lib.errors import ImportFormatError
from lib.experiments.lab_run import LabCell, LabResult

#: more rows would take long to run and to show in a grid
MAX_ROWS = 1_000
MAX_BYTES = 2_000_000
MAX_COLUMNS = 50
#: the column of a judge's score: its name says it is an opinion
JUDGE_SCORE = "judge score (a model's opinion)"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass
class TestSet:
    """Named rows of variable values; ``columns`` are the variable names, in order."""

    __test__ = False  # not a pytest class, whatever its name

    name: str
    columns: list[str]
    rows: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "columns": list(self.columns), "rows": [dict(r) for r in self.rows]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TestSet:
        return cls(str(data["name"]), [str(c) for c in data["columns"]], [dict(r) for r in data["rows"]])


# -- CSV in -------------------------------------------------------------------------------


def _separator(text: str) -> str:
    """``;`` when the header line has more of them than commas outside quotes, else ``,``."""
    counts = {",": 0, ";": 0}
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif char == "\n" and not quoted:
            break
        elif char in counts and not quoted:
            counts[char] += 1
    return ";" if counts[";"] > counts[","] else ","


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportFormatError("The CSV file is not UTF-8 text: save it as “CSV UTF-8” and import it again.") from None


def _header(names: list[str]) -> list[str]:
    columns = [n.strip() for n in names]
    if not any(columns):
        raise ImportFormatError("The CSV file has no header row: its first line must name the variables.")
    if len(columns) > MAX_COLUMNS:
        raise ImportFormatError(f"The CSV file has {len(columns)} columns; a test set has at most {MAX_COLUMNS}.")
    for number, name in enumerate(columns, 1):
        if not name:
            raise ImportFormatError(f"Column {number} of the header row has no name: name every variable.")
    if len(set(columns)) != len(columns):
        twice = next(c for c in columns if columns.count(c) > 1)
        raise ImportFormatError(f"The header row names {twice!r} twice: each variable is one column.")
    return columns


def read_csv(data: bytes | str, name: str = "") -> TestSet:
    """A test set from CSV text or bytes; ImportFormatError saying what is wrong and where."""
    size = len(data.encode() if isinstance(data, str) else data)
    if size > MAX_BYTES:
        raise ImportFormatError(f"The CSV file is {size:,} bytes; a test set may be at most {MAX_BYTES:,}.")
    text = _decode(data)
    if not text.strip():
        raise ImportFormatError("The CSV file is empty.")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_separator(text), strict=True)
    try:
        columns = _header(next(reader))
        rows = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue  # a blank line, often the last one
            if len(record) > len(columns):
                raise ImportFormatError(
                    f"Line {reader.line_num} has {len(record)} cells but the header names {len(columns)} columns."
                )
            if len(rows) == MAX_ROWS:
                raise ImportFormatError(f"The CSV file has more than {MAX_ROWS:,} rows; split it into smaller test sets.")
            rows.append({c: (record[i] if i < len(record) else "") for i, c in enumerate(columns)})
    except csv.Error as exc:
        raise ImportFormatError(f"The CSV file cannot be read near line {reader.line_num}: {exc}.") from None
    return TestSet(name, columns, rows)


# -- results out --------------------------------------------------------------------------


def _safe(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _figures(cell: LabCell) -> dict[str, Any]:
    stats = cell.stats
    usage = stats.usage if stats else None
    return {
        "prompt tokens": usage.prompt_tokens if usage else None,
        "completion tokens": usage.completion_tokens if usage else None,
        "cost (USD)": cell.cost_usd,
        "cost estimated": bool(stats and stats.cost and stats.cost.is_estimate),
        "first token (s)": stats.time_to_first_token if stats else None,
        "time (s)": stats.total_time if stats else None,
    }


def result_records(result: LabResult) -> list[dict[str, Any]]:
    """One flat record per cell, in cell order: what the CSV holds."""
    columns = list(dict.fromkeys(k for row in result.rows for k in row))
    records = []
    judged = any(cell.judge for cell in result.cells)
    for cell in result.cells:
        row = result.rows[cell.row] if cell.row < len(result.rows) else {}
        record: dict[str, Any] = {name: row.get(name, "") for name in columns}
        record.update({
            "row": cell.row + 1, "set-up": result.setups[cell.setup].label(), "status": cell.status,
            "reply": cell.text, "error": cell.error or "", **_figures(cell),
        })
        for index, check in enumerate(result.checks):
            outcome = cell.checks[index].passed if index < len(cell.checks) else None
            record[check.label] = "" if outcome is None else ("pass" if outcome else "fail")
        if judged:
            verdict = cell.judge or {}
            record[JUDGE_SCORE] = verdict.get("score")
            record["judge reason"] = verdict.get("reason") or verdict.get("problem") or ""
        records.append(record)
    return records


def results_csv(result: LabResult) -> str:
    records = result_records(result)
    if not records:
        return ""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=list(records[0]))
    writer.writeheader()
    for record in records:
        writer.writerow({k: _safe("" if v is None else v) for k, v in record.items()})
    return out.getvalue()


def results_json(result: LabResult) -> str:
    """The whole run, as :meth:`LabResult.to_dict` has it (it reads back with ``from_dict``)."""
    return json.dumps(result.to_dict(), ensure_ascii=False, indent=2)
