"""The Lab page as a person uses it (#13's "Done when"): a template with two variables, ten rows
imported from a CSV file, two set-ups, twenty requests never more than four at once, every cell
shown with its figures and its check, the CSV export, and a run stopped by Cancel."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from lib.api.fake_api import Behaviour, FakeAPI
from lib.api.models import model_info
from tests.conftest import validate_request
from tests.e2e.harness import StreamlitServer, idle, wait_for

pytestmark = pytest.mark.browser

BIG, MID = "google/gemma-3-27b-it", "google/gemma-3-12b-it"
TEMPLATE = "Describe a {{animal}} in a {{tone|formal,casual}} tone, as JSON."
ANIMALS = ["cat", "dog", "owl", "fox", "eel", "yak", "emu", "ant", "bee", "elk"]


def open_lab(page: Any, server: StreamlitServer) -> None:
    page.goto(server.url + "/Lab")
    expect(page.get_by_role("heading", name="Lab")).to_be_visible(timeout=60_000)
    idle(page)


def type_into(page: Any, label: str, text: str) -> None:
    box = page.get_by_role("textbox", name=label, exact=True)
    box.fill(text)
    box.press("Control+Enter")  # a text area sends its value on Ctrl+Enter (or on leaving it)
    idle(page)


def choose(page: Any, label: str, option: str, nth: int = 0) -> None:
    box = page.get_by_role("combobox", name=label).nth(nth)
    # In the middle of the window: a list opened at its bottom edge scrolls the page, which closes it.
    box.evaluate("element => element.scrollIntoView({block: 'center'})")
    page.wait_for_timeout(200)
    box.click()
    page.keyboard.type(option)  # the list filters as one types, as a person would look for it
    page.get_by_role("option", name=option).first.click()
    idle(page)


def prepare(page: Any, server: StreamlitServer, tmp_path: Path) -> None:
    """Template, 10 rows from a CSV file, 27B and 12B, a "valid JSON" check."""
    open_lab(page, server)
    type_into(page, "Message", TEMPLATE)
    expect(page.get_by_text("(choice of formal, casual)")).to_be_visible()
    data = tmp_path / "animals.csv"
    data.write_text("animal,tone\n" + "".join(f"{a},{'formal' if n % 2 else 'casual'}\n" for n, a in enumerate(ANIMALS)))
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(data))
    expect(page.get_by_text("10 rows imported from animals.csv")).to_be_visible(timeout=30_000)
    idle(page)
    expect(page.get_by_text("google/gemma-3-27b-it")).to_be_visible()  # the chat's model comes first
    page.get_by_role("button", name="Add a set-up").click()
    idle(page)
    choose(page, "Model", "Gemma 3 12B", nth=1)
    choose(page, "Check", "Valid JSON")
    page.get_by_role("button", name="Add check").click()
    idle(page)
    expect(page.get_by_text("20 requests")).to_be_visible()


def test_a_template_over_ten_imported_rows_for_27b_and_12b_runs_twenty_requests_four_at_a_time(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    prepare(page, app_server, tmp_path)
    # Slow enough that the pool fills: a bound of 4 is seen to hold, not just never reached.
    e2e_fake.default = Behaviour(reply='{"animal": "described"}', first_token_delay=0.4)
    e2e_fake.plan_for(MID, Behaviour(reply="Plain words, no JSON.", first_token_delay=0.4))
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Finished: 20 cells")).to_be_visible(timeout=60_000)

    assert len(e2e_fake.requests) == 20
    assert e2e_fake.max_in_flight == 4, f"{e2e_fake.max_in_flight} requests were in flight at once"
    assert sorted(r.body["model"] for r in e2e_fake.requests) == [MID] * 10 + [BIG] * 10
    for request in e2e_fake.requests:
        validate_request(request.body, model_info(request.body["model"]).spec)  # each against its model's spec
    sent = {r.body["messages"][-1]["content"] for r in e2e_fake.requests}
    assert any("Describe a owl in a casual tone, as JSON." in s for s in sent)

    # each cell's line of figures (the totals' "mean first token" column is not one)
    expect(page.get_by_text(re.compile(r"^first token \d.* tokens · cost "))).to_have_count(20)
    expect(page.get_by_text("✓ pass: Valid JSON", exact=True).filter(visible=True)).to_have_count(19)
    expect(page.get_by_text("✗ fail: Valid JSON", exact=True).filter(visible=True)).to_have_count(1)
    with page.expect_download() as started:
        page.get_by_role("button", name="Export CSV").click()
    rows = list(csv.DictReader(io.StringIO(Path(started.value.path()).read_text(encoding="utf-8"))))
    assert len(rows) == 20
    assert sorted(r["Valid JSON"] for r in rows) == ["fail"] + ["pass"] * 19


def test_the_grid_fills_in_while_the_run_goes(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    prepare(page, app_server, tmp_path)
    fast, slow = Behaviour(reply='{"fast": true}'), Behaviour(reply='{"slow": true}', first_token_delay=6)
    e2e_fake.plan(*[fast] * 4, *[slow] * 4)  # rows 1 and 2 end at once, rows 3 and 4 hold the pool for 6 s
    e2e_fake.default = fast
    page.get_by_role("button", name="Run", exact=True).click()
    bar = page.get_by_test_id("stProgress")
    expect(bar.get_by_text("4 of 20 done")).to_be_visible(timeout=30_000)
    # while the bar still shows the run going: the finished cells as they will stay, the others waiting
    expect(page.get_by_text("✓ pass: Valid JSON", exact=True).filter(visible=True)).to_have_count(4)
    expect(page.get_by_text('Reply: {"fast": true}', exact=True)).to_have_count(4)
    expect(page.get_by_text(re.compile(r"^first token \d.* tokens · cost "))).to_have_count(4)
    expect(page.get_by_text("Running…", exact=True)).to_have_count(4)
    expect(page.get_by_text("Queued: not sent yet.", exact=True)).to_have_count(12)
    expect(page.get_by_text("4 of 20 cells finished so far")).to_be_visible()
    expect(bar.get_by_text("4 of 20 done")).to_be_visible()
    expect(page.get_by_role("button", name="Export CSV")).to_have_count(0)

    expect(page.get_by_text("Finished: 20 cells")).to_be_visible(timeout=60_000)
    expect(bar).to_have_count(0)
    expect(page.get_by_text("✓ pass: Valid JSON", exact=True).filter(visible=True)).to_have_count(20)
    expect(page.get_by_text(re.compile(r"^first token \d.* tokens · cost "))).to_have_count(20)
    expect(page.get_by_text('Reply: {"slow": true}', exact=True)).to_have_count(4)
    expect(page.get_by_text("Running…", exact=True)).to_have_count(0)
    expect(page.get_by_text("Queued: not sent yet.", exact=True)).to_have_count(0)
    expect(page.get_by_role("button", name="Export CSV")).to_be_visible()


def test_cancel_keeps_what_finished_and_says_the_run_was_cancelled(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    prepare(page, app_server, tmp_path)
    e2e_fake.plan(*[Behaviour(reply='{"fast": true}')] * 4)
    e2e_fake.default = Behaviour(reply='{"slow": true}', first_token_delay=8)
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("4 of 20 done")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("4 of 20 done")).to_contain_text("so far")
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_text("Cancelled: 4 of 20 cells finished and are kept.")).to_be_visible(timeout=30_000)
    # the rest said too: the 4 in flight were stopped half-way, the others never sent
    expect(page.get_by_text(re.compile(r"4 were stopped half-way \(sent, partly answered\); 12 were never sent\."))
           ).to_be_visible()
    expect(page.get_by_text("✓ pass: Valid JSON", exact=True).filter(visible=True)).to_have_count(4)
    expect(page.get_by_text("are kept. Cancelled.")).to_have_count(0)  # said once
    runs = page.get_by_role("combobox", name="Runs of “animals”")
    runs.evaluate("element => element.scrollIntoView({block: 'center'})")
    runs.click()  # the saved run's label says how far it went
    expect(page.get_by_role("option", name=re.compile(r"· cancelled · 4 of 20 done"))).to_be_visible()
    page.keyboard.press("Escape")
    wait_for(lambda: e2e_fake.in_flight == 0, what="the stopped requests to end", timeout=20)
    assert len(e2e_fake.requests) <= 8, "nothing more was sent after Cancel"


def test_a_row_typed_into_the_grid_is_sent(page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI) -> None:
    open_lab(page, app_server)
    type_into(page, "Message", "Say {{word}} twice")
    grid = page.get_by_test_id("stDataFrame")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 200, box["y"] + 55)  # the grid's empty last row, under the header
    idle(page)  # the new row reruns the page
    page.mouse.dblclick(box["x"] + 200, box["y"] + 55)  # its cell opens its editor
    editor = page.locator("textarea.gdg-input")  # the grid's (glide-data-grid's) cell editor
    editor.fill("hello")
    editor.press("Enter")
    page.keyboard.press("Escape")
    page.get_by_role("heading", name="1 · Template").click()  # leaving the grid sends its rows
    expect(page.get_by_text("1 request ·")).to_be_visible()
    e2e_fake.default = Behaviour(reply="hello hello")
    page.get_by_role("button", name="Run", exact=True).click()
    expect(page.get_by_text("Finished: 1 cell.")).to_be_visible(timeout=30_000)
    assert e2e_fake.requests[-1].body["messages"][-1]["content"].endswith("Say hello twice")


def import_file(page: Any, tmp_path: Path, name: str, text: str) -> None:
    data = tmp_path / name
    data.write_text(text)
    page.get_by_test_id("stFileUploader").locator("input[type=file]").set_input_files(str(data))


def grid_headers(page: Any) -> list[str]:
    """The grid's column names, as its table for screen readers has them (the grid itself is a canvas)."""
    grid = page.get_by_test_id("stDataFrame").first  # the test set's, above any table of results
    return [h.strip() for h in grid.locator("th[role=columnheader]").all_text_contents()]


