"""The Lab page's pieces: template, test set grid, set-ups, checks and judge, the run and its results."""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd
import streamlit as st

from lib.api.models import GEMMA_MODELS
from lib.chat.markdown_html import literal, without_images
from lib.errors import ChatError
from lib.experiments import lab_view
from lib.experiments.checks import CASE_KINDS, KIND_LABELS, KINDS
from lib.experiments.compare import Setup
from lib.experiments.judge import OPINION_NOTE
from lib.experiments.lab_diff import diff
from lib.experiments.lab_run import LabResult, Template
from lib.experiments.lab_session import EXAMPLE_SCHEMA, OUTPUT_LABELS, LabSession, Output, describe
from lib.experiments.presets import Presets
from lib.experiments.structured import structured_modes
from lib.experiments.test_sets import results_csv, results_json
from lib.settings import Settings
from lib.store.database import Store
from lib.words import count
from ui import compare

SESSION = "lab"
NOTE = "lab_note"
#: seconds between two looks at a run in flight
POLL = 0.5


def session(settings: Settings, store: Store | None) -> LabSession:
    """This browser session's lab, started from the chat's model and system prompt."""
    current: LabSession | None = st.session_state.get(SESSION)
    if current is None:
        chat = compare._chat_conversation(settings)
        current = LabSession(settings, store, setups=[Setup.of(chat)])
        st.session_state[SESSION] = current
        sync_widgets(current)
    current.settings, current.store = settings, store
    return current


def _k(session: LabSession, name: str) -> str:
    return f"lab-{session.editor_id}-{name}"


def sync_widgets(session: LabSession) -> None:
    """Make every field show the session (after opening a run, or adding and removing set-ups)."""
    state = st.session_state
    state[_k(session, "system")] = session.template.system_prompt
    state[_k(session, "message")] = session.template.message
    state[_k(session, "name")] = session.test_set.name
    compare.sync_widgets(session)
    for column, output in enumerate(session.outputs):
        state[_k(session, f"output-{column}")] = output.mode
        state[_k(session, f"schema-{column}")] = output.schema or EXAMPLE_SCHEMA


def _say(where: str, kind: str, text: str) -> None:
    """A note shown once, in its section (``where``), after the rerun a callback causes."""
    st.session_state[f"{NOTE}-{where}"] = (kind, text)


def notes(where: str) -> None:
    if (note := st.session_state.pop(f"{NOTE}-{where}", None)) is not None:
        kind, text = note
        getattr(st, kind)(text)


# -- 1. the template --------------------------------------------------------------------------


def _read_template(session: LabSession) -> None:
    state = st.session_state
    session.template = Template(state.get(_k(session, "message"), ""), state.get(_k(session, "system"), ""))
    session.sync_grid()


def template_editor(session: LabSession) -> None:
    st.subheader("1 · Template")
    st.caption("Write `{{name}}` where a value of the test set goes; `{{tone|formal,casual}}` offers a choice, "
               "`{{name=value}}` gives a default, `{{date}}` is filled in automatically.")
    on_change = {"on_change": _read_template, "args": (session,)}
    st.text_area("System prompt (empty: each set-up's own)", key=_k(session, "system"), height=90, **on_change)
    st.text_area("Message", key=_k(session, "message"), height=110,
                 placeholder="Describe {{animal}} in a {{tone|formal,casual}} tone, as JSON.", **on_change)
    if (error := session.template_error()) is not None:
        st.error(f"**The template cannot be read.** {error}", icon=":material/error:")
        return
    found = session.variables()
    if found:
        st.markdown("**Variables:** " + " · ".join(f"`{v.name}` ({describe(v)})" for v in found))
    else:
        st.caption("No variables yet: each set-up gets the message once.")


# -- 2. the test set ------------------------------------------------------------------------


def _import(session: LabSession, key: str) -> None:
    upload = st.session_state.get(key)
    if upload is None:
        return
    try:
        _say("set", "success", session.import_csv(upload.getvalue(), upload.name))
    except ChatError as exc:
        _say("set", "error", f"**{upload.name} was not imported; the grid is as it was.** {exc}")
    st.session_state[_k(session, "name")] = session.test_set.name


