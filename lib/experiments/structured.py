"""Structured output: JSON mode and JSON-schema mode, and replies shown as formatted JSON.

Which models have it is read from the vendored specs: a spec that defines ``response_format``
(of the Gemma specs only ``gemma-3-27b-it.json`` does) gives it as a oneOf of
``{"type": "text"}``, ``{"type": "json_object"}`` and
``{"type": "json_schema", "json_schema": {"name", "schema", "strict", "description"}}``, the name
required and made of at most 64 letters, digits, ``_`` or ``-``. The spec notes that in JSON
mode the model writes JSON only when a message asks for it (:func:`mentions_json`).

A schema typed by the user is checked before anything is sent (:func:`load_schema`): it must
be JSON, a valid JSON Schema (draft 2020-12, what ``jsonschema.Draft202012Validator`` checks),
and for structured output an object schema (``"type": "object"`` at the top, as OpenAI-style
servers require). Replies are read as JSON either whole or as the only thing in a single
```json fenced block, which models often write even in JSON mode (:func:`parse_json_reply`).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from typing import Any, Literal

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JSONSchemaError
from referencing import Registry
from referencing.exceptions import Unresolvable
from referencing.jsonschema import DRAFT202012

from lib.api.models import model_info, request_properties, spec_files
from lib.errors import InvalidParameterError, SchemaError

Mode = Literal["json_object", "json_schema"]
MODES: tuple[Mode, ...] = ("json_object", "json_schema")
#: the spec's words for json_schema.name
SCHEMA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
DEFAULT_SCHEMA_NAME = "reply"
#: how many schema problems a detail names before it says how many more there are
MAX_PROBLEMS = 3

#: a reply that is one fenced block and nothing else: ```json (or a bare ```) … ```
_WHOLE_FENCE = re.compile(r"\A\s*(?P<fence>`{3,})[ \t]*(?:json)?[ \t]*\n(?P<body>.*?)\n?[ \t]*(?P=fence)\s*\Z", re.S | re.I)
_ANY_FENCE = re.compile(r"^[ \t]*`{3,}[ \t]*json", re.M | re.I)


# -- which models, which modes ---------------------------------------------------------------


def _spec_modes(spec_file: str) -> tuple[Mode, ...]:
    prop = request_properties(spec_file).get("response_format", {})
    listed = {t for variant in prop.get("oneOf", []) for t in variant.get("properties", {}).get("type", {}).get("enum", [])}
    return tuple(m for m in MODES if m in listed)


def structured_modes(model: str) -> tuple[Mode, ...]:
    """The structured-output modes ``model``'s spec offers; empty when it has no ``response_format``.

    A model outside the specs is assumed to take what the fullest spec gives, as
    :func:`lib.api.models.model_info` assumes for its other parameters.
    """
    info = model_info(model)
    if "response_format" not in info.params:
        return ()
    if info.spec is not None:
        return _spec_modes(info.spec)
    return next((modes for spec in spec_files() if (modes := _spec_modes(spec))), ())


def _require(model: str, mode: Mode) -> None:
    if mode not in structured_modes(model):
        offered = structured_modes(model)
        which = f"only {', '.join(offered)}" if offered else "no structured output"
        raise InvalidParameterError("response_format", f"{model_info(model).label} takes {which}, not {mode}.")


# -- the schema ---------------------------------------------------------------------------


def _where(path: Any) -> str:
    """A JSON path such as ``$.properties.age.type`` for a jsonschema error's path."""
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def load_schema(text: str | dict[str, Any], *, object_only: bool = True) -> dict[str, Any]:
    """The schema in ``text``, checked; SchemaError saying what is wrong and where.

    ``object_only`` (structured output) also wants ``"type": "object"`` at the top; a check on
    replies may use any schema.
    """
    if isinstance(text, dict):
        schema: Any = text
    else:
        if not text.strip():
            raise SchemaError('The schema is empty: write a JSON Schema such as {"type": "object", "properties": {…}}.')
        try:
            schema = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SchemaError(f"The schema is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from None
        except RecursionError:
            raise SchemaError("The schema is nested too deeply to read.") from None
    if not isinstance(schema, dict):
        raise SchemaError(f"A schema is a JSON object {{…}}, not {_json_kind(schema)}.")
    try:
        Draft202012Validator.check_schema(schema)
    except JSONSchemaError as exc:
        raise SchemaError(f"The schema is not a valid JSON Schema: at {_where(exc.path)}, {exc.message}.") from None
    refs = _refs(schema)
    if outside := next((r for r in refs if not r.startswith("#")), None):
        raise SchemaError(f"The schema refers to {outside!r}: only references within the schema (#/…) can be followed.")
    if nowhere := _unresolvable(schema, refs):
        raise SchemaError(f"The schema refers to {nowhere!r}, which it does not hold.")
    if object_only and schema.get("type") != "object":
        raise SchemaError('Structured output needs an object schema: write "type": "object" at its top level.')
    return schema


def _refs(node: Any) -> list[str]:
    """Every ``$ref`` in a schema."""
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for value in node.values() for r in _refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in _refs(value)]
    return []


