"""lib.experiments.test_sets: CSV in, results out as CSV and JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.errors import ImportFormatError
from lib.experiments import test_sets
from lib.experiments.checks import Check
from lib.experiments.compare import Setup
from lib.experiments.lab_run import LabCell, LabResult, LabRun, Template
from lib.experiments.test_sets import TestSet, read_csv, result_records, results_csv, results_json
from lib.settings import Settings


def test_comma_separated_with_quotes_and_newlines() -> None:
    text = 'animal,tone\n"cat, grey",formal\n"a ""big""\ndog",casual\n\n'
    assert read_csv(text, "pets") == TestSet(
        "pets", ["animal", "tone"], [{"animal": "cat, grey", "tone": "formal"}, {"animal": 'a "big"\ndog', "tone": "casual"}]
    )


def test_excel_semicolons_bom_and_crlf() -> None:
    data = "\ufeffanimal;tone\r\ncat;formal\r\n\"x;y\";casual\r\n".encode()
    table = read_csv(data)
    assert table.columns == ["animal", "tone"]
    assert table.rows == [{"animal": "cat", "tone": "formal"}, {"animal": "x;y", "tone": "casual"}]


def test_a_comma_inside_a_quoted_header_does_not_pick_the_separator() -> None:
    assert read_csv('"a,b";c\n1;2\n').columns == ["a,b", "c"]


def test_a_short_row_leaves_cells_empty() -> None:
    assert read_csv("a,b\n1\n").rows == [{"a": "1", "b": ""}]


@pytest.mark.parametrize(
    ("data", "said"),
    [
        ("", "empty"),
        ("a,,c\n1,2,3\n", "Column 2 of the header row has no name"),
        ("a,a\n1,2\n", "names 'a' twice"),
        ("a,b\n1,2,3\n", "Line 2 has 3 cells"),
        ('a,b\n"1,2\n', "cannot be read"),
        (b"a,b\n\xff\xfe,1\n", "not UTF-8"),
    ],
)
def test_clear_errors(data: str | bytes, said: str) -> None:
    with pytest.raises(ImportFormatError, match=said):
        read_csv(data)


def test_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(test_sets, "MAX_ROWS", 3)
    assert len(read_csv("a\n1\n2\n3\n").rows) == 3
    with pytest.raises(ImportFormatError, match="more than 3 rows"):
        read_csv("a\n1\n2\n3\n4\n")
    monkeypatch.setattr(test_sets, "MAX_BYTES", 10)
    with pytest.raises(ImportFormatError, match="at most 10"):
        read_csv("a\n123456789\n")


def test_ten_rows_from_csv_run_for_two_setups_export_twenty_rows(fake_api: FakeAPI, settings: Settings) -> None:
    lines = ["animal;tone"] + [f"animal {n};{'formal' if n % 2 else 'casual'}" for n in range(10)]
    table = read_csv("\ufeff" + "\r\n".join(lines), "animals")
    fake_api.default = Behaviour(reply='{"animal": "=cmd"}')
    fake_api.plan_for("google/gemma-3-4b-it", Behaviour(reply="not json"))
    setups = [Setup("google/gemma-3-27b-it"), Setup("google/gemma-3-4b-it")]
    run = LabRun(
        Template("Describe {{animal}}, {{tone|formal,casual}}."), setups, table.rows, settings,
        checks=[Check("json"), Check("contains", "=cmd")], test_set=table.name,
    ).start()
    assert run.wait(30)
    result = run.result()
    rows = list(csv.DictReader(io.StringIO(results_csv(result))))
    assert len(rows) == 20
    assert list(rows[0])[:5] == ["animal", "tone", "row", "set-up", "status"]
    assert rows[0]["Valid JSON"] in ("pass", "fail")
    assert sorted(r["Valid JSON"] for r in rows).count("fail") == 1
    assert rows[0]["reply"] == '{"animal": "=cmd"}' and rows[0]["Contains “=cmd”"] == "pass"
    assert all(r["cost (USD)"] for r in rows) and {r["set-up"] for r in rows} == {s.label() for s in setups}
    back = LabResult.from_dict(json.loads(results_json(result)))
    assert back.to_dict() == result.to_dict()
    assert result_records(back)[0]["animal"] == "animal 0"


def test_formulas_are_not_run_by_a_spreadsheet() -> None:
    cells = [LabCell(0, 0, "done", "@SUM(A1)")]
    result = LabResult(Template("{{x}}"), [Setup("google/gemma-3-27b-it")], [], [{"x": "=1+1"}], cells)
    row = next(csv.DictReader(io.StringIO(results_csv(result))))
    assert row["x"] == "'=1+1" and row["reply"] == "'@SUM(A1)"


def test_the_csv_names_a_structured_output_set_up_in_json_not_python() -> None:
    from lib.experiments.compare import Setup
    from lib.experiments.test_sets import result_records
    from tests.lab_samples import make_run

    run = make_run()
    run.setups[1] = Setup("google/gemma-3-4b-it", params={"response_format": {"type": "json_object"}})
    label = result_records(run)[1]["set-up"]
    assert label == 'Gemma 3 4B · response_format {"type": "json_object"}'
