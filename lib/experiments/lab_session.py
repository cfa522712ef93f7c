"""One browser session's prompt lab: the template, test set, set-ups and checks being edited, and the
run in flight (then its judge), until the result is kept.

The Lab page draws this and nothing else; everything with a branch lives here. Structured output
is kept per set-up as the person chose it (:class:`Output`) and put into the request only when a
run starts, so that a schema being typed never half-applies: a schema that is wrong stops the run
with a message naming its set-up (:meth:`LabSession.problems`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from lib.chat.conversation import new_id
from lib.errors import ChatError, InvalidParameterError, SchemaError, TemplateError
from lib.experiments.checks import Check
from lib.experiments.compare import MAX_COLUMNS, Setup
from lib.experiments.judge import Judge, JudgeRun
from lib.experiments.lab_run import CostEstimate, LabResult, LabRun, Progress, Template, estimate_run_cost
from lib.experiments.structured import json_mode, mentions_json, schema_mode
from lib.experiments.templates import Variable, missing, variables
from lib.experiments.test_sets import TestSet, read_csv
from lib.settings import Settings
from lib.store.database import Store
from lib.words import count

OutputMode = Literal["text", "json_object", "json_schema"]
#: what the page calls each structured-output mode
OUTPUT_LABELS: dict[OutputMode, str] = {"text": "Text", "json_object": "JSON", "json_schema": "JSON schema"}
#: the name a test set gets when none was typed (runs are diffed by test-set name)
UNTITLED = "Untitled test set"
EXAMPLE_SCHEMA = '{\n  "type": "object",\n  "properties": {"answer": {"type": "string"}},\n  "required": ["answer"]\n}'


@dataclass(frozen=True)
class Output:
    """A set-up's structured output as chosen: plain text, JSON mode, or a JSON schema (as typed)."""

    mode: OutputMode = "text"
    schema: str = ""

    def apply(self, setup: Setup) -> Setup:
        """``setup`` with its ``response_format``; SchemaError or InvalidParameterError when it cannot have it."""
        params = {k: v for k, v in setup.params.items() if k != "response_format"}
        if self.mode == "json_object":
            params["response_format"] = json_mode(setup.model)
        elif self.mode == "json_schema":
            params["response_format"] = schema_mode(setup.model, self.schema)
        return replace(setup, params=params)

    @classmethod
    def of(cls, setup: Setup) -> tuple[Setup, Output]:
        """A run's set-up split into the set-up to edit and its output (a run reopened)."""
        fmt = setup.params.get("response_format") or {}
        plain = replace(setup, params={k: v for k, v in setup.params.items() if k != "response_format"})
        if fmt.get("type") == "json_object":
            return plain, cls("json_object")
        if fmt.get("type") == "json_schema":
            return plain, cls("json_schema", json.dumps(fmt.get("json_schema", {}).get("schema", {}), indent=2))
        return plain, cls()


def describe(variable: Variable) -> str:
    """What kind of variable it is, in a few words: text, long text, choice, default, built-in."""
    if variable.builtin:
        return "built-in, filled automatically"
    if variable.kind == "choice":
        kind = f"choice of {', '.join(variable.choices)}"
    else:
        kind = "long text" if variable.kind == "long" else "text"
    if variable.default is not None:
        kind += f", default “{variable.default}”" if variable.default else ", may be left blank"
    return kind


def _either(choices: tuple[str, ...]) -> str:
    """"formal or casual", "a, b or c"."""
    return " or ".join([", ".join(choices[:-1]), choices[-1]] if len(choices) > 1 else list(choices))


