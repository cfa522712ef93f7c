"""How a message of the chat is drawn, with its figures and its actions."""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from lib.chat.conversation import Message
from lib.chat.draw_cost import plain_text_reason
from lib.chat.live_reply import LiveReply
from lib.chat.markdown_html import literal, without_images
from lib.chat.session import ChatSession
from lib.chat.usage import figures, finish_note
from lib.chat.window import Window
from lib.errors import TemplateError
from lib.images.image import Image
from ui import template_form
from ui.request_code import view_code
from ui.script_control import StopException, rerun_once_stopped, stopped_by_the_user
from ui.structured import show_json_reply

#: seconds the browser gets to paint a reply's whole text before anything else is sent
PAINT_FIRST = 0.03


def show_text(text: str, box: Any = st, cursor: str = "") -> None:
    """A message's text as Markdown; as plain text, whole, with a caption saying why, when Markdown
    would cost the page too much to draw (:mod:`lib.chat.draw_cost`). ``box``: where (an st.empty)."""
    if (reason := plain_text_reason(text)) is None:
        box.markdown(without_images(text) + cursor)
        return
    with box.container():
        st.text(text + cursor)
        st.caption(f":material/text_snippet: {reason}")


def show_figures(message: Message) -> None:
    stats = message.stats
    if stats is None:
        return
    line = " · ".join(f"{label} **{value}**" for label, value in figures(stats))
    served = f" · {literal(stats.model)}" if stats.model else ""
    st.caption(line + served)
    if note := finish_note(stats.finish_reason):
        st.warning(note, icon=":material/content_cut:")


def show_images(images: tuple[Image, ...]) -> None:
    """A message's images, small, from our own server; each opens full size from its fullscreen button."""
    if images:
        captions = [literal(" · ".join(filter(None, (i.name, i.note)))) or " " for i in images]
        st.image([i.data for i in images], width=160, caption=captions)


def show_versions(message: Message, chat: ChatSession, noun: str, busy: bool = False) -> None:
    """◀ n of m ▶ between the versions of a message, when an edit or a regenerate made several."""
    versions = chat.conversation.siblings(message)
    if len(versions) < 2:
        return
    position = versions.index(message)
    select = chat.conversation.select
    st.button("◀", key=f"prev-{message.id}", disabled=busy or position == 0, type="tertiary",
              on_click=select, args=(versions[max(position - 1, 0)].id,), help=f"Previous {noun}")
    st.caption(f"{noun} {position + 1} of {len(versions)}")
    st.button("▶", key=f"next-{message.id}", disabled=busy or position == len(versions) - 1, type="tertiary",
              on_click=select, args=(versions[min(position + 1, len(versions) - 1)].id,), help=f"Next {noun}")


def _send_edit(chat: ChatSession, message_id: str) -> None:
    text = st.session_state.get(f"edit-text-{message_id}", "").strip()
    images = chat.conversation.messages[message_id].images
    kept = tuple(image for index, image in enumerate(images) if st.session_state.get(f"edit-keep-{message_id}-{index}", True))
    st.session_state.editing = None
    try:
        if chat.asks_for(text):  # its {{variables}} are asked for first
            template_form.hold(text, kept, edit_of=message_id)
        elif text or kept:
            chat.conversation.edit(message_id, chat.fill_message(text, {}), images=kept)
    except TemplateError as exc:
        st.session_state.editing, st.session_state.edit_error = message_id, str(exc)


def _user_actions(message: Message, chat: ChatSession, busy: bool) -> None:
    if st.session_state.get("editing") == message.id:
        # Seeded, not given as value=: Cancel in a template's form puts the edited text back here.
        st.session_state.setdefault(f"edit-text-{message.id}", message.content)
        st.text_area("Edit message", key=f"edit-text-{message.id}", label_visibility="collapsed")
        if error := st.session_state.pop("edit_error", None):
            st.error(error)
        for index, image in enumerate(message.images):
            st.checkbox(f"Keep image {index + 1}" + (f" ({literal(image.name)})" if image.name else ""), value=True,
                        key=f"edit-keep-{message.id}-{index}")
        with st.container(horizontal=True):
            st.button("Send", key=f"send-edit-{message.id}", type="primary", on_click=_send_edit, args=(chat, message.id))
            st.button("Cancel", key=f"cancel-edit-{message.id}", on_click=st.session_state.update, kwargs={"editing": None})
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Edit", key=f"edit-{message.id}", icon=":material/edit:", type="tertiary", disabled=busy,
                  on_click=st.session_state.update, kwargs={"editing": message.id})
        st.button("Delete", key=f"delete-{message.id}", icon=":material/delete:", type="tertiary", disabled=busy,
                  on_click=chat.delete_turn, args=(message.id,))
        show_versions(message, chat, "message", busy)


def _reply_actions(message: Message, chat: ChatSession, last: bool, busy: bool) -> None:
    with st.container(horizontal=True, vertical_alignment="center"):
        # An incomplete reply has its own Retry, which does the same.
        if last and message.status != "incomplete":
            st.button("Regenerate", disabled=busy, key=f"regenerate-{message.id}", icon=":material/refresh:",
                      type="tertiary", on_click=chat.conversation.regenerate, args=(message.id,))
        # Drawn only while open: a closed popover costs no copy of the text.
        copy = st.popover("Copy", icon=":material/content_copy:", type="tertiary", on_change="rerun", key=f"copy-{message.id}")
        with copy:
            if copy.open:
                st.code(message.content, language="markdown", wrap_lines=True)
        view_code(message, chat)
        show_versions(message, chat, "reply", busy)


