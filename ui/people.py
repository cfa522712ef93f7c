"""Sign-in at the top of every page: Streamlit's own st.login, st.user and st.logout (OpenID Connect).

Sign-in is on when ``.streamlit/secrets.toml`` has an ``[auth]`` section (Streamlit reads it;
see the README). Then a page shows nothing but a sign-in button until the person signs in, and
nothing but a plain refusal when the allow-list does not name them. Without it, one local
person owns everything, as on a laptop; a server that listens beyond loopback says so.

Every page calls :func:`require_sign_in` right after ``st.set_page_config``; a read-only share
page does not (it shows a snapshot to whoever holds its link).
"""

from __future__ import annotations

import streamlit as st

from lib.chat.markdown_html import literal
from lib.people.access import Person, conversation_asked_for, is_admin, may_enter, owner_of_person, shared_without_sign_in
from lib.people.owner import LOCAL_OWNER
from lib.settings import Settings
from ui.settings import page_settings

#: session state: the owner this browser session's chats and stores were made for
SESSION_OWNER = "people_owner"
#: whose rows a session reads when sign-in is on and nobody is signed in: no one's (nothing is saved under it)
NOBODY = "nobody (signed out)"


def sign_in_configured() -> bool:
    """Whether secrets.toml has an ``[auth]`` section: Streamlit then puts ``is_logged_in`` in st.user."""
    return "is_logged_in" in st.user


def signed_in_person() -> Person | None:
    """The person signed in now; None without sign-in (or before it)."""
    if not st.user.get("is_logged_in"):
        return None
    return Person.from_claims(st.user.to_dict())


def may_use_now(settings: Settings) -> bool:
    """Whether this session's person may use the page, and its chat is theirs; draws nothing.

    For a widget's callback, which Streamlit runs before the page's script and so before
    :func:`require_sign_in`: when this says no, the callback leaves everything to the page.
    """
    if sign_in_configured() and not ((person := signed_in_person()) and may_enter(person, settings.allowed_emails)):
        return False
    return st.session_state.get(SESSION_OWNER) == current_owner()


def current_owner() -> str:
    """Whose rows this session reads and writes: the signed-in person's, else the local person's."""
    person = signed_in_person()
    if person is None and sign_in_configured():
        return NOBODY
    return owner_of_person(person)


def is_admin_here(settings: Settings) -> bool:
    """Whether this session's person is an admin (without sign-in, the local person is)."""
    return is_admin(signed_in_person(), settings.admins) if sign_in_configured() else True


def require_sign_in() -> Person | None:
    """Stop the page unless its visitor may use it; returns the signed-in person (None without sign-in).

    Signed in and let in, the sidebar says who they are, with a Sign out button.
    """
    settings = page_settings()
    if not sign_in_configured():
        _forget_other_owner(LOCAL_OWNER)
        _shared_warning(settings)
        return None
    person = signed_in_person()
    if person is None:
        _sign_in_screen()
        st.stop()
    if not may_enter(person, settings.allowed_emails):
        _not_allowed(person)
        st.stop()
    _forget_other_owner(person.owner)
    with st.sidebar:
        _who(person)
    return person


def _forget_other_owner(owner: str) -> None:
    # A session's chat and stores belong to whoever it started for; another person in the same
    # browser session (after signing out and in) starts afresh.
    if st.session_state.get(SESSION_OWNER, owner) != owner:
        st.session_state.clear()
    st.session_state[SESSION_OWNER] = owner


def _sign_in_screen() -> None:
    st.title(":material/forum: Gemma Chat")
    address = conversation_asked_for(st.context.url or "", st.query_params.to_dict())
    what = "open this conversation" if address else "chat"
    st.write(f"Sign in to {what}. Your conversations are yours alone: no one else who signs in sees them.")
    if address:
        st.caption(":material/info: Signing in brings you to a new chat: open this conversation again "
                   "afterwards, at this address:")
        st.code(address, language=None, wrap_lines=True)
    st.button("Sign in", type="primary", icon=":material/login:", on_click=st.login, key="people_sign_in")


def _not_allowed(person: Person) -> None:
    st.title(":material/forum: Gemma Chat")
    who = _address(person.email) if person.email else literal(person.name)
    st.error(
        f"**{who} may not use this app.** It is open only to the people its admin has listed. "
        "Ask them to add your address, or sign out and sign in with another account.",
        icon=":material/block:",
    )
    st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="people_sign_out")


def _address(email: str) -> str:
    # As code: Markdown would make an address a mailto link, which is not what it is here.
    return f"`{email.replace('`', '')}`"


def _who(person: Person) -> None:
    # literal(): a name is the provider's text, not Markdown
    st.caption(f"Signed in as **{literal(person.name)}**")
    if person.email and person.email != person.name:
        st.caption(_address(person.email))
    st.button("Sign out", icon=":material/logout:", on_click=st.logout, key="people_sign_out")


def _shared_warning(settings: Settings) -> None:
    address = st.get_option("server.address")
    if shared_without_sign_in(address=address, sign_in=False, history=settings.history):
        where = f"`{address}`" if address else "every network interface"
        st.warning(
            f"**Anyone who can reach this server can read, change and delete every saved chat.** "
            f"It listens on {where}, saves conversations, and nobody signs in. Set up sign-in "
            "(see *Sign-in* in the README), or keep it on this machine with `--server.address 127.0.0.1`.",
            icon=":material/public:",
        )
