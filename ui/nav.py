"""Links between the pages, drawn at the top of each page's sidebar."""

from __future__ import annotations

import streamlit as st


def page_links() -> None:
    st.page_link("app.py", label="Chat", icon=":material/forum:")
    st.page_link("pages/1_History.py", label="History: search, export, import", icon=":material/history:")
    st.divider()
