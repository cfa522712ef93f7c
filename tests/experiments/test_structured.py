"""lib/experiments/structured.py: JSON mode and JSON-schema mode from the specs, schemas checked, replies as JSON."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from lib.api.client import ChatClient
from lib.api.fake_api import Behaviour, FakeAPI
from lib.api.models import GEMMA_MODELS
from lib.api.request import api_messages, build_body
from lib.errors import ChatError, InvalidParameterError, SchemaError
from lib.experiments.structured import (
    format_reply,
    json_mode,
    load_schema,
    mentions_json,
    parse_json_reply,
    schema_mode,
    schema_problems,
    structured_modes,
)
from tests.conftest import request_schema, validate_request

BIG = "google/gemma-3-27b-it"
PERSON = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}, "tags": {"type": "array"}},
    "required": ["name", "age"],
    "additionalProperties": False,
}
PERSON_TEXT = json.dumps(PERSON, indent=2)


# -- which models ----------------------------------------------------------------------------


def spec_modes(spec_file: str) -> set[str]:
    prop = request_schema(spec_file)["properties"].get("response_format")
    if prop is None:
        return set()
    return {t for v in prop["oneOf"] for t in v["properties"]["type"]["enum"]} - {"text"}


@pytest.mark.parametrize("info", GEMMA_MODELS, ids=lambda m: m.id)
def test_modes_are_the_specs(info: Any) -> None:
    assert set(structured_modes(info.id)) == spec_modes(info.spec)


def test_only_the_27b_has_structured_output() -> None:
    assert structured_modes(BIG) == ("json_object", "json_schema")
    assert structured_modes(BIG + ":free") == ("json_object", "json_schema")
    for model in ("google/gemma-3-12b-it", "google/gemma-3-4b-it", "google/gemma-3n-e4b-it"):
        assert structured_modes(model) == ()


def test_a_model_outside_the_specs_is_assumed_to_have_it() -> None:
    assert structured_modes("acme/other-model") == ("json_object", "json_schema")


def test_a_model_without_it_is_refused() -> None:
    with pytest.raises(InvalidParameterError) as caught:
        json_mode("google/gemma-3-4b-it")
    assert caught.value.param == "response_format"
    assert "Gemma 3 4B" in str(caught.value)
    with pytest.raises(InvalidParameterError):
        schema_mode("google/gemma-3n-e4b-it", PERSON_TEXT)


# -- the parameter, valid against the 27B spec -------------------------------------------------


def body_with(response_format: dict[str, Any]) -> dict[str, Any]:
    messages = api_messages("Reply in JSON.", [{"role": "user", "content": "Ann, 31"}], BIG)
    return build_body(BIG, messages, {"response_format": response_format, "temperature": 0.2})


def test_json_mode() -> None:
    assert json_mode(BIG) == {"type": "json_object"}
    body = body_with(json_mode(BIG))
    assert body["response_format"] == {"type": "json_object"}
    validate_request(body, "gemma-3-27b-it.json")


def test_schema_mode_from_text() -> None:
    param = schema_mode(BIG, PERSON_TEXT)
    assert param == {"type": "json_schema", "json_schema": {"name": "reply", "schema": PERSON}}
    validate_request(body_with(param), "gemma-3-27b-it.json")


def test_schema_mode_with_every_field() -> None:
    param = schema_mode(BIG, PERSON, name="person-v2_1", strict=True, description="  A person.  ")
    assert param["json_schema"] == {"name": "person-v2_1", "schema": PERSON, "strict": True, "description": "A person."}
    validate_request(body_with(param), "gemma-3-27b-it.json")


def test_the_spec_itself_refuses_what_schema_mode_refuses() -> None:
    # the checks below are the spec's own rules: a json_schema without its schema object fails
    with pytest.raises(jsonschema.ValidationError):
        validate_request(body_with({"type": "json_schema"}), "gemma-3-27b-it.json")


def test_schema_mode_copies_the_schema() -> None:
    schema = json.loads(PERSON_TEXT)
    param = schema_mode(BIG, schema)
    schema["properties"]["name"]["type"] = "integer"
    assert param["json_schema"]["schema"] == PERSON


@pytest.mark.parametrize("name", ["", "a b", "x" * 65, "naïve", "a/b"])
def test_a_bad_schema_name_is_refused(name: str) -> None:
    with pytest.raises(SchemaError, match="name"):
        schema_mode(BIG, PERSON_TEXT, name=name)


def test_the_body_reaches_the_server(fake_api: FakeAPI, client: ChatClient) -> None:
    fake_api.plan(Behaviour(reply='{"name": "Ann", "age": 31}'))
    body = body_with(schema_mode(BIG, PERSON_TEXT))
    reply = "".join(chunk.text for chunk in client.stream(body))
    assert fake_api.bodies()[-1] == body
    assert format_reply(reply, PERSON) == ('{\n  "name": "Ann",\n  "age": 31\n}', True, "Valid JSON, matching the schema.")


# -- the schema checked before sending ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("{'type': 'object'}", "not valid JSON: Expecting property name enclosed in double quotes at line 1, column 2"),
        ('{"type": "object",}', "not valid JSON"),
        ("[1, 2]", "not an array"),
        ('"object"', "not a string"),
        ("42", "not a number"),
        ("true", "not a boolean"),
        ('{"type": "strnig"}', "not a valid JSON Schema: at $.type"),
        ('{"type": "object", "properties": {"age": {"type": "integr"}}}', "at $.properties.age.type"),
        ('{"type": "object", "required": "name"}', "at $.required"),
        ('{"type": "object", "properties": {"a": {"minimum": "0"}}}', "at $.properties.a.minimum"),
        ('{"type": "array", "items": {"type": "string"}}', 'needs an object schema: write "type": "object"'),
        ('{"properties": {"a": {}}}', "needs an object schema"),
        ('{"type": "object", "properties": {"a": {"$ref": "https://example.org/s.json"}}}', "only references within"),
        ('{"type": "object", "properties": {"a": {"$ref": "#/$defs/missing"}}}', "'#/$defs/missing', which it does not hold"),
    ],
)
def test_bad_schemas_are_refused_clearly(text: str, words: str) -> None:
    with pytest.raises(SchemaError) as caught:
        schema_mode(BIG, text)
    assert words in str(caught.value)
    assert isinstance(caught.value, ChatError) and not caught.value.retryable


def test_a_schema_nested_beyond_reading_is_refused() -> None:
    with pytest.raises(SchemaError, match="nested too deeply"):
        load_schema('{"a":' * 100_000 + "1" + "}" * 100_000)


def test_any_schema_for_a_check() -> None:
    assert load_schema('{"type": "array"}', object_only=False) == {"type": "array"}
    assert load_schema("{}", object_only=False) == {}


def test_references_within_the_schema_are_fine() -> None:
    schema = {
        "type": "object",
        "$defs": {"n": {"type": "integer"}},
        "properties": {"a": {"$ref": "#/$defs/n"}, "self": {"$ref": "#"}},
    }
    assert load_schema(json.dumps(schema)) == schema
    assert schema_problems({"a": "x"}, schema) == ["at $.a: 'x' is not of type 'integer'"]


# -- replies ----------------------------------------------------------------------------------


def test_a_json_reply_is_formatted() -> None:
    assert format_reply('{"b":[1,2],"a":"é"}') == ('{\n  "b": [\n    1,\n    2\n  ],\n  "a": "é"\n}', True, "Valid JSON.")


@pytest.mark.parametrize(
    "reply",
    [
        '```json\n{"name": "Ann", "age": 31}\n```',
        '\n  ```JSON\n{"name": "Ann", "age": 31}\n```\n',
        '```\n{"name": "Ann", "age": 31}\n```',
        '````json\n{"name": "Ann", "age": 31}\n````',
    ],
)
def test_json_in_a_single_fence_is_read_and_said_so(reply: str) -> None:
    pretty, valid, detail = format_reply(reply, PERSON)
    assert json.loads(pretty or "") == {"name": "Ann", "age": 31}
    assert valid
    assert detail == "Valid JSON (inside a ```json fence), matching the schema."
    assert parse_json_reply(reply).fenced


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        ("Sure! Here it is.", "Not JSON: Expecting value at line 1, column 1."),
        ('{"a": 1} and more', "Extra data"),
        ('Here you go:\n```json\n{"a": 1}\n```', "text around its ```json block"),
        ("```json\n{'a': 1}\n```", "inside the ``` fence"),
        ('{"a": NaN}', "NaN is not JSON"),
        ("Infinity", "Infinity is not JSON"),
        ("", "Not JSON"),
    ],
)
def test_not_json(reply: str, words: str) -> None:
    assert format_reply(reply)[:2] == (None, False)
    assert words in format_reply(reply)[2]


def test_json_but_not_matching_the_schema() -> None:
    pretty, valid, detail = format_reply('{"name": 5, "age": -1, "extra": true}', PERSON)
    assert pretty is not None and not valid
    assert detail.startswith("Does not match the schema: at $: Additional properties are not allowed ('extra' was unexpected)")
    assert "at $.age: -1 is less than the minimum of 0" in detail
    assert "at $.name: 5 is not of type 'integer'" not in detail and "at $.name: 5 is not of type 'string'" in detail


def test_many_problems_are_counted() -> None:
    schema = {"type": "object", "properties": {k: {"type": "string"} for k in "abcde"}}
    detail = format_reply(json.dumps(dict.fromkeys("abcde", 1)), schema)[2]
    assert detail.endswith("(and 2 more).")


def test_other_json_values_are_json() -> None:
    assert format_reply("null") == ("null", True, "Valid JSON.")
    assert format_reply(" [1, 2] ")[1]
    # the schema says object: an array does not match
    assert not format_reply("[1]", PERSON)[1]


def test_mentions_json() -> None:
    assert mentions_json("Answer in json, please.")
    assert mentions_json("", "Return a JSON object.")
    assert not mentions_json("Answer briefly.", "Who are you?")
