"""Links between the pages, drawn at the top of each page's sidebar."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

#: the pages' icon, shipped: a ":material/…" icon would be fetched from a font CDN, which fails offline
PAGE_ICON = str(Path(__file__).resolve().parent.parent / "static" / "icon.png")


def page_links() -> None:
    st.page_link("app.py", label="Chat", icon=":material/forum:")
    st.page_link("pages/1_History.py", label="History: search, export, import", icon=":material/history:")
    st.page_link("pages/2_Compare.py", label="Compare set-ups side by side", icon=":material/compare_arrows:")
    st.page_link("pages/3_Leaderboard.py", label="Leaderboard of your votes", icon=":material/leaderboard:")
    st.page_link("pages/4_Lab.py", label="Lab: a template over a test set", icon=":material/science:")

    st.page_link("pages/5_Usage.py", label="Usage: cost, tokens, speed", icon=":material/monitoring:")
    st.divider()
