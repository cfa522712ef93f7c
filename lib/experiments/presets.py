"""System-prompt presets: a few built in, and named ones the user saves.

:class:`Presets` is an immutable value: every change returns a new one, so a page can
keep it in its session state and persist it (``to_json``) without aliasing surprises.
Names are compared without regard to case or surrounding spaces, so that "Concise" and
"concise " cannot both exist.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from lib.errors import ChatError
from lib.settings import DEFAULT_SYSTEM_PROMPT

MAX_NAME_LENGTH = 60
#: bumped when the stored shape changes, so that old files can still be read
FORMAT_VERSION = 1


class PresetError(ChatError):
    """A preset name is empty, too long, taken, built in, or not found; or stored data is unreadable."""

    title = "Preset not saved"
    retryable = False


@dataclass(frozen=True)
class Preset:
    name: str
    prompt: str
    builtin: bool = False


BUILTIN_PRESETS: tuple[Preset, ...] = (
    Preset("Helpful assistant", DEFAULT_SYSTEM_PROMPT, True),
    Preset(
        "Concise",
        "Answer as briefly as possible: one or two sentences, or a short list. "
        "No preamble, no summary, no follow-up questions unless the request is ambiguous.",
        True,
    ),
    Preset(
        "Socratic tutor",
        "You are a patient tutor. Do not give the answer outright: ask one guiding question "
        "at a time, check the student's reasoning, and give hints that lead them to the "
        "solution themselves. Confirm when they get there and sum up what they learned.",
        True,
    ),
    Preset(
        "Code reviewer",
        "You are a senior software engineer reviewing code. Point out bugs, security issues, "
        "unclear names and missing tests first, then style. For each finding, quote the line, "
        "say why it matters and suggest a fix. Say plainly when the code is fine.",
        True,
    ),
    Preset(
        "JSON only",
        "Reply with a single valid JSON object and nothing else: no Markdown code fences, "
        "no explanation before or after it.",
        True,
    ),
    Preset(
        "Translator",
        "You are a translator. Translate the user's text into English; if it is already in "
        "English, translate it into the language the user names (French when none is named). "
        "Keep the meaning, tone and formatting, and output only the translation.",
        True,
    ),
)


def _key(name: str) -> str:
    return name.strip().casefold()


_BUILTIN_KEYS = {_key(p.name) for p in BUILTIN_PRESETS}


@dataclass(frozen=True)
class Presets:
    """The user's presets, in the order they were added; the built-ins always come first."""

    user: tuple[Preset, ...] = ()

    # -- reading ---------------------------------------------------------------------

    def __iter__(self) -> Iterator[Preset]:
        yield from BUILTIN_PRESETS
        yield from self.user

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def names(self) -> list[str]:
        return [p.name for p in self]

    def get(self, name: str) -> Preset | None:
        key = _key(name)
        return next((p for p in self if _key(p.name) == key), None)

    def find_by_prompt(self, prompt: str) -> Preset | None:
        """The first preset whose prompt is ``prompt`` (ignoring surrounding spaces), to show it as selected."""
        text = prompt.strip()
        return next((p for p in self if p.prompt.strip() == text), None)

    # -- changing (each returns a new Presets) ---------------------------------------

    def add(self, name: str, prompt: str) -> Presets:
        name = self._check_new_name(name)
        return Presets((*self.user, Preset(name, prompt)))

    def update(self, name: str, prompt: str) -> Presets:
        """Replace the prompt of a user preset."""
        index = self._user_index(name)
        user = list(self.user)
        user[index] = Preset(user[index].name, prompt)
        return Presets(tuple(user))

    def put(self, name: str, prompt: str) -> Presets:
        """Save ``prompt`` under ``name``: a new preset, or a new prompt for the user's preset of that name."""
        return self.update(name, prompt) if name.strip() in self else self.add(name, prompt)

    def rename(self, old: str, new: str) -> Presets:
        index = self._user_index(old)
        new = self._check_new_name(new, allow=self.user[index].name)
        user = list(self.user)
        user[index] = Preset(new, user[index].prompt)
        return Presets(tuple(user))

    def delete(self, name: str) -> Presets:
        index = self._user_index(name)
        return Presets(self.user[:index] + self.user[index + 1 :])

    # -- storage ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Only the user's presets: built-ins come from the code, so that they can improve."""
        return {"version": FORMAT_VERSION, "presets": [{"name": p.name, "prompt": p.prompt} for p in self.user]}

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_dict(cls, data: Any) -> Presets:
        """Read what to_dict wrote. A stored name that a newer built-in now takes is kept under a new name.

        Nothing stored (``None`` or ``{}``, what a fresh store hands back) is simply no presets of
        the user's own: a new install has nothing to warn about.
        """
        if data is None or data == {}:
            return cls()
        if not isinstance(data, dict) or not isinstance(data.get("presets"), list):
            raise PresetError("The saved presets are not in the expected format.")
        presets = cls()
        for entry in data["presets"]:
            if not (isinstance(entry, dict) and isinstance(entry.get("name"), str) and isinstance(entry.get("prompt"), str)):
                raise PresetError("The saved presets are not in the expected format.")
            presets = presets.add(presets._free_name(entry["name"]), entry["prompt"])
        return presets

    @classmethod
    def from_json(cls, text: str) -> Presets:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise PresetError(f"The saved presets are not valid JSON: {exc}") from None
        return cls.from_dict(data)

    # -- helpers ---------------------------------------------------------------------

    def _check_new_name(self, name: str, allow: str | None = None) -> str:
        name = name.strip()
        if not name:
            raise PresetError("A preset needs a name.")
        if len(name) > MAX_NAME_LENGTH:
            raise PresetError(f"A preset name can have at most {MAX_NAME_LENGTH} characters.")
        key = _key(name)
        if key in _BUILTIN_KEYS:
            raise PresetError(f"{name!r} is a built-in preset; choose another name.")
        # renaming a preset to itself with different capitals is allowed
        if key != (_key(allow) if allow else None) and self.get(name) is not None:
            raise PresetError(f"There is already a preset named {name!r}.")
        return name

    def _user_index(self, name: str) -> int:
        key = _key(name)
        for index, preset in enumerate(self.user):
            if _key(preset.name) == key:
                return index
        if key in _BUILTIN_KEYS:
            raise PresetError(f"{name.strip()!r} is a built-in preset and cannot be changed.")
        raise PresetError(f"There is no preset named {name.strip()!r}.")

    def _free_name(self, name: str) -> str:
        name = name.strip()[:MAX_NAME_LENGTH] or "Untitled"
        if _key(name) not in _BUILTIN_KEYS and self.get(name) is None:
            return name
        number = 2
        while True:
            suffix = f" ({number})"
            candidate = name[: MAX_NAME_LENGTH - len(suffix)] + suffix
            if _key(candidate) not in _BUILTIN_KEYS and self.get(candidate) is None:
                return candidate
            number += 1
