"""The Compare page's pieces: set-up editors, the turns side by side, live columns, votes."""

from __future__ import annotations

import string
import time
from contextlib import ExitStack
from typing import Any, Protocol

import streamlit as st

from lib.api.models import GEMMA_MODELS, model_info
from lib.chat.conversation import Conversation
from lib.chat.live_reply import LiveReply
from lib.chat.markdown_html import literal, without_images
from lib.chat.session import PRESETS_PREFERENCE
from lib.chat.usage import figures
from lib.errors import ChatError, ComparisonNotFoundError, ImageError
from lib.experiments.compare import MAX_COLUMNS, Cell, Setup, best_marks, setups_from_address, setups_to_address
from lib.experiments.compare_session import CompareSession
from lib.experiments.presets import Presets
from lib.settings import Settings
from lib.store.database import Store
from ui.attach import hand_back, read_input
from ui.messages import PAINT_FIRST, show_images
from ui.script_control import StopException, rerun_once_stopped, stopped_by_the_user

SESSION = "compare"
OTHER = "Other model id…"
#: seconds between two looks at the live columns (a column is redrawn only when it changed)
REDRAW = 0.02
#: seconds between two redraws of one column while it streams (its last text is drawn at once)
COLUMN_EVERY = 0.05
REFUSED = "compare_refused"
#: the key of the page's chat input
PROMPT = "compare_prompt"


# -- the session and its address --------------------------------------------------------------


def session(settings: Settings, store: Store | None) -> CompareSession:
    """This browser session's comparison: the one the URL names (``?cmp=`` saved, ``?setups=``
    not yet), else the one open, else a new one from the chat's set-up."""
    wanted = st.query_params.get("cmp")
    current: CompareSession | None = st.session_state.get(SESSION)
    if wanted and store is not None and (current is None or current.comparison.id != wanted):
        try:
            current = CompareSession.open(store.load_comparison(wanted), store)
        except ComparisonNotFoundError:
            st.warning("That comparison is not saved here (it may have been deleted); here is a new one.")
            st.query_params.pop("cmp", None)
        except ChatError as exc:
            st.error(f"**The comparison could not be opened.** {exc}")
    if current is None and (carried := st.query_params.get("setups")):
        try:
            setups, notes = setups_from_address(carried)
            current = CompareSession.start(_chat_conversation(settings), store, setups=setups)
            for note in notes:
                st.warning(note)
        except ValueError as exc:
            st.warning(f"{exc} Here is a new comparison instead.")
    if current is None:
        current = CompareSession.start(_chat_conversation(settings), store)
    if st.session_state.get(SESSION) is not current:
        st.session_state[SESSION] = current
        sync_widgets(current)
    return current


def _chat_conversation(settings: Settings) -> Conversation:
    """The chat page's conversation (its set-up is where a comparison starts), or a fresh one."""
    chat = st.session_state.get("chat")
    if chat is not None:
        return chat.conversation
    return Conversation(system_prompt=settings.system_prompt, model=settings.model)


def follow(session: CompareSession) -> None:
    """The URL names the comparison once it is saved, and carries its set-ups before."""
    saved = session.store is not None and not session.comparison.is_empty() and session.save_error is None
    wanted = {"cmp": session.comparison.id} if saved else {"setups": setups_to_address(session.comparison.setups)}
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)


def new_comparison(settings: Settings, store: Store | None) -> None:
    st.session_state[SESSION] = CompareSession.start(_chat_conversation(settings), store)
    st.session_state.pop(REFUSED, None)
    sync_widgets(st.session_state[SESSION])


def stored_presets(store: Store | None) -> Presets:
    """The user's presets, for a visit that starts on this page."""
    if store is None:
        return Presets()
    try:
        return Presets.from_dict(store.get_preference(PRESETS_PREFERENCE) or {})
    except ChatError:
        return Presets()


def set_blind(session: CompareSession) -> None:
    session.comparison.blind = bool(st.session_state.get("compare_blind"))


def set_one_difference(session: CompareSession) -> None:
    session.one_difference = bool(st.session_state.get("compare_one_difference"))


# -- set-ups ----------------------------------------------------------------------------------


class SetupHolder(Protocol):
    """What a set-up editor edits: the Compare page's columns, or the Lab's set-ups."""

    @property
    def editor_id(self) -> str: ...
    @property
    def setups(self) -> list[Setup]: ...
    def set_setup(self, column: int, setup: Setup) -> None: ...
    def can_remove(self) -> bool: ...
    def remove_column(self, column: int) -> None: ...


