"""lib.experiments.lab_run: a template over a test set for several set-ups, against the fake API."""

from __future__ import annotations

import dataclasses
import time

import pytest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.api.models import model_info
from lib.experiments.checks import Check
from lib.experiments.compare import Setup
from lib.experiments.lab_run import ASSUMED_REPLY_TOKENS, LabRun, Template, estimate_run_cost, request_body
from lib.settings import Settings
from tests.conftest import validate_request

BIG, SMALL = "google/gemma-3-27b-it", "google/gemma-3-4b-it"
TEMPLATE = Template("Describe {{animal}} in a {{tone|formal,casual}} tone.", "You answer in JSON.")
ROWS = [{"animal": f"animal {n}", "tone": "formal" if n % 2 else "casual"} for n in range(10)]
SETUPS = [Setup(BIG, params={"temperature": 0.2}), Setup(SMALL, system_prompt="ignored: the template has one")]


def run_of(settings: Settings, rows: list | None = None, **kw) -> LabRun:
    return LabRun(TEMPLATE, list(SETUPS), list(ROWS if rows is None else rows), settings, **kw)


def test_twenty_requests_never_more_than_four_at_once_each_valid(fake_api: FakeAPI, settings: Settings) -> None:
    fake_api.default = Behaviour(reply='{"ok": true}', first_token_delay=0.1)
    run = run_of(settings, checks=[Check("json")]).start()
    assert run.wait(30)
    assert len(fake_api.requests) == 20
    assert fake_api.max_in_flight == settings.lab_concurrency == 4
    for body in fake_api.bodies():
        validate_request(body, model_info(body["model"]).spec)
    # 4B takes no system role: the template's system prompt goes into the message
    small = [b for b in fake_api.bodies() if b["model"] == SMALL]
    assert all(b["messages"][0]["content"].startswith("You answer in JSON.\n\nDescribe animal") for b in small)
    cells = run.snapshot()
    assert [c.status for c in cells] == ["done"] * 20
    assert {(c.row, c.setup) for c in cells} == {(r, s) for r in range(10) for s in range(2)}
    assert all(c.text == '{"ok": true}' and c.checks[0].passed for c in cells)
    progress = run.progress()
    assert (progress.done, progress.total, progress.failed, progress.status) == (20, 20, 0, "finished")
    assert progress.time_left == 0 and progress.cost_usd > 0
    totals = run.totals()
    assert [t.requests for t in totals] == [10, 10] and [t.pass_rate for t in totals] == [1.0, 1.0]
    assert all(t.mean_first_token and t.mean_first_token >= 0.1 for t in totals)
    assert sum(t.cost_usd for t in totals) == pytest.approx(progress.cost_usd)


def test_the_concurrency_setting_bounds_the_requests(fake_api: FakeAPI, settings: Settings) -> None:
    fake_api.default = Behaviour(reply="x", first_token_delay=0.1)
    run = run_of(dataclasses.replace(settings, lab_concurrency=2)).start()
    assert run.wait(30) and fake_api.max_in_flight == 2 and len(fake_api.requests) == 20


def test_a_429_is_waited_out_as_retry_after_says(fake_api: FakeAPI, settings: Settings) -> None:
    fake_api.plan_for(SMALL, Behaviour(status=429, retry_after=1))
    run = run_of(settings, rows=ROWS[:2]).start()
    assert run.wait(30)
    assert [c.status for c in run.snapshot()] == ["done"] * 4
    small = [r.received for r in fake_api.requests if r.body["model"] == SMALL]
    assert len(small) == 3  # the 429 and its retry, then the second row
    assert max(small) - min(small) >= 0.9  # the retry waited the second Retry-After asked for
    assert run.progress().failed == 0


def test_failed_cells_say_why_and_the_rest_go_on(fake_api: FakeAPI, settings: Settings) -> None:
    fake_api.plan_for(BIG, Behaviour(status=400, error_message="bad temperature"))
    rows = [*ROWS[:2], {"animal": "cat"}, {"animal": "dog", "tone": "angry"}]
    # one at a time, so that the planned 400 meets the first row's request
    run = run_of(dataclasses.replace(settings, lab_concurrency=1), rows=rows).start()
    assert run.wait(30)
    cells = {(c.row, c.setup): c for c in run.snapshot()}
    assert cells[0, 0].status == "failed" and "bad temperature" in cells[0, 0].error
    assert cells[2, 1].status == "failed" and "No value for tone" in cells[2, 1].error  # nothing sent
    assert "not a choice" in cells[3, 0].error
    assert sum(c.status == "done" for c in cells.values()) == 3
    assert len(fake_api.requests) == 4
    assert run.progress().failed == 5


