"""What the Lab page shows of a run, as text: a cell's figures and checks, totals per set-up, a
page of rows, a saved run's label, the changed cells of two runs.

The page puts these in Streamlit elements; the words and the choices are made here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markdown_it import MarkdownIt

from lib.api.models import model_info
from lib.chat.usage import Cost, format_cost, format_seconds
from lib.experiments.judge import OPINION_NOTE
from lib.experiments.lab_diff import RAN, RunDiff
from lib.experiments.lab_run import LabCell, LabResult, Progress, SetupTotals
from lib.experiments.structured import format_reply
from lib.words import count

#: rows of results drawn at once: a grid of 1,000 rows × 4 set-ups would take long to draw
PAGE_ROWS = 10
#: what a cell that has no reply says, by status
STATUS_NOTES = {
    "pending": "Queued: not sent yet.",
    "running": "Running…",
    "cancelled": "Cancelled: the reply was stopped.",
    "skipped": "Not sent: the run stopped first.",
}


def setup_name(result: LabResult, index: int) -> str:
    """"A · Gemma 3 27B": the set-up's letter and model, short enough for a phone's column
    (the letters follow the set-up editors, which show the rest)."""
    return f"{chr(ord('A') + index)} · {model_info(result.setups[index].model).label}"


def cell_figures(cell: LabCell) -> str:
    """First token, tokens and cost of one cell, on one line; "" when it has none."""
    stats = cell.stats
    if stats is None:
        return ""
    parts = [f"first token {format_seconds(stats.time_to_first_token)}"]
    if stats.usage is not None:
        total = stats.usage.total_tokens
        parts.append(f"{count(total, 'token')}" if total is not None else "tokens unknown")
    parts.append(f"cost {format_cost(stats.cost)}")
    return " · ".join(parts)


def check_marks(result: LabResult, cell: LabCell) -> list[tuple[bool, str, str]]:
    """(passed, label, detail) of every check that ran on the cell."""
    return [(r.passed, check.label, r.detail) for check, r in zip(result.checks, cell.checks, strict=False)]


def judge_mark(cell: LabCell) -> str | None:
    """"Judge: 4/5" and its reason, marked as an opinion; None when the cell was not judged."""
    if not cell.judge:
        return None
    score, reason = cell.judge.get("score"), cell.judge.get("reason") or cell.judge.get("problem") or ""
    shown = f"{score}/5" if score is not None else "no score"
    return f"Judge: {shown}{' — ' + reason if reason else ''} ({OPINION_NOTE})"


def reply_view(text: str) -> tuple[str, bool]:
    """The reply to show and whether it is formatted JSON (shown as code)."""
    pretty, _valid, _detail = format_reply(text)
    return (pretty, True) if pretty is not None else (text, False)


def _plain(text: str) -> str:
    """Markdown's words without its marks (``**bold**`` is bold, a link its text), for a one-line label."""
    words = []
    for block in MarkdownIt("commonmark").parse(text):
        if block.type == "fence" or block.type == "code_block":
            words.append(block.content)
        for token in block.children or []:
            if token.type in ("text", "code_inline"):
                words.append(token.content)
            elif token.type in ("softbreak", "hardbreak"):
                words.append(" ")
        words.append(" ")
    return "".join(words)


def reply_preview(text: str, length: int = 60) -> str:
    """The reply's start on one line, without its Markdown, for the label of its folded box."""
    flat = _one_line(text)
    return flat[:length] + ("…" if len(flat) > length else "")


def _one_line(text: str) -> str:
    return " ".join(_plain(text).split())


def finished(result: LabResult) -> int:
    """How many of a run's cells got their whole answer (a reply, or the server's error)."""
    return sum(c.status in RAN for c in result.cells)


def text_so_far(cell: LabCell, length: int = 60) -> str | None:
    """The end of what a reply in flight has said so far, on one line; None for a cell not running
    (a finished reply is shown whole, folded)."""
    if cell.status != "running" or not cell.text.strip():
        return None
    flat = _one_line(cell.text)
    return ("…" if len(flat) > length else "") + flat[-length:]


def so_far_note(result: LabResult) -> str:
    """"3 of 20 cells finished so far": above the grid of a run in flight."""
    done = finished(result)
    return (f"{done} of {count(len(result.cells), 'cell')} finished so far: the grid fills in as replies end, "
            "and can be exported once the run has ended.")


def status_note(cell: LabCell) -> str | None:
    if cell.status == "failed":
        return f"Failed: {cell.error or 'no reason given'}"
    return STATUS_NOTES.get(cell.status)


def totals_records(result: LabResult, totals: list[SetupTotals] | None = None) -> list[dict[str, Any]]:
    """One line per set-up: replies, request errors, (stopped replies,) pass rate, cost, first token, tokens."""
    out = []
    totals = totals if totals is not None else result.totals()
    any_stopped = any(t.stopped for t in totals)
    for index, total in enumerate(totals):
        cost = "unknown" if total.cost_unknown and not total.cost_usd else format_cost(
            Cost(total.cost_usd, "estimate" if total.cost_estimated else "reported"))
        out.append({
            "set-up": setup_name(result, index),
            "replies": total.requests,
            # request errors: a reply that fails a check is counted in the pass rate, not here
            "request errors": total.failed,
            **({"stopped half-way": total.stopped} if any_stopped else {}),
            "pass rate": "—" if total.pass_rate is None else f"{total.pass_rate:.0%}",
            "cost": cost,
            "mean first token": format_seconds(total.mean_first_token),
            "prompt tokens": total.prompt_tokens,
            "completion tokens": total.completion_tokens,
        })
    return out


