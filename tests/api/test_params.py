"""lib/api/params.py: ranges read from the official specs, validation, and bodies the specs accept."""

from __future__ import annotations

import math
from typing import Any

import jsonschema
import pytest

from lib.api.models import GEMMA_MODELS, ModelInfo, model_info
from lib.api.params import (
    _APP_PARAMS,
    MAX_STOP_SEQUENCES,
    PARAMS,
    ParamSpec,
    format_stop_sequences,
    param_spec,
    params_for,
    parse_stop_sequences,
    unsupported_params,
    validate_params,
)
from lib.api.request import build_body
from lib.errors import ChatError, InvalidParameterError
from tests.conftest import request_schema, validate_request

SPEC_FILES = ("gemma-3-27b-it.json", "gemma-3.json", "gemma-3n-e4b-it.json")
MODEL_IDS = [m.id for m in GEMMA_MODELS]
by_model = pytest.mark.parametrize("info", GEMMA_MODELS, ids=lambda m: m.id)
MESSAGES = [{"role": "user", "content": "Hello"}]


def spec_property(spec_file: str, name: str) -> dict[str, Any]:
    return request_schema(spec_file)["properties"][name]


# -- ranges come from the specs -------------------------------------------------------


def check_bounds(spec: ParamSpec, prop: dict[str, Any]) -> None:
    for ours, theirs in ((spec.min, prop.get("minimum")), (spec.max, prop.get("maximum"))):
        if theirs is not None:
            assert ours == theirs, f"{spec.name}: {ours} != spec {theirs}"
        elif not spec.own_range:
            assert ours is None, f"{spec.name} has a bound the spec does not give; mark it own_range"
    if spec.own_range:
        assert "minimum" not in prop or "maximum" not in prop, f"{spec.name}: the spec gives both bounds"


@pytest.mark.parametrize("spec_file", SPEC_FILES)
def test_every_bound_equals_the_specs(spec_file: str) -> None:
    properties = request_schema(spec_file)["properties"]
    checked = [p for p in PARAMS if p.name in properties]
    assert checked
    for spec in checked:
        check_bounds(spec, properties[spec.name])


@by_model
def test_per_model_bounds_equal_the_models_spec(info: ModelInfo) -> None:
    for spec in params_for(info.id):
        check_bounds(spec, spec_property(info.spec or "", spec.name))


@by_model
def test_kinds_fit_the_spec_types(info: ModelInfo) -> None:
    for spec in params_for(info.id):
        prop = spec_property(info.spec or "", spec.name)
        if spec.kind == "float":
            assert prop["type"] == "number", spec.name
        elif spec.kind == "int":
            assert prop["type"] in ("integer", "number"), spec.name


@pytest.mark.parametrize("spec_file", SPEC_FILES)
def test_the_apps_own_bounds_fill_only_sides_the_specs_leave_open(spec_file: str) -> None:
    """An app bound on a side the spec covers would be dead code, silently overridden."""
    properties = request_schema(spec_file)["properties"]
    for name, app in _APP_PARAMS.items():
        if name in properties:
            assert app.min is None or "minimum" not in properties[name], name
            assert app.max is None or "maximum" not in properties[name], name


def spec_options(prop: dict[str, Any]) -> list[str]:
    return prop.get("enum") or [v["properties"]["type"]["enum"][0] for v in prop["oneOf"]]


def test_response_formats_are_the_specs() -> None:
    offered = param_spec("response_format").options
    assert spec_options(spec_property("gemma-3-27b-it.json", "response_format")) == ["text", "json_object", "json_schema"]
    assert offered == ("text", "json_object", "json_schema")


