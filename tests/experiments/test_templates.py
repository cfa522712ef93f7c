"""lib/experiments/templates.py: the {{variable}} grammar, filling, what is missing, and errors."""

from __future__ import annotations

import math
from datetime import datetime

import pytest

from lib.errors import ChatError, TemplateError
from lib.experiments.presets import Presets
from lib.experiments.templates import Variable, fill, missing, variables

NOW = datetime(2026, 3, 7, 9, 5, 42)


# -- parsing ------------------------------------------------------------------------------


def test_variables_in_order_of_first_appearance() -> None:
    text = "Dear {{name}}, about {{topic}}: {{name}} again, then {{tone}}."
    assert [v.name for v in variables(text)] == ["name", "topic", "tone"]


def test_each_kind() -> None:
    text = "{{a}} {{b:long}} {{c:short}} {{tone|formal,casual}} {{d=hello}} {{e:long=two words}} {{f|x,y=y}}"
    assert variables(text) == [
        Variable("a"),
        Variable("b", "long"),
        Variable("c", "short"),
        Variable("tone", "choice", ("formal", "casual")),
        Variable("d", "short", default="hello"),
        Variable("e", "long", default="two words"),
        Variable("f", "choice", ("x", "y"), "y"),
    ]


def test_spaces_are_tolerated_everywhere() -> None:
    text = "{{ a }} {{ b : long }} {{ tone | formal ,  casual = casual }} {{\td\t=\thi there\t}}"
    assert variables(text) == [
        Variable("a"),
        Variable("b", "long"),
        Variable("tone", "choice", ("formal", "casual"), "casual"),
        Variable("d", default="hi there"),
    ]


def test_default_keeps_everything_after_the_first_equals_sign() -> None:
    (v,) = variables("{{url=https://x.org/?a=1:2|3}}")
    assert v.default == "https://x.org/?a=1:2|3"
    (w,) = variables("{{body:long=a: b}}")
    assert (w.kind, w.default) == ("long", "a: b")


def test_an_empty_default_makes_a_variable_optional() -> None:
    (v,) = variables("{{note=}}")
    assert v.default == ""
    assert missing("{{note=}}", {}) == []
    assert fill("[{{note=}}]", {}) == "[]"


def test_names_are_identifiers_in_any_script_and_case_sensitive() -> None:
    assert [v.name for v in variables("{{café}} {{_x1}} {{Name}} {{name}} {{名前}}")] == ["café", "_x1", "Name", "name", "名前"]


@pytest.mark.parametrize(
    "text",
    [
        "{{ hello world }}",
        '{"a": {{"b": 1}}}',
        "{{1abc}}",
        "{{}}",
        "{{ }}",
        "a lone {{ here",
        "{{name}",
        "{{http://example.org}}",
        "{{x:long words}}",
        "{{name\n}}",
        "{{a=multi\nline}}",
        "}} {{",
    ],
)
def test_what_is_not_a_variable_stays_as_typed(text: str) -> None:
    assert variables(text) == []
    assert fill(text, {}) == text


def test_a_variable_next_to_stray_braces_is_still_found() -> None:
    text = "{{{name}}} and {{ not this {{tone}}"
    assert [v.name for v in variables(text)] == ["name", "tone"]
    assert fill(text, {"name": "N", "tone": "T"}) == "{N} and {{ not this T"


def test_backslash_escapes_a_literal_double_brace() -> None:
    text = r"Write \{{name}} in Handlebars; {{name}} is {{who}}. \{{ and a \n backslash"
    assert [v.name for v in variables(text)] == ["name", "who"]
    assert fill(text, {"name": "Ann", "who": "me"}) == r"Write {{name}} in Handlebars; Ann is me. {{ and a \n backslash"


def test_only_an_escaped_variable_is_no_variable() -> None:
    assert variables(r"\{{name}}") == []
    assert fill(r"\{{name}}", {}) == "{{name}}"


@pytest.mark.parametrize(
    ("text", "variable", "words"),
    [
        ("{{x:huge}}", "x", "long or short"),
        ("{{x:}}", None, None),  # a colon and no word: not a variable at all
        ("{{tone|}}", "tone", "empty"),
        ("{{tone|a,,b}}", "tone", "empty"),
        ("{{tone|a, b,}}", "tone", "empty"),
        ("{{tone|a,A}}", "tone", "twice"),
        ("{{tone|a,b=c}}", "tone", "not a choice"),
        ("{{date:long}}", "date", "automatically"),
        ("{{date=2020-01-01}}", "date", "automatically"),
        ("{{time|a,b}}", "time", "automatically"),
        ("{{x=1}} {{x=2}}", "x", "declared twice"),
        ("{{x:long}} {{x|a,b}}", "x", "declared twice"),
    ],
)
def test_malformed_templates_raise_naming_the_variable(text: str, variable: str | None, words: str | None) -> None:
    if variable is None:
        assert variables(text) == []
        return
    with pytest.raises(TemplateError) as caught:
        variables(text)
    assert caught.value.variable == variable
    assert words in str(caught.value)
    assert isinstance(caught.value, ChatError) and not caught.value.retryable
    with pytest.raises(TemplateError):
        fill(text, {variable: "a"})


def test_a_declaration_repeated_the_same_way_or_bare_is_fine() -> None:
    text = "{{tone|a,b}} {{tone}} {{tone | a , b}}"
    assert variables(text) == [Variable("tone", "choice", ("a", "b"))]


def test_the_declaration_may_come_after_a_bare_mention() -> None:
    assert variables("{{x}} then {{x:long}}") == [Variable("x", "long")]