def _key(session: SetupHolder, column: int, name: str) -> str:
    return f"cmp-{session.editor_id}-{column}-{name}"


def sync_widgets(session: SetupHolder) -> None:
    """Make every column's fields show its set-up (after a change that moved several)."""
    ids = [m.id for m in GEMMA_MODELS]
    for column, setup in enumerate(session.setups):
        state = st.session_state
        state[_key(session, column, "model")] = setup.model if setup.model in ids else OTHER
        state[_key(session, column, "custom")] = "" if setup.model in ids else setup.model
        state[_key(session, column, "prompt")] = setup.system_prompt
        state[_key(session, column, "temperature")] = setup.params.get("temperature")
        state[_key(session, column, "max_tokens")] = setup.params.get("max_tokens")


def _read_setup(session: SetupHolder, column: int) -> None:
    state = st.session_state
    choice = state[_key(session, column, "model")]
    model = (state.get(_key(session, column, "custom")) or "").strip() if choice == OTHER else choice
    old = session.setups[column]
    params = {k: v for k, v in old.params.items() if k not in ("temperature", "max_tokens")}
    for name in ("temperature", "max_tokens"):
        if (value := state.get(_key(session, column, name))) is not None:
            params[name] = value
    setup = Setup(model or old.model, state.get(_key(session, column, "prompt"), ""), old.instruction_role, params)
    role = setup.instruction_role if setup.instruction_role in model_info(setup.model).instruction_roles else "system"
    session.set_setup(column, Setup(setup.model, setup.system_prompt, role, setup.params))
    sync_widgets(session)


def _apply_preset(session: SetupHolder, column: int, presets: Presets) -> None:
    preset = presets.get(st.session_state.get(_key(session, column, "preset")) or "")
    if preset is not None:
        st.session_state[_key(session, column, "prompt")] = preset.prompt
        _read_setup(session, column)


def _copy_chat(session: SetupHolder, column: int, settings: Settings) -> None:
    session.set_setup(column, Setup.of(_chat_conversation(settings)))
    sync_widgets(session)


def _remove(session: SetupHolder, column: int) -> None:
    session.remove_column(column)
    sync_widgets(session)


def _add(session: CompareSession) -> None:
    session.add_column(session.setups[-1])
    sync_widgets(session)


def setup_editor(session: SetupHolder, column: int, presets: Presets, settings: Settings) -> None:
    """One column's set-up: model, preset and system prompt, temperature and max tokens."""
    setup = session.setups[column]
    ids = [m.id for m in GEMMA_MODELS]
    labels = {m.id: m.label for m in GEMMA_MODELS} | {OTHER: OTHER}
    on_change = {"on_change": _read_setup, "args": (session, column)}
    choice = st.selectbox("Model", [*ids, OTHER], key=_key(session, column, "model"), format_func=labels.get, **on_change)
    if choice == OTHER:
        st.text_input("Model id", key=_key(session, column, "custom"), **on_change)
    st.selectbox("Preset", ["", *presets.names()], key=_key(session, column, "preset"), on_change=_apply_preset,
                 args=(session, column, presets), format_func=lambda name: name or "(choose a preset)")
    st.text_area("System prompt", key=_key(session, column, "prompt"), height=100, **on_change)
    left, right = st.columns(2)
    left.number_input("Temperature", min_value=0.0, max_value=2.0, step=0.1, value=None, placeholder="default",
                      key=_key(session, column, "temperature"), **on_change)
    right.number_input("Max tokens", min_value=1, step=64, value=None, placeholder="default",
                       key=_key(session, column, "max_tokens"), **on_change)
    with st.container(horizontal=True):
        st.button("Chat's settings", key=_key(session, column, "copy"), icon=":material/content_copy:",
                  type="tertiary", on_click=_copy_chat, args=(session, column, settings),
                  help="Use the chat page's current model, system prompt and parameters in this column")
        if session.can_remove():
            st.button("Remove", key=_key(session, column, "remove"), icon=":material/close:", type="tertiary",
                      on_click=_remove, args=(session, column))
    st.caption(f"`{setup.model}` · {model_info(setup.model).label}" if setup.model in ids else literal(setup.model))


