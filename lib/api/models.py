"""What each Gemma 3 model on the AI/ML API accepts, taken from its official OpenAPI spec.

The specs are ``shared/aimlapi/*.json``; ``tests/api/test_models.py`` checks this table
against them so that it cannot drift.
"""

from __future__ import annotations

from dataclasses import dataclass

_COMMON_PARAMS = frozenset(
    {
        "max_completion_tokens", "max_tokens", "stream", "stream_options", "temperature",
        "top_p", "seed", "min_p", "top_k", "repetition_penalty", "top_a", "stop",
    }
)
_PENALTIES = frozenset({"frequency_penalty", "presence_penalty", "prediction"})


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
    #: the spec file it comes from, None for a model outside the table
    spec: str | None = None

    @property
    def takes_system_role(self) -> bool:
        return "system" in self.instruction_roles


GEMMA_MODELS: tuple[ModelInfo, ...] = (
    ModelInfo(
        "google/gemma-3-27b-it", "Gemma 3 27B", 128_000, ("system", "developer"),
        _COMMON_PARAMS | _PENALTIES | {"response_format"}, True, "gemma-3-27b-it.json",
    ),
    ModelInfo(
        "google/gemma-3-12b-it", "Gemma 3 12B", 128_000, (),
        _COMMON_PARAMS | _PENALTIES, True, "gemma-3.json",
    ),
    ModelInfo(
        "google/gemma-3-4b-it", "Gemma 3 4B", 128_000, (),
        _COMMON_PARAMS | _PENALTIES, True, "gemma-3.json",
    ),
    ModelInfo(
        "google/gemma-3n-e4b-it", "Gemma 3n E4B", 8_192, (),
        _COMMON_PARAMS | {"logit_bias"}, False, "gemma-3n-e4b-it.json",
    ),
)

_BY_ID = {m.id: m for m in GEMMA_MODELS}


def model_info(model_id: str) -> ModelInfo:
    """The capabilities of ``model_id``; an id outside the table gets OpenAI-style defaults."""
    known = _BY_ID.get(model_id.removesuffix(":free"))
    if known:
        return known
    return ModelInfo(
        model_id, model_id, None, ("system",),
        _COMMON_PARAMS | _PENALTIES | {"response_format"}, False,
    )
