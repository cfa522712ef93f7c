"""lib.experiments.lab_session: what the Lab page edits and runs, without a page."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lib.api.fake_api import Behaviour, FakeAPI
from lib.errors import ChatError, ImportFormatError
from lib.experiments.compare import Setup
from lib.experiments.judge import Judge
from lib.experiments.lab_run import Template
from lib.experiments.lab_session import EXAMPLE_SCHEMA, LabSession, Output, describe, grid_rows
from lib.experiments.templates import variables
from lib.settings import Settings
from lib.store.database import Store
from lib.store.request_log import request_log

pytest_plugins = ("tests.store_fixtures",)
BIG, MID = "google/gemma-3-27b-it", "google/gemma-3-12b-it"


def lab(settings: Settings, message: str = "Describe {{animal}} in a {{tone|formal,casual}} tone.", **kw) -> LabSession:
    session = LabSession(settings, setups=[Setup(BIG)], **kw)
    session.template = Template(message)
    session.sync_grid()
    return session


@pytest.mark.parametrize(("text", "said"), [
    ("{{a}}", "text"), ("{{a:long}}", "long text"), ("{{t|x,y}}", "choice of x, y"),
    ("{{a=4}}", "text, default “4”"), ("{{a=}}", "text, may be left blank"),
    ("{{t|x,y=y}}", "choice of x, y, default “y”"), ("{{date}}", "built-in, filled automatically"),
])
def test_each_kind_of_variable_is_described(text: str, said: str) -> None:
    assert describe(variables(text)[0]) == said


def test_the_grid_has_a_column_per_variable_to_give_and_keeps_values_when_one_is_added(settings: Settings) -> None:
    session = lab(settings, "{{animal}} on {{date}}")
    assert session.test_set.columns == ["animal"]
    session.set_rows([{"animal": "cat"}, {"animal": None}, {"animal": float("nan")}])
    assert session.test_set.rows == [{"animal": "cat"}], "the editor's blank rows are no rows"
    version = session.grid_version
    session.template = Template("{{animal}} in {{tone}}")
    session.sync_grid()
    assert session.test_set.columns == ["animal", "tone"]
    assert session.grid_base == [{"animal": "cat", "tone": ""}]
    assert session.grid_version == version + 1


def test_grid_rows_are_text() -> None:
    assert grid_rows([{"n": 3, "x": None}], ["n", "x"]) == [{"n": "3", "x": ""}]


def test_a_bad_csv_leaves_the_rows_and_a_good_one_names_what_it_brought(settings: Settings) -> None:
    session = lab(settings)
    session.import_csv(b"animal,tone\ncat,formal\n", "animals.csv")
    with pytest.raises(ImportFormatError):
        session.import_csv(b"animal,tone\ncat,formal,3\n", "bad.csv")
    assert session.test_set.rows == [{"animal": "cat", "tone": "formal"}]
    assert session.test_set.name == "animals"
    note = session.import_csv(b"animal,legs\nowl,2\n", "more.csv")
    assert note == "1 row imported from more.csv. Not used by the template (shown, not sent): legs."
    assert session.test_set.columns == ["animal", "tone", "legs"]
    assert session.unused_columns() == ["legs"]


def test_a_new_import_replaces_the_columns_of_the_last_and_the_name_follows_the_file(settings: Settings) -> None:
    session = lab(settings)
    session.import_csv(b"species,mood,extra\n", "wrongcols.csv")
    assert session.test_set.columns == ["animal", "tone", "species", "mood", "extra"]
    assert session.test_set.name == "wrongcols"
    session.import_csv(b"animal,tone\n" + b"cat,formal\n" * 10, "animals.csv")
    assert session.test_set.columns == ["animal", "tone"], "the columns of the file before are gone"
    assert session.unused_columns() == []
    assert session.test_set.name == "animals"
    session.type_name("My set")
    session.import_csv(b"animal,tone\ndog,casual\n", "more.csv")
    assert session.test_set.name == "My set", "a name the person typed stays"
    session.type_name("")
    session.import_csv(b"animal,tone\ndog,casual\n", "more.csv")
    assert session.test_set.name == "more"


def test_a_value_that_is_not_a_choice_stops_the_run_before_anything_is_sent(settings: Settings) -> None:
    session = lab(settings)
    note = session.import_csv(b"animal,tone\ncat,formal\ndog,Casual\nowl,angry\n", "animals.csv")
    assert note.endswith("Values not among the choices: row 3: tone must be formal or casual, not “angry”.")
    assert session.choice_columns() == {"tone": ("formal", "casual")}
    assert session.problems() == ["Values not among the choices: row 3: tone must be formal or casual, not “angry”."]
    with pytest.raises(ChatError, match="row 3: tone must be formal or casual"):
        session.start()
    assert session.run is None


def test_what_stops_a_run_is_said(settings: Settings) -> None:
    session = lab(settings)
    assert session.problems() == ["The test set has no rows: type some in the grid, paste them, or import a CSV file."]
    session.set_rows([{"animal": "cat", "tone": ""}])
    assert session.problems() == [
        "Values are missing: row 1 (tone). Fill them in or give the variable a default ({{name=value}})."]
    session.template = Template("{{tone|a,a}}")
    assert session.problems()[0].startswith("The template: {{tone|…}}: a choice is listed twice")
    with pytest.raises(ChatError):
        session.start()


def test_structured_output_goes_in_at_the_run_and_a_bad_schema_names_its_setup(settings: Settings) -> None:
    session = lab(settings, "Say {{x}}")
    session.set_rows([{"x": "hi"}])
    session.add_column()
    session.set_setup(1, Setup(MID))
    session.outputs[0] = Output("json_schema", EXAMPLE_SCHEMA)
    first, second = session.run_setups()
    assert first.params["response_format"]["json_schema"]["schema"]["required"] == ["answer"]
    assert "response_format" not in second.params
    session.outputs[0] = Output("json_schema", "[1]")
    assert session.problems() == ["Set-up 1: A schema is a JSON object {…}, not an array."]
    session.outputs[0], session.outputs[1] = Output(), Output("json_object")
    assert session.problems()[0].startswith("Set-up 2: Gemma 3 12B takes no structured output")


def test_a_setup_read_back_from_a_run_splits_off_its_output() -> None:
    plain, output = Output.of(Setup(BIG, params={"temperature": 0.5, "response_format": {"type": "json_object"}}))
    assert plain == Setup(BIG, params={"temperature": 0.5}) and output == Output("json_object")
    assert Output.of(Setup(BIG)) == (Setup(BIG), Output())


def test_one_to_four_setups(settings: Settings) -> None:
    session = lab(settings)
    assert not session.can_remove()
    session.remove_column(0)
    assert len(session.setups) == 1
    for _ in range(5):
        session.add_column()
    assert len(session.setups) == len(session.outputs) == 4


def test_a_template_without_variables_runs_once_per_setup(settings: Settings) -> None:
    assert lab(settings, "Hello").run_rows() == [{}]


def test_a_run_then_its_judge_then_the_result_is_saved(fake_api: FakeAPI, settings: Settings, store: Store) -> None:
    fake_api.plan(Behaviour(reply='{"a": 1}'), Behaviour(reply='{"score": 5, "reason": "Fine."}'))
    session = lab(settings, store=store)
    session.set_rows([{"animal": "cat", "tone": "formal"}])
    session.judge = Judge(Setup(BIG), "Be right.")
    assert session.results_so_far() is None, "no run yet"
    run = session.start()
    so_far = session.results_so_far()
    assert so_far is not None and so_far.id == run.id and len(so_far.cells) == 1
    assert run.wait(30)
    assert session.advance() is False and session.judging()
    assert session.results_so_far() is None, "while judging, the run's result is shown as kept"
    assert session.judge_run is not None and session.judge_run.wait(30)
    assert session.advance() is True and not session.running()
    result = session.result
    assert result is not None and result.cells[0].judge["score"] == 5
    assert [r.id for r in store.list_runs("Untitled test set")] == [result.id]


def test_reopening_a_run_puts_what_it_ran_into_the_editors(fake_api: FakeAPI, settings: Settings) -> None:
    fake_api.default = Behaviour(reply="ok")
    session = lab(settings)
    session.set_rows([{"animal": "cat", "tone": "formal"}])
    session.outputs[0] = Output("json_object")
    session.template = Template("Describe {{animal}} in a {{tone|formal,casual}} tone, in JSON.")
    session.add_check("contains", "cat")
    assert session.start().wait(30)
    session.advance()
    done = session.result
    fresh = lab(settings, "other")
    fresh.open_run(done)
    assert fresh.template == done.template and fresh.outputs == [Output("json_object")]
    assert fresh.setups == [Setup(BIG)] and fresh.test_set.rows == [{"animal": "cat", "tone": "formal"}]
    assert [c.label for c in fresh.checks] == ["Contains “cat”"]


def test_json_mode_without_asking_for_json_is_pointed_out(settings: Settings) -> None:
    session = lab(settings, "Say {{x}}")
    session.outputs[0] = Output("json_object")
    assert session.advice() == [
        "Set-up 1 is in JSON mode, but neither its system prompt nor the message asks for JSON: "
        "the model writes JSON only when a message asks for it."]
    session.template = Template("Say {{x}} as JSON")
    assert session.advice() == []


def test_a_run_and_its_judge_are_logged_as_the_person_who_ran_them(
    fake_api: FakeAPI, settings: Settings, store: Store
) -> None:
    fake_api.plan(Behaviour(reply='{"a": 1}'), Behaviour(reply='{"score": 4, "reason": "Good."}'))
    bob = store.for_owner("https://issuer.example bob")
    session = lab(settings, store=bob)
    session.set_rows([{"animal": "cat", "tone": "formal"}])
    session.judge = Judge(Setup(BIG), "Be right.")
    assert session.start().wait(30)
    session.advance()
    assert session.judge_run is not None and session.judge_run.wait(30)
    session.advance()
    with store._transaction(write=False) as conn:
        logged = sorted(conn.execute(select(request_log.c.source, request_log.c.owner)).all())
    assert logged == [("judge", bob.owner), ("lab", bob.owner)]