def _run_store(where: str, action: Callable[..., object], *args: object, done: str = "") -> None:
    try:
        action(*args)
    except ChatError as exc:
        _say(where, "error", f"**{exc.title}.** {exc}")
        return
    if done:
        _say(where, "success", done)


def _type_name(session: LabSession) -> None:
    session.type_name(st.session_state.get(_k(session, "name"), ""))


def _grid_columns(session: LabSession) -> dict[str, st.column_config.Column]:
    """A choice variable's column offers its choices; a column the template does not use says so."""
    choices, unused = session.choice_columns(), session.unused_columns()
    config: dict[str, st.column_config.Column] = {}
    for column in session.test_set.columns:
        if column in choices:
            config[column] = st.column_config.SelectboxColumn(column, options=list(choices[column]))
        elif column in unused:
            config[column] = st.column_config.TextColumn(
                f"{column} (not used)", help="The template has no {{" + column + "}}: this column is not sent.")
        else:
            config[column] = st.column_config.TextColumn(column)
    return config


def _save_set(session: LabSession) -> None:
    session.rename(st.session_state.get(_k(session, "name"), ""))
    _run_store("set", session.save_test_set, done=f"Saved as “{session.saved_name()}”.")
    st.session_state[_k(session, "name")] = session.test_set.name


def _open_set(session: LabSession) -> None:
    name = st.session_state.get(_k(session, "saved-set"))
    if name:
        _run_store("set", session.open_test_set, name, done=f"Opened “{name}”.")
        st.session_state[_k(session, "name")] = session.test_set.name


def _delete_set(session: LabSession) -> None:
    name = st.session_state.get(_k(session, "saved-set"))
    if name:
        _run_store("set", session.delete_test_set, name, done=f"Deleted “{name}”; its runs stay.")
        st.session_state[_k(session, "name")] = session.test_set.name


def test_set_editor(session: LabSession) -> None:
    st.subheader("2 · Test set")
    columns = session.test_set.columns
    if columns:
        data = pd.DataFrame(session.grid_base, columns=columns, dtype="string")
        edited = st.data_editor(
            data, key=_k(session, f"grid-{session.grid_version}"), num_rows="dynamic", width="stretch",
            # no index: it counts from 0 (and shows None on a typed row), while the results count from 1
            hide_index=True, column_config=_grid_columns(session),
        )
        session.set_rows(edited.to_dict("records"))
        st.caption(f"{count(len(session.test_set.rows), 'row')} · type, paste from a spreadsheet, or import a CSV file "
                   "whose header names the variables.")
    else:
        st.caption("Add `{{variables}}` to the template, or import a CSV file, to get a grid of values.")
    upload_key = _k(session, "csv")
    st.file_uploader("Import a CSV file", type=["csv"], key=upload_key, on_change=_import, args=(session, upload_key))
    notes("set")
    with st.container(horizontal=True, vertical_alignment="bottom"):
        st.text_input("Test set name", key=_k(session, "name"), placeholder=session.saved_name(),
                      on_change=_type_name, args=(session,))
        st.button("Save test set", icon=":material/save:", on_click=_save_set, args=(session,),
                  disabled=session.store is None)
    if session.store is None:
        st.caption("History is off (`CHAT_HISTORY=off`): test sets and runs are not saved.")
        return
    saved = session.store.list_test_sets()
    if saved:
        with st.container(horizontal=True, vertical_alignment="bottom"):
            st.selectbox("Saved test sets", saved, key=_k(session, "saved-set"))
            st.button("Open", icon=":material/folder_open:", on_click=_open_set, args=(session,))
            st.button("Delete", icon=":material/delete:", type="tertiary", on_click=_delete_set, args=(session,))


# -- 3. set-ups ------------------------------------------------------------------------------


def _read_output(session: LabSession, column: int) -> None:
    state = st.session_state
    # a segmented control clicked twice is unselected: that is plain text again
    session.outputs[column] = Output(state.get(_k(session, f"output-{column}")) or "text",
                                     state.get(_k(session, f"schema-{column}"), ""))


def _add(session: LabSession) -> None:
    session.add_column()
    sync_widgets(session)


def _remove(session: LabSession, column: int) -> None:
    session.remove_column(column)
    sync_widgets(session)


