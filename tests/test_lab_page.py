"""The Lab page with AppTest: template, test set, set-ups, checks, a run, its results and saved runs."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.api.models import model_info
from lib.experiments import lab_view
from lib.experiments.lab_session import LabSession
from tests.apptest_helpers import APP, page_text
from tests.conftest import validate_request

BIG, MID = "google/gemma-3-27b-it", "google/gemma-3-12b-it"
TEMPLATE = "Describe {{animal}} in a {{tone|formal,casual}} tone, as JSON."
CSV = b"animal,tone\ncat,formal\ndog,casual\n"


def lab_page() -> AppTest:
    """The Lab as a user reaches it: the app starts on the chat, then switches."""
    at = AppTest.from_file(APP, default_timeout=30).run()
    at.switch_page("pages/4_Lab.py").run()
    assert not at.exception, at.exception
    return at


def lab(at: AppTest) -> LabSession:
    return at.session_state["lab"]


def key(at: AppTest, name: str) -> str:
    return f"lab-{lab(at).editor_id}-{name}"


def ok(at: AppTest) -> AppTest:
    assert not at.exception, at.exception
    return at


def click(at: AppTest, label: str) -> AppTest:
    buttons = [b for b in at.button if b.label == label]
    assert buttons, f"no button {label!r} among {[b.label for b in at.button]}"
    buttons[-1].click().run()
    return ok(at)


def write_template(at: AppTest, message: str, system: str = "") -> AppTest:
    at.text_area(key=key(at, "system")).set_value(system)
    return ok(at.text_area(key=key(at, "message")).set_value(message).run())


def import_csv(at: AppTest, data: bytes, name: str = "animals.csv") -> AppTest:
    return ok(at.file_uploader(key=key(at, "csv")).set_value((name, data, "text/csv")).run())


def two_setups(at: AppTest) -> AppTest:
    click(at, "Add a set-up")
    return ok(at.selectbox(key=f"cmp-{lab(at).editor_id}-1-model").select(MID).run())


def add_check(at: AppTest, kind: str, argument: str = "") -> AppTest:
    at.selectbox(key=key(at, "check-kind")).select(kind).run()
    if argument:
        at.text_input(key=key(at, "check-argument")).set_value(argument)
    return click(at, "Add check")


def table(at: AppTest, column: str) -> list[dict]:
    """The rows of the first table with ``column`` (the grid of the test set is a table too)."""
    frames = [d.value for d in at.dataframe if column in d.value.columns]
    assert frames, f"no table with {column!r}"
    return frames[0].to_dict("records")


def section_of(at: AppTest, text: str) -> str:
    """The heading of the section where an element showing ``text`` is drawn."""
    def walk(node: Any) -> Any:
        for child in getattr(node, "children", {}).values():
            yield child
            yield from walk(child)

    heading = ""
    for node in walk(at.main):
        if type(node).__name__ == "Subheader":
            heading = node.value
        elif text in str(getattr(node, "value", "")):
            return heading
    raise AssertionError(f"{text!r} is not on the page")


def wait_for_the_end(at: AppTest) -> AppTest:
    """Rerun as the page's poll would until the run, then its judge, has ended and is kept."""
    for _ in range(4):
        session = lab(at)
        current = session.judge_run.run if session.judge_run is not None else session.run
        if current is None:
            return at
        assert current.wait(30)
        ok(at.run())
    raise AssertionError("the run did not end")


def run_to_the_end(at: AppTest) -> AppTest:
    return wait_for_the_end(click(at, "Run"))


def ready(at: AppTest) -> AppTest:
    write_template(at, TEMPLATE)
    import_csv(at, CSV)
    two_setups(at)
    return add_check(at, "json")



def test_variables_kinds(app_env: FakeAPI) -> None:
    at = write_template(lab_page(), "{{animal}} {{tone|formal,casual}} {{legs=4}} on {{date}}")
    listed = page_text(at)
    assert "`animal` (text)" in listed
    assert "`tone` (choice of formal, casual)" in listed
    assert "`legs` (text, default “4”)" in listed
    assert "`date` (built-in, filled automatically)" in listed
    assert lab(at).test_set.columns == ["animal", "tone", "legs"]
    write_template(at, "{{tone|formal,formal}}")
    assert any("a choice is listed twice" in e.value for e in at.error)


