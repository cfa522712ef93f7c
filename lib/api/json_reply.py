"""Offline answers to a ``response_format``: a JSON object, or an instance of the schema asked for.

The fake API and the demo model cannot think, but JSON mode and JSON-schema mode can still be
tried without a key when their answer has the right shape. The instance is the smallest one
that reads naturally: every required property (and, as a sample of the shape, every other
declared one), the first enum value, one item per array unless more are needed. It is checked
with jsonschema before it is sent, so that a schema it cannot satisfy says so rather than
showing a reply the app would then call invalid without explanation.
"""

from __future__ import annotations

import json
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JSONSchemaError

#: sample strings for the formats a schema most often names
_FORMATS = {"date": "2025-01-01", "date-time": "2025-01-01T12:00:00Z", "time": "12:00:00", "email": "ada@example.com",
            "uri": "https://example.com", "uuid": "00000000-0000-4000-8000-000000000000"}
#: how deep an instance goes before it stops following nested (or recursive) schemas
_MAX_DEPTH = 12


def instance_of(schema: dict[str, Any]) -> Any:
    """A small value valid against ``schema`` (a JSON Schema whose references stay within it)."""
    return _instance(schema, schema, 0)


def _resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = root
    for part in ref.removeprefix("#").strip("/").split("/") if ref != "#" else []:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _instance(schema: Any, root: dict[str, Any], depth: int) -> Any:
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None if schema is False else {}
    if isinstance(schema.get("$ref"), str):
        return _instance(_resolve(root, schema["$ref"]), root, depth + 1)
    for given in ("const", "default"):
        if given in schema:
            return schema[given]
    if schema.get("enum"):
        return schema["enum"][0]
    if isinstance(schema.get("examples"), list) and schema["examples"]:
        return schema["examples"][0]
    for options in ("anyOf", "oneOf"):
        if schema.get(options):
            return _instance(schema[options][0], root, depth + 1)
    if schema.get("allOf"):
        merged = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            merged = _merge(merged, part)
        return _instance(merged, root, depth + 1)
    return _typed(schema, _type_of(schema), root, depth)


def _merge(a: dict[str, Any], b: Any) -> dict[str, Any]:
    """Two schemas that must both hold, as one (properties and required lists joined)."""
    if not isinstance(b, dict):
        return a
    merged = {**a, **b}
    merged["properties"] = {**a.get("properties", {}), **b.get("properties", {})}
    merged["required"] = [*a.get("required", []), *b.get("required", [])]
    return merged


def _type_of(schema: dict[str, Any]) -> str:
    kind = schema.get("type")
    if isinstance(kind, list):  # ["string", "null"]: the first that says something
        kind = next((k for k in kind if k != "null"), "null")
    if isinstance(kind, str):
        return kind
    if "properties" in schema or "required" in schema:
        return "object"
    return "array" if "items" in schema or "prefixItems" in schema else "string"


def _typed(schema: dict[str, Any], kind: str, root: dict[str, Any], depth: int) -> Any:
    if kind == "object":
        properties = schema.get("properties", {})
        names = [*properties, *(n for n in schema.get("required", []) if n not in properties)]
        return {name: _instance(properties.get(name, {}), root, depth + 1) for name in names}
    if kind == "array":
        prefix = [_instance(s, root, depth + 1) for s in schema.get("prefixItems", [])]
        wanted = max(schema.get("minItems", 0), min(1, schema.get("maxItems", 1)), len(prefix))
        item = schema.get("items", {})
        return prefix + [_instance(item, root, depth + 1) for _ in range(wanted - len(prefix))]
    if kind in ("integer", "number"):
        return _number(schema, kind)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string(schema)


def _number(schema: dict[str, Any], kind: str) -> int | float:
    low = schema.get("minimum", schema.get("exclusiveMinimum"))
    high = schema.get("maximum", schema.get("exclusiveMaximum"))
    value: float = 0 if low is None else low + (1 if "exclusiveMinimum" in schema and "minimum" not in schema else 0)
    if high is not None and value > high:
        value = high
    return int(value) if kind == "integer" else float(value)


def _string(schema: dict[str, Any]) -> str:
    text = _FORMATS.get(schema.get("format", ""), "example")
    low, high = schema.get("minLength", 0), schema.get("maxLength")
    text = text.ljust(low, "x")
    return text if high is None else text[:high]


def json_reply(response_format: Any, note: str) -> str | None:
    """The answer to ``response_format`` (None when it asks for no JSON): for ``json_object`` an
    object carrying ``note``; for ``json_schema`` an instance of its schema, valid against it."""
    if not isinstance(response_format, dict):
        return None
    if response_format.get("type") == "json_object":
        return json.dumps({"note": note}, ensure_ascii=False)
    if response_format.get("type") != "json_schema":
        return None
    schema = (response_format.get("json_schema") or {}).get("schema")
    if not isinstance(schema, dict):
        return None
    value = instance_of(schema)
    try:
        errors = list(Draft202012Validator(schema).iter_errors(value))
    except JSONSchemaError:
        errors = []
    if errors:  # a pattern, a multipleOf …: said, so that the reply's failed check has a reason
        note = f"{note} (The offline answer could not meet this schema: {errors[0].message}.)"
        return json.dumps({"note": note}, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)
