"""Gemma Chat: the chat page. Run with ``streamlit run app.py``.

The page only lays out widgets and calls ``lib/``; it reads top to bottom like a turn.
"""

from __future__ import annotations

import streamlit as st

from lib.chat.markdown_html import literal
from lib.chat.session import ChatSession
from lib.chat.transcript import CSS as TRANSCRIPT_CSS
from lib.chat.transcript import settled_blocks
from lib.errors import ChatError
from ui import address, attach, sidebar, structured, template_form
from ui.messages import (
    message_window,
    show_deleted_notice,
    show_earlier_button,
    show_live_reply,
    show_message,
    show_queued,
)
from ui.nav import PAGE_ICON, page_links
from ui.people import require_sign_in
from ui.settings import page_settings
from ui.stale_widgets import forget_stale_widgets
from ui.store import cached_store

st.set_page_config(page_title="Gemma Chat", page_icon=PAGE_ICON)
require_sign_in()
forget_stale_widgets()  # older turns' buttons, no longer drawn: what Streamlit keeps of them (#16)

#: how many of the latest messages are chat bubbles with Edit, Delete, Copy and version buttons
ACTION_MESSAGES = 20


settings = page_settings()

if "chat" not in st.session_state:
    try:
        store = cached_store(settings)
    except ChatError as exc:
        store = None
        st.warning(f"**History is not saved this session.** {exc}", icon=":material/save:")
    st.session_state.chat = ChatSession.start(settings, store)
    if linked := address.linked_conversation():  # a reload, a bookmark, a tab that outlived the server
        sidebar.open_conversation(st.session_state.chat, linked)
chat: ChatSession = st.session_state.chat
if opened := st.session_state.pop("open_conversation_id", None):  # sent by the History page
    sidebar.open_conversation(chat, opened)
if continued := st.session_state.pop("continue_with", None):  # a Compare column, to go on with alone
    chat.continue_with(continued)
    sidebar.sync_widgets(chat)

# What was just typed into the chat input (drawn at the bottom) went to the API from the input's
# callback, before this run began (attach.submit_on_enter); when that could not be (a new session),
# it goes now, still before the page is drawn, so that the reply is on its way while the history
# renders. A reply already streaming goes on: this run only draws it again (only Stop stops it).
# Text put back into the chat input (Cancel on the template form, a refused message) is not sent again.
handed_back = attach.handed_back_last_run()
if (prompt := st.session_state.get("prompt")) and not attach.sent_on_enter() and not template_form.handed_back() \
        and not handed_back:
    attach.submit(chat, prompt, settings)
live = template_form.begin_reply(chat, settings)  # none new while a form asks for a template's values
chat.autosave()
sidebar.changes_made_elsewhere(chat)  # a rename on History, another tab's edit: the widgets follow
address.follow(chat)

with st.sidebar:
    page_links()
    sidebar.budget_gauge(chat.store, settings)
    sidebar.api_key(settings)
    sidebar.model(chat)
    sidebar.system_prompt(chat)
    sidebar.sampling_parameters(chat)
    structured.response_format(chat)
    sidebar.new_chat_button(chat)
    gauge_box, totals_box, conversations_box = st.container(), st.container(), st.container()

st.title(":material/forum: Gemma Chat")
if settings.demo:
    st.info(
        "**Demo mode: offline, no API key.** A built-in demo model answers from this machine. "
        "To chat with Gemma 3, set `AIMLAPI_API_KEY` in the environment, a `.env` file or "
        "`.streamlit/secrets.toml`, or paste a key in the sidebar.",
        icon=":material/science:",
    )
if error := st.session_state.get("open_error"):  # a bookmark to a chat deleted since, say
    st.warning(f"**That conversation could not be opened.** {error} This is a new chat.", icon=":material/link_off:")
with st.expander(f"System prompt in force · {literal(chat.conversation.model)}"):
    st.text(chat.conversation.system_prompt or "(none)")

# Every element adds to the rerun time: of a long conversation only the latest part is drawn
# (earlier parts on request), its older turns once as HTML, the latest as chat bubbles with buttons.
window = message_window(chat)
hidden, path = window.split(chat.path(live))
if hidden:
    show_earlier_button(window, hidden)
settled, recent = path[:-ACTION_MESSAGES], path[-ACTION_MESSAGES:]
if settled:
    st.html(TRANSCRIPT_CSS)
    for block in settled_blocks(settled, drawn=chat.drawn):
        st.html(block)
for index, message in enumerate(recent):
    show_message(message, chat, last=index == len(recent) - 1, actions=True, busy=live is not None)

if chat.deleted_elsewhere:  # said where the next message is typed
    show_deleted_notice(chat)
sidebar.changes_notice()
attach.refusal()
template_form.form(chat)
attach.left_out_notice(chat)
if live is None:  # drawn under the reply, once it has ended, not between the question and the reply
    attach.camera(chat, settings)

# While a reply streams, the input's send button is a stop button.
typed = st.chat_input(attach.placeholder(chat), key="prompt", submit_mode="stop", on_submit=attach.submit_on_enter,
                      accept_file="multiple", file_type=attach.FILE_TYPES)
if typed and not prompt:
    # A new session (after a reload or a server restart) learns the input's key only here.
    attach.submit(chat, typed, settings)
    st.rerun()

# Filled before a reply streams, so that they are not left faded from the last run meanwhile.
with gauge_box:
    sidebar.context_gauge(chat)
with totals_box:
    sidebar.totals(chat.totals)
with conversations_box:
    sidebar.conversations(chat)

if live is not None:
    reply_box = st.container()
    for waiting in chat.queued:
        show_queued(*waiting)
    with reply_box:
        show_live_reply(live, chat)
    # Drawn once more with the buttons the reply held back (and the next queued message sent).
    st.rerun()
chat.autosave()