def test_a_csv_fills_the_grid_and_a_bad_one_leaves_it_as_it_was(app_env: FakeAPI) -> None:
    at = import_csv(write_template(lab_page(), TEMPLATE), CSV)
    assert lab(at).test_set.rows == [{"animal": "cat", "tone": "formal"}, {"animal": "dog", "tone": "casual"}]
    assert any("2 rows imported from animals.csv" in s.value for s in at.success)
    assert at.session_state[key(at, "name")] == "animals"
    import_csv(at, b"animal,tone\ncat,formal,extra\n", "broken.csv")
    assert any("broken.csv was not imported; the grid is as it was" in e.value and "Line 2" in e.value
               for e in at.error)
    assert len(lab(at).test_set.rows) == 2
    assert "2 requests" in page_text(at)


def test_a_run_of_two_rows_on_27b_and_12b_shows_every_cell_with_its_check_and_totals(app_env: FakeAPI) -> None:
    app_env.plan_for(BIG, Behaviour(reply='{"animal": "cat"}'), Behaviour(reply="Not JSON at all."))
    app_env.plan_for(MID, Behaviour(reply='{"animal": "cat"}'), Behaviour(reply='```json\n{"animal": "dog"}\n```'))
    at = ready(lab_page())
    assert "4 requests" in page_text(at) and "2 rows × 2 set-ups" in page_text(at)
    run_to_the_end(at)
    bodies = app_env.bodies()
    assert sorted(b["model"] for b in bodies) == [MID, MID, BIG, BIG]
    for body in bodies:
        validate_request(body, model_info(body["model"]).spec)
    assert any("Finished: 4 cells" in i.value for i in at.info)
    badges = [m.value for m in at.markdown if "Valid JSON" in m.value]
    assert sum("✓ pass" in b for b in badges) == 3 and sum("✗ fail" in b for b in badges) == 1
    totals = table(at, "pass rate")
    assert [t["pass rate"] for t in totals] == ["50%", "100%"]
    assert [t["replies"] for t in totals] == [2, 2]
    assert sorted(b.label for b in at.get("download_button")) == ["Export CSV", "Export JSON"]
    assert any('"animal": "dog"' in c.value for c in at.code), "a fenced JSON reply is shown formatted"


def test_a_bad_schema_is_named_and_nothing_is_sent(app_env: FakeAPI) -> None:
    at = write_template(lab_page(), "Say {{x}} in JSON")
    at.selectbox(key=f"cmp-{lab(at).editor_id}-0-model").select(BIG).run()
    lab(at).test_set.rows = [{"x": "hi"}]
    at.segmented_control(key=key(at, "output-0")).set_value("json_schema").run()
    at.text_area(key=key(at, "schema-0")).set_value('{"type": "array"}').run()
    ok(at)
    assert any("Structured output needs an object schema" in e.value for e in at.error)
    assert any("Set-up 1:" in w.value for w in at.warning)
    assert [b for b in at.button if b.label == "Run"][0].disabled
    assert app_env.bodies() == []


def test_json_schema_mode_sends_the_schema_to_27b(app_env: FakeAPI) -> None:
    app_env.default = Behaviour(reply='{"answer": "hi"}')
    at = write_template(lab_page(), "Say {{x}} in JSON")
    at.selectbox(key=f"cmp-{lab(at).editor_id}-0-model").select(BIG).run()
    import_csv(at, b"x\nhello\n")
    at.segmented_control(key=key(at, "output-0")).set_value("json_schema").run()
    ok(at)
    run_to_the_end(at)
    body = app_env.bodies()[0]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["answer"]
    validate_request(body, model_info(BIG).spec)


def test_cancel_keeps_the_finished_cells_and_says_so(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply='{"fast": 1}'))
    app_env.default = Behaviour(reply='{"slow": 1}', first_token_delay=5)
    at = ready(lab_page())
    click(at, "Run")
    session = lab(at)
    run = session.run
    assert run is not None
    deadline = time.monotonic() + 10
    while run.progress().done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    click(at, "Cancel")
    assert run.wait(10)
    ok(at.run())
    assert any("Cancelled: 1 of 4 cells finished and are kept" in w.value for w in at.warning), page_text(at)
    assert not any("Cancelled." in w.value for w in at.warning), "the banner says it once"
    assert session.result is not None and [c.status for c in session.result.cells].count("done") == 1
    totals = table(at, "pass rate")
    assert sum(t["replies"] for t in totals) == 1, "a reply stopped half-way is not a reply"
    assert "request errors" in totals[0] and "failed" not in totals[0]


