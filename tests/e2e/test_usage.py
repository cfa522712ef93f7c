"""The Usage page and the limits in a real browser (#15 "Done when", #14 item 5).

Three chat replies, a stopped one, a comparison and a lab run against the fake API; the Usage
page's cost per model equals what the server reported, its CSV has one row per request, the
stopped reply is there with its partial cost, and the charts draw. Then, with CHAT_DAILY_USD just
under the next request's cost, the app refuses to send it and says why; and CHAT_USER_RPM refuses
the request past N in a minute.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import DEMO_PRICE_IN, DEMO_PRICE_OUT, Behaviour, FakeAPI, count_prompt_tokens, split_tokens
from lib.chat.recorder import next_cost
from lib.chat.usage import Cost, format_cost
from lib.experiments.compare import Setup, another_gemma
from lib.experiments.lab_run import LabRun, Template
from lib.settings import load_settings
from lib.store.database import Store
from tests.e2e.conftest import EXTRA_ARGS, _assert_no_canary, _keyed_env
from tests.e2e.harness import CHAT_INPUT, StreamlitServer, idle, open_chat, send, wait_for, wait_for_reply

pytestmark = pytest.mark.browser

BIG, SMALL = "google/gemma-3-27b-it", "google/gemma-3-4b-it"
#: the Compare page's second column, beside the chat's model
OTHER = another_gemma(BIG)
PRICES = {"AIMLAPI_PRICE_INPUT_PER_M": str(DEMO_PRICE_IN), "AIMLAPI_PRICE_OUTPUT_PER_M": str(DEMO_PRICE_OUT)}
CHARTS_JS = "() => [...document.querySelectorAll('.vega-embed')].filter(e => e.querySelector('canvas, svg')).length"
#: JavaScript: the titles of the charts (their subheaders) that have drawn no bar, line or point at all
EMPTY_CHARTS_JS = """
() => [...document.querySelectorAll('.vega-embed')]
  .filter(e => !e.querySelector('.mark-rect path, .mark-line path, .mark-symbol path, .mark-area path'))
  .map(e => {
    const block = e.closest('[data-testid=stVerticalBlock]');
    const title = block && block.querySelector('h3');
    return title ? title.innerText : '(untitled chart)';
  })
"""


def served(tmp: Path, fake: FakeAPI, **env: str) -> StreamlitServer:
    return StreamlitServer(env=_keyed_env(tmp, fake, **PRICES, **env), log_path=tmp / "server.log", extra_args=EXTRA_ARGS)


@pytest.fixture
def server(e2e_fake: FakeAPI, tmp_path: Path) -> Iterator[StreamlitServer]:
    app = served(tmp_path, e2e_fake).start()
    yield app
    app.stop()
    _assert_no_canary(app)


def reported_cost(body: dict[str, Any], reply: str) -> float:
    """What the fake reports for ``reply`` to ``body``: its price times its tokens, as the API would."""
    tokens = len(split_tokens(reply))
    return round((count_prompt_tokens(body["messages"]) * DEMO_PRICE_IN + tokens * DEMO_PRICE_OUT) / 1e6, 9)


def figure(page: Any, label: str) -> str:
    metric = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return metric.locator('[data-testid="stMetricValue"]').inner_text().strip()


def open_usage(page: Any, server: StreamlitServer) -> None:
    page.goto(server.url + "/Usage")
    expect(page.get_by_role("heading", name="Usage")).to_be_visible(timeout=30_000)
    wait_for(lambda: page.evaluate(CHARTS_JS) >= 4, what="the charts drawn", timeout=30)


def pick_model(page: Any, model: str) -> None:
    """Choose ``model`` in the sidebar's Model filter."""
    page.locator('[data-testid="stMultiSelect"]').filter(has_text="Model").click()
    page.get_by_role("option", name=model).click()
    page.keyboard.press("Escape")
    idle(page)


