"""lib/api/models.py: what it reads from the vendored official specs, and the specs themselves."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lib.api import models, params
from lib.api.models import GEMMA_MODELS, SPECS_DIR, ModelInfo, model_info
from tests.conftest import ROOT, request_schema

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


def test_the_27b_lists_system_before_developer() -> None:
    # the first role is the one the sidebar's radio starts on
    assert model_info("google/gemma-3-27b-it").instruction_roles == ("system", "developer")
    assert model_info("google/gemma-3-27b-it").roles == {"user", "assistant", "system", "developer"}
    assert model_info("google/gemma-3-4b-it").roles == {"user", "assistant"}


# -- the vendored specs --------------------------------------------------------------------


def source_table() -> dict[str, tuple[str, str]]:
    """File name -> (git blob id, sha256), as lib/api/specs/SOURCE.md records them."""
    row = r"^\| `([\w.-]+\.json)` \|.*\| `([0-9a-f]{40})` \| `([0-9a-f]{64})` \|$"
    rows = re.findall(row, (SPECS_DIR / "SOURCE.md").read_text(), re.M)
    return {name: (blob, sha) for name, blob, sha in rows}


def test_the_specs_live_beside_the_module_inside_the_repository() -> None:
    assert SPECS_DIR == ROOT / "lib" / "api" / "specs"
    assert models.spec_files() == SPEC_FILES


def test_source_md_lists_every_vendored_spec() -> None:
    assert set(source_table()) == {p.name for p in SPECS_DIR.glob("*.json")} == set(SPEC_FILES)


@pytest.mark.parametrize("spec_file", SPEC_FILES)
def test_the_vendored_specs_are_the_upstream_bytes(spec_file: str) -> None:
    """Unchanged since copied: the hashes recorded in SOURCE.md (the blob id is upstream's)."""
    data = (SPECS_DIR / spec_file).read_bytes()
    blob, sha = source_table()[spec_file]
    assert hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest() == blob
    assert hashlib.sha256(data).hexdigest() == sha


@pytest.mark.parametrize("spec_file", SPEC_FILES)
def test_both_paths_of_a_spec_take_the_same_body(spec_file: str) -> None:
    # the app reads the /v1 one; the base URL may name either
    paths = json.loads((SPECS_DIR / spec_file).read_text())["paths"]
    assert paths["/v1/chat/completions"]["post"]["requestBody"] == paths["/chat/completions"]["post"]["requestBody"]


def test_git_does_not_ignore_the_specs() -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    files = [str(p.relative_to(ROOT)) for p in sorted(SPECS_DIR.iterdir())]
    ignored = subprocess.run(["git", "-C", str(ROOT), "check-ignore", *files], capture_output=True, text=True, check=False)
    assert ignored.stdout == "", f"ignored by .gitignore: {ignored.stdout}"


# -- read at run time, not copied into code -------------------------------------------------

_CACHED: tuple[Callable[..., Any], ...] = (
    models.spec_files, models.request_schema, models._gemma_models, params._spec_params, params._all_params,
)


Edit = Callable[[str, Callable[[dict[str, Any]], None]], None]


@pytest.fixture
def edited_specs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Edit]:
    """A copy of the specs to edit; the module reads it instead of the vendored one."""
    for spec_file in SPEC_FILES:
        shutil.copy(SPECS_DIR / spec_file, tmp_path / spec_file)
    monkeypatch.setattr(models, "SPECS_DIR", tmp_path)

    def edit(spec_file: str, change: Callable[[dict[str, Any]], None]) -> None:
        spec = json.loads((tmp_path / spec_file).read_text())
        change(spec["paths"]["/v1/chat/completions"]["post"]["requestBody"]["content"]["application/json"]["schema"])
        (tmp_path / spec_file).write_text(json.dumps(spec))

    for function in _CACHED:
        function.cache_clear()  # type: ignore[attr-defined]
    yield edit
    monkeypatch.undo()
    for function in _CACHED:
        function.cache_clear()  # type: ignore[attr-defined]


def test_a_role_added_to_a_spec_is_taken(edited_specs: Edit) -> None:
    def add_system(schema: dict[str, Any]) -> None:
        variants = schema["properties"]["messages"]["items"]["oneOf"]
        role = {"type": "string", "enum": ["system"]}
        variants.append({**variants[0], "properties": {**variants[0]["properties"], "role": role}})

    edited_specs("gemma-3.json", add_system)
    by_id = {m.id: m for m in models._gemma_models()}
    assert by_id["google/gemma-3-12b-it"].takes_system_role and by_id["google/gemma-3-4b-it"].takes_system_role
    assert not by_id["google/gemma-3n-e4b-it"].takes_system_role


def test_a_changed_range_or_parameter_is_taken(edited_specs: Edit) -> None:
    def change(schema: dict[str, Any]) -> None:
        schema["properties"]["temperature"]["maximum"] = 1.5
        schema["properties"]["top_k"].update(minimum=1, maximum=100)
        del schema["properties"]["seed"]

    edited_specs("gemma-3n-e4b-it.json", change)
    by_name = {p.name: p for p in params._spec_params("gemma-3n-e4b-it.json")}
    assert by_name["temperature"].max == 1.5
    assert (by_name["top_k"].min, by_name["top_k"].max, by_name["top_k"].own_range) == (1, 100, False)
    assert "seed" not in by_name
    assert "seed" not in next(m for m in models._gemma_models() if m.spec == "gemma-3n-e4b-it.json").params


def test_images_follow_the_user_content_parts(edited_specs: Edit) -> None:
    def drop_images(schema: dict[str, Any]) -> None:
        (user,) = [v for v in schema["properties"]["messages"]["items"]["oneOf"] if v["properties"]["role"]["enum"] == ["user"]]
        for option in user["properties"]["content"]["anyOf"]:
            if option.get("type") == "array":
                parts = option["items"]["anyOf"]
                option["items"]["anyOf"] = [p for p in parts if p["properties"]["type"]["enum"] != ["image_url"]]

    edited_specs("gemma-3-27b-it.json", drop_images)
    assert not models._gemma_models()[0].images


def test_an_offered_model_missing_from_the_specs_is_an_error(edited_specs: Edit) -> None:
    edited_specs("gemma-3.json", lambda schema: schema["properties"]["model"]["enum"].remove("google/gemma-3-4b-it"))
    with pytest.raises(LookupError, match="google/gemma-3-4b-it"):
        models._gemma_models()


def test_no_spec_at_all_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(models, "SPECS_DIR", tmp_path)
    models.spec_files.cache_clear()
    try:
        with pytest.raises(FileNotFoundError, match="no OpenAPI spec"):
            models.spec_files()
    finally:
        monkeypatch.undo()
        models.spec_files.cache_clear()