def test_the_results_so_far_are_drawn_while_the_run_goes_and_whole_at_its_end(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply='{"fast": 1}'))
    app_env.default = Behaviour(reply='{"slow": 1}', first_token_delay=3)
    at = ready(lab_page())
    click(at, "Run")
    run = lab(at).run
    assert run is not None
    deadline = time.monotonic() + 10
    while run.progress().done < 1 and time.monotonic() < deadline:
        time.sleep(0.05)
    ok(at.run())  # as the page's poll redraws it
    assert run.progress().status == "running", "the run is still going"
    assert section_of(at, "1 of 4 cells finished so far") == "6 · Results"
    badges = [m.value for m in at.markdown if "-badge[" in m.value]
    assert len(badges) == 1 and "✓ pass: Valid JSON" in badges[0]
    assert [e.label for e in at.expander if e.label.startswith("Reply:")] == ['Reply: \\{"fast": 1\\}']
    assert sum(c.value == "Running…" for c in at.caption) == 3, page_text(at)
    assert sorted(t["replies"] for t in table(at, "pass rate")) == [0, 1]  # whichever was sent first
    assert at.get("download_button") == [], "the files are built once the run has ended"
    wait_for_the_end(at)
    assert any("Finished: 4 cells" in i.value for i in at.info)
    assert sum("✓ pass: Valid JSON" in m.value for m in at.markdown) == 4
    assert not any(c.value in ("Running…", "Queued: not sent yet.") for c in at.caption)
    assert sorted(b.label for b in at.get("download_button")) == ["Export CSV", "Export JSON"]


def test_the_cost_cap_keeps_and_shows_six_decimals(app_env: FakeAPI) -> None:
    at = ready(lab_page())
    cap = at.number_input(key=key(at, "cap")).set_value(0.00005).run().number_input(key=key(at, "cap"))
    assert cap.value == 0.00005
    assert cap.proto.format == "%.6f", "the field shows what it holds, not 0.0001"
    assert cap.proto.step <= 0.00001


def grid_config(at: AppTest) -> dict[str, Any]:
    grid = next(d for d in at.dataframe if "animal" in d.value.columns)
    return json.loads(grid.proto.columns)


def test_a_new_import_replaces_the_last_ones_columns_and_name(app_env: FakeAPI) -> None:
    at = import_csv(write_template(lab_page(), TEMPLATE), b"species,mood,extra\n", "wrongcols.csv")
    assert at.session_state[key(at, "name")] == "wrongcols"
    assert grid_config(at)["extra"]["label"] == "extra (not used)"
    import_csv(at, CSV, "animals.csv")
    assert list(table(at, "animal")[0]) == ["animal", "tone"]
    assert at.session_state[key(at, "name")] == "animals"
    at.text_input(key=key(at, "name")).set_value("Zoo").run()
    import_csv(at, b"animal,tone\nowl,casual\n", "more.csv")
    assert at.session_state[key(at, "name")] == "Zoo" and lab(at).saved_name() == "Zoo"


def test_a_choice_column_offers_its_choices_and_a_value_off_them_stops_the_run(app_env: FakeAPI) -> None:
    at = import_csv(write_template(lab_page(), TEMPLATE), b"animal,tone\ncat,formal\ndog,casual\nowl,angry\n")
    assert grid_config(at)["tone"]["type_config"] == {"type": "selectbox", "options": ["formal", "casual"]}
    assert any("row 3: tone must be formal or casual" in w.value for w in at.warning), page_text(at)
    assert [b for b in at.button if b.label == "Run"][0].disabled
    assert app_env.bodies() == []


def test_a_cost_cap_reached_says_so(app_env: FakeAPI) -> None:
    app_env.default = Behaviour(reply='{"a": 1}')
    at = ready(lab_page())
    at.number_input(key=key(at, "cap")).set_value(0.0000001).run()
    run_to_the_end(at)
    assert any("Stopped at the cost cap" in w.value for w in at.warning), page_text(at)


def test_the_judge_scores_beside_the_checks_as_an_opinion(app_env: FakeAPI) -> None:
    app_env.plan_for(BIG, *[Behaviour(reply='{"a": 1}')] * 2)
    app_env.plan_for(MID, *[Behaviour(reply='{"a": 2}')] * 2)
    app_env.plan(*[Behaviour(reply='{"score": 4, "reason": "Short and right."}')] * 4)
    at = ready(lab_page())
    at.toggle(key=key(at, "judge-on")).set_value(True).run()
    at.selectbox(key=key(at, "judge-model")).select(BIG)
    at.text_area(key=key(at, "judge-rubric")).set_value("Correct and short.").run()
    ok(at)
    assert "up to 4 judge requests" in page_text(at)
    run_to_the_end(at)
    verdicts = [c.value for c in at.caption if "Judge:" in c.value]
    assert len(verdicts) == 4
    assert all("4/5" in v and "A model's opinion" in v for v in verdicts)
    assert len(app_env.bodies()) == 8


