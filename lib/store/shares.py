"""Read-only share links (#14): a snapshot of a conversation or a comparison behind an unguessable token.

"Share" takes the snapshot at once, as the JSON export (:mod:`lib.store.exporting`: every message,
figure and image, whole), so that the link shows what was shared, not what the chat became: going
on with the chat, renaming or deleting it leaves the link as it was. The owner lists their links
and revokes them; a revoked, expired or unknown token reads as one plain not-found.

The token is the only secret: 32 random bytes (:func:`secrets.token_urlsafe`), 43 characters of
URL-safe base64, so that links cannot be guessed or enumerated. Opening one needs no sign-in.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from urllib.parse import urlencode, urlsplit, urlunsplit

from lib.chat.conversation import Conversation
from lib.chat.usage import format_time
from lib.errors import ImportFormatError, ShareNotFoundError, StoreError
from lib.experiments.compare import Comparison
from lib.store.database import Share, Store
from lib.store.exporting import comparison_title, comparison_to_json, to_json
from lib.store.importing import parse, parse_comparison

DAY = 24 * 60 * 60.0
#: what the owner picks from when sharing, in the order offered: seconds until it expires (None: never)
EXPIRY_CHOICES: dict[str, float | None] = {"Never": None, "1 day": DAY, "7 days": 7 * DAY, "30 days": 30 * DAY}
#: the choice offered first: a link forgotten about stops working on its own
DEFAULT_EXPIRY = "30 days"
#: random bytes in a token: 256 bits, as many as a session key
TOKEN_BYTES = 32
#: the address of the page that shows a link (pages/9_Shared.py) and the query parameter naming the link
PAGE = "Shared"
PARAMETER = "token"

CONVERSATION = "conversation"
COMPARISON = "comparison"


@dataclass(frozen=True)
class Snapshot:
    """What a link shows: the share, and the conversation or the comparison as it was."""

    share: Share
    conversation: Conversation | None = None
    comparison: Comparison | None = None


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _expiry(expires_in: float | None, now: float) -> float | None:
    return None if expires_in is None else now + expires_in


def share_conversation(store: Store, conversation: Conversation, expires_in: float | None = None) -> Share:
    """A new link to a snapshot of ``conversation`` as it is now (the branch on screen is what it shows)."""
    return store.add_share(new_token(), CONVERSATION, conversation.id, conversation.title, to_json(conversation),
                           _expiry(expires_in, time.time()))


def share_comparison(store: Store, comparison: Comparison, expires_in: float | None = None) -> Share:
    """A new link to a snapshot of ``comparison`` as it is now: every column and vote."""
    return store.add_share(new_token(), COMPARISON, comparison.id, comparison_title(comparison),
                           comparison_to_json(comparison), _expiry(expires_in, time.time()))


def open_share(store: Store, token: str) -> Snapshot:
    """The snapshot behind ``token``; ShareNotFoundError when the link is unknown, revoked or expired."""
    if not token:
        raise ShareNotFoundError("Nothing is shared at this address.")
    share, data = store.shared_snapshot(token)
    # Read as an import is: a snapshot is an export, and the row may have been edited by hand since.
    limits = {"max_bytes": len(data.encode()) + 1, "max_messages": 10**9}
    try:
        if share.kind == COMPARISON:
            return Snapshot(share, comparison=_without_prompts(parse_comparison(data, **limits)))
        conversation = parse(data, default_model="", **limits)
    except ImportFormatError as exc:
        raise StoreError("This shared snapshot is damaged and cannot be shown.", detail=str(exc)) from None
    conversation.system_prompt = ""
    return Snapshot(share, conversation=conversation)


def _without_prompts(comparison: Comparison) -> Comparison:
    """``comparison`` with its set-ups' system prompts blanked: the owner's instructions are theirs,
    and a column's name quotes its prompt (:meth:`Setup.label`), so nothing downstream can leak it."""
    comparison.setups = [replace(setup, system_prompt="") for setup in comparison.setups]
    for thread in comparison.threads:
        thread.system_prompt = ""
    return comparison


def share_address(page_url: str, page_path: str, token: str) -> str:
    """The link to ``token``, made from the address of the page the owner is on (``page_url``, whose
    own path within the app is ``page_path``: "" for the chat page, "History" …), so that it works
    behind a proxy or under a base path as the owner's own address does."""
    scheme, netloc, path, _query, _fragment = urlsplit(page_url)
    path = path.rstrip("/")
    if page_path and path.endswith("/" + page_path):
        path = path[: -len(page_path) - 1]
    return urlunsplit((scheme, netloc, f"{path}/{PAGE}", urlencode({PARAMETER: token}), ""))


def is_expired(share: Share, now: float | None = None) -> bool:
    return share.expires is not None and share.expires <= (time.time() if now is None else now)


def expiry_text(share: Share, now: float | None = None) -> str:
    """When the link stops (or stopped) working, for the owner's list: "Never expires", "Expires …", "Expired …"."""
    if share.expires is None:
        return "Never expires"
    return f"{'Expired' if is_expired(share, now) else 'Expires'} {format_time(share.expires)}"


def taken_text(share: Share) -> str:
    """When the snapshot was taken, in UTC: whoever opens a link may be anywhere."""
    return datetime.fromtimestamp(share.created, UTC).strftime("%Y-%m-%d %H:%M UTC")
