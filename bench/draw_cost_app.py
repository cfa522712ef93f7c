"""One chat message drawn in a page of its own, for ``bench/draw_cost.py``: the browser's cost alone.

Query parameters: ``case`` and ``n`` (a text of :data:`bench.draw_cost.CASES`), ``mode``
(``markdown``: ``st.markdown`` as the chat page drew every message before; ``app``: the chat
page's ``show_text``, plain text past the limits) and ``stream`` (seconds: the text grows in
steps 40 ms apart, as the chat page redraws a streaming reply). A caption ``END-MARK <run>``
follows the message.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.draw_cost import text_for  # noqa: E402
from lib.chat.live_reply import LONG_TEXT_INTERVAL  # noqa: E402
from ui.messages import show_text  # noqa: E402

#: seconds between two views of a streaming reply: the texts streamed here are long, which the chat
#: page redraws at most this often (shorter ones once a frame)
VIEW_EVERY = LONG_TEXT_INTERVAL

params = st.query_params
text = text_for(params.get("case", "short"), int(params.get("n", "0")))
mode = params.get("mode", "markdown")
stream = float(params.get("stream", "0"))
runs = st.session_state.setdefault("runs", 0)
st.session_state.runs += 1


def draw(box, shown: str, cursor: str = "") -> None:
    if mode == "markdown":
        box.markdown(shown + cursor)
    else:
        show_text(shown, box, cursor)


st.button("rerun", key="rerun")
with st.chat_message("assistant"):
    box = st.empty()
    if stream and runs == 0:
        steps = max(1, int(stream / VIEW_EVERY))
        for step in range(1, steps):
            draw(box, text[: len(text) * step // steps], " ▌")
            time.sleep(VIEW_EVERY)
    draw(box, text)
st.caption(f"END-MARK {runs}")