def time_left(seconds: float) -> str:
    """"about 26 s left", "about 2 min left": a guess from the pace so far, said as roughly as it is."""
    if seconds < 59.5:
        return f"about {max(1, round(seconds))} s left"
    if seconds < 3570:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left".replace(".0 h", " h")


def progress_line(progress: Progress) -> str:
    """"12 of 20 done · about 8 s left · $0.0012 so far"."""
    parts = [f"{progress.done} of {progress.total} done"]
    if progress.failed:
        parts.append(f"{count(progress.failed, 'request error')}")
    if progress.time_left is not None and progress.status == "running":
        parts.append(time_left(progress.time_left))
    elif progress.status == "running":
        parts.append("time left: after the first reply")
    parts.append(f"{format_cost(Cost(progress.cost_usd, 'reported'))} so far")
    return " · ".join(parts)


def ended_note(result: LabResult) -> tuple[str, str]:
    """("info" | "warning", what to say) of how a run ended."""
    done = finished(result)
    rest = _not_finished(result)
    if result.status == "cancelled":
        # the note of a cancel is "Cancelled." (kept in saved runs): the sentence says it already
        note = result.note.removeprefix("Cancelled.").strip()
        return "warning", f"Cancelled: {done} of {len(result.cells)} cells finished and are kept.{rest} {note}".strip()
    if result.status == "capped":
        return "warning", f"{result.note} {done} of {len(result.cells)} cells finished and are kept.{rest}"
    return "info", f"Finished: {count(len(result.cells), 'cell')}. {result.note}".strip()


def _not_finished(result: LabResult) -> str:
    """" 1 was stopped half-way (sent, partly answered); 2 were never sent.", or "" when all finished."""
    stopped = sum(c.status == "cancelled" for c in result.cells)
    unsent = sum(c.status in ("skipped", "pending") for c in result.cells)
    parts = [f"{n} {'was' if n == 1 else 'were'} {what}" for n, what in (
        (stopped, "stopped half-way (sent, partly answered)"), (unsent, "never sent")) if n]
    return f" {'; '.join(parts)}." if parts else ""


@dataclass(frozen=True)
class RowPage:
    rows: range
    number: int
    pages: int


def row_page(total_rows: int, number: int, size: int = PAGE_ROWS) -> RowPage:
    """The rows of page ``number`` (from 1), clamped to the pages there are."""
    pages = max(1, -(-total_rows // size))
    number = min(max(1, number), pages)
    return RowPage(range((number - 1) * size, min(total_rows, number * size)), number, pages)


def row_title(result: LabResult, row: int) -> str:
    values = result.rows[row] if row < len(result.rows) else {}
    shown = " · ".join(f"{k}: {v}" for k, v in values.items())
    return f"Row {row + 1}" + (f" — {shown}" if shown else "")


def run_label(result: LabResult) -> str:
    """A saved run in a list: when, how it ended, its size and pass rate."""
    when = datetime.fromtimestamp(result.created).strftime("%Y-%m-%d %H:%M:%S")
    rates = [t.pass_rate for t in result.totals() if t.pass_rate is not None]
    passed = f" · {sum(rates) / len(rates):.0%} passed" if rates else ""
    done = finished(result)
    size = count(len(result.cells), "cell") if done == len(result.cells) else f"{done} of {len(result.cells)} done"
    return f"{when} · {result.status} · {size}{passed}"


def run_labels(runs: list[LabResult]) -> dict[str, str]:
    """Each run's label by its id; runs whose labels would read the same (two alike in one second) get a number."""
    labels: dict[str, str] = {}
    seen: dict[str, int] = {}
    for run in runs:
        label = run_label(run)
        seen[label] = seen.get(label, 0) + 1
        labels[run.id] = label if seen[label] == 1 else f"{label} ({seen[label]})"
    return labels


def diff_summary(change: RunDiff) -> str:
    """"3 cells changed of 4 run in both · … · 16 not run in Before": cells run in neither are left out."""
    changed = len(change.changed)
    text = (f"{count(changed, 'cell')} changed of {len(change.compared)} run in both · "
            f"{change.newly_passing} newly passing · {change.newly_failing} newly failing"
            if change.compared else "No cell was run in both")
    for side, cells in (("Before", change.not_run_before), ("After", change.not_run_after)):
        if cells:
            text += f" · {count(len(cells), 'cell')} not run in {side}"
    if change.rows_changed:
        text += f" · rows {', '.join(str(r + 1) for r in change.rows_changed)} hold other values"
    if change.setups_changed:
        text += f" · set-ups {', '.join(chr(ord('A') + s) for s in change.setups_changed)} differ"
    return text


def diff_records(change: RunDiff, before: LabResult, after: LabResult) -> list[dict[str, Any]]:
    """One line per changed cell, for a table: what changed, the checks that flipped, the replies."""
    out = []
    for cell in change.changed:
        flipped = [f"{k.label}: {_outcome(k.before)} → {_outcome(k.after)}" for k in cell.checks_changed]
        what = [w for w, on in (("reply", cell.text_changed), ("status", cell.status_changed),
                                ("checks", bool(flipped)), ("cost", cell.cost_changed)) if on]
        out.append({
            "row": cell.row + 1,
            "set-up": chr(ord("A") + cell.setup),
            "changed": ", ".join(what),
            "checks": "; ".join(flipped),
            "before": cell.before.text if cell.before else "",
            "after": cell.after.text if cell.after else "",
        })
    return out


def _outcome(passed: bool | None) -> str:
    return "—" if passed is None else ("pass" if passed else "fail")
