"""Lab: one prompt template over a test set, for one to four set-ups, with checks and a judge."""

from __future__ import annotations

import streamlit as st

from ui import compare, lab
from ui.nav import PAGE_ICON, page_links
from ui.people import require_sign_in
from ui.settings import page_settings
from ui.store import store_or_warn

st.set_page_config(page_title="Lab · Gemma Chat", page_icon=PAGE_ICON, layout="wide")
require_sign_in()
settings = page_settings()
store = store_or_warn(settings, "Test sets and runs are not saved this session.")
session = lab.session(settings, store)
chat = st.session_state.get("chat")
presets = chat.presets if chat is not None else compare.stored_presets(store)
session.advance()  # a run that ended since the last look is kept before the page is drawn

with st.sidebar:
    page_links()
    if settings.demo:
        st.caption(":material/power_off: No key: every set-up is answered by the offline demo model.")

st.title(":material/science: Lab")
st.caption("A prompt template over a test set, for one to four set-ups: every reply checked, priced and timed.")
lab.template_editor(session)
lab.test_set_editor(session)
lab.setups_editor(session, presets, settings)
lab.checks_editor(session)
lab.before_run(session)
if session.running():
    lab.progress(session)
if session.save_error:
    st.warning(f"The run was not saved: {session.save_error}", icon=":material/save:")
if session.result is not None:
    lab.results(session.result)
lab.saved_runs(session)
