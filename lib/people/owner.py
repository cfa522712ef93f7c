"""The owner of stored data: one person, named by their sign-in provider.

Every stored row (conversation, comparison, lab run, preset, vote, request-log row) belongs to
one owner. Without sign-in there is one owner, :data:`LOCAL_OWNER`, so a laptop keeps working as
it did; with sign-in the owner is the provider's issuer and subject, which together name one
person for good (an e-mail address can change hands, a subject cannot).
"""

from __future__ import annotations

#: the one owner of a deployment without sign-in
LOCAL_OWNER = "local"


def owner_of(issuer: str, subject: str) -> str:
    """The owner id of a signed-in person: their provider's issuer and their subject there."""
    if not issuer or not subject:
        raise ValueError("a signed-in person needs an issuer and a subject")
    return f"{issuer} {subject}"
