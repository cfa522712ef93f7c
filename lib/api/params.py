"""The sampling parameters a user can set, as data: ranges, steps, labels and help.

Ranges come from the official specs (``tests/api/test_params.py`` compares them). Where a
spec gives no bound, ``own_range`` says that min/max are this app's choice, so that a
slider has ends. A parameter left unset (None) is not sent: the API's default applies.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Literal

from lib.api.models import model_info
from lib.errors import InvalidParameterError

#: float and int: a number; stop: a list of strings; choice: one of ``options``
Kind = Literal["float", "int", "stop", "choice"]

MAX_STOP_SEQUENCES = 4
RESPONSE_FORMATS = ("text", "json_object")


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


PARAMS: tuple[ParamSpec, ...] = (
    ParamSpec(
        "temperature", "Temperature", "float", 0.0, 2.0, 0.05, 1.0,
        "Randomness of sampling: lower is more focused and repeatable, higher more varied. "
        "Change this or Top P, not both.",
    ),
    ParamSpec(
        "top_p", "Top P", "float", 0.01, 1.0, 0.01, 0.95,
        "Nucleus sampling: only the most likely tokens that together make up this share of "
        "the probability are considered.",
    ),
    ParamSpec(
        "top_k", "Top K", "int", 0, 200, 1, 64,
        "Only the K most likely tokens are considered at each step (0 usually means no limit). "
        "Gemma's own default is 64.",
        own_range=True,
    ),
    ParamSpec(
        "min_p", "Min P", "float", 0.001, 0.999, 0.001, 0.05,
        "Drops tokens whose probability is below this share of the most likely token's.",
    ),
    # The spec bounds max_tokens only from below; the model's context window is the upper
    # bound that matters, filled in per model by params_for().
    ParamSpec(
        "max_tokens", "Max tokens", "int", 1, None, 1, 2048,
        "Upper limit on the length of the reply, in tokens. A reply that reaches it is cut off.",
        own_range=True,
    ),
    ParamSpec(
        "frequency_penalty", "Frequency penalty", "float", -2.0, 2.0, 0.1, 0.0,
        "Positive values make the model less likely to repeat the same words verbatim.",
    ),
    ParamSpec(
        "presence_penalty", "Presence penalty", "float", -2.0, 2.0, 0.1, 0.0,
        "Positive values push the model towards new topics.",
    ),
    # The spec gives no range; backends reject 0 and 1 means no penalty, so (0, 2] as on
    # OpenRouter, in steps that land on 1.0.
    ParamSpec(
        "repetition_penalty", "Repetition penalty", "float", 0.05, 2.0, 0.05, 1.0,
        "Above 1 discourages repeated phrases, below 1 encourages them; 1 means no penalty.",
        own_range=True,
    ),
    ParamSpec(
        "seed", "Seed", "int", 1, None, 1, 42,
        "The same seed and settings make replies repeatable on a best-effort basis.",
    ),
    ParamSpec(
        "stop", "Stop sequences", "stop", default=[],
        help=f"Up to {MAX_STOP_SEQUENCES} sequences, one per line; the reply ends before any of them.",
    ),
    ParamSpec(
        "response_format", "Response format", "choice", default="text",
        help="json_object makes the model answer with a JSON object; say so in the prompt as well.",
        options=RESPONSE_FORMATS,
    ),
)

_BY_NAME = {p.name: p for p in PARAMS}


def param_spec(name: str) -> ParamSpec:
    """The spec of one parameter, whatever the model; KeyError for a name not in PARAMS."""
    return _BY_NAME[name]


def params_for(model_id: str) -> list[ParamSpec]:
    """The parameters ``model_id`` takes, in display order, with max_tokens capped at its window."""
    info = model_info(model_id)
    out = []
    for spec in PARAMS:
        if spec.name not in info.params:
            continue
        if spec.name == "max_tokens" and info.context_window is not None:
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


def _check_choice(spec: ParamSpec, value: Any) -> dict[str, str]:
    # the request wants {"type": ...}; a stored body value is accepted back as well
    kind = value.get("type") if isinstance(value, dict) and len(value) == 1 else value
    if kind not in spec.options:
        raise _fail(spec, value)
    return {"type": kind}
