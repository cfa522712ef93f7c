"""A judge: a chosen set-up scores each reply of a run from 1 to 5 against a rubric.

The score is a model's opinion, not a check: pages show it beside the checks, marked as such.
The judge's requests are a :class:`LabRun` of their own (one row per reply judged), so they
share its bounded concurrency, retries, cancel and cost cap.

Models wrap JSON in prose or fences, write ``"score": "4"`` or ``4.0``, or forget the JSON
altogether; :func:`parse_verdict` takes the first of: the whole reply as JSON (fenced or not),
the first ``{...}`` holding ``"score"``, a ``score: 4`` or ``4/5`` in the text. A score that is
no whole number from 1 to 5 is no verdict: ``Verdict.score`` is None and ``problem`` says why.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from lib.experiments.compare import Setup
from lib.experiments.lab_run import LabResult, LabRun, Template
from lib.experiments.structured import parse_json_reply
from lib.experiments.templates import fill
from lib.settings import Settings

JUDGE_SYSTEM = (
    "You grade answers. Score the answer from 1 (poor) to 5 (excellent) against the rubric. "
    'Reply with JSON only, exactly of this form: {"score": <whole number 1-5>, "reason": "<one sentence>"}'
)
# Values fill the template in one pass, so a reply holding "{{...}}" is sent as it is.
JUDGE_MESSAGE = "Rubric:\n{{rubric:long}}\n\nQuestion:\n{{question:long}}\n\nAnswer to grade:\n{{answer:long}}"
#: what a page says next to a score
OPINION_NOTE = "A model's opinion, not a check."
_OBJECT = re.compile(r"\{[^{}]*\"score\"[^{}]*\}", re.S)
_LOOSE = re.compile(r"\bscore\b\W{0,3}(\d+(?:\.0+)?)\b|\b(\d)\s*/\s*5\b", re.I)


@dataclass(frozen=True)
class Verdict:
    score: int | None
    reason: str
    #: the judge's reply as it came
    raw: str
    #: why there is no score; "" when there is one
    problem: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "reason": self.reason, "raw": self.raw, "problem": self.problem}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Verdict:
        score = data.get("score")
        return cls(score if isinstance(score, int) else None, str(data.get("reason") or ""),
                   str(data.get("raw") or ""), str(data.get("problem") or ""))


def _score(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, (int, float)) and float(value).is_integer() and 1 <= value <= 5:
        return int(value)
    return None


def _from_object(data: Any, raw: str) -> Verdict | None:
    if not isinstance(data, dict) or "score" not in data:
        return None
    reason = data.get("reason")
    reason = reason if isinstance(reason, str) else ""
    if (score := _score(data["score"])) is None:
        return Verdict(None, reason, raw, f"The judge gave {data['score']!r}, not a whole number from 1 to 5.")
    return Verdict(score, reason.strip(), raw)


def parse_verdict(text: str) -> Verdict:
    """The judge's score and reason from its reply, as leniently as can be done without guessing."""
    parsed = parse_json_reply(text.strip())
    if parsed.ok and (verdict := _from_object(parsed.value, text)) is not None:
        return verdict
    for found in _OBJECT.finditer(text):
        try:
            data = json.loads(found.group())
        except ValueError:
            continue
        if (verdict := _from_object(data, text)) is not None:
            return verdict
    if loose := _LOOSE.search(text):
        if (score := _score(loose.group(1) or loose.group(2))) is not None:
            return Verdict(score, "", text)
    return Verdict(None, "", text, "The judge's reply holds no score from 1 to 5.")


@dataclass
class Judge:
    setup: Setup
    rubric: str

    def run_over(self, result: LabResult, settings: Settings, **kw: Any) -> JudgeRun:
        """A run (not started) scoring every reply of ``result`` that finished well."""
        return JudgeRun(self, result, settings, **kw)


class JudgeRun:
    """The judge's requests for one run's replies; :meth:`verdicts` maps (row, set-up) to a Verdict."""

    def __init__(self, judge: Judge, result: LabResult, settings: Settings, **kw: Any) -> None:
        self.judged = [c for c in result.cells if c.status == "done"]
        rows = [
            {"rubric": judge.rubric, "question": _question(result, c.row, c.setup), "answer": c.text}
            for c in self.judged
        ]
        kw = {"source": "judge", "logged_as": result.id, **kw}
        self.run = LabRun(Template(JUDGE_MESSAGE, JUDGE_SYSTEM), [judge.setup], rows, settings, **kw)

    def start(self) -> JudgeRun:
        self.run.start()
        return self

    def cancel(self) -> None:
        self.run.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        return self.run.wait(timeout)

    def verdicts(self) -> dict[tuple[int, int], Verdict]:
        out = {}
        for judged, cell in zip(self.judged, self.run.snapshot(), strict=True):
            if cell.status == "done":
                out[judged.row, judged.setup] = parse_verdict(cell.text)
            elif cell.status == "failed":
                out[judged.row, judged.setup] = Verdict(None, "", "", f"The judge's request failed: {cell.error}")
        return out


    def apply(self, result: LabResult) -> None:
        """Keep the verdicts on ``result``'s cells (saved and exported with them)."""
        verdicts = self.verdicts()
        for cell in result.cells:
            if (verdict := verdicts.get((cell.row, cell.setup))) is not None:
                cell.judge = verdict.to_dict()


def _question(result: LabResult, row: int, setup: int) -> str:
    """The message the reply answered, as it was sent (without the system prompt)."""
    system = result.template.system_for(result.setups[setup])
    return fill(result.template.message, result.rows[row], declared_in=[system])
