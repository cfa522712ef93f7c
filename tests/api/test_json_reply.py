"""Offline JSON answers (lib.api.json_reply): an object for JSON mode, a valid instance for a schema."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest

from lib.api.json_reply import instance_of, json_reply

SCHEMAS: dict[str, dict[str, Any]] = {
    "flat": {"type": "object", "required": ["name", "age", "ok"],
             "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 18},
                            "ok": {"type": "boolean"}, "score": {"type": "number", "exclusiveMinimum": 0}}},
    "enums and arrays": {"type": "object", "required": ["colour", "sizes"], "additionalProperties": False,
                         "properties": {"colour": {"enum": ["red", "green"]},
                                        "sizes": {"type": "array", "items": {"type": "integer"}, "minItems": 2}}},
    "nested and nullable": {"type": "object", "required": ["person"],
                            "properties": {"person": {"type": "object", "required": ["email", "nick"],
                                                      "properties": {"email": {"type": "string", "format": "email"},
                                                                     "nick": {"type": ["string", "null"], "minLength": 12}}}}},
    "references": {"type": "object", "required": ["items"], "$defs": {"item": {"type": "object", "required": ["id"],
                   "properties": {"id": {"type": "string", "maxLength": 3}}}},
                   "properties": {"items": {"type": "array", "items": {"$ref": "#/$defs/item"}}}},
    "combinations": {"type": "object", "required": ["a", "b", "c"],
                     "properties": {"a": {"anyOf": [{"type": "integer"}, {"type": "string"}]},
                                    "b": {"allOf": [{"type": "object", "required": ["x"], "properties": {"x": {"const": 1}}},
                                                    {"required": ["y"], "properties": {"y": {"type": "string"}}}]},
                                    "c": {"type": "array", "prefixItems": [{"type": "boolean"}, {"type": "null"}]}}},
}


@pytest.mark.parametrize("name", SCHEMAS)
def test_an_instance_validates_against_its_schema(name: str) -> None:
    schema = SCHEMAS[name]
    jsonschema.validate(instance_of(schema), schema)
    reply = json_reply({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}, "a note")
    assert reply is not None
    jsonschema.validate(json.loads(reply), schema)


def test_the_instance_is_small_and_uses_what_the_schema_offers() -> None:
    value = instance_of(SCHEMAS["enums and arrays"])
    assert value == {"colour": "red", "sizes": [0, 0]}
    assert instance_of(SCHEMAS["flat"])["age"] == 18


def test_json_mode_is_answered_with_an_object_and_other_formats_with_nothing() -> None:
    assert json.loads(json_reply({"type": "json_object"}, "offline") or "") == {"note": "offline"}
    assert json_reply(None, "x") is None and json_reply({"type": "text"}, "x") is None


def test_a_schema_it_cannot_meet_is_said_in_the_note() -> None:
    schema = {"type": "object", "required": ["code"], "properties": {"code": {"type": "string", "pattern": "^[0-9]{4}$"}}}
    reply = json.loads(json_reply({"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}, "offline") or "")
    assert "could not meet this schema" in reply["note"]
