"""Gemma Chat: the chat page. Run with ``streamlit run app.py``.

The page only lays out widgets and calls ``lib/``; it reads top to bottom like a turn.
"""

from __future__ import annotations

import logging

import streamlit as st

from lib.chat_session import ChatSession
from lib.conversation import Message
from lib.errors import ChatError
from lib.secret import protect_logs
from lib.settings import Settings, load_settings
from lib.models import GEMMA_MODELS, model_info
from lib.usage import figures, finish_note
from lib.views import capability_line

log = logging.getLogger("gemma_chat")

st.set_page_config(page_title="Gemma Chat", page_icon="💬")

OTHER_MODEL = "Other model id…"
#: how many of the latest messages get Edit, Delete, Copy and version buttons
ACTION_MESSAGES = 40


@st.cache_resource
def base_settings() -> Settings:
    """Read once per process: the environment, .env and secrets.toml do not change under us."""
    return load_settings()


def choose_model(current: str) -> str:
    """A select of the Gemma 3 family, and a free-text id for any other model or server."""
    ids = [m.id for m in GEMMA_MODELS]
    st.session_state.setdefault("model_choice", current if current in ids else OTHER_MODEL)
    st.session_state.setdefault("model_custom", "" if current in ids else current)
    labels = {m.id: f"{m.label} · {m.id}" for m in GEMMA_MODELS} | {OTHER_MODEL: OTHER_MODEL}
    choice = st.selectbox("Model", [*ids, OTHER_MODEL], key="model_choice", format_func=labels.get)
    if choice != OTHER_MODEL:
        return choice
    typed = st.text_input("Model id", key="model_custom", placeholder="e.g. meta-llama/Llama-3.3-70B-Instruct")
    return typed.strip() or current


def show_figures(message: Message) -> None:
    stats = message.stats
    if stats is None:
        return
    line = " · ".join(f"{label} **{value}**" for label, value in figures(stats))
    served = f" · {stats.model}" if stats.model else ""
    st.caption(line + served)
    if note := finish_note(stats.finish_reason):
        st.warning(note, icon="✂️")


def show_versions(message: Message, chat: ChatSession, noun: str) -> None:
    """◀ n of m ▶ between the versions of a message, when an edit or a regenerate made several."""
    versions = chat.conversation.siblings(message)
    if len(versions) < 2:
        return
    position = versions.index(message)
    select = chat.conversation.select
    st.button("◀", key=f"prev-{message.id}", disabled=position == 0, type="tertiary",
              on_click=select, args=(versions[position - 1].id,))
    st.caption(f"{noun} {position + 1} of {len(versions)}")
    st.button("▶", key=f"next-{message.id}", disabled=position == len(versions) - 1, type="tertiary",
              on_click=select, args=(versions[min(position + 1, len(versions) - 1)].id,))


def send_edit(message_id: str) -> None:
    text = st.session_state.get(f"edit-text-{message_id}", "").strip()
    st.session_state.editing = None
    if text:
        st.session_state.chat.conversation.edit(message_id, text)


def show_user_actions(message: Message, chat: ChatSession) -> None:
    if st.session_state.get("editing") == message.id:
        st.text_area("Edit message", value=message.content, key=f"edit-text-{message.id}", label_visibility="collapsed")
        with st.container(horizontal=True):
            st.button("Send", key=f"send-edit-{message.id}", type="primary", on_click=send_edit, args=(message.id,))
            st.button("Cancel", key=f"cancel-edit-{message.id}", on_click=st.session_state.update, kwargs={"editing": None})
        return
    with st.container(horizontal=True, vertical_alignment="center"):
        st.button("Edit", key=f"edit-{message.id}", icon="✏️", type="tertiary",
                  on_click=st.session_state.update, kwargs={"editing": message.id})
        st.button("Delete", key=f"delete-{message.id}", icon="🗑️", type="tertiary",
                  on_click=chat.conversation.delete_turn, args=(message.id,))
        show_versions(message, chat, "message")


def show_reply_actions(message: Message, chat: ChatSession, last: bool) -> None:
    with st.container(horizontal=True, vertical_alignment="center"):
        if last:
            st.button("Regenerate", key=f"regenerate-{message.id}", icon="🔄", type="tertiary",
                      on_click=chat.conversation.regenerate, args=(message.id,))
        with st.popover("Copy", icon="📋", type="tertiary", on_change="rerun", key=f"copy-{message.id}") as copy:
            if copy.open:
                st.code(message.content, language="markdown", wrap_lines=True)
        show_versions(message, chat, "reply")


