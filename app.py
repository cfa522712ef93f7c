"""Gemma Chat: the chat page. Run with ``streamlit run app.py``.

The page only lays out widgets and calls ``lib/``; it reads top to bottom like a turn.
"""

from __future__ import annotations

import streamlit as st

from lib.chat_session import ChatSession
from lib.errors import ChatError
from lib.secret import protect_logs
from lib.settings import Settings, load_settings
from ui import sidebar
from ui.messages import show_message

st.set_page_config(page_title="Gemma Chat", page_icon="💬")

#: how many of the latest messages get Edit, Delete, Copy and version buttons
ACTION_MESSAGES = 40


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
    st.session_state.chat = ChatSession.start(settings)
chat: ChatSession = st.session_state.chat

with st.sidebar:
    st.header("Gemma Chat")
    settings = sidebar.api_key(settings)
    protect_logs(settings.api_key)
    sidebar.model(chat)
    sidebar.system_prompt(chat)
    sidebar.sampling_parameters(chat)
    st.button("New chat", on_click=chat.new_chat, icon="➕", width="stretch")
    gauge_box = st.container()
    totals_box = st.container()

st.title("💬 Gemma Chat")
if settings.demo:
    st.info(
        "**Demo mode: offline, no API key.** A built-in demo model answers from this machine. "
        "To chat with Gemma 3, set `AIMLAPI_API_KEY` in the environment, a `.env` file or "
        "`.streamlit/secrets.toml`, or paste a key in the sidebar.",
        icon="🧪",
    )
with st.expander(f"System prompt in force · `{chat.conversation.model}`"):
    st.text(chat.conversation.system_prompt or "(none)")

path = chat.conversation.path()
for index, message in enumerate(path):
    # Every widget adds to the rerun time: only the latest turns get buttons.
    show_message(message, chat, last=index == len(path) - 1, actions=index >= len(path) - ACTION_MESSAGES)

if prompt := st.chat_input("Message Gemma (Enter to send, Shift+Enter for a new line)"):
    merged = chat.conversation.last is not None and chat.conversation.last.role == "user"
    chat.conversation.add_user(prompt)
    if merged:
        st.rerun()  # the unanswered message above now holds both texts
    with st.chat_message("user"):
        st.markdown(prompt)

if chat.conversation.awaiting_reply():
    with st.chat_message("assistant"):
        # Pressing Stop reruns the script, which interrupts the loop below; the finally
        # clause then records the partial reply as stopped and closes the stream.
        st.button("Stop", key="stop", icon="⏹")
        placeholder = st.empty()
        live = chat.begin_reply(settings)
        try:
            for view in live.views():
                if view.text:
                    placeholder.markdown(view.text + " ▌")
                else:
                    placeholder.caption(view.note or "Waiting for the first token…")
        finally:
            chat.finish_reply(live)
    st.rerun()

with gauge_box:
    sidebar.context_gauge(chat)
with totals_box:
    sidebar.totals(chat.totals)
