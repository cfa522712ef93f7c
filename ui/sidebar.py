"""The sidebar's controls: key, model, system prompt and presets, sampling parameters, gauge."""

from __future__ import annotations

import json
import time
from typing import Any

import streamlit as st

from lib.api.model_summary import capability_line
from lib.api.models import GEMMA_MODELS, model_info
from lib.api.params import (
    PARAMS,
    ParamSpec,
    describe_range,
    format_stop_sequences,
    params_for,
    parse_stop_sequences,
    unsupported_params,
    validate_params,
)
from lib.chat.context_gauge import gauge
from lib.chat.markdown_html import literal
from lib.chat.session import ChatSession
from lib.chat.usage import SessionTotals
from lib.errors import ChatError
from lib.settings import Settings
from lib.store import budget
from lib.store.database import ConversationSummary, Store
from lib.store.history import grown_list, next_page_end
from ui import attach, structured, typed_key
from ui.share import share_button

OTHER_MODEL = "Other model id…"
NO_PRESET = "(your own prompt)"
API_DEFAULT = "API default"


def api_key(settings: Settings) -> None:
    """A password field whose key wins over the configured one, for this browser session only.

    The page reads the kept key (:mod:`ui.typed_key`) before drawing this, to send the request early.
    """
    in_use = settings.key_source == "sidebar"
    if in_use:
        placeholder = "your typed key is in use"
    elif settings.key_source == "environment":
        placeholder = "set from the environment"
    else:
        placeholder = "paste your AI/ML API key"
    st.text_input(
        "API key", type="password", key=typed_key.FIELD, on_change=typed_key.keep, placeholder=placeholder,
        help="Kept for this browser session only, on every page; never saved or shown.",
    )
    if in_use:
        st.button("Forget the typed key", on_click=typed_key.forget, icon=":material/key_off:", type="tertiary")
    if settings.demo:
        st.caption(":material/power_off: No key: answering with the offline demo model.")
    else:
        st.caption(f":material/key: Key from the {settings.key_source} · server `{settings.base_url}`")
    for note in settings.notes:  # what loading changed in the settings (a password taken out of the URL)
        st.warning(note, icon=":material/link_off:")


def model(chat: ChatSession) -> None:
    """A select of the Gemma 3 family, and a free-text id for any other model or server."""
    current = chat.conversation.model
    ids = [m.id for m in GEMMA_MODELS]
    st.session_state.setdefault("model_choice", current if current in ids else OTHER_MODEL)
    st.session_state.setdefault("model_custom", "" if current in ids else current)
    # The name alone fits the sidebar's width; the id goes in the caption under it.
    labels = {m.id: m.label for m in GEMMA_MODELS} | {OTHER_MODEL: OTHER_MODEL}
    # Another model answers any refusal about the last one ("reads no images"): the text is back in the input.
    choice = st.selectbox("Model", [*ids, OTHER_MODEL], key="model_choice", format_func=labels.get,
                          on_change=st.session_state.pop, args=(attach.REFUSED, None))
    if choice == OTHER_MODEL:
        typed = st.text_input("Model id", key="model_custom", placeholder="e.g. gemma3:27b")
        choice = typed.strip() or current
        chat.other_model_reads_images = st.checkbox(
            "This model reads images", key="other_reads_images",
            help="Images are sent only to a model that reads them: a text-only model fails the whole request.",
        )
    chat.conversation.model = choice
    info = model_info(choice)
    # Only the table's own ids are put in a code span: a typed one is the user's text.
    st.caption((f"`{choice}` · " if choice in ids else "") + capability_line(info))
    if len(info.instruction_roles) > 1:
        st.session_state.setdefault("instruction_role", chat.conversation.instruction_role)
        chat.conversation.instruction_role = st.radio(
            "Instructions role", info.instruction_roles, key="instruction_role", horizontal=True,
            help="Gemma 3 27B takes the system prompt as a `system` or a `developer` message.",
        )


def _apply_preset(chat: ChatSession) -> None:
    preset = chat.presets.get(st.session_state.preset_choice)
    if preset is not None:
        st.session_state.system_prompt = preset.prompt


def _save_preset(chat: ChatSession) -> None:
    name = st.session_state.get("preset_name", "")
    prompt = st.session_state.system_prompt
    try:
        chat.change_presets(lambda presets: presets.put(name, prompt))
    except ChatError as exc:
        st.session_state.preset_error = str(exc)
        return
    st.session_state.preset_choice = name.strip()
    st.session_state.preset_error = None


