"""lib/experiments/presets.py: built-in and user system-prompt presets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lib.chat.session import ChatSession
from lib.errors import ChatError
from lib.experiments.presets import BUILTIN_PRESETS, MAX_NAME_LENGTH, Preset, PresetError, Presets
from lib.settings import DEFAULT_SYSTEM_PROMPT, load_settings
from lib.store.database import Store


@pytest.fixture
def mine() -> Presets:
    return Presets().add("Pirate", "Talk like a pirate.").add("Haiku", "Answer in a haiku.")


def test_builtins_include_the_default_prompt_first() -> None:
    assert BUILTIN_PRESETS[0] == Preset("Helpful assistant", DEFAULT_SYSTEM_PROMPT, True)
    names = [p.name for p in BUILTIN_PRESETS]
    assert {"Concise", "Socratic tutor", "Code reviewer", "JSON only", "Translator"} <= set(names)
    assert len({n.casefold() for n in names}) == len(names)
    assert all(p.builtin and p.prompt.strip() for p in BUILTIN_PRESETS)


def test_json_only_prompt_mentions_json() -> None:
    # the API's json_object mode wants the word JSON in the instructions
    assert "JSON" in Presets().get("JSON only").prompt  # type: ignore[union-attr]


def test_builtins_come_first_then_user_presets_in_order(mine: Presets) -> None:
    assert mine.names() == [p.name for p in BUILTIN_PRESETS] + ["Pirate", "Haiku"]
    assert [p.name for p in mine.user] == ["Pirate", "Haiku"]
    assert not any(p.builtin for p in mine.user)


def test_presets_are_values(mine: Presets) -> None:
    empty = Presets()
    empty.add("Pirate", "x")
    assert empty == Presets()
    assert mine == Presets().add("Pirate", "Talk like a pirate.").add("Haiku", "Answer in a haiku.")


def test_get_ignores_case_and_spaces(mine: Presets) -> None:
    assert mine.get(" pirate ") == Preset("Pirate", "Talk like a pirate.")
    assert mine.get("concise") is not None and mine.get("concise").builtin  # type: ignore[union-attr]
    assert mine.get("Nope") is None
    assert "HAIKU" in mine and "Nope" not in mine


def test_find_by_prompt(mine: Presets) -> None:
    assert mine.find_by_prompt(DEFAULT_SYSTEM_PROMPT + "\n").name == "Helpful assistant"  # type: ignore[union-attr]
    assert mine.find_by_prompt("Answer in a haiku.").name == "Haiku"  # type: ignore[union-attr]
    assert mine.find_by_prompt("something else") is None


def test_add_trims_the_name() -> None:
    assert Presets().add("  Notes  ", "p").user == (Preset("Notes", "p"),)


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("", "needs a name"),
        ("   ", "needs a name"),
        ("x" * (MAX_NAME_LENGTH + 1), "at most"),
        ("pirate", "already a preset"),
        ("Concise", "built-in"),
        (" helpful ASSISTANT ", "built-in"),
    ],
)
def test_add_refuses_bad_names(mine: Presets, name: str, words: str) -> None:
    with pytest.raises(PresetError, match=words):
        mine.add(name, "prompt")


def test_a_name_of_the_longest_length_is_fine() -> None:
    assert Presets().add("x" * MAX_NAME_LENGTH, "p").names()[-1] == "x" * MAX_NAME_LENGTH


def test_update_replaces_a_user_prompt(mine: Presets) -> None:
    changed = mine.update("haiku", "Answer in two haiku.")
    assert changed.get("Haiku") == Preset("Haiku", "Answer in two haiku.")
    assert changed.names() == mine.names()


def test_rename(mine: Presets) -> None:
    renamed = mine.rename("Pirate", "Buccaneer")
    assert renamed.get("Buccaneer") == Preset("Buccaneer", "Talk like a pirate.")
    assert renamed.get("Pirate") is None
    assert [p.name for p in renamed.user] == ["Buccaneer", "Haiku"]


def test_rename_may_change_only_the_case(mine: Presets) -> None:
    assert mine.rename("Pirate", "PIRATE").user[0].name == "PIRATE"


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        ("Pirate", "Haiku", "already a preset"),
        ("Pirate", "Concise", "built-in"),
        ("Pirate", " ", "needs a name"),
        ("Concise", "Short", "built-in preset and cannot be changed"),
        ("Nope", "Other", "no preset named 'Nope'"),
    ],
)
def test_rename_refuses(mine: Presets, old: str, new: str, words: str) -> None:
    with pytest.raises(PresetError, match=words):
        mine.rename(old, new)


def test_delete(mine: Presets) -> None:
    assert [p.name for p in mine.delete("PIRATE").user] == ["Haiku"]
    assert mine.delete("Pirate").delete("Haiku") == Presets()


@pytest.mark.parametrize(("name", "words"), [("Translator", "built-in"), ("Nope", "no preset")])
def test_delete_and_update_refuse_builtins_and_missing(mine: Presets, name: str, words: str) -> None:
    with pytest.raises(PresetError, match=words):
        mine.delete(name)
    with pytest.raises(PresetError, match=words):
        mine.update(name, "x")


def test_preset_error_is_a_chat_error() -> None:
    err = PresetError("A preset needs a name.")
    assert isinstance(err, ChatError) and not err.retryable


# -- storage --------------------------------------------------------------------------


def test_json_round_trip_keeps_only_user_presets(mine: Presets) -> None:
    text = mine.to_json()
    data = json.loads(text)
    assert data == {
        "version": 1,
        "presets": [
            {"name": "Pirate", "prompt": "Talk like a pirate."},
            {"name": "Haiku", "prompt": "Answer in a haiku."},
        ],
    }
    assert Presets.from_json(text) == mine
    assert Presets.from_json(Presets().to_json()) == Presets()


def test_json_keeps_unicode_readable() -> None:
    text = Presets().add("Übersetzer", "Réponds en français ✓").to_json()
    assert "Übersetzer" in text and "✓" in text
    assert Presets.from_json(text).get("übersetzer").prompt == "Réponds en français ✓"  # type: ignore[union-attr]


def test_stored_name_taken_by_a_builtin_is_kept_under_a_new_name() -> None:
    data = {"version": 1, "presets": [{"name": "Concise", "prompt": "mine"}, {"name": "Concise (2)", "prompt": "also"}]}
    loaded = Presets.from_dict(data)
    assert [(p.name, p.prompt) for p in loaded.user] == [("Concise (2)", "mine"), ("Concise (2) (2)", "also")]
    assert loaded.get("Concise").prompt != "mine"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "text",
    [
        "not json",
        "[]",
        '{"presets": {}}',
        '{"presets": [{"name": "a"}]}',
        '{"presets": [{"name": 1, "prompt": "p"}]}',
        '{"presets": ["a"]}',
    ],
)
def test_unreadable_storage_raises_preset_error(text: str) -> None:
    with pytest.raises(PresetError):
        Presets.from_json(text)


# -- nothing stored yet ----------------------------------------------------------------


@pytest.mark.parametrize("stored", [None, {}])
def test_nothing_stored_is_no_presets_of_ones_own(stored: dict | None) -> None:
    """A fresh store hands back no preference at all (or ``{}``); that is not an error to show."""
    loaded = Presets.from_dict(stored)
    assert loaded == Presets()
    assert loaded.names() == [p.name for p in BUILTIN_PRESETS]


def test_an_empty_json_object_is_no_presets_either() -> None:
    assert Presets.from_json("{}") == Presets()


@pytest.mark.parametrize("stored", [[], "", 0, {"version": 1}, {"other": []}])
def test_other_shapes_are_still_refused(stored: object) -> None:
    with pytest.raises(PresetError):
        Presets.from_dict(stored)


def test_a_fresh_store_starts_a_session_with_no_warning(tmp_path: Path) -> None:
    """The path a new user takes: ChatSession.start reads the presets of an empty store."""
    store = Store(f"sqlite:///{tmp_path / 'chats.sqlite3'}")
    try:
        session = ChatSession.start(load_settings({}), store)
    finally:
        store.close()
    assert session.save_error is None
    assert session.presets == Presets()