def add_column_button(session: CompareSession) -> None:
    if len(session.comparison.setups) < MAX_COLUMNS and session.comparison.is_empty():
        st.button("Add a column", icon=":material/add:", on_click=_add, args=(session,))


def setups(session: CompareSession, presets: Presets, settings: Settings) -> None:
    """The columns' set-ups side by side; hidden while a blind turn waits for its vote."""
    if session.comparison.hidden():
        st.info("**Blind:** the set-ups are hidden and the columns shuffled until you vote on this turn.",
                icon=":material/visibility_off:")
        return
    with st.expander("Set-ups", expanded=session.comparison.is_empty(), icon=":material/tune:"):
        # In the order on screen, so that the letters read A, B, C here as they do below.
        for column, place in zip(session.comparison.order, st.columns(len(session.comparison.setups)), strict=True):
            with place:
                st.markdown(f"**{column_name(session, column)}**")
                setup_editor(session, column, presets, settings)
        add_column_button(session)


# -- the turns ------------------------------------------------------------------------------


def column_letter(session: CompareSession, column: int) -> str:
    """"A", "B" …: by place on screen (the shuffled place, when blind)."""
    return string.ascii_uppercase[session.comparison.order.index(column)]


def column_name(session: CompareSession, column: int) -> str:
    """The column's letter, and its set-up's label unless that is hidden (blind, not voted yet)."""
    letter = column_letter(session, column)
    if session.comparison.hidden():
        return f"Column {letter}"
    return f"{letter} · {literal(session.comparison.setups[column].label())}"


def _figures_line(stats: Any, marks: set[str]) -> str:
    shown = []
    for label, value in figures(stats):
        best = " :green-badge[best]" if label in marks else ""
        shown.append(f"{label} **{value}**{best}")
    return " · ".join(shown)


def _cell(session: CompareSession, column: int, cell: Cell | None, marks: set[str], latest: bool, busy: bool) -> None:
    if cell is None:
        st.caption("(no turn here)")
        return
    if cell.reply is not None:
        st.markdown(without_images(cell.reply.content))
        if cell.reply.status == "stopped":
            st.caption(":material/stop_circle: Stopped.")
        elif cell.reply.status == "incomplete":
            st.warning(f"**Incomplete reply.** {cell.reply.error or ''}", icon=":material/warning:")
        if cell.reply.stats is not None:
            st.caption(_figures_line(cell.reply.stats, marks))
    elif cell.question.error:
        st.error(f"**{cell.question.error_title or 'The request failed'}.** {cell.question.error}")
        if latest:
            st.button("Retry", key=_key(session, column, f"retry-{cell.question.id}"), icon=":material/refresh:",
                      type="primary", disabled=busy, on_click=session.retry, args=(column,))


def turns(session: CompareSession, live_turn: bool, read_only: bool = False) -> None:
    """Every turn: the question across the page, then each column's reply side by side.

    ``live_turn``: the latest turn's replies are streaming and drawn by :func:`live_columns`.
    ``read_only``: without a Retry (a share link's snapshot).
    """
    comparison = session.comparison
    rows = comparison.rows()
    for number, row in enumerate(rows, start=1):
        latest = number == len(rows)
        if latest and live_turn:
            break
        _question(row)
        marks = best_marks([c.reply.stats if c and c.reply else None for c in row])
        places = st.columns(len(row))
        for place, column in zip(places, comparison.order if comparison.blind else range(len(row)), strict=True):
            with place:
                st.markdown(f"**{column_name(session, column)}**" if latest else f"*{column_name(session, column)}*")
                _cell(session, column, row[column], marks[column], latest and not read_only, busy=False)
        if vote := comparison.vote_on(number):
            voted = "Voted" if read_only else "You voted"
            st.caption(f":material/how_to_vote: {voted}: {_vote_text(session, vote.outcome, vote.winner)}")


def _question(row: list[Cell | None]) -> None:
    first = next(c for c in row if c is not None)
    with st.chat_message("user"):
        show_images(first.question.images)
        st.markdown(without_images(first.question.content))


def _vote_text(session: CompareSession, outcome: str, winner: int | None) -> str:
    if outcome == "win" and winner is not None:
        return f"{column_name(session, winner)} was better"
    return "a tie" if outcome == "tie" else "all bad"


