"""lib.api.request: the message list and body sent for each Gemma model, checked against its own spec."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest

from lib.api.request import api_messages, build_body
from tests.conftest import validate_request

PROMPT = "You are a pirate. Answer in one sentence."
HISTORY = [
    {"role": "user", "content": "Where is the treasure?"},
    {"role": "assistant", "content": "Under the palm tree, matey."},
    {"role": "user", "content": "Which one?"},
]
FOLDING_MODELS = ["google/gemma-3-4b-it", "google/gemma-3-12b-it", "google/gemma-3n-e4b-it"]
SPEC_OF = {
    "google/gemma-3-27b-it": "gemma-3-27b-it.json",
    "google/gemma-3-12b-it": "gemma-3.json",
    "google/gemma-3-4b-it": "gemma-3.json",
    "google/gemma-3n-e4b-it": "gemma-3n-e4b-it.json",
}
#: every parameter the app may send, with a value valid for every model that has it
ALL_PARAMS: dict[str, Any] = {
    "temperature": 0.7,
    "top_p": 0.9,
    "top_k": 40,
    "min_p": 0.05,
    "top_a": 0.1,
    "repetition_penalty": 1.1,
    "frequency_penalty": 0.2,
    "presence_penalty": 0.1,
    "max_tokens": 512,
    "max_completion_tokens": 512,
    "seed": 7,
    "stop": ["\n\nUser:"],
    "response_format": {"type": "text"},
    "logit_bias": {"1234": -100},
}


# -- the system prompt ---------------------------------------------------------------


def test_27b_gets_the_system_prompt_first() -> None:
    messages = api_messages(PROMPT, HISTORY, "google/gemma-3-27b-it")
    assert messages == [{"role": "system", "content": PROMPT}, *HISTORY]


def test_27b_with_the_developer_role() -> None:
    messages = api_messages(PROMPT, HISTORY, "google/gemma-3-27b-it", instruction_role="developer")
    assert messages[0] == {"role": "developer", "content": PROMPT}
    assert messages[1:] == HISTORY


def test_free_suffix_is_the_same_model() -> None:
    assert api_messages(PROMPT, HISTORY, "google/gemma-3-27b-it:free")[0]["role"] == "system"
    assert api_messages(PROMPT, HISTORY, "google/gemma-3-4b-it:free")[0]["role"] == "user"


@pytest.mark.parametrize("model", FOLDING_MODELS)
@pytest.mark.parametrize("role", ["system", "developer"])
def test_models_without_a_system_role_get_it_folded_into_the_first_user_message(model: str, role: str) -> None:
    messages = api_messages(PROMPT, HISTORY, model, instruction_role=role)
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]
    assert messages[0]["content"] == f"{PROMPT}\n\n{HISTORY[0]['content']}"
    assert messages[1:] == HISTORY[1:], "only the first user message carries the instructions"


@pytest.mark.parametrize("model", [*FOLDING_MODELS, "google/gemma-3-27b-it"])
def test_history_is_not_mutated(model: str) -> None:
    history = copy.deepcopy(HISTORY)
    api_messages(PROMPT, history, model)
    assert history == HISTORY


@pytest.mark.parametrize("model", [*FOLDING_MODELS, "google/gemma-3-27b-it"])
@pytest.mark.parametrize("prompt", ["", "   \n"])
def test_no_prompt_no_instructions(model: str, prompt: str) -> None:
    assert api_messages(prompt, HISTORY, model) == HISTORY


def test_prompt_is_stripped() -> None:
    assert api_messages(f"  {PROMPT}\n", HISTORY, "google/gemma-3-27b-it")[0]["content"] == PROMPT
    assert api_messages(f"  {PROMPT}\n", HISTORY, "google/gemma-3-4b-it")[0]["content"].startswith(PROMPT + "\n\n")


def test_a_model_outside_the_table_gets_a_system_message() -> None:
    messages = api_messages(PROMPT, HISTORY, "some/other-model", instruction_role="developer")
    assert messages[0] == {"role": "system", "content": PROMPT}


def test_folding_into_multimodal_content_keeps_the_parts() -> None:
    parts = [{"type": "text", "text": "What is this?"},
             {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]
    messages = api_messages(PROMPT, [{"role": "user", "content": parts}], "google/gemma-3-4b-it")  # type: ignore[list-item]
    validate_request(build_body("google/gemma-3-4b-it", messages), "gemma-3.json")
    assert isinstance(messages[0]["content"], list)


# -- the body ------------------------------------------------------------------------


def test_body_basics() -> None:
    messages = api_messages(PROMPT, HISTORY, "google/gemma-3-27b-it")
    body = build_body("google/gemma-3-27b-it", messages)
    assert body == {
        "model": "google/gemma-3-27b-it",
        "messages": messages,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_body_drops_none_values() -> None:
    body = build_body("google/gemma-3-27b-it", HISTORY, {"temperature": None, "top_p": 0.5, "seed": None})
    assert body["top_p"] == 0.5
    assert "temperature" not in body and "seed" not in body


@pytest.mark.parametrize(
    ("model", "dropped", "kept"),
    [
        ("google/gemma-3-27b-it", {"logit_bias"}, {"response_format", "frequency_penalty", "presence_penalty"}),
        ("google/gemma-3-12b-it", {"logit_bias", "response_format"}, {"frequency_penalty", "presence_penalty"}),
        ("google/gemma-3-4b-it", {"logit_bias", "response_format"}, {"frequency_penalty", "presence_penalty"}),
        ("google/gemma-3n-e4b-it", {"response_format", "frequency_penalty", "presence_penalty"}, {"logit_bias"}),
    ],
)
def test_body_drops_parameters_the_models_spec_lacks(model: str, dropped: set[str], kept: set[str]) -> None:
    body = build_body(model, HISTORY, {**ALL_PARAMS, "not_a_parameter": 1})
    assert not dropped & body.keys()
    assert kept <= body.keys()
    assert "not_a_parameter" not in body
    common = {"temperature", "top_p", "top_k", "min_p", "top_a", "repetition_penalty", "max_tokens",
              "max_completion_tokens", "seed", "stop"}
    assert {k: body[k] for k in common} == {k: ALL_PARAMS[k] for k in common}


def test_a_none_stream_param_leaves_streaming_on() -> None:
    body = build_body("google/gemma-3-27b-it", HISTORY, {"stream": None, "stream_options": None})
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_params_cannot_turn_streaming_or_usage_off() -> None:
    body = build_body("google/gemma-3-27b-it", HISTORY, {"stream": False, "stream_options": {"include_usage": False}})
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}


def test_the_params_dict_is_not_mutated() -> None:
    params = dict(ALL_PARAMS)
    build_body("google/gemma-3n-e4b-it", HISTORY, params)
    assert params == ALL_PARAMS


# -- against the official specs ------------------------------------------------------


@pytest.mark.parametrize("model", list(SPEC_OF))
@pytest.mark.parametrize("role", ["system", "developer"])
def test_bodies_validate_against_the_models_own_spec(model: str, role: str) -> None:
    messages = api_messages(PROMPT, HISTORY, model, instruction_role=role)
    body = build_body(model, messages, ALL_PARAMS)
    validate_request(body, SPEC_OF[model])


@pytest.mark.parametrize("model", list(SPEC_OF))
def test_minimal_bodies_validate(model: str) -> None:
    validate_request(build_body(model, [{"role": "user", "content": "Hi"}]), SPEC_OF[model])


@pytest.mark.parametrize("model", FOLDING_MODELS)
def test_a_system_role_is_rejected_by_the_small_models_schema(model: str) -> None:
    body = build_body(model, [{"role": "system", "content": PROMPT}, *HISTORY])
    with pytest.raises(jsonschema.ValidationError):
        validate_request(body, SPEC_OF[model])


def test_a_developer_role_is_rejected_for_4b() -> None:
    body = build_body("google/gemma-3-4b-it", [{"role": "developer", "content": PROMPT}, *HISTORY])
    with pytest.raises(jsonschema.ValidationError):
        validate_request(body, "gemma-3.json")


def test_each_spec_only_takes_its_own_models() -> None:
    body = build_body("google/gemma-3-27b-it", HISTORY)
    with pytest.raises(jsonschema.ValidationError):
        validate_request(body, "gemma-3.json")


def test_the_schema_checks_parameter_ranges() -> None:
    """The validation is not vacuous: an out-of-range temperature fails it."""
    body = build_body("google/gemma-3-27b-it", HISTORY, {"temperature": 5})
    with pytest.raises(jsonschema.ValidationError):
        validate_request(body, "gemma-3-27b-it.json")


# -- images ----------------------------------------------------------------------------


def history_with_a_photo() -> list[dict[str, Any]]:
    """A conversation whose user messages carry a prepared photo, as Conversation.history() gives it."""
    from lib.images.prepare import prepare
    from tests.images.pictures import encode, photo_like

    photo = prepare(encode(photo_like(1200, 900), "JPEG"), "photo.jpg")
    return [
        {"role": "user", "content": "What is in this picture?", "images": (photo,)},
        {"role": "assistant", "content": "Colourful blobs."},
        {"role": "user", "content": "", "images": (photo, photo)},
    ]


@pytest.mark.parametrize("model", ["google/gemma-3-27b-it", "google/gemma-3-12b-it", "google/gemma-3-4b-it"])
def test_a_body_with_images_validates_against_the_models_own_spec(model: str) -> None:
    body = build_body(model, api_messages(PROMPT, history_with_a_photo(), model), ALL_PARAMS)
    parts = [p["type"] for m in body["messages"] if isinstance(m["content"], list) for p in m["content"]]
    assert parts.count("image_url") == 3
    validate_request(body, SPEC_OF[model])


def test_an_image_part_fails_the_3n_spec_which_lists_none() -> None:
    model = "google/gemma-3n-e4b-it"
    body = build_body(model, api_messages(PROMPT, history_with_a_photo(), model))
    with pytest.raises(jsonschema.ValidationError):
        validate_request(body, SPEC_OF[model])
