"""Leaderboard: what the Compare page's votes add up to, per set-up and per model."""

from __future__ import annotations

import streamlit as st

from lib.errors import ChatError
from lib.experiments.leaderboard import leaderboard, table_rows
from ui.nav import PAGE_ICON, page_links
from ui.people import require_sign_in
from ui.settings import page_settings
from ui.store import store_or_stop

st.set_page_config(page_title="Leaderboard · Gemma Chat", page_icon=PAGE_ICON, layout="wide")
require_sign_in()
settings = page_settings()
with st.sidebar:
    page_links()

st.title(":material/leaderboard: Leaderboard")
store = store_or_stop(settings, "The votes could not be read.", "History is off (`CHAT_HISTORY=off`), so no votes are kept.")
try:
    board = leaderboard(store.votes())
except ChatError as exc:
    st.error(f"**The votes could not be read.** {exc}")
    st.stop()
if not board.votes:
    st.info("No votes yet. On the **Compare** page, send a message to two or more set-ups and say which "
            "answered better: each vote counts here.", icon=":material/how_to_vote:")
    st.page_link("pages/2_Compare.py", label="Compare set-ups", icon=":material/compare_arrows:")
    st.stop()

st.caption(
    f"{board.votes} votes. A win beats every other column of its turn; a tie or “both bad” is a draw between "
    "them all. Rating: Bradley–Terry on the Elo scale (1000 is even), the same whatever the order of the votes; "
    "“few votes” marks a rating that rests on fewer than 10."
)
by_setup, by_model = st.tabs(["By set-up", "By model"])
with by_setup:
    st.dataframe(table_rows(board.setups), hide_index=True, width="stretch")
with by_model:
    st.dataframe(table_rows(board.models, "Model"), hide_index=True, width="stretch")

with st.expander("Start afresh", icon=":material/restart_alt:"):
    st.write("The votes stay with their comparisons, but this leaderboard counts none of them from now on.")
    if st.button("Clear the leaderboard", type="primary"):
        store.clear_votes()
        st.rerun()
