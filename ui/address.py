"""A conversation's address: ``?c=<id>`` in the page's URL, as ChatGPT has ``/c/<id>``.

A reload, a bookmark, or a tab that outlived a server restart opens the same conversation.
"""

from __future__ import annotations

import streamlit as st

from lib.chat.session import ChatSession

PARAM = "c"


def linked_conversation() -> str | None:
    """The id of the conversation the URL names, if any."""
    return st.query_params.get(PARAM) or None


def follow(chat: ChatSession) -> None:
    """Make the URL name the conversation on screen once it is saved (and nothing before)."""
    saved = (
        chat.store is not None and not chat.conversation.is_empty() and chat.save_error is None
        and not chat.deleted_elsewhere
    )
    wanted = chat.conversation.id if saved else None
    if st.query_params.get(PARAM) == wanted:
        return
    if wanted is None:
        st.query_params.pop(PARAM, None)
    else:
        st.query_params[PARAM] = wanted
