"""Who may enter a shared deployment, who is an admin, and whether it is shared without sign-in.

The page hands over what Streamlit knows of the person (``st.user``: the provider's claims) and
of the server (``server.address``); the decisions are made here, without Streamlit.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from lib.errors import ConfigurationError
from lib.people.owner import LOCAL_OWNER, owner_of

#: names a server listening only on this machine binds to, besides loopback IP addresses
_LOOPBACK_NAMES = ("localhost",)


def parse_addresses(text: str, setting: str, *, domains: bool) -> tuple[str, ...]:
    """The e-mail addresses (and with ``domains``, ``@domain`` entries) in a setting, lower case.

    Separated by commas, semicolons or whitespace. A typo must not silently let nobody (or
    everybody) in: anything that is not an address is a ConfigurationError naming it.
    """
    entries = text.replace(",", " ").replace(";", " ").split()
    parsed = []
    for entry in entries:
        entry = entry.strip().lower()
        local, at, domain = entry.rpartition("@")
        if not at or "." not in domain or domain.startswith(".") or domain.endswith(".") or (not local and not domains):
            wanted = "e-mail addresses or @domains" if domains else "e-mail addresses"
            raise ConfigurationError(f"{setting} must list {wanted}, separated by commas; {entry!r} is neither.")
        parsed.append(entry)
    return tuple(parsed)


@dataclass(frozen=True)
class Person:
    """Someone the provider signed in, as far as this app cares."""

    owner: str
    #: the address as the provider vouches for it; "" when it gave none or says it is unverified
    email: str
    #: what to call them: their name, else their address, else their subject
    name: str

    @classmethod
    def from_claims(cls, claims: Mapping[str, Any]) -> Person:
        """From an ID token's claims (``st.user``): ``iss`` and ``sub`` name them for good."""
        email = str(claims.get("email") or "").strip().lower()
        # An address the provider has not checked is anyone's to type: it opens nothing.
        if claims.get("email_verified") is False:
            email = ""
        subject = str(claims.get("sub") or "")
        name = str(claims.get("name") or "").strip() or email or subject
        return cls(owner_of(str(claims.get("iss") or ""), subject), email, name)


def may_enter(person: Person, allowed: tuple[str, ...]) -> bool:
    """Whether the allow-list lets them in: everyone when it is empty; else their exact address,
    or an ``@domain`` entry equal to their address's domain (not a subdomain, not a suffix)."""
    if not allowed:
        return True
    if not person.email:
        return False
    domain = "@" + person.email.rpartition("@")[2]
    return person.email in allowed or domain in allowed


def is_admin(person: Person | None, admins: tuple[str, ...]) -> bool:
    """Admins see where the database lives. Without sign-in (``person`` None) the one local
    person is the admin of their own machine."""
    if person is None:
        return True
    return bool(person.email) and person.email in admins


def owner_of_person(person: Person | None) -> str:
    """Whose rows a session reads and writes: the signed-in person's, else the local person's."""
    return LOCAL_OWNER if person is None else person.owner


def listens_beyond_loopback(address: str | None) -> bool:
    """Whether a server bound to ``address`` (Streamlit's ``server.address``) can be reached
    from other machines; empty means every interface, which Streamlit binds by default."""
    host = (address or "").strip().strip("[]")
    if not host:
        return True
    if host.lower() in _LOOPBACK_NAMES:
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True  # a host name: whatever it names, it is not known to stay on this machine


def shared_without_sign_in(*, address: str | None, sign_in: bool, history: bool) -> bool:
    """Saved chats open to whoever reaches the server: it listens beyond loopback, saves
    conversations, and nobody signs in."""
    return history and not sign_in and listens_beyond_loopback(address)



def conversation_asked_for(app_url: str, query: Mapping[str, str]) -> str | None:
    """The address of the conversation a signed-out visitor asked for (``?c=<id>`` on the chat page,
    whose address is the app's own, ``app_url``), to open again after signing in; None when none.

    Streamlit's sign-in always comes back to the app's root: its OAuth callback redirects to the
    base URL and keeps no address to return to, so the visitor has to open it again.
    """
    if not query.get("c"):
        return None
    return f"{app_url.rstrip('/')}/?{urlencode({'c': query['c']})}"
