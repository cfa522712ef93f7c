"""Compare: one message to two to four set-ups side by side, streamed at once, with votes."""

from __future__ import annotations

import streamlit as st

from ui import attach, compare, sidebar
from ui.nav import PAGE_ICON, page_links
from ui.people import require_sign_in
from ui.settings import page_settings
from ui.store import store_or_warn

st.set_page_config(page_title="Compare · Gemma Chat", page_icon=PAGE_ICON, layout="wide")
require_sign_in()
settings = page_settings()
store = store_or_warn(settings, "Comparisons are not saved this session.")
session = compare.session(settings, store)
chat = st.session_state.get("chat")
presets = chat.presets if chat is not None else compare.stored_presets(store)

# What was just sent goes to every column before the page is drawn: the replies are on their way.
# Text put back into the input (a refused message) is not sent again.
handed_back = attach.handed_back_last_run(compare.PROMPT)
if (sent := st.session_state.get(compare.PROMPT)) and not handed_back:
    compare.send(session, sent, settings)
lives = session.begin_replies(settings)
session.autosave()
compare.follow(session)

with st.sidebar:
    page_links()
    sidebar.budget_gauge(store, settings)
    st.toggle("Blind: hide the set-ups until I vote", key="compare_blind", value=session.comparison.blind,
              disabled=not session.comparison.is_empty(), on_change=compare.set_blind, args=(session,))
    st.toggle("Differ in one thing", key="compare_one_difference", value=session.one_difference,
              help="A change to one column's set-up is copied to the others, except the one thing each differs in.",
              on_change=compare.set_one_difference, args=(session,))
    st.button("New comparison", icon=":material/add:", width="stretch", on_click=compare.new_comparison,
              args=(settings, store))
    if session.save_error:
        st.warning(f"Not saved: {session.save_error}", icon=":material/save:")
    if settings.demo:
        st.caption(":material/power_off: No key: every column is answered by the offline demo model.")

st.title(":material/compare_arrows: Compare")
compare.setups(session, presets, settings)
live = any(live is not None for live in lives)
compare.turns(session, live_turn=live)
if live:
    compare.live_columns(session, lives)
    st.rerun()  # drawn once more, with the figures, Retry and the votes
compare.votes(session)
compare.continue_buttons(session)
attach.refusal(compare.REFUSED, images_kept_as=None)  # the chat page's photos wait for its own messages
typed = st.chat_input("One message to every column", key=compare.PROMPT, submit_mode="stop",
                      accept_file="multiple", file_type=attach.FILE_TYPES)
if typed and not sent:
    # A new session (a tab that outlived a server restart) learns the input's key only here.
    compare.send(session, typed, settings)
    st.rerun()
