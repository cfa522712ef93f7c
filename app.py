"""Gemma Chat: the chat page. Run with ``streamlit run app.py``.

The page only lays out widgets and calls ``lib/``; it reads top to bottom like a turn.
"""

from __future__ import annotations

import streamlit as st

from lib.chat_session import ChatSession
from lib.errors import ChatError
from lib.secret import protect_logs
from lib.settings import Settings, load_settings
from lib.transcript import CSS as TRANSCRIPT_CSS
from lib.transcript import settled_blocks
from ui import sidebar
from ui.messages import show_message
from ui.nav import page_links
from ui.store import cached_store

st.set_page_config(page_title="Gemma Chat", page_icon=":material/forum:")

#: how many of the latest messages are chat bubbles with Edit, Delete, Copy and version buttons
ACTION_MESSAGES = 30


@st.cache_resource
def base_settings() -> Settings:
    """Read once per process: the environment, .env and secrets.toml do not change under us."""
    return load_settings()


try:
    settings = base_settings()
except ChatError as exc:
    st.error(f"**{exc.title}.** {exc}")
    st.stop()

if "chat" not in st.session_state:
    try:
        store = cached_store(settings)
    except ChatError as exc:
        store = None
        st.warning(f"**History is not saved this session.** {exc}", icon=":material/save:")
    st.session_state.chat = ChatSession.start(settings, store)
chat: ChatSession = st.session_state.chat
if opened := st.session_state.pop("open_conversation_id", None):  # sent by the History page
    sidebar.open_conversation(chat, opened)

with st.sidebar:
    page_links()
    settings = sidebar.api_key(settings)
    protect_logs(settings.api_key)
    sidebar.model(chat)
    sidebar.system_prompt(chat)
    sidebar.sampling_parameters(chat)
    sidebar.new_chat_button(chat)
    gauge_box = st.container()
    totals_box = st.container()
    sidebar.conversations(chat)

st.title(":material/forum: Gemma Chat")
if settings.demo:
    st.info(
        "**Demo mode: offline, no API key.** A built-in demo model answers from this machine. "
        "To chat with Gemma 3, set `AIMLAPI_API_KEY` in the environment, a `.env` file or "
        "`.streamlit/secrets.toml`, or paste a key in the sidebar.",
        icon=":material/science:",
    )
with st.expander(f"System prompt in force · `{chat.conversation.model}`"):
    st.text(chat.conversation.system_prompt or "(none)")

path = chat.conversation.path()
# Every element adds to the rerun time: older turns are drawn once as HTML, the latest
# ones as chat bubbles with their buttons.
settled, recent = path[:-ACTION_MESSAGES], path[-ACTION_MESSAGES:]
if settled:
    st.html(TRANSCRIPT_CSS)
    for block in settled_blocks(settled):
        st.html(block)
for index, message in enumerate(recent):
    show_message(message, chat, last=index == len(recent) - 1, actions=True)

if prompt := st.chat_input("Message Gemma (Enter to send, Shift+Enter for a new line)"):
    merged = chat.conversation.last is not None and chat.conversation.last.role == "user"
    chat.conversation.add_user(prompt)
    chat.autosave()
    if merged:
        st.rerun()  # the unanswered message above now holds both texts
    with st.chat_message("user"):
        st.markdown(prompt)

if chat.conversation.awaiting_reply():
    with st.chat_message("assistant"):
        # Pressing Stop reruns the script, which interrupts the loop below; the finally
        # clause then records the partial reply as stopped and closes the stream.
        st.button("Stop", key="stop", icon=":material/stop_circle:")
        placeholder = st.empty()
        live = chat.begin_reply(settings)
        try:
            for view in live.views():
                if view.text:
                    placeholder.markdown(view.text + " ▌")
                else:
                    placeholder.caption(view.note or "Waiting for the first token…")
        finally:
            chat.record(live)
    st.rerun()

with gauge_box:
    sidebar.context_gauge(chat)
with totals_box:
    sidebar.totals(chat.totals)
chat.autosave()