def test_cancel_keeps_finished_cells_and_starts_nothing_new(fake_api: FakeAPI, settings: Settings) -> None:
    fake_api.default = Behaviour(reply="slow " * 200, token_rate=40)
    for _ in range(2):
        fake_api.plan_for(BIG, Behaviour(reply="quick"))
        fake_api.plan_for(SMALL, Behaviour(reply="quick"))
    run = run_of(settings).start()
    deadline = time.monotonic() + 10
    while run.progress().done < 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.2)  # the slow ones are streaming now
    run.cancel()
    assert run.wait(10)
    cells = run.snapshot()
    statuses = [c.status for c in cells]
    assert statuses.count("done") == 4 and all(c.text == "quick" for c in cells if c.status == "done")
    assert statuses.count("cancelled") == 4 and statuses.count("skipped") == 12
    assert all(c.text.startswith("slow") for c in cells if c.status == "cancelled")
    assert len(fake_api.requests) == 8
    assert run.progress().status == "cancelled"
    time.sleep(0.3)
    assert len(fake_api.requests) == 8 and fake_api.in_flight == 0


def test_cancel_cuts_a_retry_wait_short(fake_api: FakeAPI, settings: Settings) -> None:
    fake_api.default = Behaviour(status=429, retry_after=20)
    run = run_of(dataclasses.replace(settings, max_retry_wait=30), rows=ROWS[:1]).start()
    time.sleep(0.5)
    started = time.monotonic()
    run.cancel()
    assert run.wait(5) and time.monotonic() - started < 3
    assert [c.status for c in run.snapshot()] == ["cancelled", "cancelled"]
    assert len(fake_api.requests) == 2


def test_the_cost_cap_stops_the_run_and_says_so(fake_api: FakeAPI, settings: Settings) -> None:
    fake_api.default = Behaviour(reply="word " * 50, first_token_delay=0.05)
    run = run_of(dataclasses.replace(settings, lab_concurrency=1), cost_cap=1e-9).start()
    assert run.wait(10)
    progress = run.progress()
    assert progress.status == "capped" and "cost cap" in progress.note
    cells = run.snapshot()
    assert [c.status for c in cells].count("done") == 1 and [c.status for c in cells].count("skipped") == 19
    assert len(fake_api.requests) == 1


def test_the_estimate_before_the_run(settings: Settings) -> None:
    unknown = estimate_run_cost(TEMPLATE, SETUPS, ROWS, settings)
    assert unknown.usd is None and unknown.estimated and unknown.prompt_tokens > 0
    assert unknown.completion_tokens == 20 * ASSUMED_REPLY_TOKENS
    assert unknown.text().startswith("Unknown: set AIMLAPI_PRICE_INPUT_PER_M")
    priced = dataclasses.replace(settings, price_input_per_m=1.0, price_output_per_m=2.0)
    setups = [dataclasses.replace(SETUPS[0], params={"max_tokens": 10}), SETUPS[1]]
    known = estimate_run_cost(TEMPLATE, setups, ROWS, priced)
    assert known.completion_tokens == 10 * 10 + 10 * ASSUMED_REPLY_TOKENS
    assert known.usd == pytest.approx((known.prompt_tokens * 1 + known.completion_tokens * 2) / 1e6)
    assert known.usd == pytest.approx(sum(known.per_setup))
    assert known.text().startswith("≈$") and known.text().endswith("(estimate)")
    # a row that cannot be filled is never sent, so it costs nothing
    assert estimate_run_cost(TEMPLATE, SETUPS, [{}], priced).usd == 0


def test_request_body_fills_both_prompts() -> None:
    body = request_body(Template("Hi {{name}}", "Speak {{lang=French}}."), Setup(BIG), {"name": "Ann"})
    assert body["messages"] == [{"role": "system", "content": "Speak French."}, {"role": "user", "content": "Hi Ann"}]
    own = request_body(Template("Hi"), Setup(BIG, system_prompt="Be {{mood=kind}}."), {})
    assert own["messages"][0] == {"role": "system", "content": "Be kind."}


def test_the_cells_read_mid_run_are_finished_running_with_their_text_so_far_or_queued(
    fake_api: FakeAPI, settings: Settings
) -> None:
    fake_api.default = Behaviour(reply="slow " * 200, token_rate=40)
    fake_api.plan_for(BIG, Behaviour(reply='{"quick": 1}'))
    fake_api.plan_for(SMALL, Behaviour(reply='{"quick": 1}'))
    run = run_of(settings, checks=[Check("json")]).start()
    deadline = time.monotonic() + 10
    while run.progress().done < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # the slow ones have said something
    result = run.result()
    run.cancel()
    assert run.wait(10)
    statuses = [c.status for c in result.cells]
    assert statuses.count("done") == 2 and statuses.count("running") == 4 and statuses.count("pending") == 14
    done = [c for c in result.cells if c.status == "done"]
    assert all(c.text == '{"quick": 1}' and c.checks[0].passed and c.stats is not None for c in done)
    running = [c for c in result.cells if c.status == "running"]
    assert all(c.text.startswith("slow") and not c.checks for c in running), [c.text for c in running]
    assert [t.requests for t in result.totals()] == [1, 1], "the totals so far count the finished cells"
    assert all(c.text == "" for c in run.cells if c.status == "skipped")
