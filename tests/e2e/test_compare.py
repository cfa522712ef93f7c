"""The Compare page as a person uses it: set-ups, one message to all, votes, the leaderboard, reopening."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from lib.api.models import model_info
from lib.experiments.compare import Setup, setups_to_address
from tests.conftest import validate_request
from tests.e2e.harness import CHAT_INPUT, StreamlitServer, attach_and_send, idle, open_chat, running, wait_for

pytestmark = pytest.mark.browser

BIG, SMALL = "google/gemma-3-27b-it", "google/gemma-3-4b-it"


def send_to_all(page: Any, text: str) -> None:
    box = page.locator(CHAT_INPUT)
    box.click()
    box.fill(text)
    box.press("Enter")


def open_big_and_small(page: Any, server: StreamlitServer) -> None:
    """The Compare page with 27B and 4B side by side, drawn and idle."""
    open_chat(page, server, path=f"/Compare?setups={setups_to_address([Setup(BIG), Setup(SMALL)])}")
    idle(page)


def test_one_message_to_27b_and_4b_streams_side_by_side_is_voted_on_blind_and_counted(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    open_chat(page, app_server, path="/Compare")
    models = page.get_by_role("combobox", name="Model")
    expect(models).to_have_count(2)
    idle(page)
    models.nth(1).click()
    page.get_by_role("option", name="Gemma 3 4B").click()
    idle(page)
    page.get_by_text("Blind: hide the set-ups until I vote").click()
    idle(page)

    counting = " ".join(str(n) for n in range(40))  # long enough to be seen streaming, even on a busy machine
    e2e_fake.plan_for(BIG, Behaviour(reply=f"Big model says: one two three four five. {counting}", token_rate=25))
    e2e_fake.plan_for(SMALL, Behaviour(reply=f"Small model says: uno dos tres cuatro. {counting}", token_rate=25))
    before = len(e2e_fake.requests)
    send_to_all(page, "Count to five, please")
    # Both stream at once: each column shows part of its reply before either has ended.
    wait_for(lambda: page.get_by_text("Big model says").count() and page.get_by_text("Small model says").count()
             and running(page), what="both columns streaming at once", timeout=20)
    wait_for(lambda: page.get_by_text("Which answered better?").count(), what="the votes", timeout=30)

    requests = e2e_fake.requests[before:]
    assert sorted(r.body["model"] for r in requests) == [BIG, SMALL]
    assert abs(requests[0].received - requests[1].received) < 0.1, "the two requests left together"
    for request in requests:
        validate_request(request.body, model_info(request.body["model"]).spec)  # each against its own model's spec
    expect(page.get_by_text("first token")).to_have_count(2)
    # Blind: no model names until the vote, only letters.
    expect(page.get_by_text("Gemma 3 4B")).to_have_count(0)
    expect(page.get_by_text("Column A")).to_be_visible()
    small_letter = "A" if page.get_by_text("Small model says").bounding_box()["x"] < 500 else "B"
    page.get_by_role("button", name=f"{small_letter} is better").click()
    expect(page.get_by_text("You voted:")).to_contain_text("Gemma 3 4B")

    comparison_url = page.url
    assert "cmp=" in comparison_url
    page.get_by_test_id("stSidebar").get_by_role("link", name="Leaderboard of your votes").click()
    expect(page.get_by_role("heading", name="Leaderboard")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("1 votes")).to_be_visible()
    table = page.get_by_test_id("stDataFrame").first
    expect(table).to_contain_text("Gemma 3 4B")

    page.goto(comparison_url)  # a colleague, or the same person later
    expect(page.get_by_text("Small model says: uno dos tres cuatro.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Big model says: one two three four five.")).to_be_visible()
    expect(page.get_by_text("You voted:")).to_contain_text("Gemma 3 4B")


def test_the_address_carries_the_setups_to_a_colleague(new_page: Any, app_server: StreamlitServer) -> None:
    address = setups_to_address([Setup(BIG, "Answer in French."), Setup(SMALL, "Answer in German.")])
    page = new_page()
    open_chat(page, app_server, path=f"/Compare?setups={address}")
    prompts = page.get_by_role("textbox", name="System prompt")
    expect(prompts.nth(0)).to_have_value("Answer in French.")
    expect(prompts.nth(1)).to_have_value("Answer in German.")


def test_a_failure_stays_in_its_column_and_its_retry_answers_there(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    address = setups_to_address([Setup(BIG), Setup(SMALL)])
    open_chat(page, app_server, path=f"/Compare?setups={address}")
    e2e_fake.plan_for(SMALL, *[Behaviour(status=500)] * 4)
    e2e_fake.plan_for(BIG, Behaviour(reply="The big one is fine."))
    send_to_all(page, "Are you there?")
    expect(page.get_by_text("The big one is fine.")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name="Retry")).to_be_visible(timeout=30_000)
    e2e_fake.plan_for(SMALL, Behaviour(reply="Now the small one answers."))
    page.get_by_role("button", name="Retry").click()
    expect(page.get_by_text("Now the small one answers.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("The big one is fine.")).to_be_visible()


def test_continue_with_a_column_goes_on_as_a_chat_with_its_setup(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    address = setups_to_address([Setup(BIG), Setup(SMALL, "Answer like a pirate.")])
    open_chat(page, app_server, path=f"/Compare?setups={address}")
    e2e_fake.plan_for(BIG, Behaviour(reply="Plain answer."))
    e2e_fake.plan_for(SMALL, Behaviour(reply="Arr, an answer."))
    send_to_all(page, "Where is the treasure?")
    expect(page.get_by_role("button", name="Continue with B")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Continue with B").click()
    page.locator(CHAT_INPUT).wait_for()
    expect(page.get_by_text("Arr, an answer.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Plain answer.")).to_have_count(0)
    e2e_fake.plan_for(SMALL, Behaviour(reply="Arr, still here."))
    send_to_all(page, "And then?")
    expect(page.get_by_text("Arr, still here.")).to_be_visible(timeout=30_000)
    last = e2e_fake.requests[-1].body
    assert last["model"] == SMALL
    assert [m["content"] for m in last["messages"] if m["role"] == "assistant"] == ["Arr, an answer."]


def test_the_chat_inputs_stop_ends_every_column_and_the_page_shows_them_stopped(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    open_chat(page, app_server, path="/Compare")
    expect(page.get_by_role("combobox", name="Model")).to_have_count(2)
    idle(page)
    slow = " ".join(f"w{n}" for n in range(200))
    e2e_fake.plan(Behaviour(reply=f"Left: {slow}", token_rate=5), Behaviour(reply=f"Right: {slow}", token_rate=5))
    send_to_all(page, "Take your time")
    wait_for(lambda: page.get_by_text("Left:").count() and page.get_by_text("Right:").count(),
             what="both columns streaming", timeout=20)
    page.get_by_test_id("stChatInputStopButton").click()
    # A stopped run draws nothing more: the page must be drawn again, with each column marked and
    # its figures, and the chat input ready for the next message.
    expect(page.get_by_text("Stopped.")).to_have_count(2, timeout=10_000)
    expect(page.get_by_text("first token")).to_have_count(2)
    expect(page.locator(CHAT_INPUT)).to_be_enabled()
    wait_for(lambda: e2e_fake.disconnects >= 2, 3, what="both streams to be closed")


def test_a_message_whose_file_is_refused_goes_to_no_column_and_its_text_comes_back(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Any
) -> None:
    not_a_picture = tmp_path / "holiday.png"
    not_a_picture.write_text("this is not a picture at all")
    open_big_and_small(page, app_server)
    before = len(e2e_fake.requests)
    attach_and_send(page, [not_a_picture], "What do you both see?")
    expect(page.get_by_text("Not sent.")).to_be_visible()
    expect(page.get_by_text("holiday.png", exact=False).first).to_be_visible()
    expect(page.locator(CHAT_INPUT)).to_have_value("What do you both see?")
    idle(page)
    assert len(e2e_fake.requests) == before, "no column was sent anything"

    e2e_fake.plan_for(BIG, Behaviour(reply="Big: nothing attached now."))
    e2e_fake.plan_for(SMALL, Behaviour(reply="Small: nothing attached now."))
    page.locator(CHAT_INPUT).press("Enter")
    expect(page.get_by_text("Big: nothing attached now.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Small: nothing attached now.")).to_be_visible(timeout=30_000)


def test_a_message_sent_from_a_tab_that_outlived_a_server_restart_reaches_every_column(
    page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI
) -> None:
    # The new server's session learns the chat input's key only when the page draws it: the
    # message was taken out of the input and dropped, with nothing said.
    open_big_and_small(page, restartable_server)
    restartable_server.restart()
    expect(page.get_by_test_id("stChatInput")).to_be_visible()
    page.wait_for_timeout(3000)  # the tab reconnects to the new process
    e2e_fake.plan_for(BIG, Behaviour(reply="Big after the restart."))
    e2e_fake.plan_for(SMALL, Behaviour(reply="Small after the restart."))
    send_to_all(page, "Hello after the restart")
    expect(page.get_by_text("Big after the restart.")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Small after the restart.")).to_be_visible(timeout=30_000)
    idle(page)
    assert len(e2e_fake.bodies()) == 2, "once to each column, not again on the rerun"


def test_a_refused_message_from_a_tab_that_outlived_a_server_restart_comes_back_into_the_input(
    page: Any, restartable_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Any
) -> None:
    not_a_picture = tmp_path / "notes.png"
    not_a_picture.write_text("plain words, no picture")
    open_big_and_small(page, restartable_server)
    restartable_server.restart()
    page.wait_for_timeout(3000)
    attach_and_send(page, [not_a_picture], "Read my notes")
    expect(page.get_by_text("Not sent.")).to_be_visible(timeout=30_000)
    expect(page.locator(CHAT_INPUT)).to_have_value("Read my notes")
    idle(page)
    assert e2e_fake.bodies() == []