def output_editor(session: LabSession, column: int) -> None:
    """Structured output for a model whose spec has ``response_format``: JSON, or a JSON schema."""
    modes = structured_modes(session.setups[column].model)
    if not modes:
        if session.outputs[column].mode != "text":
            session.outputs[column] = Output()
        st.caption("Structured output: not offered by this model.")
        return
    offered = ["text", *modes]
    # The fields show the set-up in this place, also after Compare's editor removed one before it.
    st.session_state[_k(session, f"output-{column}")] = session.outputs[column].mode
    st.session_state[_k(session, f"schema-{column}")] = session.outputs[column].schema or EXAMPLE_SCHEMA
    st.segmented_control("Structured output", offered, key=_k(session, f"output-{column}"),
                         format_func=OUTPUT_LABELS.get, on_change=_read_output, args=(session, column))
    if session.outputs[column].mode == "json_schema":
        st.text_area("JSON schema", key=_k(session, f"schema-{column}"), height=140,
                     on_change=_read_output, args=(session, column))
        _read_output(session, column)
        try:
            session.outputs[column].apply(session.setups[column])
        except ChatError as exc:
            st.error(f"**The schema is not sent like this.** {exc.message}", icon=":material/data_object:")


def setups_editor(session: LabSession, presets: Presets, settings: Settings) -> None:
    st.subheader("3 · Set-ups")
    places = st.columns(len(session.setups))
    for column, place in enumerate(places):
        with place:
            st.markdown(f"**{chr(ord('A') + column)}**")
            compare.setup_editor(session, column, presets, settings)
            output_editor(session, column)
    if session.can_add():
        st.button("Add a set-up", icon=":material/add:", on_click=_add, args=(session,))


# -- 4. checks and the judge -------------------------------------------------------------------


def _add_check(session: LabSession) -> None:
    state = st.session_state
    kind = state.get(_k(session, "check-kind"), "json")
    argument = state.get(_k(session, "check-argument"), "") if kind != "json" else ""
    try:
        session.add_check(kind, argument, case_sensitive=not state.get(_k(session, "check-any-case"), False))
    except ChatError as exc:
        _say("checks", "error", f"**The check was not added.** {exc.message}")
        return
    state[_k(session, "check-argument")] = ""


def _read_judge(session: LabSession) -> None:
    state = st.session_state
    on = state.get(_k(session, "judge-on"), False)
    session.set_judge(state.get(_k(session, "judge-model")) if on else None, state.get(_k(session, "judge-rubric"), ""))


def checks_editor(session: LabSession) -> None:
    st.subheader("4 · Checks")
    for index, check in enumerate(session.checks):
        with st.container(horizontal=True, vertical_alignment="center"):
            st.markdown(f":material/rule: {literal(check.label)}")
            st.button("Remove", key=_k(session, f"check-remove-{index}-{check.label}"), icon=":material/close:",
                      type="tertiary", on_click=session.remove_check, args=(index,))
    with st.container(horizontal=True, vertical_alignment="bottom"):
        kind = st.selectbox("Check", KINDS, key=_k(session, "check-kind"), format_func=KIND_LABELS.get)
        if kind == "json_schema":
            st.text_area("Schema", key=_k(session, "check-argument"), placeholder=EXAMPLE_SCHEMA)
        elif kind != "json":
            st.text_input({"max_chars": "Characters", "regex": "Pattern"}.get(kind, "Text"),
                          key=_k(session, "check-argument"))
        if kind in CASE_KINDS:
            st.checkbox("Any case", key=_k(session, "check-any-case"))
        st.button("Add check", icon=":material/add:", on_click=_add_check, args=(session,))
    notes("checks")
    ids = [m.id for m in GEMMA_MODELS]
    on_change = {"on_change": _read_judge, "args": (session,)}
    st.toggle("Judge each reply with a model (a score from 1 to 5)", key=_k(session, "judge-on"), **on_change)
    if st.session_state.get(_k(session, "judge-on")):
        left, right = st.columns([1, 2])
        left.selectbox("Judge model", ids, key=_k(session, "judge-model"),
                       format_func=lambda i: next(m.label for m in GEMMA_MODELS if m.id == i), **on_change)
        right.text_area("Rubric", key=_k(session, "judge-rubric"), height=90,
                        placeholder="A good answer is correct, short and polite.", **on_change)
        st.caption(f":material/gavel: {OPINION_NOTE} The judge's requests are sent after the run.")
        if session.judge is None:
            st.caption("Write a rubric to turn the judge on.")


