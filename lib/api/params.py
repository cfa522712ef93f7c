"""The sampling parameters a user can set: ranges from the official specs, the rest as data.

What a parameter accepts is read from the model's vendored OpenAPI spec at run time (see
``lib/api/models.py``): whether the model takes it at all, its type, its minimum and maximum,
its default and its allowed values where the spec gives them. The rest is this app's choice
and kept in ``_APP_PARAMS`` below: which parameters are offered and in what order, labels,
help, step sizes, the value shown when a field is turned on, and bounds where a spec gives
none (``own_range`` says so, so that a slider has ends). A parameter left unset (None) is not
sent: the API's default applies.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, replace
from functools import cache
from typing import Any, Literal

from jsonschema import Draft202012Validator

from lib.api.models import GEMMA_MODELS, model_info, request_properties, spec_files
from lib.errors import InvalidParameterError

#: float and int: a number; stop: a list of strings; choice: one of ``options``
Kind = Literal["float", "int", "stop", "choice"]

#: The specs put no limit on the stop list; four is OpenAI's, which compatible servers share.
MAX_STOP_SEQUENCES = 4
#: The response formats offered: all the specs have. A json_schema one is checked against the spec
#: as a whole (:func:`_check_response_format`); lib.experiments.structured builds it.
RESPONSE_FORMATS = ("text", "json_object", "json_schema")
#: the spec's words for json_schema.name, which its JSON Schema leaves to a description
_SCHEMA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


@dataclass(frozen=True)
class ParamSpec:
    name: str
    label: str
    kind: Kind
    #: inclusive bounds; None means unbounded on that side
    min: float | None = None
    max: float | None = None
    step: float | None = None
    #: what the widget shows when the user turns the parameter on (not sent until then)
    default: Any = None
    help: str = ""
    options: tuple[str, ...] = ()
    #: True when the spec gives no (or only one) bound and the rest is this app's choice
    own_range: bool = False


# -- this app's choices: what the specs do not say ---------------------------------------------


@dataclass(frozen=True)
class _AppParam:
    label: str
    help: str
    #: the UI's step size
    step: float | None = None
    #: shown when the field is turned on, unless the spec gives a default
    default: Any = None
    #: only where the spec's type does not say it: e.g. token counts typed "number" are whole
    kind: Kind | None = None
    #: bounds for a slider's ends, used only on a side where the spec gives none
    min: float | None = None
    max: float | None = None
    #: the model's context window is the upper bound (filled in per model by params_for)
    max_is_context_window: bool = False
    #: the values offered, among those the spec allows; empty offers all of them
    options: tuple[str, ...] = ()


#: The parameters offered, in display order. A model gets those its own spec defines.
_APP_PARAMS: dict[str, _AppParam] = {
    "temperature": _AppParam(
        "Temperature",
        "Randomness of sampling: lower is more focused and repeatable, higher more varied. "
        "Change this or Top P, not both.",
        step=0.05, default=1.0,
    ),
    "top_p": _AppParam(
        "Top P",
        "Nucleus sampling: only the most likely tokens that together make up this share of "
        "the probability are considered.",
        step=0.01, default=0.95,
    ),
    # The spec types top_k as any number with no bounds; 0..200 covers every useful value.
    "top_k": _AppParam(
        "Top K",
        "Only the K most likely tokens are considered at each step (0 usually means no limit). "
        "Gemma's own default is 64.",
        step=1, default=64, kind="int", min=0, max=200,
    ),
    "min_p": _AppParam(
        "Min P",
        "Drops tokens whose probability is below this share of the most likely token's.",
        step=0.001, default=0.05,
    ),
    # The spec bounds max_tokens only from below and types it as any number.
    "max_tokens": _AppParam(
        "Max tokens",
        "Upper limit on the length of the reply, in tokens. A reply that reaches it is cut off.",
        step=1, default=2048, kind="int", max_is_context_window=True,
    ),
    "frequency_penalty": _AppParam(
        "Frequency penalty",
        "Positive values make the model less likely to repeat the same words verbatim.",
        step=0.1, default=0.0,
    ),
    "presence_penalty": _AppParam(
        "Presence penalty",
        "Positive values push the model towards new topics.",
        step=0.1, default=0.0,
    ),
    # The spec gives no range; backends reject 0 and 1 means no penalty, so (0, 2] as on
    # OpenRouter, in steps that land on 1.0.
    "repetition_penalty": _AppParam(
        "Repetition penalty",
        "Above 1 discourages repeated phrases, below 1 encourages them; 1 means no penalty.",
        step=0.05, default=1.0, min=0.05, max=2.0,
    ),
    "seed": _AppParam(
        "Seed",
        "The same seed and settings make replies repeatable on a best-effort basis.",
        step=1, default=42,
    ),
    # The spec takes a string or a list of strings; the UI edits a list, one per line.
    "stop": _AppParam(
        "Stop sequences",
        f"Up to {MAX_STOP_SEQUENCES} sequences, one per line; the reply ends before any of them.",
        default=[], kind="stop",
    ),
    "response_format": _AppParam(
        "Response format",
        "json_object makes the model answer with a JSON object; say so in the prompt as well.",
        default="text", options=RESPONSE_FORMATS,
    ),
}


# -- built from the specs ----------------------------------------------------------------


def _kind_of(name: str, prop: dict[str, Any]) -> Kind:
    if prop.get("type") == "integer":
        return "int"
    if prop.get("type") == "number":
        return "float"
    if _options_of(prop):
        return "choice"
    raise TypeError(f"the spec's {name!r} is no number or choice; say in _APP_PARAMS what kind it is")


def _options_of(prop: dict[str, Any]) -> tuple[str, ...]:
    """The allowed values: a plain enum, or the ``type`` of each object in a oneOf."""
    if "enum" in prop:
        return tuple(prop["enum"])
    options: list[str] = []
    for variant in prop.get("oneOf", []):
        options += variant.get("properties", {}).get("type", {}).get("enum", [])
    return tuple(options)


def _number(kind: Kind, value: float | None) -> float | None:
    if value is None:
        return None
    return int(value) if kind == "int" and value == int(value) else float(value)


def _from_spec(name: str, prop: dict[str, Any], app: _AppParam) -> ParamSpec:
    kind = app.kind or _kind_of(name, prop)
    options = tuple(o for o in _options_of(prop) if not app.options or o in app.options) if kind == "choice" else ()
    low, high = prop.get("minimum"), prop.get("maximum")
    own_range = (low is None and app.min is not None) or (high is None and app.max is not None) or app.max_is_context_window
    return ParamSpec(
        name, app.label, kind,
        min=_number(kind, app.min if low is None else low),
        max=_number(kind, app.max if high is None else high),
        step=app.step,
        default=prop.get("default", app.default),
        help=app.help,
        options=options,
        own_range=own_range,
    )


@cache
def _spec_params(spec_file: str) -> tuple[ParamSpec, ...]:
    """The offered parameters ``spec_file`` defines, in display order, as that spec gives them."""
    properties = request_properties(spec_file)
    return tuple(_from_spec(name, properties[name], app) for name, app in _APP_PARAMS.items() if name in properties)


@cache
def _all_params() -> tuple[ParamSpec, ...]:
    """Every offered parameter, as the spec of the first model that has it gives it."""
    found: dict[str, ParamSpec] = {}
    for info in GEMMA_MODELS:
        for spec in _spec_params(info.spec or ""):
            found.setdefault(spec.name, spec)
    if missing := [name for name in _APP_PARAMS if name not in found]:
        raise LookupError(f"offered parameters that no spec defines: {', '.join(missing)}")
    return tuple(found[name] for name in _APP_PARAMS)


#: Every parameter offered, whatever the model; params_for() gives one model's own.
PARAMS: tuple[ParamSpec, ...] = _all_params()

_BY_NAME = {p.name: p for p in PARAMS}


def param_spec(name: str) -> ParamSpec:
    """The spec of one parameter, whatever the model; KeyError for a name not in PARAMS."""
    return _BY_NAME[name]


def params_for(model_id: str) -> list[ParamSpec]:
    """The parameters ``model_id`` takes, in display order, from its own spec.

    A model outside the specs gets PARAMS, filtered by what it is assumed to take; a
    max_tokens is capped at the model's context window where that is known.
    """
    info = model_info(model_id)
    offered = _spec_params(info.spec) if info.spec else PARAMS
    out = []
    for spec in offered:
        if spec.name not in info.params:
            continue
        if _APP_PARAMS[spec.name].max_is_context_window and info.context_window is not None:
            spec = replace(spec, max=info.context_window, default=min(spec.default, info.context_window))
        out.append(spec)
    return out


def unsupported_params(model_id: str, values: dict[str, Any]) -> list[str]:
    """Names set in ``values`` that ``model_id`` does not take (dropped by validate_params)."""
    taken = {p.name for p in params_for(model_id)}
    return [name for name, value in values.items() if name in _BY_NAME and name not in taken and not _is_unset(value)]


def validate_params(model_id: str, values: dict[str, Any]) -> dict[str, Any]:
    """The set, valid values ready for the request body; unset ones (None, no stops) left out.

    Parameters the model does not take are dropped, since values kept from another model
    are expected; a name that is no parameter at all, or a value out of range, raises
    :class:`InvalidParameterError`.
    """
    taken = {p.name: p for p in params_for(model_id)}
    out: dict[str, Any] = {}
    for name, value in values.items():
        if name not in _BY_NAME:
            raise InvalidParameterError(name, f"Unknown parameter {name!r}.")
        if name not in taken or _is_unset(value):
            continue
        more_than_a_type = _type_of(value) == "json_schema" or isinstance(value, dict) and len(value) > 1
        if name == "response_format" and more_than_a_type:
            checked: Any = _check_response_format(model_id, taken[name], value)
        else:
            checked = _check(taken[name], value)
        # stop text of blank lines only means no stop sequences
        if checked != []:
            out[name] = checked
    return out


def parse_stop_sequences(text: str) -> list[str]:
    """Stop sequences typed one per line; blank lines and repeats are skipped.

    Surrounding spaces are dropped because a text area does not show them.
    """
    stops: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line and line not in stops:
            stops.append(line)
    if len(stops) > MAX_STOP_SEQUENCES:
        raise InvalidParameterError(
            "stop", f"Stop sequences (stop): at most {MAX_STOP_SEQUENCES} are allowed, not {len(stops)}."
        )
    return stops


def format_stop_sequences(stops: list[str] | None) -> str:
    """The text-area form of a stop list, the inverse of parse_stop_sequences."""
    return "\n".join(stops or [])


def describe_range(spec: ParamSpec) -> str:
    """The allowed values in words, e.g. ``between 0 and 2`` or ``at least 1``."""
    if spec.kind == "choice":
        return "one of " + ", ".join(spec.options)
    if spec.kind == "stop":
        return f"up to {MAX_STOP_SEQUENCES} non-empty strings"
    kind = "a whole number" if spec.kind == "int" else "a number"
    if spec.min is not None and spec.max is not None:
        return f"{kind} between {_num(spec.min)} and {_num(spec.max)}"
    if spec.min is not None:
        return f"{kind} of at least {_num(spec.min)}"
    if spec.max is not None:
        return f"{kind} of at most {_num(spec.max)}"
    return kind


def _num(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else f"{value:,}"


def _is_unset(value: Any) -> bool:
    return value is None or (isinstance(value, (list, tuple, str)) and not value)


def _fail(spec: ParamSpec, value: Any) -> InvalidParameterError:
    return InvalidParameterError(
        spec.name, f"{spec.label} ({spec.name}) must be {describe_range(spec)}, not {value!r}."
    )


def _check(spec: ParamSpec, value: Any) -> Any:
    if spec.kind == "stop":
        return _check_stop(spec, value)
    if spec.kind == "choice":
        return _check_choice(spec, value)
    # bool is an int subclass, but True is never meant as a number here
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _fail(spec, value)
    if spec.kind == "int":
        if value != int(value):
            raise _fail(spec, value)
        # the spec types max_tokens and top_k as number, but a token count is whole
        number: float = int(value)
    else:
        number = float(value)
    if (spec.min is not None and number < spec.min) or (spec.max is not None and number > spec.max):
        raise _fail(spec, value)
    return number


def _check_stop(spec: ParamSpec, value: Any) -> list[str]:
    if isinstance(value, str):
        return parse_stop_sequences(value)
    if not isinstance(value, (list, tuple)) or len(value) > MAX_STOP_SEQUENCES:
        raise _fail(spec, value)
    if not all(isinstance(s, str) and s for s in value):
        raise _fail(spec, value)
    return list(value)


def _type_of(value: Any) -> Any:
    return value.get("type") if isinstance(value, dict) else value


def _response_format_schema(model_id: str) -> dict[str, Any]:
    """The spec's ``response_format`` property for ``model_id`` (a model outside the specs: the first spec's that has one)."""
    own = model_info(model_id).spec
    files = [own] if own else [f for f in spec_files() if "response_format" in request_properties(f)]
    return request_properties(files[0])["response_format"]


def _check_response_format(model_id: str, spec: ParamSpec, value: dict[str, Any]) -> dict[str, Any]:
    """A response format with more than its type (json_schema's schema), checked against the model's spec."""
    kind = _type_of(value)
    if kind not in spec.options:
        raise _fail(spec, value)
    if kind != "json_schema":
        raise InvalidParameterError(spec.name, f"{spec.label} ({spec.name}): only json_schema takes more than a type.")
    inner = value.get("json_schema") if isinstance(value, dict) else None
    if not isinstance(inner, dict):
        raise InvalidParameterError(spec.name, f"{spec.label} ({spec.name}): json_schema needs its json_schema object.")
    errors = list(Draft202012Validator(_response_format_schema(model_id)).iter_errors(value))
    if errors:
        # A oneOf error names no reason; those inside its json_schema branch do.
        inside = [c.message for e in errors for c in e.context or [e] if list(c.path)[:1] == ["json_schema"]]
        reasons = inside or [e.message for e in errors]
        detail = "; ".join(dict.fromkeys(reasons))
        raise InvalidParameterError(spec.name, f"{spec.label} ({spec.name}): the json_schema is not as the spec wants: {detail}.")
    if not _SCHEMA_NAME.fullmatch(str(inner.get("name", ""))):
        raise InvalidParameterError(
            spec.name, f"{spec.label} ({spec.name}): the json_schema name must be 1 to 64 letters, digits, _ or -."
        )
    return json.loads(json.dumps(value))  # a copy: the conversation's params must not share it


def _check_choice(spec: ParamSpec, value: Any) -> dict[str, str]:
    # the request wants {"type": ...}; a stored body value is accepted back as well
    kind = value.get("type") if isinstance(value, dict) and len(value) == 1 else value
    if kind not in spec.options:
        raise _fail(spec, value)
    return {"type": kind}