def _delete_preset(chat: ChatSession) -> None:
    chosen = st.session_state.preset_choice
    try:
        chat.change_presets(lambda presets: presets.delete(chosen))
    except ChatError as exc:
        st.session_state.preset_error = str(exc)
        return
    st.session_state.preset_choice = NO_PRESET


def system_prompt(chat: ChatSession) -> None:
    """Presets to choose from, and the prompt itself, which applies to the next request."""
    chat.reload_presets()  # another tab or person may have saved one since
    presets = chat.presets
    # Streamlit forgets a widget's value on pages that do not draw it; seed it from the chat.
    st.session_state.setdefault("system_prompt", chat.conversation.system_prompt)
    matching = presets.find_by_prompt(st.session_state.system_prompt)
    st.session_state.preset_choice = matching.name if matching else NO_PRESET
    st.selectbox("Preset", [NO_PRESET, *presets.names()], key="preset_choice", on_change=_apply_preset, args=(chat,))
    chat.conversation.system_prompt = st.text_area(
        "System prompt", key="system_prompt", height=140,
        help="Sent first with every request; an edit applies to the next message.",
    )
    preset_panel = st.popover("Save as preset", icon=":material/save:", width="stretch", on_change="rerun", key="preset_open")
    with preset_panel:
        if preset_panel.open:
            st.text_input("Preset name", key="preset_name")
            st.button("Save", on_click=_save_preset, args=(chat,), key="preset_save")
            chosen = presets.get(st.session_state.preset_choice)
            if chosen is not None and not chosen.builtin:
                st.button(f"Delete “{chosen.name}”", on_click=_delete_preset, args=(chat,), key="preset_delete")
    if error := st.session_state.get("preset_error"):
        st.error(error)


def _widget_value(spec: ParamSpec, sent: Any) -> Any:
    """What a parameter's field shows for the value the conversation sends."""
    if spec.kind == "stop":
        return format_stop_sequences(sent)
    if spec.kind == "choice":
        return sent.get("type") if isinstance(sent, dict) else (sent or API_DEFAULT)
    return sent


def _param_widget(spec: ParamSpec, sent: Any) -> Any:
    key = f"param-{spec.name}"
    # The conversation's params are the truth; a field is only an editor of them, seeded
    # from them whenever it is drawn anew.
    st.session_state.setdefault(key, _widget_value(spec, sent))
    help_text = f"{spec.help} Allowed: {describe_range(spec)}. Empty: the API's default."
    if spec.kind == "stop":
        return st.text_area(spec.label, key=key, height=80, placeholder="one per line, up to 4", help=help_text)
    if spec.kind == "choice":
        choice = st.selectbox(spec.label, [API_DEFAULT, *spec.options], key=key, help=help_text)
        return None if choice == API_DEFAULT else choice
    integer = spec.kind == "int"
    cast = int if integer else float
    return st.number_input(
        spec.label,
        # Without value=None the widget's default is "min": an emptied field then comes back
        # as its minimum (temperature 0, seed 1) and is sent. The shown value still comes
        # from the session state seeded above.
        value=None,
        min_value=None if spec.min is None else cast(spec.min),
        max_value=None if spec.max is None else cast(spec.max),
        step=cast(spec.step or 1),
        key=key,
        placeholder=API_DEFAULT,
        format=None if integer else "%.3f",
        help=help_text,
    )


def _reset_params(chat: ChatSession) -> None:
    chat.conversation.params = {}
    for name in list(st.session_state):
        if isinstance(name, str) and name.startswith("param-"):
            del st.session_state[name]


