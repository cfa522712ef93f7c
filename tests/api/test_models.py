"""lib/api/models.py's capability table against the official specs, so that it cannot drift."""

from __future__ import annotations

from typing import Any

import pytest

from lib.api.models import GEMMA_MODELS, ModelInfo, model_info
from tests.conftest import request_schema

SPEC_FILES = ("gemma-3-27b-it.json", "gemma-3.json", "gemma-3n-e4b-it.json")


def message_variants(spec_file: str) -> list[dict[str, Any]]:
    return request_schema(spec_file)["properties"]["messages"]["items"]["oneOf"]


def roles(spec_file: str) -> set[str]:
    return {role for variant in message_variants(spec_file) for role in variant["properties"]["role"]["enum"]}


def user_part_types(spec_file: str) -> set[str]:
    (user,) = [v for v in message_variants(spec_file) if v["properties"]["role"]["enum"] == ["user"]]
    types: set[str] = set()
    for option in user["properties"]["content"]["anyOf"]:
        if option.get("type") == "array":
            for part in option["items"]["anyOf"]:
                types.update(part["properties"]["type"]["enum"])
    return types


by_model = pytest.mark.parametrize("info", GEMMA_MODELS, ids=lambda m: m.id)


@by_model
def test_model_id_is_in_its_specs_model_enum(info: ModelInfo) -> None:
    assert info.spec is not None
    assert info.id in request_schema(info.spec)["properties"]["model"]["enum"]


@pytest.mark.parametrize("spec_file", SPEC_FILES)
def test_every_model_of_every_spec_is_in_the_table(spec_file: str) -> None:
    ids = set(request_schema(spec_file)["properties"]["model"]["enum"])
    assert ids == {m.id for m in GEMMA_MODELS if m.spec == spec_file}


@by_model
def test_instruction_roles_are_the_spec_roles_besides_user_and_assistant(info: ModelInfo) -> None:
    spec_roles = roles(info.spec or "")
    assert {"user", "assistant"} <= spec_roles
    assert set(info.instruction_roles) == spec_roles - {"user", "assistant"}
    assert info.takes_system_role == ("system" in spec_roles)


def test_only_27b_takes_system_and_developer() -> None:
    assert roles("gemma-3-27b-it.json") == {"user", "developer", "system", "assistant"}
    assert roles("gemma-3.json") == roles("gemma-3n-e4b-it.json") == {"user", "assistant"}


@by_model
def test_params_are_the_spec_request_properties(info: ModelInfo) -> None:
    properties = set(request_schema(info.spec or "")["properties"])
    assert set(info.params) == properties - {"model", "messages"}


@by_model
def test_images_match_the_specs_user_content_parts(info: ModelInfo) -> None:
    assert info.images == ("image_url" in user_part_types(info.spec or ""))


def test_images_on_27b_12b_4b_but_not_3n() -> None:
    assert {m.id for m in GEMMA_MODELS if m.images} == {
        "google/gemma-3-27b-it", "google/gemma-3-12b-it", "google/gemma-3-4b-it",
    }


def test_context_windows() -> None:
    windows = {m.id: m.context_window for m in GEMMA_MODELS}
    assert windows == {
        "google/gemma-3-27b-it": 128_000, "google/gemma-3-12b-it": 128_000,
        "google/gemma-3-4b-it": 128_000, "google/gemma-3n-e4b-it": 8_192,
    }


def test_free_suffix_finds_the_same_model() -> None:
    assert model_info("google/gemma-3-27b-it:free") is model_info("google/gemma-3-27b-it")


def test_unknown_model_gets_openai_style_defaults() -> None:
    info = model_info("someone/other-model")
    assert info.id == "someone/other-model"
    assert info.context_window is None and info.spec is None
    assert info.takes_system_role
    assert not info.images
    assert {"temperature", "frequency_penalty", "response_format"} <= info.params