# -- 5. the run -------------------------------------------------------------------------------


def _start(session: LabSession) -> None:
    cap = st.session_state.get(_k(session, "cap"))
    try:
        session.start(cost_cap=cap)
    except ChatError as exc:
        _say("run", "error", f"**The run did not start.** {exc.message}")


def before_run(session: LabSession) -> None:
    st.subheader("5 · Run")
    requests = session.requests()
    estimate = session.estimate()
    judged = f" (and up to {requests} judge requests after)" if session.judge is not None else ""
    cost = estimate.text() if estimate is not None else "—"
    unpriced = estimate is not None and estimate.usd is None
    if unpriced:
        cost = "unknown before the run"
    st.markdown(f"**{count(requests, 'request')}**{judged} · {count(len(session.run_rows()), 'row')} × "
                f"{count(len(session.setups), 'set-up')} · estimated cost **{cost}**")
    if unpriced:  # each reply's cost is still counted as the API reports it; only the estimate needs a price
        st.caption("Set `AIMLAPI_PRICE_INPUT_PER_M` and `AIMLAPI_PRICE_OUTPUT_PER_M` for an estimate; "
                   "each reply's cost is counted as the API reports it.")
    st.number_input("Cost cap (USD): stop once the replies have cost this much", min_value=0.0, value=None,
                    # a request can cost $0.00001: the field keeps (and shows) six decimals
                    step=0.00001, format="%.6f", placeholder="no cap", key=_k(session, "cap"))
    problems = session.problems()
    for problem in problems:
        st.warning(problem, icon=":material/warning:")
    for advice in session.advice():
        st.info(advice, icon=":material/lightbulb:")
    st.button("Run", type="primary", icon=":material/play_arrow:", disabled=bool(problems) or session.running(),
              on_click=_start, args=(session,))
    notes("run")


@st.fragment(run_every=POLL)
def progress(session: LabSession) -> None:
    """The run in flight: done/total, time left, cost so far, Cancel, and the results so far; the page
    redraws when it ends."""
    if session.advance():
        st.rerun(scope="app")
    now = session.progress()
    if now is None:
        return
    what = "Judging the replies" if session.judging() else "Running"
    st.progress(now.fraction, text=f"{what}: {lab_view.progress_line(now)}")
    st.button("Cancel", icon=":material/stop_circle:", on_click=session.cancel, key=_k(session, "cancel"))
    if (so_far := session.results_so_far()) is not None:
        results(so_far, live=True)


# -- 6. results -------------------------------------------------------------------------------


def _cell(result: LabResult, row: int, setup: int) -> None:
    cell = result.cell(row, setup)
    st.markdown(f"**{lab_view.setup_name(result, setup)}**")
    if cell is None:
        st.caption("(no cell)")
        return
    if (note := lab_view.status_note(cell)) is not None:
        (st.error if cell.status == "failed" else st.caption)(note)
    marks = lab_view.check_marks(result, cell)
    if marks:
        st.markdown(" ".join(
            f":{'green' if ok else 'red'}-badge[{'✓ pass' if ok else '✗ fail'}: {literal(label)}]" for ok, label, _ in marks
        ), help="\n\n".join(f"{label}: {detail}" for _, label, detail in marks))
    if (verdict := lab_view.judge_mark(cell)) is not None:
        st.caption(f":material/gavel: {literal(verdict)}")
    if figures := lab_view.cell_figures(cell):
        st.caption(figures)
    if (so_far := lab_view.text_so_far(cell)) is not None:
        st.caption(literal(so_far))
    elif cell.text:
        shown, is_json = lab_view.reply_view(cell.text)
        with st.expander(f"Reply: {literal(lab_view.reply_preview(cell.text))}", icon=":material/chat_bubble:"):
            if is_json:
                st.code(shown, language="json")
            else:
                st.markdown(without_images(shown))