def sampling_parameters(chat: ChatSession) -> None:
    """One field per parameter the model's spec has; empty means it is not sent.

    The fields are drawn only while the panel is open: each one adds to the time of every
    rerun, and reruns happen on every click.
    """
    conversation = chat.conversation
    panel = st.expander("Sampling parameters", icon=":material/tune:", key="params_open", on_change="rerun")
    with panel:
        if panel.open:
            # The response format has its own choice (ui.structured), drawn under this panel.
            values: dict[str, Any] = {"response_format": conversation.params.get("response_format")}
            try:
                for spec in params_for(conversation.model):
                    if spec.name == "response_format":
                        continue
                    value = _param_widget(spec, conversation.params.get(spec.name))
                    values[spec.name] = parse_stop_sequences(value or "") if spec.kind == "stop" else value
                conversation.params = validate_params(conversation.model, values)
            except ChatError as exc:
                st.error(f"{exc} The last valid parameters stay in force.")
            st.button("Reset to API defaults", on_click=_reset_params, args=(chat,), icon=":material/restart_alt:")
    if dropped := unsupported_params(conversation.model, conversation.params):
        st.caption(f"Not sent to this model: {', '.join(dropped)}")
    # While the schema being edited is invalid nothing is sent, least of all the format it replaces.
    held = structured.schema_problem(chat) is not None
    sent = {k: v for k, v in conversation.params.items() if not (held and k == "response_format")}
    if sent:
        st.caption("Sent: " + ", ".join(f"`{k}={_sent_value(k, v)}`" for k, v in sent.items()))
    if held:
        st.caption(":material/block: `response_format=json_schema` is not sent until the schema is fixed.")


def _sent_value(name: str, value: Any) -> Any:
    # A response format may hold a whole schema: its type says enough here.
    return value.get("type") if name == "response_format" and isinstance(value, dict) else value


def context_gauge(chat: ChatSession) -> None:
    conversation = chat.conversation
    reading = gauge(
        conversation.model, conversation.system_prompt, conversation.path(),
        pending_images=len(st.session_state.get(attach.PENDING, [])), max_tokens=conversation.params.get("max_tokens"),
    )
    st.progress(reading.progress, text=f"Context: {reading.message}")
    if reading.level in ("warn", "overflow"):
        st.warning(reading.message, icon=":material/straighten:")


def totals(session_totals: SessionTotals) -> None:
    st.subheader("This session")
    # A cost such as $0.000123 is cut to "$0.0…" in half the sidebar: it gets the whole width,
    # and its qualifiers (estimate, unknown) a caption instead of the big figure.
    cost, note = session_totals.cost_parts()
    st.metric("Cost", cost)
    if note:
        st.caption(note)
    left, right = st.columns(2)
    approx = "≈" if session_totals.tokens_estimated else ""
    left.metric("Tokens in", f"{approx}{session_totals.prompt_tokens:,}")
    right.metric("Tokens out", f"{approx}{session_totals.completion_tokens:,}")
    left.metric("Requests", session_totals.requests)
    if approx:
        st.caption("≈: a stopped or cut-off reply's tokens are counted here; the server reports none for it.")


def sync_widgets(chat: ChatSession) -> None:
    """Make the sidebar's widgets show the conversation that was just opened."""
    conversation = chat.conversation
    ids = [m.id for m in GEMMA_MODELS]
    state = st.session_state
    state.system_prompt = conversation.system_prompt
    state.model_choice = conversation.model if conversation.model in ids else OTHER_MODEL
    state.model_custom = "" if conversation.model in ids else conversation.model
    state.instruction_role = conversation.instruction_role
    for spec in PARAMS:
        state[f"param-{spec.name}"] = _widget_value(spec, conversation.params.get(spec.name))
    structured.sync(chat)


#: the conversation's fields as the user knows them
FIELD_NAMES = {
    "title": "title", "system_prompt": "system prompt", "instruction_role": "instructions role",
    "model": "model", "params": "sampling parameters",
}
#: what the last saves took from another writer, and changes of this tab's that lost to one
ADOPTED, LOST = "changes_adopted", "changes_lost"


def changes_made_elsewhere(chat: ChatSession) -> None:
    """Bring the widgets up to what the last saves took from another writer (a rename on History,
    another tab's system prompt), and keep it for :func:`changes_notice`. Call before the
    sidebar's widgets are drawn."""
    merges = chat.take_merged()
    if not merges:
        return
    sync_widgets(chat)
    adopted = st.session_state.setdefault(ADOPTED, [])
    adopted.extend(FIELD_NAMES[name] for merged in merges for name in merged.adopted if FIELD_NAMES[name] not in adopted)
    lost = st.session_state.setdefault(LOST, [])
    lost.extend((FIELD_NAMES[name], value) for merged in merges for name, value in merged.lost.items())


def _dismiss_changes() -> None:
    st.session_state.pop(ADOPTED, None)
    st.session_state.pop(LOST, None)