def votes(session: CompareSession) -> None:
    """Under the latest turn, once every column has answered: which was better."""
    comparison = session.comparison
    row = comparison.rows()[-1] if comparison.turns else None
    if row is None or any(c is None or c.reply is None for c in row) or comparison.vote_on(comparison.turns):
        return
    st.markdown("**Which answered better?**")
    with st.container(horizontal=True):
        for column in comparison.order if comparison.blind else range(len(row)):
            st.button(f"{column_letter(session, column)} is better", key=f"vote-{comparison.id}-{comparison.turns}-{column}",
                      icon=":material/thumb_up:", on_click=session.vote, args=("win", column))
        st.button("Tie", key=f"vote-{comparison.id}-{comparison.turns}-tie", on_click=session.vote, args=("tie",))
        st.button("All bad" if len(row) > 2 else "Both bad", key=f"vote-{comparison.id}-{comparison.turns}-bad",
                  icon=":material/thumb_down:", on_click=session.vote, args=("bad",))


def continue_buttons(session: CompareSession) -> None:
    """Open one column's thread as a chat of its own."""
    comparison = session.comparison
    if comparison.is_empty() or comparison.hidden():
        return
    with st.container(horizontal=True):
        for column in comparison.order:
            if st.button(f"Continue with {column_letter(session, column)}", key=f"continue-{comparison.id}-{column}",
                         icon=":material/chat:", type="tertiary"):
                st.session_state["continue_with"] = session.continue_with(column)
                st.switch_page("app.py")


# -- live columns ---------------------------------------------------------------------------


def live_columns(session: CompareSession, lives: list[LiveReply | None]) -> None:
    """The latest turn's question, then every column's reply drawn as it arrives, until all have ended.

    As on the chat page, a click reruns the page and draws the replies on from where they
    are; only the Stop buttons end them.
    """
    comparison = session.comparison
    _question(comparison.rows()[-1])
    st.button("Stop all", key="compare-stop-all", icon=":material/stop_circle:", on_click=session.stop)
    order = comparison.order if comparison.blind else list(range(len(lives)))
    boxes: dict[int, Any] = {}
    for place, column in zip(st.columns(len(lives)), order, strict=True):
        with place:
            st.markdown(f"**{column_name(session, column)}**")
            if lives[column] is not None:
                st.button("Stop", key=f"compare-stop-{column}", icon=":material/stop_circle:", type="tertiary",
                          on_click=session.stop, args=(column,))
            boxes[column] = st.empty()
    with ExitStack() as watching:
        for column, live in enumerate(lives):
            if live is not None:
                watching.enter_context(session.columns[column].watching(live))
        drawn: dict[int, tuple[str, str, bool]] = {}
        last_drawn: dict[int, float] = {}
        try:
            while True:
                for column, live in enumerate(lives):
                    if live is None:
                        continue
                    view = live.view()
                    if drawn.get(column) == (view.text, view.note, view.done):
                        continue  # unchanged: each redraw sends the column's whole text to the browser
                    if not view.done and time.monotonic() - last_drawn.get(column, 0.0) < COLUMN_EVERY:
                        continue  # the browser draws every column: a few redraws a second each, the end at once
                    drawn[column], last_drawn[column] = (view.text, view.note, view.done), time.monotonic()
                    if view.text:
                        boxes[column].markdown(without_images(view.text) + ("" if view.done else " ▌"))
                    else:
                        boxes[column].caption(view.note or "Waiting for the first token…")
                if all(live is None or not live.running for live in lives):
                    break
                time.sleep(REDRAW)
        except StopException:
            if stopped_by_the_user():
                session.stop()
                rerun_once_stopped()  # a stopped run draws nothing more: the columns, stopped, need a new one
            raise
        # The last text is on its way: the browser gets a moment to paint it before the rerun that
        # follows (figures, votes) keeps it busy, as on the chat page.
        time.sleep(PAINT_FIRST)
        for column, live in enumerate(lives):
            if live is not None:
                session.columns[column].record(live)


# -- sending ------------------------------------------------------------------------------


def send(session: CompareSession, value: Any, settings: Settings) -> None:
    """The chat input's text (and images) into every column, or why it was refused."""
    text = value if isinstance(value, str) else value.text or ""
    try:
        session.send(*read_input(value, settings))
    except ImageError as exc:
        st.session_state[REFUSED] = (str(exc), text)
        hand_back(text, PROMPT)
        return
    st.session_state.pop(REFUSED, None)
