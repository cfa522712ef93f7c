"""Checks on a reply: contains, does not contain, regular expression, valid JSON, valid against a
JSON schema, at most N characters.

A :class:`Check` is checked when it is made (CheckError for an empty text, a bad pattern, a bad
schema, a length that is no whole number), so that a run never starts with a check that cannot
work. :meth:`Check.run` gives a :class:`CheckResult`: passed or not, and a detail saying why.

- contains / does not contain: plain text, case-sensitive or not (compared casefolded).
- regular expression: Python's ``re`` syntax, :func:`re.search` (anywhere in the reply; ``^``
  and ``$`` are the reply's ends unless the pattern says ``(?m)``). A user's pattern can
  backtrack for minutes, so it runs in a worker process with a time limit
  (:mod:`lib.experiments.safe_regex`); a search that overruns fails the check and says so.
- valid JSON: the whole reply, or the only thing in a single ```json fenced block, as models
  often answer; the detail says when it was fenced (:func:`lib.experiments.structured.parse_json_reply`).
- valid against a JSON schema: the same JSON, matched against the schema (the schema itself
  checked with ``Draft202012Validator.check_schema`` first).
- at most N characters: characters as Python counts them (code points), whitespace included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from lib.errors import CheckError, SchemaError
from lib.experiments import safe_regex
from lib.experiments.structured import describe_problems, load_schema, parse_json_reply, schema_problems

CheckKind = Literal["contains", "not_contains", "regex", "json", "json_schema", "max_chars"]
KINDS: tuple[CheckKind, ...] = get_args(CheckKind)
#: what a page calls each kind
KIND_LABELS: dict[CheckKind, str] = {
    "contains": "Contains",
    "not_contains": "Does not contain",
    "regex": "Matches a regular expression",
    "json": "Valid JSON",
    "json_schema": "Valid against a JSON schema",
    "max_chars": "At most N characters",
}
#: kinds whose argument is text compared with the reply, and so may ignore case
CASE_KINDS: frozenset[CheckKind] = frozenset({"contains", "not_contains", "regex"})
#: seconds a regular expression may search one reply
REGEX_TIMEOUT = safe_regex.DEFAULT_TIMEOUT
#: how much of a text a detail quotes
_QUOTED = 60


@dataclass(frozen=True)
class CheckResult:
    passed: bool
    detail: str


def _quote(text: str) -> str:
    return f"“{text[:_QUOTED]}{'…' if len(text) > _QUOTED else ''}”"


def _characters(count: int) -> str:
    return f"{count:,} character{'' if count == 1 else 's'}"


@dataclass(frozen=True)
class Check:
    """One assertion on a reply. ``argument``: the text, pattern, schema (JSON text) or number of characters."""

    kind: CheckKind
    argument: str = ""
    #: the user's own name for it; :attr:`label` makes one up when empty
    name: str = ""
    #: for contains, does not contain and regular expressions
    case_sensitive: bool = True
    _schema: dict[str, Any] | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise CheckError(f"There is no check of kind {self.kind!r}; the kinds are {', '.join(KINDS)}.")
        # A number of characters may come in as a number; it is kept as text like every argument.
        object.__setattr__(self, "argument", str(self.argument) if not isinstance(self.argument, str) else self.argument)
        object.__setattr__(self, "name", self.name.strip())
        if self.kind in ("contains", "not_contains") and not self.argument:
            raise CheckError(f"“{KIND_LABELS[self.kind]}” needs a text to look for.")
        if self.kind == "regex":
            self._check_pattern()
        if self.kind == "json_schema":
            try:
                object.__setattr__(self, "_schema", load_schema(self.argument, object_only=False))
            except SchemaError as exc:
                raise CheckError(exc.message) from None
        if self.kind == "max_chars":
            self._limit()

    def _check_pattern(self) -> None:
        if not self.argument:
            raise CheckError("A regular-expression check needs a pattern.")
        try:
            safe_regex.compile_pattern(self.argument, ignore_case=not self.case_sensitive)
        except ValueError as exc:
            raise CheckError(f"{_quote(self.argument)} is {exc}.") from None

    def _limit(self) -> int:
        text = self.argument.strip()
        if not text.isascii() or not text.isdigit():
            raise CheckError(f"“At most N characters” needs a whole number of characters, not {self.argument!r}.")
        return int(text)

    @property
    def label(self) -> str:
        """The name to show: the user's, else the kind and its argument."""
        if self.name:
            return self.name
        if self.kind in ("json", "json_schema"):
            return KIND_LABELS[self.kind]
        if self.kind == "max_chars":
            return f"At most {self._limit():,} characters"
        case = "" if self.case_sensitive else " (any case)"
        return f"{KIND_LABELS[self.kind]} {_quote(self.argument)}{case}"

    # -- running ----------------------------------------------------------------------------

    def run(self, reply: str) -> CheckResult:
        runner = {
            "contains": self._contains,
            "not_contains": self._not_contains,
            "regex": self._regex,
            "json": self._json,
            "json_schema": self._json_schema,
            "max_chars": self._max_chars,
        }[self.kind]
        return runner(reply)

    def _contains(self, reply: str) -> CheckResult:
        if not self.case_sensitive:
            # casefold, not lower: "STRASSE" holds "straße"; it can change lengths, so no position is given
            if self.argument.casefold() in reply.casefold():
                return CheckResult(True, f"Found {_quote(self.argument)} (in any case).")
            return CheckResult(False, f"{_quote(self.argument)} is not in the reply, in any case.")
        if (at := reply.find(self.argument)) >= 0:
            return CheckResult(True, f"Found {_quote(self.argument)} at character {at + 1:,}.")
        return CheckResult(False, f"{_quote(self.argument)} is not in the reply.")

    def _not_contains(self, reply: str) -> CheckResult:
        found = self._contains(reply)
        return CheckResult(not found.passed, found.detail)

    def _regex(self, reply: str) -> CheckResult:
        try:
            match = safe_regex.search(self.argument, reply, ignore_case=not self.case_sensitive, timeout=REGEX_TIMEOUT)
        except safe_regex.RegexTimeout:
            return CheckResult(
                False,
                f"The pattern was stopped after {REGEX_TIMEOUT:g} s on this reply: it backtracks too much. "
                "Simplify it, e.g. avoid nested repeats like (a+)+ and leading .*",
            )
        except (ValueError, RuntimeError) as exc:
            return CheckResult(False, f"The pattern could not be searched for: {exc}.")
        if match is None:
            return CheckResult(False, f"No match for {_quote(self.argument)}.")
        return CheckResult(True, f"Matched {_quote(match.text)} at character {match.start + 1:,}.")

    def _json(self, reply: str) -> CheckResult:
        parsed = parse_json_reply(reply)
        if not parsed.ok:
            return CheckResult(False, parsed.detail)
        return CheckResult(True, "Valid JSON, inside a ```json fence." if parsed.fenced else "Valid JSON.")

    def _json_schema(self, reply: str) -> CheckResult:
        parsed = parse_json_reply(reply)
        if not parsed.ok:
            return CheckResult(False, parsed.detail)
        if problems := schema_problems(parsed.value, self._schema or {}):
            return CheckResult(False, describe_problems(problems))
        fenced = ", inside a ```json fence" if parsed.fenced else ""
        return CheckResult(True, f"Valid JSON matching the schema{fenced}.")

    def _max_chars(self, reply: str) -> CheckResult:
        limit, count = self._limit(), len(reply)
        if count <= limit:
            return CheckResult(True, f"{_characters(count)}, at most {limit:,}.")
        return CheckResult(False, f"{_characters(count)}, {count - limit:,} more than {limit:,}.")

    # -- saving -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "argument": self.argument, "name": self.name, "case_sensitive": self.case_sensitive}

    @classmethod
    def from_dict(cls, data: Any) -> Check:
        """Read what :meth:`to_dict` wrote; CheckError for anything else."""
        if not isinstance(data, dict) or not isinstance(data.get("kind"), str):
            raise CheckError("A saved check is not in the expected format.")
        argument, name = data.get("argument", ""), data.get("name", "")
        if not isinstance(argument, (str, int)) or isinstance(argument, bool) or not isinstance(name, str):
            raise CheckError("A saved check is not in the expected format.")
        return cls(data["kind"], argument, name, bool(data.get("case_sensitive", True)))  # type: ignore[arg-type]


def run_checks(checks: Iterable[Check], reply: str) -> list[CheckResult]:
    """Every check on one reply, in order."""
    return [check.run(reply) for check in checks]


def pass_rate(results: Iterable[CheckResult]) -> float | None:
    """The share of results that passed, from 0 to 1; None when there are none (nothing to rate)."""
    outcomes = [r.passed for r in results]
    return sum(outcomes) / len(outcomes) if outcomes else None
