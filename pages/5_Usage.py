"""Usage: where the money and the time went, from the request log, charted (#15)."""

from __future__ import annotations

import time

import streamlit as st

from lib.store import usage, usage_page
from ui import sidebar
from ui import usage as charts
from ui.nav import PAGE_ICON, page_links
from ui.people import require_sign_in
from ui.settings import page_settings
from ui.store import store_or_stop

st.set_page_config(page_title="Usage · Gemma Chat", page_icon=PAGE_ICON, layout="wide")
require_sign_in()
settings = page_settings()
with st.sidebar:
    page_links()

st.title(":material/monitoring: Usage")
store = store_or_stop(
    settings, "The request log could not be read.", "History is off (`CHAT_HISTORY=off`), so no request is logged."
)

with st.sidebar:
    sidebar.budget_gauge(store, settings)
    owner = None if charts.everyone(settings) else store.owner  # an admin may look at every person's
    past = usage_page.settled(store, owner, time.time())  # the figures before this hour: kept until it changes
    where = charts.filters(charts.choices(store, owner, past), owner)

# A click on a bar picks its models: every figure below but the two pickers follows it.
clicked = charts.clicked_models()
size = usage.bucket_size(where)
data = charts.page_data(store, where, clicked, size, past)
if data.everything.totals.requests == 0:
    st.info("No requests in these filters yet. Every request the Chat, Compare and lab pages send is counted "
            "here, with its cost as the API reported it.", icon=":material/monitoring:")
    st.stop()
if clicked:
    st.caption(f"Showing {', '.join(clicked)}, picked in a chart. Click the picked bar again (or empty space) for all.")
charts.figures(data.shown.totals)

left, right = st.columns(2)
with left:
    charts.cost_over_time(data.everything.buckets, size, clicked)
with right:
    charts.tokens_by_model(data.everything.models, clicked)
charts.requests_over_time(data.shown.buckets, size)
charts.speed(data.speed)
charts.by_person(data.people)
charts.costliest(data.costliest)
charts.csv_download(store, usage.narrowed(where, clicked), data.shown.totals.requests)
