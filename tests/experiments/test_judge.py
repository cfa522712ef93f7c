"""lib.experiments.judge: a set-up scores replies 1–5; its verdicts parsed leniently."""

from __future__ import annotations

import csv
import io

import pytest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.api.models import model_info
from lib.experiments.compare import Setup
from lib.experiments.judge import Judge, parse_verdict
from lib.experiments.lab_run import LabResult
from lib.experiments.test_sets import JUDGE_SCORE, results_csv
from lib.settings import Settings
from tests.conftest import validate_request
from tests.lab_samples import make_run

JUDGE = Setup("google/gemma-3-12b-it")


@pytest.mark.parametrize(
    ("reply", "score", "reason"),
    [
        ('{"score": 4, "reason": "Clear."}', 4, "Clear."),
        ('```json\n{"score": 5, "reason": "Exact."}\n```', 5, "Exact."),
        ('Here is my grade: {"score": "3", "reason": "So-so"} Hope it helps!', 3, "So-so"),
        ('{"reason": "fine", "score": 2.0}', 2, "fine"),
        ("Score: 4\nThe answer is fine.", 4, ""),
        ("I would give it 2/5.", 2, ""),
    ],
)
def test_verdicts_are_read_leniently(reply: str, score: int, reason: str) -> None:
    verdict = parse_verdict(reply)
    assert (verdict.score, verdict.reason, verdict.problem) == (score, reason, "")


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        ('{"score": 7, "reason": "great"}', "not a whole number from 1 to 5"),
        ('{"score": 3.5}', "not a whole number"),
        ('{"score": true}', "not a whole number"),
        ("A lovely answer.", "holds no score"),
        ("", "holds no score"),
    ],
)
def test_no_score_is_made_up(reply: str, problem: str) -> None:
    verdict = parse_verdict(reply)
    assert verdict.score is None and problem in verdict.problem and verdict.raw == reply


def test_a_judge_scores_every_finished_reply(fake_api: FakeAPI, settings: Settings) -> None:
    result = make_run(1)
    result.cells[-1].status, result.cells[-1].text = "failed", ""
    fake_api.plan_for(JUDGE.model, Behaviour(reply='{"score": 5, "reason": "Good {{x}}."}'),
                      Behaviour(reply="No idea."), Behaviour(status=400, error_message="nope"))
    judging = Judge(JUDGE, "Is it valid JSON naming the animal?").run_over(result, settings).start()
    assert judging.wait(30)
    assert len(fake_api.requests) == 3  # the failed reply is not judged
    for body in fake_api.bodies():
        validate_request(body, model_info(JUDGE.model).spec)
        assert body["model"] == JUDGE.model and "Rubric:\nIs it valid JSON naming the animal?" in body["messages"][-1]["content"]
    verdicts = sorted(judging.verdicts().values(), key=lambda v: v.score or 0)
    assert [v.score for v in verdicts][-1] == 5 and verdicts[-1].reason == "Good {{x}}."
    problems = sorted(v.problem for v in verdicts[:2])
    assert "holds no score" in problems[0] and "request failed" in problems[1] and "nope" in problems[1]
    judging.apply(result)
    back = LabResult.from_dict(result.to_dict())
    assert sum(1 for c in back.cells if c.judge) == 3
    rows = list(csv.DictReader(io.StringIO(results_csv(back))))
    assert JUDGE_SCORE in rows[0] and rows[-1][JUDGE_SCORE] == ""