def test_variables_across_system_prompt_and_message() -> None:
    found = variables(["Be {{tone|formal,casual}}.", "Tell {{name}} in a {{tone}} way about {{topic=cats}}."])
    assert [v.name for v in found] == ["tone", "name", "topic"]
    assert found[0].kind == "choice"
    with pytest.raises(TemplateError):
        variables(["{{x=1}}", "{{x=2}}"])


# -- built-ins ----------------------------------------------------------------------------


def test_builtins_are_filled_automatically() -> None:
    text = "Today is {{date}} at {{time}} ({{ datetime }})."
    assert fill(text, {}, now=NOW) == "Today is 2026-03-07 at 09:05 (2026-03-07 09:05)."
    assert [v.kind for v in variables(text)] == ["builtin"] * 3
    assert all(v.builtin for v in variables(text))
    assert missing(text, {}) == []


def test_date_defaults_to_today() -> None:
    assert fill("{{date}}", {}) == datetime.now().date().isoformat()


def test_a_given_value_wins_over_a_builtin() -> None:
    assert fill("{{date}}", {"date": "2000-01-01"}, now=NOW) == "2000-01-01"


# -- filling ------------------------------------------------------------------------------


def test_fill_replaces_every_mention() -> None:
    text = "Hi {{ name }}! Bye {{name}}. {{bio:long}}"
    assert fill(text, {"name": "Ann", "bio": "line one\nline two"}) == "Hi Ann! Bye Ann. line one\nline two"


def test_fill_uses_defaults_for_values_not_given() -> None:
    text = "{{greeting=Hello}}, {{name}}. Tone: {{tone|formal,casual=casual}}."
    assert fill(text, {"name": "Bo"}) == "Hello, Bo. Tone: casual."
    assert fill(text, {"name": "Bo", "greeting": "Hey", "tone": "formal"}) == "Hey, Bo. Tone: formal."


@pytest.mark.parametrize("blank", [None, "", "   ", "\n", math.nan])
def test_blank_values_count_as_not_given(blank: object) -> None:
    assert fill("{{a=dflt}}", {"a": blank}) == "dflt"
    assert missing("{{a}}", {"a": blank}) == [Variable("a")]


def test_values_that_are_not_strings_are_written_as_text() -> None:
    assert fill("{{n}} {{x}}", {"n": 3, "x": 2.5}) == "3 2.5"


def test_a_choice_value_must_be_a_choice() -> None:
    text = "{{tone|formal,casual}}"
    with pytest.raises(TemplateError) as caught:
        fill(text, {"tone": "rude"})
    assert caught.value.variable == "tone"
    assert "formal, casual" in str(caught.value)


def test_a_choice_matches_ignoring_case_and_spaces() -> None:
    assert fill("{{tone|Formal,casual}}", {"tone": "  formal "}) == "Formal"


def test_fill_raises_naming_every_missing_variable() -> None:
    with pytest.raises(TemplateError) as caught:
        fill("{{a}} {{b=x}} {{c}}", {})
    assert caught.value.variable == "a"
    assert "a, c" in str(caught.value)


def test_missing_lists_what_must_still_be_asked_in_order() -> None:
    text = "{{a}} {{b=x}} {{c:long}} {{d|p,q}} {{e|p,q=p}} {{date}}"
    assert [v.name for v in missing(text, {})] == ["a", "c", "d"]
    assert [v.name for v in missing(text, {"c": "given"})] == ["a", "d"]
    assert missing(text, {"a": 1, "c": "x", "d": "q"}) == []


def test_missing_across_texts() -> None:
    assert [v.name for v in missing(["{{a}}", "{{b}} {{a}}"], {"b": "x"})] == ["a"]


def test_fill_with_declarations_from_another_text() -> None:
    system = "Answer in a {{tone|formal,casual=casual}} tone."
    assert fill("Tone: {{tone}}", {}, declared_in=[system]) == "Tone: casual"
    with pytest.raises(TemplateError):
        fill("Tone: {{tone}}", {"tone": "rude"}, declared_in=[system])
    # a variable only the other text has is not asked for here
    assert fill("no variables", {}, declared_in=["{{other}}"]) == "no variables"


def test_values_are_never_expanded_again() -> None:
    # a test-set cell holding template syntax is text, not a template
    text = "Q: {{question}} A: {{secret=hidden}}"
    values = {"question": "what is {{secret}} and {{date}} and \\{{x}}?"}
    assert fill(text, values, now=NOW) == "Q: what is {{secret}} and {{date}} and \\{{x}}? A: hidden"


def test_values_with_regex_replacement_syntax_are_literal() -> None:
    assert fill("{{a}}", {"a": r"\1 \g<0> $1 \n"}) == r"\1 \g<0> $1 \n"


def test_text_without_variables_is_unchanged() -> None:
    text = "Plain text with { braces } and }} and a \\ backslash."
    assert variables(text) == []
    assert fill(text, {"unused": "x"}) == text


# -- presets keep templates ------------------------------------------------------------------


def test_a_preset_prompt_with_variables_round_trips() -> None:
    prompt = "You are a {{role=helpful assistant}}. Answer in a {{tone|formal,casual}} tone.\nToday is {{date}}. \\{{literal}}"
    presets = Presets().add("Templated", prompt)
    again = Presets.from_json(presets.to_json())
    kept = again.get("Templated")
    assert kept is not None and kept.prompt == prompt
    assert variables(kept.prompt) == variables(prompt)
    assert fill(kept.prompt, {"tone": "casual"}, now=NOW) == (
        "You are a helpful assistant. Answer in a casual tone.\nToday is 2026-03-07. {{literal}}"
    )
