"""Prompt templates: ``{{variables}}`` in a system prompt or a message, and filling them.

The grammar, all of it (spaces and tabs are allowed around every part)::

    {{name}}                 short text (one line)
    {{name:long}}            long text (several lines); {{name:short}} says short explicitly
    {{tone|formal,casual}}   a choice among the listed values
    {{name=value}}           a default, used when no value is given
    {{name:long=value}}      a kind and a default
    {{tone|formal,casual=formal}}   a choice and its default (one of the choices)
    {{date}} {{time}} {{datetime}}  built-ins, filled automatically (ISO date, HH:MM, both)
    \\{{                      a literal ``{{``: ``\\{{name}}`` is sent as ``{{name}}``

- A name is a letter or ``_`` followed by letters, digits or ``_`` (any script); names are
  case-sensitive. A variable is on one line.
- A default is everything after the first ``=`` up to ``}}``, surrounding spaces dropped; it
  may be empty (``{{note=}}``: the variable may be left blank). Choices are separated by
  commas, so a choice holds no ``,`` or ``=``.
- ``{{`` that does not start a variable stays as typed: ``{{ hello world }}``, JSON such as
  ``{{"a": 1}}``, a lone ``{{``. Only the backslash right before ``{{`` is an escape; a
  backslash anywhere else stays as typed.
- What is clearly meant as a variable but wrong raises :class:`TemplateError`: an unknown kind
  (``{{x:huge}}``), an empty or repeated choice, a default that is not one of the choices, a
  built-in given a kind or default, or one name declared two different ways. Declare a
  variable once; its other mentions may be bare ``{{name}}``.

Filling: a value that is None, NaN (an empty cell of a pandas table) or blank counts as not
given, so that an untouched field or an empty CSV cell falls back on the default, or is asked
for (:func:`missing`). A choice value matches its choice ignoring case and surrounding spaces.
A value given for a built-in wins over the automatic one (a test set may fix the date). Values
are put in as they are, in one pass over the template: a value holding ``{{...}}`` (a test-set
cell) is never expanded again.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lib.errors import TemplateError

Kind = Literal["short", "long", "choice", "builtin"]
BUILTINS = ("date", "time", "datetime")
_KINDS = ("short", "long")

#: an escaped ``{{``, or a variable: ``{{``, a name, then ``:kind``, ``|choices`` or ``=default``
#: on the same line, never across another ``{{`` or past the first ``}}``
_TOKEN = re.compile(
    r"\\\{\{"
    r"|\{\{[ \t]*(?P<name>[^\W\d]\w*)[ \t]*(?P<rest>[:|=](?:(?!\{\{|\}\})[^\n])*)?\}\}"
)
#: after the colon: a word, then an optional default
_KIND_PART = re.compile(r":[ \t]*(?P<kind>\w+)[ \t]*(?P<default>=.*)?\Z", re.S)


@dataclass(frozen=True)
class Variable:
    """One variable of a template, as declared (or as used bare, for a short text)."""

    name: str
    kind: Kind = "short"
    choices: tuple[str, ...] = ()
    #: None when there is no default, so the value must be given
    default: str | None = None

    @property
    def builtin(self) -> bool:
        return self.kind == "builtin"


@dataclass(frozen=True)
class _Mention:
    variable: Variable
    #: False for a bare ``{{name}}``, which says nothing about kind or default
    declares: bool


# -- reading a template -------------------------------------------------------------------


def _texts(text: str | Sequence[str]) -> list[str]:
    return [text] if isinstance(text, str) else list(text)


def _split_default(rest: str) -> tuple[str, str | None]:
    head, sep, default = rest.partition("=")
    return head, default.strip() if sep else None


def _mention(name: str, rest: str | None) -> _Mention | None:
    """What one ``{{...}}`` says; None when it is not a variable after all (a colon not followed by a word)."""
    if rest is None:
        kind: Kind = "builtin" if name in BUILTINS else "short"
        return _Mention(Variable(name, kind), declares=False)
    kind_part = _KIND_PART.match(rest)
    if rest.startswith(":") and kind_part is None:
        return None
    if name in BUILTINS:
        raise TemplateError(f"{{{{{name}}}}} is filled automatically: write it bare, without a kind, choices or default.", name)
    if rest.startswith("|"):
        return _Mention(_choice(name, rest[1:]), declares=True)
    if kind_part is None:  # "=default"
        return _Mention(Variable(name, "short", default=rest[1:].strip()), declares=True)
    word = kind_part["kind"]
    if word not in _KINDS:
        raise TemplateError(f"{{{{{name}:{word}}}}}: the kind must be long or short, not {word!r}.", name)
    default = kind_part["default"][1:].strip() if kind_part["default"] else None
    return _Mention(Variable(name, "long" if word == "long" else "short", default=default), declares=True)


def _choice(name: str, rest: str) -> Variable:
    listed, default = _split_default(rest)
    choices = tuple(c.strip() for c in listed.split(","))
    if not all(choices):
        raise TemplateError(f"{{{{{name}|…}}}}: a choice is empty; separate the choices with single commas.", name)
    folded = [c.casefold() for c in choices]
    if len(set(folded)) != len(folded):
        raise TemplateError(f"{{{{{name}|…}}}}: a choice is listed twice.", name)
    if default is not None:
        default = _as_choice(name, choices, default)
    return Variable(name, "choice", choices, default)


def _as_choice(name: str, choices: tuple[str, ...], value: str) -> str:
    """``value`` as it is spelt among ``choices``; TemplateError when it is none of them."""
    wanted = value.strip().casefold()
    for choice in choices:
        if choice.casefold() == wanted:
            return choice
    raise TemplateError(f"{value!r} is not a choice for {name}: choose one of {', '.join(choices)}.", name)


def _mentions(text: str) -> list[_Mention]:
    out = []
    for token in _TOKEN.finditer(text):
        if token["name"] is None:  # an escaped {{
            continue
        if (found := _mention(token["name"], token["rest"])) is not None:
            out.append(found)
    return out


def variables(text: str | Sequence[str]) -> list[Variable]:
    """The variables of one text or several (system prompt and message), in order of first appearance.

    Built-ins are among them (kind ``builtin``); a form asks only for :func:`missing` ones.
    """
    declared: dict[str, Variable] = {}
    order: list[str] = []
    for part in _texts(text):
        for mention in _mentions(part):
            variable = mention.variable
            if variable.name not in order:
                order.append(variable.name)
            if not mention.declares:
                continue
            earlier = declared.setdefault(variable.name, variable)
            if earlier != variable:
                raise TemplateError(
                    f"{variable.name} is declared twice, differently: declare it once, and write "
                    f"{{{{{variable.name}}}}} elsewhere.",
                    variable.name,
                )
    return [declared.get(name) or Variable(name, "builtin" if name in BUILTINS else "short") for name in order]


# -- filling it ---------------------------------------------------------------------------


def _given(value: Any) -> str | None:
    """A value as text; None when it counts as not given (None, NaN, blank)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = value if isinstance(value, str) else str(value)
    return text if text.strip() else None


