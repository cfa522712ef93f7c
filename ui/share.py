"""Share links (#14) on the pages: the Share button, the owner's list of links, and what a link shows."""

from __future__ import annotations

import streamlit as st

from lib.chat.conversation import Conversation
from lib.chat.markdown_html import literal
from lib.chat.transcript import CSS as TRANSCRIPT_CSS
from lib.chat.transcript import settled_blocks
from lib.chat.usage import format_time
from lib.experiments.compare import Comparison
from lib.experiments.compare_session import CompareSession
from lib.store.database import Share, Store
from lib.store.shares import (
    COMPARISON,
    DEFAULT_EXPIRY,
    EXPIRY_CHOICES,
    Snapshot,
    expiry_text,
    is_expired,
    share_address,
    share_comparison,
    share_conversation,
    taken_text,
)
from lib.words import count
from ui import compare

#: the last link this session made, per Share button, to show under it
MADE = "share_made"
#: st.code's own copy button shows only while pointed at (or tapped)
COPY_HINT = "Copy link: point at the address (or tap it) and press the copy button at its top right."


def link_to(share: Share, page_path: str) -> str:
    """The full address of ``share``, from the address the owner is on (relative where unknown, as in a test)."""
    return share_address(st.context.url or "", page_path, share.token)


def _make(store: Store, source: Conversation | Comparison, key: str, page_path: str) -> None:
    expires_in = EXPIRY_CHOICES[st.session_state.get(f"{key}_expiry", DEFAULT_EXPIRY)]
    if isinstance(source, Comparison):
        share = share_comparison(store, source, expires_in)
    else:
        share = share_conversation(store, source, expires_in)
    st.session_state.setdefault(MADE, {})[key] = link_to(share, page_path)


def share_button(store: Store, source: Conversation | Comparison, *, key: str, page_path: str,
                 label: str = "Share", width: str = "content") -> None:
    """A popover that makes a read-only link to a snapshot of ``source`` as it is now."""
    what = "comparison" if isinstance(source, Comparison) else "conversation"
    popover = st.popover(label, icon=":material/share:", key=f"{key}_open", on_change="rerun", width=width)
    with popover:
        if not popover.open:  # drawn only while open: a closed popover costs nothing
            return
        # The link just made comes first: near the window's foot the popover is short, and the
        # link is what the person came for.
        if made := st.session_state.get(MADE, {}).get(key):
            st.code(made, language=None, wrap_lines=True)
            st.caption(COPY_HINT)
        st.caption(f"Anyone with the link sees this {what} as it is now, read-only, without signing in; "
                   "nothing else of yours. Revoke it under **Shared links** on the History page.")
        choices = list(EXPIRY_CHOICES)
        st.selectbox("Link expires", choices, index=choices.index(DEFAULT_EXPIRY), key=f"{key}_expiry")
        st.button("Make another read-only link" if made else "Make a read-only link", key=f"{key}_make",
                  type="secondary" if made else "primary", icon=":material/add_link:",
                  on_click=_make, args=(store, source, key, page_path))


def _revoke(store: Store, share: Share) -> None:
    if store.revoke_share(share.token):
        st.session_state["history_flash"] = f"Revoked the link to “{literal(share.title or 'untitled')}”: it shows not-found now."


def _confirm_key(share: Share) -> str:
    return f"revoke-asked-{share.token}"


def _revoke_buttons(store: Store, share: Share) -> None:
    """Revoke, then "Revoke for good" to be sure: a revoked link cannot be brought back."""
    asked = _confirm_key(share)
    if not st.session_state.get(asked):
        label = "Remove" if is_expired(share) else "Revoke"
        st.button(label, key=f"revoke-{share.token}", icon=":material/link_off:",
                  on_click=st.session_state.__setitem__, args=(asked, True),
                  help="The link shows not-found from now on; this cannot be undone")
        return
    st.caption("It already shows not-found; this takes it off the list." if is_expired(share)
               else "Anyone holding the link will see not-found. This cannot be undone.")
    with st.container(horizontal=True):
        st.button("Revoke for good", key=f"revoke-sure-{share.token}", type="primary", icon=":material/link_off:",
                  on_click=_revoke, args=(store, share))
        st.button("Keep it", key=f"revoke-keep-{share.token}", on_click=st.session_state.__setitem__, args=(asked, False))


def shared_links(store: Store, page_path: str) -> None:
    """The owner's links, newest first: what each shows, when it expires, its address, Revoke."""
    st.subheader("Shared links")
    links = store.list_shares()
    if not links:
        st.caption("No shared links. **Share** on a conversation or a comparison makes a read-only link to it.")
        return
    st.caption(f"{count(len(links), 'link')}. Each shows a snapshot taken when it was made; Revoke ends it for good.")
    for share in links:
        with st.container(border=True):
            kind = "Comparison" if share.kind == COMPARISON else "Conversation"
            st.markdown(f"**{literal(share.title or '(untitled)')}** · {kind.lower()}")
            st.caption(f"Created {format_time(share.created)} · {expiry_text(share)}")
            if not is_expired(share):  # an expired link shows not-found: nothing to copy
                st.code(link_to(share, page_path), language=None, wrap_lines=True)
                st.caption(COPY_HINT)
            _revoke_buttons(store, share)


def _conversation(conversation: Conversation) -> None:
    path = conversation.path()
    st.caption(f"{literal(conversation.model)} · {count(len(path), 'message')}")
    st.html(TRANSCRIPT_CSS)
    for block in settled_blocks(path):
        st.html(block)


def _comparison(comparison: Comparison) -> None:
    st.caption(f"{count(len(comparison.setups), 'set-up')} · {count(comparison.turns, 'turn')} · "
               f"{count(len(comparison.votes), 'vote')}")
    compare.turns(CompareSession.open(comparison, None), live_turn=False, read_only=True)


def show_snapshot(snapshot: Snapshot) -> None:
    """What a link shows: the title, when the snapshot was taken, and the transcript or the columns."""
    share = snapshot.share
    st.title(literal(share.title) or ("Shared comparison" if snapshot.comparison else "Shared conversation"))
    st.info(f"A read-only snapshot, taken {taken_text(share)}. Later changes are not shown.", icon=":material/photo_camera:")
    if snapshot.comparison is not None:
        _comparison(snapshot.comparison)
    elif snapshot.conversation is not None:
        _conversation(snapshot.conversation)


def not_found() -> None:
    """The same for an unknown, a revoked and an expired link: nothing about what was there."""
    st.title("Not found")
    st.write("Nothing is shared at this address.")