def _cell_text(value: Any) -> str:
    """A grid cell as text: an empty cell (None, NaN) is ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def grid_rows(records: Iterable[Mapping[str, Any]], columns: list[str]) -> list[dict[str, str]]:
    """The data editor's rows as text, rows left wholly blank dropped (the editor's new empty row)."""
    rows = [{c: _cell_text(record.get(c)) for c in columns} for record in records]
    return [row for row in rows if any(v.strip() for v in row.values())]


@dataclass
class LabSession:
    settings: Settings
    store: Store | None = None
    template: Template = field(default_factory=lambda: Template(""))
    test_set: TestSet = field(default_factory=lambda: TestSet("", []))
    setups: list[Setup] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    #: the judge's set-up (its model) and rubric; None: no judge
    judge: Judge | None = None
    run: LabRun | None = None
    judge_run: JudgeRun | None = None
    #: the run shown below the editors: the last one, or one reopened
    result: LabResult | None = None
    #: why the last save failed, for the page to show
    save_error: str | None = None
    #: widget keys carry it, so a session's fields never show another's
    editor_id: str = field(default_factory=lambda: new_id()[:8])
    #: bumped when the grid's columns or rows are replaced (not typed): the data editor starts afresh
    grid_version: int = 0
    #: the rows the data editor started from at this version
    grid_base: list[dict[str, str]] = field(default_factory=list)
    #: whether the person typed the test set's name (else it follows the last file imported)
    name_typed: bool = False

    def __post_init__(self) -> None:
        if not self.setups:
            self.setups = [Setup(self.settings.model, self.settings.system_prompt)]
        self.outputs += [Output()] * (len(self.setups) - len(self.outputs))

    # -- the template and its variables ---------------------------------------------------

    def variables(self) -> list[Variable]:
        """The template's variables; TemplateError when it is malformed."""
        return variables([self.template.system_prompt, self.template.message])

    def template_error(self) -> str | None:
        try:
            self.variables()
        except TemplateError as exc:
            return exc.message
        return None

    def columns(self) -> list[str]:
        """The grid's columns: the variables to give (not the built-ins), then the test set's others."""
        try:
            wanted = [v.name for v in self.variables() if not v.builtin]
        except TemplateError:
            wanted = []
        return wanted + [c for c in self.test_set.columns if c not in wanted]

    def choice_columns(self) -> dict[str, tuple[str, ...]]:
        """The grid's columns that are choice variables, with their choices."""
        return {v.name: v.choices for v in self._variables_or_none() if v.kind == "choice"}

    def unused_columns(self) -> list[str]:
        """The grid's columns the template does not use (a CSV file's extras): shown, never sent."""
        used = {v.name for v in self._variables_or_none()}
        return [c for c in self.test_set.columns if c not in used]

    def sync_grid(self) -> None:
        """Start the grid afresh when its columns changed (the template gained or lost a variable)."""
        columns = self.columns()
        if columns != self.test_set.columns:
            self._replace_rows(TestSet(self.test_set.name, columns, self.test_set.rows))

    def _replace_rows(self, test_set: TestSet) -> None:
        rows = [{c: row.get(c, "") for c in test_set.columns} for row in test_set.rows]
        self.test_set = TestSet(test_set.name, list(test_set.columns), rows)
        self.grid_base = [dict(r) for r in rows]
        self.grid_version += 1

    def set_rows(self, records: Iterable[Mapping[str, Any]]) -> None:
        """What the data editor holds now."""
        self.test_set.rows = grid_rows(records, self.test_set.columns)

    def run_rows(self) -> list[dict[str, str]]:
        """The rows to run: the test set's, or one empty row when the template has no variable to give."""
        if not self.test_set.rows and not any(not v.builtin for v in self._variables_or_none()):
            return [{}]
        return [dict(r) for r in self.test_set.rows]

    def _variables_or_none(self) -> list[Variable]:
        try:
            return self.variables()
        except TemplateError:
            return []

    # -- test sets --------------------------------------------------------------------------

    def import_csv(self, data: bytes, file_name: str = "") -> str:
        """The CSV's rows in place of the grid's (ImportFormatError leaves the grid as it was); what was read.

        The grid's columns become the template's variables, then the file's others (shown as not
        used); columns of an earlier import go. The test set is named after the file unless the
        person typed a name.
        """
        stem = file_name.rsplit(".", 1)[0]
        name = self.test_set.name if self.name_typed or not stem else stem
        imported = read_csv(data, name)
        wanted = [v.name for v in self._variables_or_none() if not v.builtin]
        unknown = [c for c in imported.columns if c not in wanted]
        self._replace_rows(TestSet(name, wanted + unknown, imported.rows))
        note = f"{count(len(imported.rows), 'row')} imported from {file_name or 'the file'}."
        if unknown:
            note += f" Not used by the template (shown, not sent): {', '.join(unknown)}."
        if off := self._rows_off_choice():
            note += f" {off}"
        return note

    def rename(self, name: str) -> None:
        self.test_set.name = name.strip()

    def type_name(self, name: str) -> None:
        """The name as the person typed it; typed empty, the name follows imported files again."""
        self.rename(name)
        self.name_typed = bool(self.test_set.name)

    def saved_name(self) -> str:
        return self.test_set.name or UNTITLED

    def save_test_set(self) -> None:
        self._require_store().save_test_set(TestSet(self.saved_name(), self.test_set.columns, self.test_set.rows))
        self.test_set.name = self.saved_name()

    def open_test_set(self, name: str) -> None:
        self._replace_rows(self._require_store().load_test_set(name))
        self.sync_grid()

    def delete_test_set(self, name: str) -> None:
        self._require_store().delete_test_set(name)
        if self.test_set.name == name:
            self.test_set.name = ""

    def _require_store(self) -> Store:
        if self.store is None:
            raise ChatError("History is off (CHAT_HISTORY=off), so nothing is saved.")
        return self.store

    # -- set-ups (the Compare page's editor edits them) -------------------------------------

    def set_setup(self, column: int, setup: Setup) -> None:
        self.setups[column] = setup

    def can_remove(self) -> bool:
        return len(self.setups) > 1

    def can_add(self) -> bool:
        return len(self.setups) < MAX_COLUMNS

    def add_column(self) -> None:
        if self.can_add():
            self.setups.append(self.setups[-1])
            self.outputs.append(self.outputs[-1])

    def remove_column(self, column: int) -> None:
        if self.can_remove():
            del self.setups[column], self.outputs[column]

    def run_setups(self) -> list[Setup]:
        """The set-ups as sent, with their structured output; SchemaError/InvalidParameterError naming the set-up."""
        out = []
        for number, (setup, output) in enumerate(zip(self.setups, self.outputs, strict=True), 1):
            try:
                out.append(output.apply(setup))
            except InvalidParameterError as exc:
                raise InvalidParameterError(exc.param, f"Set-up {number}: {exc.message}") from None
            except SchemaError as exc:
                raise SchemaError(f"Set-up {number}: {exc.message}") from None
        return out

    # -- checks -----------------------------------------------------------------------------

    def add_check(self, kind: str, argument: str = "", case_sensitive: bool = True, name: str = "") -> None:
        """A new check (CheckError when it cannot work, and nothing is added)."""
        self.checks.append(Check(kind, argument, name, case_sensitive))  # type: ignore[arg-type]

    def remove_check(self, index: int) -> None:
        del self.checks[index]

    def set_judge(self, model: str | None, rubric: str) -> None:
        self.judge = Judge(Setup(model), rubric) if model and rubric.strip() else None

    # -- before the run ---------------------------------------------------------------------

    def problems(self) -> list[str]:
        """Why a run cannot start now; empty when it can."""
        if (error := self.template_error()) is not None:
            return [f"The template: {error}"]
        if not self.template.message.strip():
            return ["Write the message to send (with {{variables}} for the test set's columns)."]
        found = []
        if not self.run_rows():
            found.append("The test set has no rows: type some in the grid, paste them, or import a CSV file.")
        try:
            self.run_setups()
        except ChatError as exc:
            found.append(exc.message)
        lacking = self._rows_lacking()
        if lacking:
            found.append(lacking)
        if off := self._rows_off_choice():
            found.append(off)
        return found

    def _rows_off_choice(self) -> str:
        """"row 3: tone must be formal or casual, not “angry”" for each value that is not one of its choices."""
        choices = self.choice_columns()
        wrong = []
        for number, row in enumerate(self.run_rows(), 1):
            for name, offered in choices.items():
                value = (row.get(name) or "").strip()
                if value and value.casefold() not in {c.casefold() for c in offered}:
                    # the value is named: a choice column's cell does not show a value off its choices
                    wrong.append(f"row {number}: {name} must be {_either(offered)}, not “{value}”")
        if not wrong:
            return ""
        shown = "; ".join(wrong[:5]) + (f"; and {len(wrong) - 5} more" if len(wrong) > 5 else "")
        return f"Values not among the choices: {shown}."

    def advice(self) -> list[str]:
        """What may go wrong without stopping the run: JSON mode with a prompt that never asks for JSON."""
        out = []
        for number, (setup, output) in enumerate(zip(self.setups, self.outputs, strict=True), 1):
            if output.mode == "json_object" and not mentions_json(self.template.system_for(setup), self.template.message):
                out.append(f"Set-up {number} is in JSON mode, but neither its system prompt nor the message asks "
                           "for JSON: the model writes JSON only when a message asks for it.")
        return out

    def _rows_lacking(self) -> str:
        texts = [self.template.system_prompt or "\n".join(s.system_prompt for s in self.setups), self.template.message]
        gaps = []
        for number, row in enumerate(self.run_rows(), 1):
            names = [v.name for v in missing(texts, row)]
            if names:
                gaps.append(f"row {number} ({', '.join(names)})")
        if not gaps:
            return ""
        shown = "; ".join(gaps[:5]) + (f"; and {len(gaps) - 5} more" if len(gaps) > 5 else "")
        return f"Values are missing: {shown}. Fill them in or give the variable a default ({{{{name=value}}}})."

    def requests(self) -> int:
        return len(self.run_rows()) * len(self.setups)

    def estimate(self) -> CostEstimate | None:
        try:
            return estimate_run_cost(self.template, self.run_setups(), self.run_rows(), self.settings)
        except ChatError:
            return None

    # -- the run ----------------------------------------------------------------------------

    def start(self, cost_cap: float | None = None, **kw: Any) -> LabRun:
        """A run of what the editors hold now (ChatError when :meth:`problems` has any)."""
        if problems := self.problems():
            raise ChatError(problems[0])
        self.run = LabRun(
            self.template, self.run_setups(), self.run_rows(), self.settings, list(self.checks),
            cost_cap=cost_cap, test_set=self.saved_name(), **self._logged_by(), **kw,
        ).start()
        self.judge_run, self.result = None, None
        return self.run

    def _logged_by(self) -> dict[str, Any]:
        # The run's requests are logged as this person's, in their store (with no store, in the
        # one the page installed, as the local person's).
        return {"owner": self.store.owner, "ledger": self.store} if self.store is not None else {}

    def running(self) -> bool:
        return self.run is not None

    def cancel(self) -> None:
        if self.judge_run is not None:
            self.judge_run.cancel()
        elif self.run is not None:
            self.run.cancel()

    def progress(self) -> Progress | None:
        current = self.judge_run.run if self.judge_run is not None else self.run
        return current.progress() if current is not None else None

    def results_so_far(self) -> LabResult | None:
        """The run in flight as it stands, to draw while it goes: finished cells as they will be kept,
        the others queued or running. None with no run, and while judging (its result is shown then)."""
        if self.run is None or self.judge_run is not None:
            return None
        return self.run.result()

    def judging(self) -> bool:
        return self.judge_run is not None

    def advance(self) -> bool:
        """Move on when the run (then its judge) has ended; True once the result is kept."""
        if self.run is None or not self.run.finished:
            return False
        if self.judge_run is None:
            result = self.run.result()
            if self.judge is not None and result.status == "finished" and any(c.status == "done" for c in result.cells):
                self.judge_run = self.judge.run_over(result, self.settings, **self._logged_by()).start()
                self.result = result
                return False
            self._keep(result)
            return True
        if not self.judge_run.run.finished:
            return False
        result = self.result or self.run.result()
        self.judge_run.apply(result)
        if self.judge_run.run.status != "finished":
            result.note = (result.note + " The judge was stopped: some replies have no score.").strip()
        self._keep(result)
        return True

    def _keep(self, result: LabResult) -> None:
        self.result, self.run, self.judge_run = result, None, None
        if self.store is None:
            return
        try:
            self.store.save_run(result)
            self.save_error = None
        except ChatError as exc:
            self.save_error = str(exc)

    # -- saved runs ---------------------------------------------------------------------------

    def saved_runs(self) -> list[LabResult]:
        if self.store is None:
            return []
        return self.store.list_runs(self.saved_name())

    def open_run(self, result: LabResult) -> None:
        """Show a saved run, and put what it ran into the editors (to change and run again)."""
        self.result = result
        self.template = result.template
        self.checks = list(result.checks)
        pairs = [Output.of(s) for s in result.setups]
        self.setups, self.outputs = [p[0] for p in pairs], [p[1] for p in pairs]
        self._replace_rows(TestSet(result.test_set, list(dict.fromkeys(k for r in result.rows for k in r)), result.rows))
        self.sync_grid()

    def run_again(self, result: LabResult, cost_cap: float | None = None, **kw: Any) -> LabRun:
        self.open_run(result)
        return self.start(cost_cap, **kw)

    def delete_run(self, run_id: str) -> None:
        self._require_store().delete_run(run_id)
        if self.result is not None and self.result.id == run_id:
            self.result = None