def show_message(message: Message, chat: ChatSession, last: bool, actions: bool) -> None:
    with st.chat_message(message.role):
        st.markdown(message.content)
        if message.role == "assistant":
            if message.status == "stopped":
                st.caption("⏹ Stopped: this is the part of the reply that arrived before you pressed Stop.")
            elif message.status == "incomplete":
                st.warning(f"**Incomplete reply.** {message.error or ''}", icon="⚠️")
                if last:
                    st.button("Retry", key=f"retry-{message.id}", type="primary", icon="🔄",
                              on_click=chat.conversation.regenerate, args=(message.id,))
            show_figures(message)
            if actions:
                show_reply_actions(message, chat, last)
            return
        if message.error:
            st.error(f"**{message.error_title or 'The request failed'}.** {message.error}")
            st.button("Retry", key=f"retry-{message.id}", on_click=chat.retry, type="primary", icon="🔄")
            if earlier := chat.conversation.children(message.id):
                st.button("Show the previous reply", key=f"back-{message.id}",
                          on_click=chat.conversation.select, args=(earlier[-1].id,))
        elif actions:
            show_user_actions(message, chat)


# -- settings and session ----------------------------------------------------------

try:
    settings = base_settings()
except ChatError as exc:
    st.error(f"**{exc.title}.** {exc}")
    st.stop()

if "chat" not in st.session_state:
    st.session_state.chat = ChatSession.start(settings)
chat: ChatSession = st.session_state.chat
# Streamlit forgets a widget's value on pages that do not draw it; seed it from the chat.
st.session_state.setdefault("system_prompt", chat.conversation.system_prompt)

with st.sidebar:
    st.header("Gemma Chat")
    typed_key = st.text_input(
        "API key",
        type="password",
        key="typed_key",
        placeholder="set from the environment" if settings.api_key else "paste your AI/ML API key",
        help="Kept for this browser session only; never saved or shown.",
    )
    settings = settings.with_key(typed_key)
    protect_logs(settings.api_key)
    if settings.demo:
        st.caption("🔌 No key: answering with the offline demo model.")
    else:
        st.caption(f"🔑 Key from the {settings.key_source} · server `{settings.base_url}`")

    chat.conversation.model = choose_model(chat.conversation.model)
    info = model_info(chat.conversation.model)
    st.caption(capability_line(info))

    chat.conversation.system_prompt = st.text_area(
        "System prompt",
        key="system_prompt",
        height=140,
        help="Sent first with every request; an edit applies to the next message.",
    )
    st.button("New chat", on_click=chat.new_chat, icon="➕", width="stretch")
    totals_box = st.container()

# -- the conversation --------------------------------------------------------------

st.title("💬 Gemma Chat")
if settings.demo:
    st.info(
        "**Demo mode: offline, no API key.** A built-in demo model answers from this machine. "
        "To chat with Gemma 3, set `AIMLAPI_API_KEY` in the environment, a `.env` file or "
        "`.streamlit/secrets.toml`, or paste a key in the sidebar.",
        icon="🧪",
    )
with st.expander(f"System prompt in force · `{chat.conversation.model}`", expanded=False):
    st.text(chat.conversation.system_prompt or "(none)")

path = chat.conversation.path()
for index, message in enumerate(path):
    # Buttons cost a rerun time per widget: only the latest turns get them.
    show_message(message, chat, last=index == len(path) - 1, actions=index >= len(path) - ACTION_MESSAGES)

if prompt := st.chat_input("Message Gemma (Enter to send, Shift+Enter for a new line)"):
    merged = chat.conversation.last is not None and chat.conversation.last.role == "user"
    chat.conversation.add_user(prompt)
    if merged:
        st.rerun()
    with st.chat_message("user"):
        st.markdown(prompt)

if chat.conversation.awaiting_reply():
    with st.chat_message("assistant"):
        # Pressing Stop reruns the script, which interrupts the loop below; the finally
        # clause then records the partial reply as stopped.
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

with totals_box:
    totals = chat.totals
    st.subheader("This session")
    left, right = st.columns(2)
    left.metric("Requests", totals.requests)
    right.metric("Cost", totals.cost_text())
    left.metric("Tokens in", f"{totals.prompt_tokens:,}")
    right.metric("Tokens out", f"{totals.completion_tokens:,}")