def _unresolvable(schema: dict[str, Any], refs: list[str]) -> str | None:
    """The first reference within the schema that leads nowhere.

    Looked up from the top; a schema with an ``$id`` (which moves the base of references below
    it) is left to the validator, which reports a dangling reference as a problem of the reply.
    """
    if "$id" in json.dumps(schema):
        return None
    resolver = Registry().with_resource("urn:schema", DRAFT202012.create_resource(schema)).resolver(base_uri="urn:schema")
    for ref in refs:
        try:
            resolver.lookup(ref)
        except Unresolvable:
            return ref
    return None


def _json_kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    kinds = {list: "an array", str: "a string", int: "a number", float: "a number", dict: "an object"}
    return kinds.get(type(value), type(value).__name__)


# -- the response_format parameter -----------------------------------------------------------


def json_mode(model: str) -> dict[str, Any]:
    """``response_format`` for JSON mode; InvalidParameterError for a model without it."""
    _require(model, "json_object")
    return {"type": "json_object"}


def schema_mode(
    model: str,
    schema: str | dict[str, Any],
    *,
    name: str = DEFAULT_SCHEMA_NAME,
    strict: bool | None = None,
    description: str = "",
) -> dict[str, Any]:
    """``response_format`` for JSON-schema mode, the schema checked first (:func:`load_schema`).

    ``strict`` is left out unless set: strict adherence takes only a subset of JSON Schema,
    which servers differ on.
    """
    _require(model, "json_schema")
    if not SCHEMA_NAME.fullmatch(name):
        raise SchemaError(f"The schema's name must be 1 to 64 letters, digits, _ or -, not {name!r}.")
    json_schema: dict[str, Any] = {"name": name, "schema": copy.deepcopy(load_schema(schema))}
    if strict is not None:
        json_schema["strict"] = strict
    if description.strip():
        json_schema["description"] = description.strip()
    return {"type": "json_schema", "json_schema": json_schema}


def mentions_json(*texts: str) -> bool:
    """Whether any of the texts (system prompt, messages) asks for JSON, which JSON mode needs."""
    return any("json" in text.casefold() for text in texts)


# -- replies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParsedJSON:
    """A reply read as JSON: ``ok`` with its ``value``, or why not in ``detail``."""

    ok: bool
    value: Any = None
    #: the JSON was the only thing in a ```json fenced block
    fenced: bool = False
    detail: str = ""


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _loads(text: str) -> ParsedJSON:
    try:
        return ParsedJSON(True, json.loads(text, parse_constant=_reject_constant))
    except json.JSONDecodeError as exc:
        return ParsedJSON(False, detail=f"Not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.")
    except ValueError as exc:  # NaN, Infinity
        return ParsedJSON(False, detail=f"Not JSON: {exc}.")
    except RecursionError:
        return ParsedJSON(False, detail="Not JSON that can be read: nested too deeply.")


def parse_json_reply(text: str) -> ParsedJSON:
    """``text`` as JSON: the whole of it, or the inside of a single fenced block that is all there is."""
    whole = _loads(text)
    if whole.ok:
        return whole
    if fence := _WHOLE_FENCE.match(text):
        inside = _loads(fence["body"])
        if not inside.ok:
            return ParsedJSON(False, detail=f"{inside.detail} (inside the ``` fence)")
        return ParsedJSON(True, inside.value, fenced=True)
    if _ANY_FENCE.search(text):
        return ParsedJSON(False, detail="Not JSON: the reply has text around its ```json block.")
    return whole


def schema_problems(value: Any, schema: dict[str, Any]) -> list[str]:
    """What in ``value`` does not match ``schema``, each as ``at $.path: message``, in document order."""
    try:
        errors = sorted(Draft202012Validator(schema).iter_errors(value), key=lambda e: [str(p) for p in e.absolute_path])
    except Unresolvable as exc:
        return [f"the schema's reference {exc.ref!r} leads nowhere"]
    return [f"at {_where(e.absolute_path)}: {e.message}" for e in errors]


def describe_problems(problems: list[str]) -> str:
    shown = "; ".join(problems[:MAX_PROBLEMS])
    more = len(problems) - MAX_PROBLEMS
    return f"Does not match the schema: {shown}" + (f" (and {more} more)." if more > 0 else ".")


def format_reply(text: str, schema: dict[str, Any] | None = None) -> tuple[str | None, bool, str]:
    """A reply as formatted JSON: (pretty text or None when it is no JSON, valid, detail).

    With a ``schema`` (checked by :func:`load_schema` beforehand), valid means it matches it.
    """
    parsed = parse_json_reply(text)
    if not parsed.ok:
        return None, False, parsed.detail
    pretty = json.dumps(parsed.value, indent=2, ensure_ascii=False)
    fenced = " (inside a ```json fence)" if parsed.fenced else ""
    if schema is None:
        return pretty, True, f"Valid JSON{fenced}."
    if problems := schema_problems(parsed.value, schema):
        return pretty, False, describe_problems(problems)
    return pretty, True, f"Valid JSON{fenced}, matching the schema."