def test_a_second_csv_replaces_the_first_and_a_value_off_the_choices_stops_the_run(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    open_lab(page, app_server)
    type_into(page, "Message", TEMPLATE)
    name = page.get_by_role("textbox", name="Test set name")
    import_file(page, tmp_path, "wrongcols.csv", "species,mood,extra\n")
    expect(page.get_by_text("Not used by the template (shown, not sent): species, mood, extra.")).to_be_visible(
        timeout=30_000)
    idle(page)
    expect(name).to_have_value("wrongcols")
    wait_for(lambda: "extra (not used)" in grid_headers(page), what="the unused column marked")
    tones = ["formal", "casual", "angry"] + ["casual"] * 7
    rows = "".join(f"{a},{t}\n" for a, t in zip(ANIMALS, tones, strict=True))
    import_file(page, tmp_path, "animals.csv", "animal,tone\n" + rows)
    expect(page.get_by_text("10 rows imported from animals.csv")).to_be_visible(timeout=30_000)
    idle(page)
    expect(name).to_have_value("animals")
    try:
        wait_for(lambda: grid_headers(page) == ["animal", "tone"], what="the grid to hold only the new file's columns")
    except TimeoutError:
        raise AssertionError(f"the grid's columns: {grid_headers(page)}") from None
    expect(page.get_by_text("row 3: tone must be formal or casual").first).to_be_visible()
    expect(page.get_by_role("button", name="Run", exact=True)).to_be_disabled()

    cap = page.get_by_role("spinbutton", name=re.compile("Cost cap"))
    cap.fill("0.00005")
    cap.press("Enter")
    idle(page)
    expect(cap).to_have_value("0.000050")
    assert e2e_fake.requests == []


def test_after_a_new_run_the_diff_compares_it_with_the_run_before(
    page: Any, app_server: StreamlitServer, e2e_fake: FakeAPI, tmp_path: Path
) -> None:
    # The pair first shown (runs 1 and 2) stayed chosen after run 3: the newest run was left out.
    prepare(page, app_server, tmp_path)
    run = page.get_by_role("button", name="Run", exact=True)
    for reply in ('{"ok": 1}', "no JSON", '{"ok": 3}'):  # 100%, 0%, 100% passed: each run's label its own
        e2e_fake.default = Behaviour(reply=reply)
        idle(page)
        run.click()
        expect(page.get_by_text("Finished: 20 cells")).to_be_visible(timeout=60_000)
        idle(page)
    before, after = (page.get_by_role("combobox", name=side) for side in ("Before", "After"))
    expect(before).to_have_value(re.compile(r" · 0% passed$"))
    expect(after).to_have_value(re.compile(r" · 100% passed$"))
    expect(page.get_by_text("20 cells changed of 20 run in both · 20 newly passing")).to_be_visible()