def _exports(result: LabResult) -> None:
    with st.container(horizontal=True):
        st.download_button("Export CSV", results_csv(result), file_name=f"lab-{result.id}.csv", mime="text/csv",
                           icon=":material/download:", on_click="ignore")
        st.download_button("Export JSON", results_json(result), file_name=f"lab-{result.id}.json",
                           mime="application/json", icon=":material/download:", on_click="ignore")


def results(result: LabResult, live: bool = False) -> None:
    """The grid of rows × set-ups with totals; ``live``: a run in flight, redrawn every poll (so no export
    files are built: they would be rebuilt every half second)."""
    st.subheader("6 · Results")
    if live:
        st.caption(lab_view.so_far_note(result))
    else:
        kind, text = lab_view.ended_note(result)
        getattr(st, kind)(text)
    st.dataframe(lab_view.totals_records(result), hide_index=True, width="stretch")
    if not live:
        _exports(result)
    rows = max(len(result.rows), 1)
    page = lab_view.row_page(rows, 1)
    if page.pages > 1:
        number = st.number_input(f"Page of rows (1–{page.pages})", min_value=1, max_value=page.pages, value=1,
                                 key=f"lab-page-{result.id}")
        page = lab_view.row_page(rows, int(number))
    for row in page.rows:
        with st.container(border=True):
            st.markdown(f"**{literal(lab_view.row_title(result, row))}**")
            for setup, place in enumerate(st.columns(len(result.setups))):
                with place:
                    _cell(result, row, setup)


# -- 7. saved runs ------------------------------------------------------------------------------


def _open_run(session: LabSession, runs: dict[str, LabResult], again: bool) -> None:
    chosen = runs.get(st.session_state.get(_k(session, "saved-run")) or "")
    if chosen is None:
        return
    try:
        if again:
            session.run_again(chosen, cost_cap=st.session_state.get(_k(session, "cap")))
        else:
            session.open_run(chosen)
    except ChatError as exc:
        _say("runs", "error", f"**The run did not start.** {exc.message}")
    sync_widgets(session)


def _delete_run(session: LabSession, runs: dict[str, LabResult]) -> None:
    chosen = runs.get(st.session_state.get(_k(session, "saved-run")) or "")
    if chosen is not None:
        _run_store("runs", session.delete_run, chosen.id, done="The run was deleted.")


def saved_runs(session: LabSession) -> None:
    st.subheader("7 · Saved runs")
    notes("runs")
    try:
        listed = session.saved_runs()
    except ChatError as exc:
        st.error(f"**The saved runs could not be read.** {exc}")
        return
    if not listed:
        st.caption(f"No saved runs of “{session.saved_name()}” yet.")
        return
    # Listed by id: two runs alike in the same second would otherwise be one entry.
    runs = {r.id: r for r in listed}
    labels = lab_view.run_labels(listed)
    st.selectbox(f"Runs of “{session.saved_name()}”", list(runs), format_func=labels.__getitem__,
                 key=_k(session, "saved-run"))
    with st.container(horizontal=True):
        st.button("Open run", icon=":material/folder_open:", on_click=_open_run, args=(session, runs, False))
        st.button("Run again", icon=":material/replay:", on_click=_open_run, args=(session, runs, True),
                  disabled=session.running())
        st.button("Delete run", icon=":material/delete:", type="tertiary", on_click=_delete_run, args=(session, runs))
    if len(runs) < 2:
        return
    st.markdown("**Compare two runs cell by cell**")
    left, right = st.columns(2)
    # Keyed by the newest run: a new run resets the pair to it and the one before, which a pair
    # chosen earlier (kept by the browser too) would leave out.
    newest = listed[0].id
    before = left.selectbox("Before", list(runs), index=1, format_func=labels.__getitem__,
                            key=_k(session, f"diff-before-{newest}"))
    after = right.selectbox("After", list(runs), index=0, format_func=labels.__getitem__,
                            key=_k(session, f"diff-after-{newest}"))
    try:
        change = diff(runs[before], runs[after])
    except ChatError as exc:
        st.warning(str(exc))
        return
    st.markdown(lab_view.diff_summary(change))
    if records := lab_view.diff_records(change, runs[before], runs[after]):
        st.dataframe(records, hide_index=True, width="stretch")
