"""lib/experiments/checks.py and safe_regex.py: assertions on replies, made safe against runaway patterns."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from lib.errors import ChatError, CheckError
from lib.experiments import safe_regex
from lib.experiments.checks import KINDS, Check, CheckResult, pass_rate, run_checks

PERSON_SCHEMA = json.dumps({"type": "object", "properties": {"age": {"type": "integer"}}, "required": ["age"]})


@pytest.fixture(autouse=True, scope="module")
def _no_worker_left() -> Iterator[None]:
    yield
    safe_regex.stop_worker()


# -- contains / does not contain -------------------------------------------------------------


def test_contains() -> None:
    check = Check("contains", "Paris")
    assert check.run("The capital is Paris.") == CheckResult(True, "Found “Paris” at character 16.")
    assert check.run("The capital is paris.") == CheckResult(False, "“Paris” is not in the reply.")


def test_contains_in_any_case() -> None:
    check = Check("contains", "PARIS", case_sensitive=False)
    assert check.run("the capital is paris").passed
    assert "any case" in check.run("the capital is paris").detail
    assert not check.run("the capital is Rome").passed
    # casefolded, not just lowered
    assert Check("contains", "STRASSE", case_sensitive=False).run("die Hauptstraße").passed


def test_does_not_contain() -> None:
    check = Check("not_contains", "As an AI")
    assert check.run("Sure, here it is.").passed
    failed = check.run("As an AI, I cannot.")
    assert not failed.passed and "at character 1" in failed.detail
    assert Check("not_contains", "as an ai").run("As an AI, I cannot.").passed
    assert not Check("not_contains", "as an ai", case_sensitive=False).run("As an AI, I cannot.").passed


def test_a_long_text_is_quoted_shortened() -> None:
    detail = Check("contains", "x" * 100).run("y").detail
    assert "x" * 60 + "…" in detail and "x" * 61 not in detail


# -- regular expressions ----------------------------------------------------------------------


def test_regex_searches_anywhere() -> None:
    check = Check("regex", r"\b\d{4}-\d{2}-\d{2}\b")
    assert check.run("Due on 2026-03-07, sharp.") == CheckResult(True, "Matched “2026-03-07” at character 8.")
    assert check.run("Due tomorrow.") == CheckResult(False, "No match for “\\b\\d{4}-\\d{2}-\\d{2}\\b”.")


def test_regex_case_and_inline_flags() -> None:
    assert not Check("regex", "^yes").run("YES, indeed").passed
    assert Check("regex", "^yes", case_sensitive=False).run("YES, indeed").passed
    assert not Check("regex", "^ok$").run("first\nok\nlast").passed
    assert Check("regex", "(?m)^ok$").run("first\nok\nlast").passed


def test_regex_on_unicode_text() -> None:
    assert Check("regex", "é+").run("Ça va, café? 😀 éé") == CheckResult(True, "Matched “é” at character 11.")
    assert Check("regex", "é{2}").run("Ça va, café? 😀 éé") == CheckResult(True, "Matched “éé” at character 16.")


def test_offsets_hold_after_lone_surrogates() -> None:
    # two lone surrogates are two characters here, and must stay two in the worker
    text = "\ud83d\ude00 x \u2028 y"
    assert safe_regex.search("x", text) == safe_regex.Match(3, 4, "x")
    assert safe_regex.search("y", text) == safe_regex.Match(text.index("y"), text.index("y") + 1, "y")
    assert safe_regex.search("\ud83d", text) == safe_regex.Match(0, 1, "\ud83d")


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"(a+)+$", "a" * 40 + "b"),  # nested repeats: exponential
        (r"(a|a)*c", "a" * 40),  # overlapping alternatives
        (r".*x.*y", "x" * 30_000),  # polynomial but long: minutes on a long reply
    ],
)
def test_a_runaway_pattern_is_stopped_in_time(pattern: str, text: str) -> None:
    started = time.monotonic()
    result = Check("regex", pattern).run(text)
    assert time.monotonic() - started < 5
    assert not result.passed
    assert "stopped after 1 s" in result.detail and "backtracks" in result.detail
    # the next search gets a fresh worker and works
    assert Check("regex", "b$").run("ab").passed


def test_a_search_times_out_and_the_worker_is_replaced() -> None:
    with pytest.raises(safe_regex.RegexTimeout):
        safe_regex.search(r"(x+x+)+y", "x" * 50, timeout=0.2)
    assert safe_regex.search("b+", "abbc") == safe_regex.Match(1, 3, "bb")


def test_searches_from_several_threads_all_answer() -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"row {i}: value {i * 7}" for i in range(40)]
    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda t: safe_regex.search(r"value (\d+)", t), texts))
    assert [m.text if m else None for m in found] == [f"value {i * 7}" for i in range(40)]


def test_a_long_match_is_cut_for_the_detail() -> None:
    match = safe_regex.search("a+", "a" * 1000)
    assert match is not None and (match.start, match.end) == (0, 1000) and len(match.text) == safe_regex.MAX_MATCH_SHOWN


def test_a_text_beyond_the_limit_fails_the_check_clearly() -> None:
    result = Check("regex", "a").run("b" * (safe_regex.MAX_TEXT + 1))
    assert not result.passed and "longer than 1,000,000 characters" in result.detail


@pytest.mark.parametrize(
    ("pattern", "words"),
    [
        ("(", "missing ), unterminated subpattern at position 0"),
        ("[a-", "unterminated character set"),
        ("a{2,1}", "min repeat greater than max repeat"),
        ("", "needs a pattern"),
        ("a" * (safe_regex.MAX_PATTERN + 1), "longer than 1,000 characters"),
    ],
)
def test_a_bad_pattern_is_refused_when_the_check_is_made(pattern: str, words: str) -> None:
    with pytest.raises(CheckError) as caught:
        Check("regex", pattern)
    assert words in str(caught.value)


# -- JSON -------------------------------------------------------------------------------------


def test_valid_json() -> None:
    check = Check("json")
    assert check.run('{"a": 1}') == CheckResult(True, "Valid JSON.")
    assert check.run('```json\n{"a": 1}\n```') == CheckResult(True, "Valid JSON, inside a ```json fence.")
    assert check.run("[1, 2, 3]").passed
    assert check.run("The answer is {a: 1}") == CheckResult(False, "Not JSON: Expecting value at line 1, column 1.")
    assert not check.run('Here:\n```json\n{"a": 1}\n```').passed


def test_valid_against_a_schema() -> None:
    check = Check("json_schema", PERSON_SCHEMA)
    assert check.run('{"age": 3}') == CheckResult(True, "Valid JSON matching the schema.")
    assert check.run('```json\n{"age": 3}\n```').detail == "Valid JSON matching the schema, inside a ```json fence."
    wrong = "Does not match the schema: at $.age: 'three' is not of type 'integer'."
    assert check.run('{"age": "three"}') == CheckResult(False, wrong)
    assert check.run("{}") == CheckResult(False, "Does not match the schema: at $: 'age' is a required property.")
    assert not check.run("not json").passed


def test_a_schema_for_a_check_need_not_be_an_object_schema() -> None:
    assert Check("json_schema", '{"type": "array", "maxItems": 2}').run("[1]").passed


@pytest.mark.parametrize(
    ("schema", "words"),
    [
        ("", "empty"),
        ("{type: object}", "not valid JSON"),
        ('{"type": "strnig"}', "not a valid JSON Schema: at $.type"),
        ("[]", "not an array"),
    ],
)
def test_a_bad_schema_is_refused_when_the_check_is_made(schema: str, words: str) -> None:
    with pytest.raises(CheckError) as caught:
        Check("json_schema", schema)
    assert words in str(caught.value)


# -- length -----------------------------------------------------------------------------------


def test_at_most_n_characters() -> None:
    check = Check("max_chars", "10")
    assert check.run("0123456789") == CheckResult(True, "10 characters, at most 10.")
    assert check.run("0123456789!") == CheckResult(False, "11 characters, 1 more than 10.")
    assert check.run("é" * 10).passed  # characters, not bytes
    assert Check("max_chars", "0").run("") == CheckResult(True, "0 characters, at most 0.")
    assert Check("max_chars", 1).run("a") == CheckResult(True, "1 character, at most 1.")
    assert Check("max_chars", " 5 ").argument == " 5 "


@pytest.mark.parametrize("limit", ["", "-1", "2.5", "ten", "٣", "1e3"])
def test_a_bad_length_is_refused(limit: str) -> None:
    with pytest.raises(CheckError, match="whole number"):
        Check("max_chars", limit)


# -- the check as data --------------------------------------------------------------------------


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(CheckError) as caught:
        Check("sentiment", "happy")  # type: ignore[arg-type]
    assert isinstance(caught.value, ChatError) and not caught.value.retryable
    assert "contains" in str(caught.value)


def test_an_empty_text_to_look_for_is_refused() -> None:
    for kind in ("contains", "not_contains"):
        with pytest.raises(CheckError, match="needs a text"):
            Check(kind, "")  # type: ignore[arg-type]


def test_labels() -> None:
    assert Check("contains", "Paris").label == "Contains “Paris”"
    assert Check("not_contains", "sorry", case_sensitive=False).label == "Does not contain “sorry” (any case)"
    assert Check("regex", r"\d+").label == "Matches a regular expression “\\d+”"
    assert Check("json").label == "Valid JSON"
    assert Check("json_schema", PERSON_SCHEMA).label == "Valid against a JSON schema"
    assert Check("max_chars", "1200").label == "At most 1,200 characters"
    assert Check("contains", "x", name="  Mentions x ").label == "Mentions x"


@pytest.mark.parametrize(
    "check",
    [
        Check("contains", "Paris", "capital"),
        Check("not_contains", "AI", case_sensitive=False),
        Check("regex", r"^\d+$"),
        Check("json"),
        Check("json_schema", PERSON_SCHEMA, "person"),
        Check("max_chars", "280"),
    ],
    ids=lambda c: c.kind,
)
def test_a_check_round_trips_through_json(check: Check) -> None:
    again = Check.from_dict(json.loads(json.dumps(check.to_dict())))
    assert again == check
    assert again.run('{"age": 1}') == check.run('{"age": 1}')


def test_every_kind_is_covered_by_the_round_trip() -> None:
    assert set(KINDS) == {"contains", "not_contains", "regex", "json", "json_schema", "max_chars"}


@pytest.mark.parametrize(
    "data",
    [
        None, [], {}, {"kind": 3}, {"kind": "nope"},
        {"kind": "contains", "argument": ["x"]}, {"kind": "contains", "argument": True},
    ],
)
def test_unreadable_saved_checks_are_refused(data: object) -> None:
    with pytest.raises(CheckError):
        Check.from_dict(data)


def test_a_saved_check_without_optional_fields() -> None:
    assert Check.from_dict({"kind": "contains", "argument": "x"}) == Check("contains", "x")


# -- results ---------------------------------------------------------------------------------


def test_run_checks_and_pass_rate() -> None:
    checks = [Check("json"), Check("contains", "age"), Check("max_chars", "5")]
    results = run_checks(checks, '{"age": 30}')
    assert [r.passed for r in results] == [True, True, False]
    assert pass_rate(results) == pytest.approx(2 / 3)
    assert pass_rate([]) is None
    assert pass_rate(iter([CheckResult(True, ""), CheckResult(True, "")])) == 1.0
    assert pass_rate([CheckResult(False, "")]) == 0.0