def test_saved_runs_reopen_run_again_and_diff(app_env: FakeAPI) -> None:
    app_env.default = Behaviour(reply='{"a": 1}')
    at = ready(lab_page())
    click(at, "Save test set")
    assert any("Saved as “animals”" in s.value for s in at.success)
    run_to_the_end(at)
    first = lab(at).result
    assert first is not None
    app_env.default = Behaviour(reply="no JSON now")
    wait_for_the_end(click(at, "Run again"))
    assert "Compare two runs cell by cell" in page_text(at)
    assert any("4 cells changed of 4 run in both · 0 newly passing · 4 newly failing" in m.value for m in at.markdown)
    changed = table(at, "checks")
    assert len(changed) == 4 and changed[0]["checks"] == "Valid JSON: pass → fail"
    at.selectbox(key=key(at, "saved-run")).select_index(1).run()
    click(at, "Open run")
    assert lab(at).result is not None and lab(at).result.id == first.id
    assert at.text_area(key=key(at, "message")).value == TEMPLATE


def test_removing_a_setup_leaves_the_next_one_its_structured_output(app_env: FakeAPI) -> None:
    at = write_template(lab_page(), "Say {{x}} in JSON")
    at.selectbox(key=f"cmp-{lab(at).editor_id}-0-model").select(BIG).run()
    click(at, "Add a set-up")
    at.segmented_control(key=key(at, "output-1")).set_value("json_object").run()
    [b for b in at.button if b.label == "Remove"][0].click().run()
    ok(at)
    assert [o.mode for o in lab(at).outputs] == ["json_object"]
    assert at.segmented_control(key=key(at, "output-0")).value == "json_object"


def test_a_check_that_cannot_work_is_said_by_the_checks_and_not_added(app_env: FakeAPI) -> None:
    at = add_check(write_template(lab_page(), "Say {{x}}"), "regex", "(unclosed")
    checks_note = [e.value for e in at.error if "The check was not added" in e.value]
    assert checks_note and "missing )" in checks_note[0]
    assert section_of(at, "The check was not added") == "4 · Checks"
    assert lab(at).checks == []
    add_check(at, "max_chars", "120")
    add_check(at, "not_contains", "sorry")
    assert [c.label for c in lab(at).checks] == ["At most 120 characters", "Does not contain “sorry”"]
    [b for b in at.button if b.label == "Remove"][-1].click().run()
    assert [c.label for c in lab(at).checks] == ["At most 120 characters"]


def test_the_diff_compares_the_newest_run_with_the_one_before_after_each_new_run(app_env: FakeAPI) -> None:
    # The pair chosen when the list had two runs stayed chosen: a third run was not in the diff.
    app_env.default = Behaviour(reply='{"a": 1}')
    at = ready(lab_page())
    click(at, "Save test set")
    run_to_the_end(at)
    app_env.default = Behaviour(reply="no JSON now")  # each run its own pass rate, so its own label
    wait_for_the_end(click(at, "Run again"))
    second = lab(at).result
    app_env.plan(*[Behaviour(reply='{"a": 1}')] * 2)
    wait_for_the_end(click(at, "Run again"))
    third = lab(at).result
    assert second is not None and third is not None and second.id != third.id
    assert at.selectbox(key=key(at, f"diff-before-{third.id}")).value == second.id
    assert at.selectbox(key=key(at, f"diff-after-{third.id}")).value == third.id


def test_two_runs_alike_in_one_second_are_both_listed_and_open(app_env: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    # Listed by their labels, the newer hid the older: same second, same outcome, same label.
    monkeypatch.setattr(lab_view, "run_label", lambda _run: "2026-11-28 02:40:00 · finished · 4 cells · 100% passed")
    app_env.default = Behaviour(reply='{"a": 1}')
    at = ready(lab_page())
    click(at, "Save test set")
    run_to_the_end(at)
    first = lab(at).result
    wait_for_the_end(click(at, "Run again"))
    second = lab(at).result
    assert first is not None and second is not None and first.id != second.id
    listed = at.selectbox(key=key(at, "saved-run"))
    assert listed.options == ["2026-11-28 02:40:00 · finished · 4 cells · 100% passed",
                              "2026-11-28 02:40:00 · finished · 4 cells · 100% passed (2)"]
    listed.select_index(1).run()
    click(at, "Open run")
    assert lab(at).result is not None and lab(at).result.id == first.id


def test_without_a_price_the_estimate_says_the_replies_costs_are_still_counted(app_env: FakeAPI) -> None:
    at = ready(lab_page())
    run_line = next(m.value for m in at.markdown if "estimated cost" in m.value)
    assert "estimated cost **unknown before the run**" in run_line, run_line
    assert any("as the API reports it" in c.value for c in at.caption)