def test_a_json_schema_response_format_made_by_structured_passes_and_is_sent_as_the_spec_says() -> None:
    from lib.experiments.structured import schema_mode

    schema = '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}'
    made = schema_mode("google/gemma-3-27b-it", schema, strict=True, description="a city")
    params = validate_params("google/gemma-3-27b-it", {"response_format": made})
    assert params == {"response_format": made}
    body = build_body("google/gemma-3-27b-it", MESSAGES, params)
    validate_request(body, "gemma-3-27b-it.json")
    assert body["response_format"]["json_schema"]["schema"]["required"] == ["city"]
    assert validate_params("google/gemma-3-12b-it", {"response_format": made}) == {}, "a model without it drops it"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ({"type": "json_schema"}, "json_schema"),
        ({"type": "json_schema", "json_schema": {"schema": {"type": "object"}}}, "name"),
        ({"type": "json_schema", "json_schema": {"name": "a b", "schema": {"type": "object"}}}, "name"),
        ({"type": "json_schema", "json_schema": {"name": "x", "schema": []}}, "schema"),
        ({"type": "json_schema", "json_schema": {"name": "x", "extra": 1}}, "extra"),
        ({"type": "json_object", "json_schema": {"name": "x"}}, "json_schema"),
    ],
)
def test_a_malformed_json_schema_response_format_is_refused(value: Any, words: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        validate_params("google/gemma-3-27b-it", {"response_format": value})
    assert caught.value.param == "response_format" and words in str(caught.value)


@by_model
def test_per_model_params_are_the_models_own_spec_property(info: ModelInfo) -> None:
    for spec in params_for(info.id):
        prop = spec_property(info.spec or "", spec.name)
        if spec.kind == "choice":
            assert set(spec.options) <= set(spec_options(prop))
        if "default" in prop:
            assert spec.default == prop["default"], spec.name


def test_ranges_named_in_the_brief() -> None:
    expected = {
        "temperature": (0, 2), "top_p": (0.01, 1), "min_p": (0.001, 0.999),
        "frequency_penalty": (-2, 2), "presence_penalty": (-2, 2), "max_tokens": (1, None), "seed": (1, None),
    }
    assert {n: (param_spec(n).min, param_spec(n).max) for n in expected} == expected
    assert param_spec("seed").kind == param_spec("max_tokens").kind == "int"


def test_sliders_land_on_their_ends_and_defaults() -> None:
    for spec in PARAMS:
        if spec.kind not in ("float", "int"):
            continue
        assert spec.step and spec.min is not None
        for point in (spec.max, spec.default):
            if point is not None:
                steps = (point - spec.min) / spec.step
                assert math.isclose(steps, round(steps), abs_tol=1e-9), (spec.name, point)


# -- which parameters each model gets -------------------------------------------------

SAMPLING = ["temperature", "top_p", "top_k", "min_p", "max_tokens"]
PENALTIES = ["frequency_penalty", "presence_penalty"]
REST = ["repetition_penalty", "seed", "stop"]


@pytest.mark.parametrize(
    ("model_id", "names"),
    [
        ("google/gemma-3-27b-it", SAMPLING + PENALTIES + REST + ["response_format"]),
        ("google/gemma-3-12b-it", SAMPLING + PENALTIES + REST),
        ("google/gemma-3-4b-it", SAMPLING + PENALTIES + REST),
        ("google/gemma-3n-e4b-it", SAMPLING + REST),
    ],
)
def test_params_for_lists_only_what_the_spec_has(model_id: str, names: list[str]) -> None:
    assert [p.name for p in params_for(model_id)] == names
    assert {p.name for p in params_for(model_id)} <= model_info(model_id).params


def test_max_tokens_is_capped_at_the_context_window() -> None:
    by_name = {p.name: p for p in params_for("google/gemma-3n-e4b-it")}
    assert by_name["max_tokens"].max == 8_192
    assert by_name["max_tokens"].default <= 8_192
    assert {p.name: p for p in params_for("google/gemma-3-27b-it")}["max_tokens"].max == 128_000
    assert {p.name: p for p in params_for("someone/unknown")}["max_tokens"].max is None


# -- bodies the specs accept ----------------------------------------------------------


def values_at(info: ModelInfo, where: str) -> dict[str, Any]:
    """Every parameter of the model set: to its default, its lowest or its highest value."""
    values: dict[str, Any] = {}
    for spec in params_for(info.id):
        if spec.kind == "stop":
            values[spec.name] = ["\n\nUser:", "###", "END", "</answer>"]
        elif spec.kind == "choice":
            values[spec.name] = spec.options[-1] if where == "max" else spec.options[0]
            if values[spec.name] == "json_schema":  # which needs its schema
                values[spec.name] = {"type": "json_schema", "json_schema": {"name": "r", "schema": {"type": "object"}}}
        elif where == "min" and spec.min is not None:
            values[spec.name] = spec.min
        elif where == "max" and spec.max is not None:
            values[spec.name] = spec.max
        else:
            values[spec.name] = spec.default
    return values


@by_model
@pytest.mark.parametrize("where", ["default", "min", "max"])
def test_every_param_set_validates_against_the_models_own_spec(info: ModelInfo, where: str) -> None:
    values = values_at(info, where)
    params = validate_params(info.id, values)
    assert set(params) == set(values)
    body = build_body(info.id, MESSAGES, params)
    assert set(values) <= set(body)
    validate_request(body, info.spec or "")


@by_model
def test_the_spec_check_can_fail(info: ModelInfo) -> None:
    body = build_body(info.id, MESSAGES, {"temperature": 2.5})
    with pytest.raises(jsonschema.ValidationError):
        validate_request(body, info.spec or "")


def test_response_format_is_sent_as_an_object() -> None:
    params = validate_params("google/gemma-3-27b-it", {"response_format": "json_object"})
    assert params == {"response_format": {"type": "json_object"}}
    assert validate_params("google/gemma-3-27b-it", {"response_format": {"type": "text"}}) == {
        "response_format": {"type": "text"}
    }


def test_whole_numbers_are_sent_as_int_and_others_as_float() -> None:
    params = validate_params("google/gemma-3-27b-it", {"max_tokens": 100.0, "top_k": 40.0, "seed": 7, "temperature": 1})
    assert params == {"max_tokens": 100, "top_k": 40, "seed": 7, "temperature": 1.0}
    assert type(params["max_tokens"]) is int and type(params["top_k"]) is int
    assert type(params["temperature"]) is float


# -- unset means not sent -------------------------------------------------------------


@by_model
def test_unset_params_are_absent_from_the_body(info: ModelInfo) -> None:
    values: dict[str, Any] = {p.name: None for p in params_for(info.id)}
    values["stop"] = ""
    assert validate_params(info.id, values) == {}
    body = build_body(info.id, MESSAGES, validate_params(info.id, values))
    assert not set(values) & set(body)


def test_only_the_set_params_are_returned() -> None:
    values = {"temperature": 0.3, "top_p": None, "stop": [], "seed": None, "max_tokens": 256}
    assert validate_params("google/gemma-3-12b-it", values) == {"temperature": 0.3, "max_tokens": 256}


def test_blank_stop_text_sends_nothing() -> None:
    assert validate_params("google/gemma-3-27b-it", {"stop": "  \n\n "}) == {}


def test_params_of_another_model_are_dropped_and_reported() -> None:
    values = {"frequency_penalty": 0.5, "response_format": "json_object", "temperature": 0.5, "presence_penalty": None}
    assert validate_params("google/gemma-3n-e4b-it", values) == {"temperature": 0.5}
    assert unsupported_params("google/gemma-3n-e4b-it", values) == ["frequency_penalty", "response_format"]
    assert unsupported_params("google/gemma-3-12b-it", values) == ["response_format"]
    assert unsupported_params("google/gemma-3-27b-it", values) == []


def test_build_body_leaves_out_what_the_model_does_not_take() -> None:
    body = build_body("google/gemma-3n-e4b-it", MESSAGES, {"frequency_penalty": 0.5, "response_format": {"type": "text"}})
    assert "frequency_penalty" not in body and "response_format" not in body
    validate_request(body, "gemma-3n-e4b-it.json")


# -- invalid values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("temperature", -0.01, "between 0 and 2"),
        ("temperature", 2.01, "between 0 and 2"),
        ("top_p", 0.0, "between 0.01 and 1"),
        ("top_p", 1.5, "between 0.01 and 1"),
        ("min_p", 0.0, "between 0.001 and 0.999"),
        ("min_p", 1, "between 0.001 and 0.999"),
        ("frequency_penalty", -2.5, "between -2 and 2"),
        ("presence_penalty", 2.1, "between -2 and 2"),
        ("max_tokens", 0, "whole number between 1 and 128,000"),
        ("max_tokens", 128_001, "whole number between 1 and 128,000"),
        ("max_tokens", 10.5, "whole number"),
        ("seed", 0, "whole number of at least 1"),
        ("seed", 2.5, "whole number"),
        ("top_k", -1, "between 0 and 200"),
        ("repetition_penalty", 0, "between 0.05 and 2"),
        ("temperature", "hot", "between 0 and 2"),
        ("temperature", True, "between 0 and 2"),
        ("temperature", math.nan, "between 0 and 2"),
        ("max_tokens", math.inf, "whole number"),
        ("stop", ["a", "b", "c", "d", "e"], "up to 4"),
        ("stop", ["a", ""], "up to 4 non-empty strings"),
        ("stop", [1], "non-empty strings"),
        ("stop", "1\n2\n3\n4\n5", "at most 4"),
        ("response_format", "xml", "one of text, json_object, json_schema"),
        ("response_format", {"type": "json_schema"}, "json_schema"),
    ],
)
def test_out_of_range_values_raise_naming_the_parameter_and_range(name: str, value: Any, words: str) -> None:
    with pytest.raises(InvalidParameterError) as caught:
        validate_params("google/gemma-3-27b-it", {name: value})
    assert caught.value.param == name
    assert f"({name})" in str(caught.value)
    assert words in str(caught.value)