def _builtin_value(name: str, now: datetime) -> str:
    if name == "date":
        return now.date().isoformat()
    if name == "time":
        return now.strftime("%H:%M")
    return now.strftime("%Y-%m-%d %H:%M")


def _value(variable: Variable, values: Mapping[str, Any], now: datetime) -> str | None:
    """What fills ``variable``; None when it is missing."""
    given = _given(values.get(variable.name))
    if given is not None:
        return _as_choice(variable.name, variable.choices, given) if variable.kind == "choice" else given
    if variable.builtin:
        return _builtin_value(variable.name, now)
    return variable.default


def missing(text: str | Sequence[str], values: Mapping[str, Any]) -> list[Variable]:
    """The variables that must still be asked for: no value given and no default."""
    return [v for v in variables(text) if not v.builtin and _given(values.get(v.name)) is None and v.default is None]


def fill(text: str, values: Mapping[str, Any], *, now: datetime | None = None, declared_in: Sequence[str] = ()) -> str:
    """``text`` with every variable replaced by its value, and ``\\{{`` by ``{{``.

    ``declared_in`` are other texts of the same request (the system prompt, say) whose
    declarations hold here too: a message may use bare ``{{tone}}`` declared as a choice in the
    system prompt. TemplateError for a malformed template, a choice value not offered, or a
    variable without a value (all the missing ones are named).
    """
    now = now or datetime.now()
    known = {v.name: v for v in variables([*declared_in, text])}
    if lacking := [v.name for v in missing([*declared_in, text], values) if v.name in _names(text)]:
        raise TemplateError(f"No value for {', '.join(lacking)}.", lacking[0])

    def replace(token: re.Match[str]) -> str:
        name = token["name"]
        if name is None:
            return "{{"
        if _mention(name, token["rest"]) is None:  # not a variable: as typed
            return token[0]
        return _value(known[name], values, now) or ""

    return _TOKEN.sub(replace, text)


def _names(text: str) -> set[str]:
    return {m.variable.name for m in _mentions(text)}
