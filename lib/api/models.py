"""What each Gemma 3 model on the AI/ML API accepts, read from its official OpenAPI spec.

The specs are vendored in ``lib/api/specs/`` (``SOURCE.md`` there says where they come from)
and read once, on first use. From them come: which models each spec covers, which request
parameters a model takes, which message roles it accepts, and whether its user messages may
hold images. What the specs do not say is this app's own choice and is written down below,
marked as such: labels, context windows, display order, the order of instruction roles, and
what a model outside the specs is assumed to take.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

#: Next to this module, so that the specs are found however the app is started.
SPECS_DIR = Path(__file__).resolve().parent / "specs"
CHAT_COMPLETIONS = "/v1/chat/completions"
#: the roles of the turns themselves; any other role a spec allows carries instructions
TURN_ROLES = ("user", "assistant")
#: request properties that name the model and carry the turns, not parameters
_NOT_PARAMS = frozenset({"model", "messages"})


# -- reading the specs ------------------------------------------------------------------


@cache
def spec_files() -> tuple[str, ...]:
    """The vendored spec files, by name."""
    names = tuple(sorted(p.name for p in SPECS_DIR.glob("*.json")))
    if not names:
        raise FileNotFoundError(f"no OpenAPI spec in {SPECS_DIR}: the app needs the vendored Gemma 3 specs")
    return names


def load_spec(spec_file: str) -> dict[str, Any]:
    """One whole spec. Not cached: only its request schema is kept (the responses are most of it)."""
    return json.loads((SPECS_DIR / spec_file).read_text(encoding="utf-8"))


@cache
def request_schema(spec_file: str) -> dict[str, Any]:
    """The JSON schema of a ``POST /v1/chat/completions`` body in ``spec_file``."""
    operation = load_spec(spec_file)["paths"][CHAT_COMPLETIONS]["post"]
    return operation["requestBody"]["content"]["application/json"]["schema"]


def request_properties(spec_file: str) -> dict[str, dict[str, Any]]:
    """The properties of a request body, by name, as the spec gives them."""
    return request_schema(spec_file)["properties"]


def spec_models(spec_file: str) -> tuple[str, ...]:
    """The model ids a spec covers (its ``model`` enum)."""
    return tuple(request_properties(spec_file)["model"]["enum"])


def spec_params(spec_file: str) -> frozenset[str]:
    """The request parameters a spec defines: every body property but the model and messages."""
    return frozenset(request_properties(spec_file)) - _NOT_PARAMS


def _message_variants(spec_file: str) -> list[dict[str, Any]]:
    return request_properties(spec_file)["messages"]["items"]["oneOf"]


def message_roles(spec_file: str) -> tuple[str, ...]:
    """The roles a message may have, in the spec's order."""
    roles: list[str] = []
    for variant in _message_variants(spec_file):
        roles += [r for r in variant["properties"]["role"]["enum"] if r not in roles]
    return tuple(roles)


def content_part_types(spec_file: str, role: str) -> frozenset[str]:
    """The ``type`` of each content part a message of ``role`` may hold (empty: text only)."""
    types: set[str] = set()
    for variant in _message_variants(spec_file):
        if role not in variant["properties"]["role"]["enum"]:
            continue
        for option in variant["properties"]["content"].get("anyOf", []):
            if option.get("type") != "array":
                continue
            items = option["items"]
            for part in items.get("anyOf", [items]):
                types.update(part["properties"]["type"]["enum"])
    return frozenset(types)


# -- this app's choices: what the specs do not say ---------------------------------------


@dataclass(frozen=True)
class _AppModel:
    id: str
    label: str
    #: The specs give no context window; these are the figures the app works with.
    context_window: int


#: The Gemma models offered, in the order the model select shows them.
_APP_MODELS: tuple[_AppModel, ...] = (
    _AppModel("google/gemma-3-27b-it", "Gemma 3 27B", 128_000),
    _AppModel("google/gemma-3-12b-it", "Gemma 3 12B", 128_000),
    _AppModel("google/gemma-3-4b-it", "Gemma 3 4B", 128_000),
    _AppModel("google/gemma-3n-e4b-it", "Gemma 3n E4B", 8_192),
)

#: Instruction roles in the order offered: ``system`` first, as the one every
#: OpenAI-compatible server knows. Roles a spec has beyond these follow in its own order.
_INSTRUCTION_ROLE_ORDER = ("system", "developer")

#: A model id typed by the user has no spec here. It is assumed to be OpenAI-compatible:
#: the parameters of the fullest Gemma spec, a ``system`` role, and no images (an image
#: sent to a text-only model fails the whole request).
_OTHER_MODEL_PARAMS_FROM = "gemma-3-27b-it.json"
_OTHER_MODEL_INSTRUCTION_ROLES = ("system",)


# -- the models ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelInfo:
    id: str
    label: str
    #: context window in tokens, or None when unknown (a model id typed by the user)
    context_window: int | None
    #: roles the model takes for instructions besides user and assistant
    instruction_roles: tuple[str, ...]
    #: request parameters the model's spec defines
    params: frozenset[str]
    #: whether user messages may hold ``image_url`` parts
    images: bool
    #: the spec file it comes from, None for a model outside the specs
    spec: str | None = None

    @property
    def takes_system_role(self) -> bool:
        return "system" in self.instruction_roles

    @property
    def roles(self) -> frozenset[str]:
        """Every role a message to this model may have."""
        return frozenset(TURN_ROLES) | set(self.instruction_roles)


def spec_of(model_id: str) -> str | None:
    """The vendored spec whose ``model`` enum holds ``model_id``, or None."""
    for spec_file in spec_files():
        if model_id in spec_models(spec_file):
            return spec_file
    return None


def _instruction_roles(spec_file: str) -> tuple[str, ...]:
    extra = [r for r in message_roles(spec_file) if r not in TURN_ROLES]
    preferred = [r for r in _INSTRUCTION_ROLE_ORDER if r in extra]
    return (*preferred, *(r for r in extra if r not in preferred))


def _from_spec(app: _AppModel) -> ModelInfo:
    spec_file = spec_of(app.id)
    if spec_file is None:
        raise LookupError(f"{app.id} is offered but no spec in {SPECS_DIR} lists it in its model enum")
    return ModelInfo(
        app.id, app.label, app.context_window,
        instruction_roles=_instruction_roles(spec_file),
        params=spec_params(spec_file),
        images="image_url" in content_part_types(spec_file, "user"),
        spec=spec_file,
    )


@cache
def _gemma_models() -> tuple[ModelInfo, ...]:
    return tuple(_from_spec(app) for app in _APP_MODELS)


GEMMA_MODELS: tuple[ModelInfo, ...] = _gemma_models()

_BY_ID = {m.id: m for m in GEMMA_MODELS}


def model_info(model_id: str) -> ModelInfo:
    """The capabilities of ``model_id``; an id outside the specs gets OpenAI-style defaults."""
    known = _BY_ID.get(model_id.removesuffix(":free"))
    if known:
        return known
    return ModelInfo(
        model_id, model_id, None, _OTHER_MODEL_INSTRUCTION_ROLES,
        spec_params(_OTHER_MODEL_PARAMS_FROM), False,
    )