def test_bounds_are_inclusive() -> None:
    values = {"temperature": 0, "top_p": 1, "min_p": 0.999, "frequency_penalty": -2, "seed": 1, "max_tokens": 8_192}
    assert validate_params("google/gemma-3n-e4b-it", {"temperature": 2, "max_tokens": 8_192}) == {
        "temperature": 2.0, "max_tokens": 8_192,
    }
    assert set(validate_params("google/gemma-3-27b-it", values)) == set(values)


def test_max_tokens_beyond_the_3n_window_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="8,192"):
        validate_params("google/gemma-3n-e4b-it", {"max_tokens": 8_193})


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(InvalidParameterError, match="temprature") as caught:
        validate_params("google/gemma-3-27b-it", {"temprature": 1.0})
    assert caught.value.param == "temprature"


def test_invalid_parameter_error_is_a_chat_error_not_worth_retrying() -> None:
    err = InvalidParameterError("top_p", "Top P must be between 0.01 and 1.")
    assert isinstance(err, ChatError)
    assert not err.retryable
    assert str(err) == "Top P must be between 0.01 and 1."


# -- stop sequences -------------------------------------------------------------------


def test_stop_sequences_one_per_line() -> None:
    assert parse_stop_sequences("User:\r\n\n  ###  \nEND\nUser:\n") == ["User:", "###", "END"]
    assert parse_stop_sequences("") == []


def test_four_stop_sequences_are_fine_five_are_not() -> None:
    assert len(parse_stop_sequences("a\nb\nc\nd")) == MAX_STOP_SEQUENCES
    with pytest.raises(InvalidParameterError, match="at most 4") as caught:
        parse_stop_sequences("a\nb\nc\nd\ne")
    assert caught.value.param == "stop"


def test_stop_text_round_trips() -> None:
    stops = ["User:", "###"]
    assert parse_stop_sequences(format_stop_sequences(stops)) == stops
    assert format_stop_sequences(None) == ""
    assert validate_params("google/gemma-3-4b-it", {"stop": "User:\n###"}) == {"stop": stops}
