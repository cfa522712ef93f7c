"""lib.experiments.lab_view: the words the Lab page shows of a run."""

from __future__ import annotations

from lib.experiments import lab_view
from lib.experiments.lab_diff import diff
from lib.experiments.lab_run import LabCell, Progress
from tests.lab_samples import make_run


def test_a_cell_shows_its_first_token_tokens_cost_and_each_check() -> None:
    run = make_run(replies={(0, 1): "not json, no kitten"})
    assert lab_view.cell_figures(run.cell(0, 0)) == "first token 100 ms · 20 tokens · cost $0.001"
    assert lab_view.check_marks(run, run.cell(0, 1)) == [
        (False, "Valid JSON", "Not JSON: Expecting value at line 1, column 1."),
        (False, "Contains “cat” (any case)", "“cat” is not in the reply, in any case."),
    ]
    assert lab_view.cell_figures(LabCell(0, 0)) == ""


def test_json_replies_are_formatted_and_others_shown_as_they_are() -> None:
    assert lab_view.reply_view('```json\n{"a":1}\n```') == ('{\n  "a": 1\n}', True)
    assert lab_view.reply_view("plain") == ("plain", False)
    assert lab_view.reply_preview("one\n two " + "x" * 80, 10) == "one two xx…"
    assert lab_view.reply_preview("This is the **offline demo model**, see [the docs](http://x).\n\n- `a` *b*") == (
        "This is the offline demo model, see the docs. a b")


def test_the_judge_is_marked_as_an_opinion() -> None:
    cell = LabCell(0, 0, "done", judge={"score": 4, "reason": "Right."})
    assert lab_view.judge_mark(cell) == "Judge: 4/5 — Right. (A model's opinion, not a check.)"
    assert lab_view.judge_mark(LabCell(0, 0)) is None
    assert "no score — The judge's reply holds" in lab_view.judge_mark(
        LabCell(0, 0, judge={"score": None, "problem": "The judge's reply holds no score from 1 to 5."}))


def test_totals_per_setup() -> None:
    records = lab_view.totals_records(make_run(replies={(0, 1): "nope"}))
    assert [(r["set-up"], r["replies"], r["pass rate"], r["cost"]) for r in records] == [
        ("A · Gemma 3 27B", 2, "75%", "$0.002"), ("B · Gemma 3 4B", 2, "25%", "$0.004")]


def test_progress_and_how_a_run_ended_are_said() -> None:
    running = Progress(5, 20, 1, 2.0, 6.0, 0.0012, "running", "")
    assert lab_view.progress_line(running) == "5 of 20 done · 1 request error · about 6 s left · $0.0012 so far"
    assert [lab_view.time_left(s) for s in (0.2, 26.42, 59.4, 61, 150, 5400)] == [
        "about 1 s left", "about 26 s left", "about 59 s left", "about 1 min left", "about 2 min left",
        "about 1.5 h left"]
    assert "time left: after the first reply" in lab_view.progress_line(Progress(0, 20, 0, 0.1, None, 0, "running", ""))
    run = make_run()
    run.status = "cancelled"
    run.note = "Cancelled."
    run.cells[3].status = "cancelled"
    assert lab_view.ended_note(run) == (
        "warning", "Cancelled: 3 of 4 cells finished and are kept. 1 was stopped half-way (sent, partly answered).")
    run.status, run.note = "capped", "Stopped at the cost cap: $0.003000 spent of $0.002000."
    assert lab_view.ended_note(run)[1].startswith("Stopped at the cost cap")


def test_rows_come_a_page_at_a_time() -> None:
    assert lab_view.row_page(25, 3) == lab_view.RowPage(range(20, 25), 3, 3)
    assert lab_view.row_page(25, 9).number == 3
    assert lab_view.row_page(0, 1) == lab_view.RowPage(range(0, 0), 1, 1)


def test_two_runs_differ_in_the_cells_that_changed() -> None:
    before, after = make_run(0), make_run(1, replies={(1, 0): "no JSON"})
    change = diff(before, after)
    assert lab_view.diff_summary(change) == "1 cell changed of 4 run in both · 0 newly passing · 1 newly failing"
    assert lab_view.diff_records(change, before, after) == [{
        "row": 2, "set-up": "A", "changed": "reply, checks",
        "checks": "Valid JSON: pass → fail",
        "before": '{"animal": "dog"}', "after": "no JSON",
    }]
    assert lab_view.run_label(before).endswith("· finished · 4 cells · 75% passed")


def test_after_a_cancel_the_figures_count_the_replies_that_finished() -> None:
    run = make_run(replies={(0, 0): "no JSON", (0, 1): "no JSON"})
    run.status, run.note = "cancelled", "Cancelled."
    run.cells[2].status = "cancelled"  # stopped half-way: sent and paid, but no reply
    run.cells[3].status, run.cells[3].stats = "skipped", None
    records = lab_view.totals_records(run)
    assert [(r["replies"], r["request errors"], r["stopped half-way"]) for r in records] == [(1, 0, 1), (1, 0, 0)]
    assert "failed" not in records[0]
    assert lab_view.ended_note(run) == (
        "warning", "Cancelled: 2 of 4 cells finished and are kept. 1 was stopped half-way (sent, partly answered); "
                   "1 was never sent.")
    assert lab_view.run_label(run).endswith("· cancelled · 2 of 4 done · 0% passed")
    assert "stopped half-way" not in lab_view.totals_records(make_run())[0]


def test_a_cell_of_a_run_in_flight_says_it_is_queued_or_running_with_the_end_of_its_text() -> None:
    assert lab_view.status_note(LabCell(0, 0)) == "Queued: not sent yet."
    assert lab_view.status_note(LabCell(0, 0, "running")) == "Running…"
    assert lab_view.text_so_far(LabCell(0, 0, "running", "Once upon\n a time")) == "Once upon a time"
    assert lab_view.text_so_far(LabCell(0, 0, "running", "x" * 70 + " end"), 10) == "…xxxxxx end"
    assert lab_view.text_so_far(LabCell(0, 0, "running")) is None, "nothing said yet: its note says it"
    assert lab_view.text_so_far(LabCell(0, 0, "done", "whole")) is None, "a finished reply is shown whole"
    run = make_run()
    run.cells[2].status, run.cells[3].status = "running", "pending"
    assert lab_view.so_far_note(run).startswith("2 of 4 cells finished so far")


def test_runs_alike_are_told_apart_in_the_list() -> None:
    first, second, third = make_run(0), make_run(1), make_run(2)
    second.created = first.created  # the same second, the same outcome: the same label
    third.created = first.created + 60  # a minute later: a label of its own
    labels = lab_view.run_labels([first, second, third])
    assert labels[first.id] == lab_view.run_label(first)
    assert labels[second.id] == f"{lab_view.run_label(first)} (2)"
    assert labels[third.id] == lab_view.run_label(third)


def test_two_runs_with_no_cell_in_both_say_so() -> None:
    before, after = make_run(0), make_run(1)
    for cell in before.cells:
        cell.status, cell.stats, cell.text = "skipped", None, ""
    assert lab_view.diff_summary(diff(before, after)).startswith("No cell was run in both · 4 cells not run in Before")