def test_the_usage_page_adds_up_to_what_the_server_reported(
    page: Any, server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    replies: list[str] = []
    open_chat(page, server)
    for n, reply in enumerate(("Alpha beta.", "Gamma delta epsilon.", "Zeta.")):
        e2e_fake.plan(Behaviour(reply=reply))
        replies.append(reply)
        send(page, f"question {n}")
        wait_for_reply(page, reply.split()[0])
        idle(page)

    # A reply stopped halfway: the server never reports its cost; the log keeps an estimate of it.
    long = " ".join(f"word{n}" for n in range(300))
    e2e_fake.plan(Behaviour(reply=long, token_rate=30))
    send(page, "a long one")
    wait_for(lambda: page.get_by_text("word5").count(), what="the long reply streaming", timeout=20)
    page.get_by_role("button", name="Stop", exact=True).click()
    wait_for(lambda: page.get_by_text("Stopped:").count(), what="the reply stopped", timeout=20)
    idle(page)

    # A comparison: 27B and another Gemma 3 side by side.
    page.goto(server.url + "/Compare")
    page.locator(CHAT_INPUT).wait_for(state="visible", timeout=30_000)
    idle(page)
    e2e_fake.plan_for(BIG, Behaviour(reply="Big says hello."))
    e2e_fake.plan_for(OTHER, Behaviour(reply="Other says hi."))
    send(page, "Say hello")
    wait_for(lambda: page.get_by_text("Which answered better?").count(), what="the comparison's votes", timeout=30)
    idle(page)

    # A lab run, from lib (the Lab page is another branch's), logged into the same database.
    settings = load_settings({"AIMLAPI_API_KEY": "x", "AIMLAPI_BASE_URL": e2e_fake.url, **PRICES})
    settings = settings.with_key(e2e_fake.api_key)
    assert (tmp_path / "chats.sqlite3").exists(), "the app's database is where the test expects it"
    store = Store(f"sqlite:///{tmp_path / 'chats.sqlite3'}")
    e2e_fake.default = Behaviour(reply='{"ok": true}')
    run = LabRun(Template("Describe {{x}}."), [Setup(BIG), Setup(SMALL)], [{"x": "a cat"}, {"x": "a dog"}], settings,
                 ledger=store).start()
    assert run.wait(30)
    store.close()
    assert not any(e2e_fake._plans_by_model.values()), "every planned reply was used where it was meant"

    # What the server reported, request by request, from the fake's own record of each body.
    answered: dict[str, float] = defaultdict(float)
    requests = list(e2e_fake.requests)
    assert len(requests) == 3 + 1 + 2 + 4
    for request in requests:
        body = request.body
        # A model without a system role gets the system prompt ahead of the question, in one message.
        question = body["messages"][-1]["content"].split("\n\n")[-1]
        reply = {"question 0": "Alpha beta.", "question 1": "Gamma delta epsilon.", "question 2": "Zeta.",
                 "Say hello": "Big says hello." if body["model"] == BIG else "Other says hi."}.get(question)
        if question.startswith("Describe"):
            reply = '{"ok": true}'
        if question == "a long one":
            continue  # stopped: nothing reported
        assert reply is not None, question
        answered[body["model"]] += reported_cost(body, reply)

    for model, cost in answered.items():
        open_usage(page, server)  # a new session: no model picked yet
        pick_model(page, model)
        said = format_cost(Cost(cost, "server"))
        if model == BIG:  # the chat's model: its stopped reply's estimate is apart from what the API reported
            expect(page.get_by_text(f"Of the cost, {said} as the API reported it")).to_be_visible()
        else:
            shown = page.locator('[data-testid="stMetric"]').filter(has_text="Cost").first
            expect(shown.locator('[data-testid="stMetricValue"]')).to_have_text(said)
    chart_errors: list[str] = []
    page.on("console", lambda m: chart_errors.append(m.text) if m.type == "error" and "TypeError" in m.text else None)
    open_usage(page, server)
    # Every chart has data here, so every one draws something: a spec Vega fails on draws gridlines only.
    wait_for(lambda: not page.evaluate(EMPTY_CHARTS_JS), what="every chart's bars, lines or points", timeout=20)
    assert not chart_errors, chart_errors[0][:300]

    # The CSV: one row per request sent, the stopped one with its estimated partial cost.
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    assert sorted(r["id"] for r in rows) == sorted(r.headers["X-Client-Request-Id"] for r in requests)
    stopped = [r for r in rows if r["status"] == "stopped"]
    assert len(stopped) == 1 and stopped[0]["cost_source"] == "estimate" and 0 < float(stopped[0]["cost_usd"]) < (
        reported_cost(next(r.body for r in requests if r.body["messages"][-1]["content"].endswith("a long one")), long)
    )
    server_rows = defaultdict(float)
    for row in rows:
        if row["cost_source"] == "server":
            server_rows[row["model"]] += float(row["cost_usd"])
    assert server_rows == pytest.approx(dict(answered))
    assert {r["source"] for r in rows} == {"chat", "compare", "lab"}

    # A click on a bar picks its model for the rest of the page.
    every = figure(page, "Requests")
    page.locator(".vega-embed").nth(1).locator('[aria-roledescription="bar"]').first.click()
    wait_for(lambda: page.get_by_text("picked in a chart").count(), what="the figures following the click", timeout=20)
    idle(page)
    assert int(figure(page, "Requests")) < int(every)

    # The daily budget: just under what the next request costs at least (its prompt), nothing is sent.
    prompt = {"model": BIG, "messages": [{"role": "system", "content": settings.system_prompt},
                                         {"role": "user", "content": "one more"}]}
    spent = sum(float(r["cost_usd"]) for r in rows)
    server.stop()
    server.env["CHAT_DAILY_USD"] = f"{spent + next_cost(prompt, settings) * 0.5:.12f}"
    server.start()
    before = len(e2e_fake.requests)
    open_chat(page, server)
    send(page, "one more")
    expect(page.get_by_text("Limit reached: not sent")).to_be_visible(timeout=20_000)
    expect(page.get_by_text("CHAT_DAILY_USD").first).to_be_visible()
    assert len(e2e_fake.requests) == before, "the refused request reached the API"


def test_the_per_person_rpm_refuses_the_request_past_the_limit(
    page: Any, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    app = served(tmp_path, e2e_fake, CHAT_USER_RPM="2").start()
    try:
        open_chat(page, app)
        e2e_fake.default = Behaviour(reply="Fine.")
        for n in range(2):
            send(page, f"message {n}")
            wait_for_reply(page, "Fine.")
            idle(page)
        send(page, "one too many")
        expect(page.get_by_text("CHAT_USER_RPM allows 2")).to_be_visible(timeout=20_000)
        assert len(e2e_fake.requests) == 2
    finally:
        app.stop()
        _assert_no_canary(app)