def show_reply_details(message: Message, chat: ChatSession, *, last: bool, actions: bool, busy: bool = False) -> None:
    """What goes under a reply's text: how it ended, its figures, its buttons."""
    if message.status == "stopped":
        st.caption(":material/stop_circle: Stopped: this is the part of the reply that arrived before you pressed Stop.")
    elif message.status == "incomplete":
        st.warning(f"**Incomplete reply.** {message.error or ''}", icon=":material/warning:")
        if last:
            st.button("Retry", key=f"retry-{message.id}", type="primary", icon=":material/refresh:", disabled=busy,
                      on_click=chat.conversation.regenerate, args=(message.id,))
    show_figures(message)
    if actions:
        _reply_actions(message, chat, last, busy)


def show_message(message: Message, chat: ChatSession, *, last: bool, actions: bool, busy: bool = False) -> None:
    """One message of the history; ``busy`` while a reply streams, when nothing may change the thread under it."""
    with st.chat_message(message.role):
        show_images(message.images)
        if message.role == "user" or not show_json_reply(message):
            show_text(message.content)
        if message.role == "assistant":
            show_reply_details(message, chat, last=last, actions=actions, busy=busy)
            return
        if message.error:
            st.error(f"**{message.error_title or 'The request failed'}.** {message.error}")
            st.button("Retry", key=f"retry-{message.id}", on_click=chat.retry, type="primary", icon=":material/refresh:")
            if earlier := chat.conversation.children(message.id):
                st.button("Show the previous reply", key=f"back-{message.id}",
                          on_click=chat.conversation.select, args=(earlier[-1].id,))
        elif actions:
            _user_actions(message, chat, busy)


def message_window(chat: ChatSession) -> Window:
    """How much of the conversation on screen is drawn: kept across reruns, the latest part again for another one."""
    kept: Window | None = st.session_state.get("message_window")
    window = kept.of(chat.conversation.id) if kept is not None else Window(chat.conversation.id)
    st.session_state.message_window = window
    return window


def show_earlier_button(window: Window, hidden: int) -> None:
    """Above the messages of a long conversation: the earlier ones are there on request."""
    more = Window.more(hidden)
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button(f"Show {more:,} earlier message{'s' if more != 1 else ''}", key="show-earlier",
                  icon=":material/expand_less:", on_click=st.session_state.update,
                  kwargs={"message_window": window.wider()})
        st.caption(f"{hidden:,} earlier messages are not drawn, so that the page stays quick.")


def show_deleted_notice(chat: ChatSession) -> None:
    """The conversation on screen was deleted elsewhere: say so, and offer to keep it as a new one."""
    st.warning(
        "**This conversation was deleted** (on the History page or in another tab), so it is no longer "
        "saved. What is on screen stays here until you leave it.",
        icon=":material/delete_forever:",
    )
    st.button("Keep it as a new conversation", key="keep-deleted", on_click=chat.save_as_new,
              icon=":material/save:", type="primary")


def show_queued(text: str, images: tuple[Image, ...] = ()) -> None:
    """A message typed while a reply streams: it goes out when the reply ends."""
    with st.chat_message("user"):
        show_images(images)
        show_text(text)
        st.caption(":material/schedule_send: Sends when the reply above ends.")


def show_live_reply(live: LiveReply, chat: ChatSession) -> None:
    """Draw a streaming reply into a new bubble until it ends, then the reply it made in its place.

    Any click reruns the script and interrupts this loop at its next redraw; the reply goes on
    regardless, on its worker thread, and the next run draws it again from where it is (a reply
    that ended meanwhile is recorded as the interrupted run lets go of it). Only the Stop buttons
    end it: ours (a callback) and the chat input's, which stops the script run. A stopped run
    draws nothing more: the server starts another once it has ended, to draw the stopped reply.
    (Not a fragment the browser reruns on a timer, as before: its reruns, queued behind a turn's
    last run, could leave the chat input disabled; see bench/analysis.md.)
    """
    try:
        _draw_live_reply(live, chat)
    except StopException:
        if stopped_by_the_user():  # not a reload or a closed tab: the reply goes on then
            chat.stop_reply(live)  # a reply that had ended already stays as it was recorded
            rerun_once_stopped()
        raise


def _draw_live_reply(live: LiveReply, chat: ChatSession) -> None:
    with st.chat_message("assistant"):
        stop = st.empty()
        stop.button("Stop", key="stop", icon=":material/stop_circle:", on_click=chat.stop_reply, args=(live,))
        text = st.empty()
        with chat.watching(live):
            for view in live.views():
                if view.done and view.text:
                    show_text(view.text, text)  # the whole text first, the figures once recorded
                elif view.text:
                    show_text(view.text, text, cursor=" ▌")
                else:
                    text.caption(view.note or "Waiting for the first token…")
            # The whole text is on its way: the browser gets a moment to paint it before the figures,
            # the buttons and the redraw that follow keep it busy (measured in bench/: they held the
            # frame back by ~15 ms). Then it is recorded and saved (its worker left that to this run).
            time.sleep(PAINT_FIRST)
            reply = chat.record(live)
        stop.empty()
        if reply is None:
            text.empty()  # the error and its Retry belong under the question, drawn by the next run
            return
        if reply.content != view.text:
            show_text(reply.content, text)
        show_reply_details(reply, chat, last=True, actions=True, busy=True)
