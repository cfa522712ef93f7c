"""The Usage page and the budget, driven by AppTest against the fake API (#15)."""

from __future__ import annotations

import csv
import io
import time
from datetime import date, datetime
from pathlib import Path

import pytest

from lib.api.fake_api import DEMO_PRICE_IN, DEMO_PRICE_OUT, Behaviour, FakeAPI, count_prompt_tokens
from lib.settings import load_settings
from lib.store import usage
from lib.store.database import open_store
from lib.store.request_log import RequestRow, finish_request
from tests.apptest_helpers import new_app, page_text, send
from tests.conftest import CANARY_KEY, isolate_env

USAGE = "pages/5_Usage.py"


def cost_of(body: dict, reply: str) -> float:
    return round((count_prompt_tokens(body["messages"]) * DEMO_PRICE_IN + len(reply.split()) * DEMO_PRICE_OUT) / 1e6, 9)


def test_the_page_totals_what_the_server_reported(app_env: FakeAPI) -> None:
    replies = ["One two three.", "Four five.", "Six."]
    app_env.plan(*(Behaviour(reply=r) for r in replies))
    at = new_app()
    for n in range(3):
        send(at, f"question {n}")
    reported = sum(cost_of(b, r) for b, r in zip(app_env.bodies(), replies, strict=True))
    at.switch_page(USAGE).run()
    assert not at.exception, at.exception
    figures = {m.label: m.value for m in at.main.metric}
    assert figures["Cost"] == f"${reported:.6f}".rstrip("0")
    assert figures["Requests"] == "3"
    # Cost, tokens, requests, first token; replies this fast have no measurable speed, and say so.
    assert len(at.get("vega_lite_chart")) == 4
    assert "Tokens/s: not measured in these requests." in page_text(at)
    assert "Most expensive conversations" in [h.value for h in at.subheader]


def test_an_empty_log_says_what_will_be_counted(app_env: FakeAPI) -> None:
    at = new_app()
    at.switch_page(USAGE).run()
    assert not at.exception, at.exception
    assert "No requests in these filters yet" in page_text(at)


def test_a_click_on_a_model_narrows_the_figures(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="a b"), Behaviour(reply="c d e"))
    at = new_app()
    send(at, "first")
    at.selectbox(key="model_choice").select("google/gemma-3-4b-it").run()
    send(at, "second")
    models = [b["model"] for b in app_env.bodies()]
    assert len(set(models)) == 2
    at.switch_page(USAGE).run()
    # What a click on a bar of the cost chart leaves in its widget state.
    at.session_state["usage_cost_chart"] = {"selection": {"pick": [{"model": models[1]}]}}
    at.run()
    assert not at.exception, at.exception
    figures = {m.label: m.value for m in at.main.metric}
    assert figures["Requests"] == "1"
    assert models[1] in page_text(at)


def test_the_csv_has_one_line_per_request(app_env: FakeAPI, tmp_path: Path) -> None:
    app_env.plan(Behaviour(status=400, error_message="bad"), Behaviour(reply="fine"))
    at = new_app()
    send(at, "fails")
    send(at, "works")
    store = open_store(load_settings())
    lines = list(csv.DictReader(io.StringIO(usage.to_csv(store, usage.UsageFilter()))))
    assert [line["status"] for line in lines] == ["error", "ok"]
    assert [line["id"] for line in lines] == [r.headers["X-Client-Request-Id"] for r in app_env.requests]


def test_the_daily_budget_refuses_the_request_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, fake_api: FakeAPI
) -> None:
    # The limit is below what the prompt alone costs at the configured price.
    isolate_env(
        monkeypatch, tmp_path, AIMLAPI_API_KEY=CANARY_KEY, AIMLAPI_BASE_URL=fake_api.url,
        AIMLAPI_PRICE_INPUT_PER_M=str(DEMO_PRICE_IN), AIMLAPI_PRICE_OUTPUT_PER_M=str(DEMO_PRICE_OUT),
        CHAT_DAILY_USD="0.000000001",
    )
    at = send(new_app(), "How much?")
    text = page_text(at)
    assert "Limit reached: not sent" in text and "CHAT_DAILY_USD" in text
    assert fake_api.requests == []
    assert any("Today: $0.00 of" in (p.proto.text if hasattr(p, "proto") else "") for p in at.sidebar.get("progress"))


def test_the_page_shows_a_new_request_at_once(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="One."), Behaviour(reply="Two."))
    at = new_app()
    send(at, "first")
    at.switch_page(USAGE).run()
    assert {m.label: m.value for m in at.main.metric}["Requests"] == "1"
    at.switch_page("app.py").run()
    send(at, "second")
    at.switch_page(USAGE).run()  # the figures were kept for an unchanged log; this one changed
    assert {m.label: m.value for m in at.main.metric}["Requests"] == "2"


def test_a_request_of_an_earlier_hour_written_late_is_counted_though_the_past_is_kept(app_env: FakeAPI) -> None:
    # Another replica, or a long request that ended after the hour turned, writes a row of the past.
    app_env.plan(Behaviour(reply="One."))
    at = new_app()
    send(at, "first")
    at.switch_page(USAGE).run()
    assert {m.label: m.value for m in at.main.metric}["Requests"] == "1"
    store = open_store(load_settings())
    # Before this hour, but today: the date filter the page drew keeps to today.
    late = max(time.time() // 3600 * 3600 - 60, datetime.combine(date.today(), datetime.min.time()).timestamp() + 1)
    finish_request(store, RequestRow(id="late", model="google/gemma-3-27b-it", time=late, status="ok",
                                     cost_usd=0.25, cost_source="server"))
    at.run()
    figures = {m.label: m.value for m in at.main.metric}
    assert figures["Requests"] == "2" and figures["Cost"].startswith("$0.25")


def test_without_sign_in_there_is_no_one_else_and_no_switch_to_see_everyone(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="One."))
    at = new_app()
    send(at, "first")
    at.switch_page(USAGE).run()
    assert not at.exception, at.exception
    assert [t.label for t in at.sidebar.toggle] == ["Include demo"]
    assert "By person" not in [h.value for h in at.subheader]


def test_a_conversation_that_cannot_be_opened_shows_no_grey_none_to_open(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="One."))
    at = new_app()
    send(at, "first")
    store = open_store(load_settings())
    finish_request(store, RequestRow(id="gone", model="google/gemma-3-27b-it", time=time.time(), status="ok",
                                     cost_usd=0.25, cost_source="server", conversation_id="deleted-long-ago"))
    at.switch_page(USAGE).run()
    assert not at.exception, at.exception
    costliest = next(d for d in at.dataframe if "open" in d.value.columns)
    assert costliest.value["title"].tolist()[0] == "(deleted)" and costliest.value["open"].isna().tolist()[0]
    # Streamlit draws a missing value as a grey "None" unless told what to show instead
    assert costliest.proto.HasField("placeholder") and costliest.proto.placeholder == ""
