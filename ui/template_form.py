"""Prompt templates in the chat: a message, or the system prompt, with ``{{variables}}`` asks for their
values in a form before anything is sent (:mod:`lib.experiments.templates` has the grammar).

Send fills them in and sends the message; Cancel puts the typed text back into the chat input,
and its images back with the camera's photos for the next message: nothing typed is lost.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from lib.chat.live_reply import LiveReply
from lib.chat.session import ChatSession
from lib.errors import ChatError, TemplateError
from lib.experiments.templates import BUILTINS, Variable, fill, missing
from lib.images.image import Image
from lib.settings import Settings

#: the message waiting for its values: (text, images, id of the message it edits or None); text ""
#: when only the system prompt asks
PENDING = "template_pending"
ERROR = "template_error"
#: set when Cancel puts the text back into the chat input, so that the next run does not send it
HANDED_BACK = "template_handed_back"
#: ui.attach.PENDING (which imports this module): images handed back go with the next message
PHOTOS = "camera_photos"


def hold(text: str, images: tuple[Image, ...] = (), edit_of: str | None = None) -> None:
    st.session_state[PENDING] = (text, tuple(images), edit_of)
    st.session_state[ERROR] = None


def pending() -> bool:
    return st.session_state.get(PENDING) is not None


#: longest the page holds its drawing for a new reply's request to leave (s); it takes 1–3 ms here
SEND_FIRST = 0.05


def handed_back() -> bool:
    """Whether the chat input's value this run is text Cancel put back, not a message to send (asked once)."""
    return bool(st.session_state.pop(HANDED_BACK, False))


def hold_for_prompt(chat: ChatSession) -> None:
    """A question waits (Retry, Regenerate, an edit) but the system prompt lacks values: ask for them first."""
    if not pending() and chat.conversation.awaiting_reply() and chat.reply_in_flight() is None and chat.prompt_lacks_values():
        hold("")


def begin_reply(chat: ChatSession, settings: Settings) -> LiveReply | None:
    """The reply due now (:meth:`ChatSession.begin_reply`); none new while a form asks for a template's values.

    A new reply's request is on its way when this returns (or :data:`SEND_FIRST` has passed):
    the person waits for the API, not for the page, which can draw a few ms later.
    """
    hold_for_prompt(chat)
    live = chat.reply_in_flight() if pending() else chat.begin_reply(settings)
    if live is not None:
        live.wait_sent(SEND_FIRST)
    return live


def _key(variable: Variable) -> str:
    return f"template-{variable.name}"


def _values(variables: list[Variable]) -> dict[str, Any]:
    return {v.name: st.session_state.get(_key(v)) for v in variables}


def _forget(variables: list[Variable]) -> None:
    for variable in variables:
        st.session_state.pop(_key(variable), None)
    st.session_state[PENDING] = st.session_state[ERROR] = None


def _send(chat: ChatSession, variables: list[Variable]) -> None:
    text, images, edit_of = st.session_state[PENDING]
    values = _values(variables)
    try:
        if lacking := missing([chat.conversation.system_prompt, text], {**chat.prompt_values, **values}):
            raise TemplateError(f"Fill in {', '.join(v.name for v in lacking)}.")
        if edit_of is not None:
            chat.conversation.edit(edit_of, chat.fill_message(text, values), images)
        elif text or images:
            chat.submit(chat.fill_message(text, values), images)
        else:
            chat.keep_prompt_values(values)
    except ChatError as exc:  # a value not offered, images the model (changed meanwhile) reads not
        st.session_state[ERROR] = str(exc)
        return
    _forget(variables)


def _cancel(chat: ChatSession, variables: list[Variable]) -> None:
    text, images, edit_of = st.session_state[PENDING]
    _forget(variables)
    if edit_of is not None:  # the edit box opens again, with the text as it was typed
        st.session_state.editing = edit_of
        st.session_state[f"edit-text-{edit_of}"] = text
        return
    if text:
        st.session_state["prompt"] = text  # the chat input's key: the text is there again to change
        st.session_state[HANDED_BACK] = True
    if images:
        st.session_state.setdefault(PHOTOS, []).extend(images)
    if not text and not images and chat.conversation.awaiting_reply():
        chat.conversation.fail("The system prompt's template variables were not filled in.", "Not sent")


def _field(variable: Variable, from_prompt: bool) -> None:
    key = _key(variable)
    help_text = "From the system prompt: kept for this chat's next messages." if from_prompt else None
    if variable.kind == "choice":
        choices = list(variable.choices)
        index = choices.index(variable.default) if variable.default in choices else None
        st.selectbox(variable.name, choices, index=index, key=key, placeholder="Choose…", help=help_text)
    elif variable.kind == "long":
        st.text_area(variable.name, value=variable.default or "", key=key, help=help_text)
    else:
        st.text_input(variable.name, value=variable.default or "", key=key, help=help_text)


def form(chat: ChatSession) -> None:
    """The form for the message waiting for its values, if one does."""
    if not pending():
        return
    text, _images, _edit_of = st.session_state[PENDING]
    try:
        variables, prompt_names = chat.asks_for(text), {v.name for v in chat.asks_for("")}
    except TemplateError as exc:  # the system prompt was changed meanwhile into a broken template
        variables, prompt_names, st.session_state[ERROR] = [], set(), str(exc)
    with st.form("template-form"):
        st.markdown("**:material/edit_note: Fill in the template**")
        what = "Your message" if text else "The system prompt"
        st.caption(f"{what} has variables: their values go in before it is sent.")
        if text:
            st.code(text, language=None, wrap_lines=True)
        for variable in variables:
            _field(variable, variable.name in prompt_names)
        if builtins := [name for name in BUILTINS if f"{{{{{name}}}}}" in chat.conversation.system_prompt + text]:
            filled = ", ".join(f"{{{{{name}}}}} = {fill(f'{{{{{name}}}}}', {})}" for name in builtins)
            st.caption(f":material/schedule: Filled in for you: {filled}")
        if error := st.session_state.get(ERROR):
            st.error(error)
        with st.container(horizontal=True):
            st.form_submit_button("Send", type="primary", icon=":material/send:", on_click=_send, args=(chat, variables))
            st.form_submit_button("Cancel", on_click=_cancel, args=(chat, variables))
