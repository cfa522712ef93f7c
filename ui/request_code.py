"""View code: the request behind a reply as curl, Python and JavaScript, the key never in it."""

from __future__ import annotations

import html

import streamlit as st

from lib.api.code_view import KEY_VARIABLE, LANGUAGES, code_views, shortened
from lib.chat.conversation import Message
from lib.chat.sent_request import rebuild
from lib.chat.session import ChatSession
from ui.settings import page_settings

#: characters of code a page shows whole; longer code (images as data URLs) is shown with them cut
SHOWN_WHOLE = 20_000
#: a shortened view: monospace and scrolling like st.code, but with no copy button (a copy would not run)
_PRE = ('<pre style="max-height: 360px; overflow: auto; font-size: 0.8rem; padding: 1rem; '
        'border-radius: 0.5rem; background: rgba(128, 128, 128, 0.08); white-space: pre;">{}</pre>')
FILE_NAMES = {"curl": "request.sh", "python": "request.py", "javascript": "request.mjs"}


def view_code(message: Message, chat: ChatSession) -> None:
    """A View code button opening a wide dialog: a popover under the last reply opened in the few
    pixels left above the window's foot, too short to read the code in."""
    if st.button("View code", icon=":material/code:", type="tertiary", key=f"code-{message.id}"):
        _code_dialog(message, chat)


@st.dialog("View code: the request behind this reply", width="large", icon=":material/code:")
def _code_dialog(message: Message, chat: ChatSession) -> None:
    _code_panel(message, chat)


def _code_panel(message: Message, chat: ChatSession) -> None:
    rebuilt = rebuild(chat.conversation, message)
    st.caption(f"The request that produced this reply, as it was sent. The key is read from the environment: "
               f"set `{KEY_VARIABLE}` before running it.")
    if rebuilt.note:
        st.warning(rebuilt.note, icon=":material/history:")
    views = code_views(rebuilt.body, page_settings())
    for tab, (language, code) in zip(st.tabs([LANGUAGES[name][0] for name in views]), views.items(), strict=True):
        with tab:
            shown, cut = shortened(code) if len(code) > SHOWN_WHOLE else (code, 0)
            if cut:
                # A copy of a shortened view would not run: shown as text, the whole code is the download.
                st.caption(f":material/image: {cut} image{'s' if cut > 1 else ''} shortened in this view; "
                           "Download has the complete code.")
                st.html(_PRE.format(html.escape(shown)))
            else:
                st.code(code, language=LANGUAGES[language][1], height=360)
            st.download_button("Download", code, file_name=FILE_NAMES[language], mime="text/plain",
                               key=f"download-{language}-{message.id}", on_click="ignore", icon=":material/download:")