def changes_notice() -> None:
    """Say what changed elsewhere, and hand back what the user typed that lost to such a change."""
    adopted, lost = st.session_state.get(ADOPTED), st.session_state.get(LOST)
    if not adopted and not lost:
        return
    if adopted:
        st.info(f"**Changed elsewhere** (History or another tab), and shown here now: the {', '.join(adopted)}.",
                icon=":material/sync:")
    if lost:
        names = ", ".join(sorted({name for name, _ in lost}))
        st.warning(
            f"**Not saved: your change to the {names}.** It was changed elsewhere (History or another tab) "
            "at the same time, and that change stands. Yours is here to copy:",
            icon=":material/merge:",
        )
        for name, value in lost:
            st.caption(f"Your {name}:")
            st.code(value if isinstance(value, str) else json.dumps(value, indent=2), language=None, wrap_lines=True)
    st.button("Dismiss", key="dismiss-changes", on_click=_dismiss_changes)


def open_conversation(chat: ChatSession, conversation_id: str) -> None:
    try:
        chat.open(conversation_id)
    except ChatError as exc:
        st.session_state.open_error = str(exc)
        return
    st.session_state.open_error = None
    st.session_state.editing = None
    sync_widgets(chat)


def _new_chat(chat: ChatSession) -> None:
    chat.new_chat()
    st.session_state.editing = None


def new_chat_button(chat: ChatSession) -> None:
    st.button("New chat", on_click=_new_chat, args=(chat,), icon=":material/add:", width="stretch")


def _rename(chat: ChatSession) -> None:
    title = st.session_state.get("rename_title", "").strip()
    if title:
        chat.conversation.title = title
        chat.autosave()


#: where the sidebar's list ends after "Show more" (a Cursor; absent: the first page)
SIDEBAR_THROUGH = "sidebar_through"


def _show_more(chat: ChatSession, shown: list[ConversationSummary], size: int) -> None:
    if chat.store is not None and (end := next_page_end(chat.store.list, size, shown)) is not None:
        st.session_state[SIDEBAR_THROUGH] = end


def conversations(chat: ChatSession, limit: int = 12) -> None:
    """The latest saved conversations, newest first; a click continues one."""
    st.subheader("Conversations")
    if chat.store is None:
        st.caption("History is off: conversations are not saved (CHAT_HISTORY=off).")
        return
    if chat.store.notice:
        st.warning(chat.store.notice, icon=":material/database:")
    if chat.save_error:
        st.warning(f"Not saved: {chat.save_error}", icon=":material/save:")
    if error := st.session_state.get("open_error"):
        st.error(error)
    try:
        summaries, more = grown_list(chat.store.list, limit, st.session_state.get(SIDEBAR_THROUGH))
    except ChatError as exc:
        st.error(str(exc))
        return
    if not chat.conversation.is_empty():
        rename = st.popover("Rename this chat", icon=":material/edit:", width="stretch", on_change="rerun", key="rename_open")
        with rename:
            if rename.open:
                st.text_input("Title", value=chat.conversation.title, key="rename_title")
                st.button("Save title", on_click=_rename, args=(chat,))
        share_button(chat.store, chat.conversation, key="chat_share", page_path="", label="Share this chat",
                     width="stretch")
    for summary in summaries:
        current = summary.id == chat.conversation.id
        st.button(
            literal(summary.title) or "Untitled",
            key=f"open-{summary.id}",
            type="primary" if current else "tertiary",
            on_click=open_conversation,
            args=(chat, summary.id),
            help=f"{summary.message_count} messages · {summary.cost_text()}",
            width="stretch",
        )
    if more:
        st.button(
            "Show more", key="sidebar_more", on_click=_show_more, args=(chat, summaries, limit),
            icon=":material/expand_more:", type="tertiary", width="stretch",
        )


def budget_gauge(store: Store | None, settings: Settings) -> None:
    """What is spent of each spending limit set (CHAT_DAILY_USD …); nothing when none is."""
    if store is None:
        return
    try:
        gauges = budget.gauges(store, settings, store.owner, time.time())
    except ChatError as exc:
        st.caption(f":material/warning: Spending could not be read: {exc}")
        return
    for each in gauges:
        st.progress(each.fraction, text=each.text())
    if any(each.fraction >= 1 for each in gauges):
        st.caption(":material/block: A spending limit is reached: no request is sent until it starts afresh.")
