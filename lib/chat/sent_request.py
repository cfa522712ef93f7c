"""What a reply was asked with, kept on the reply, so that its request can be shown as code later.

A reply already keeps its model and parameters (``Message.params``, the response format among
them); the conversation's tree keeps the messages before it. What the tree does not keep is
the rest of the body as it was sent: the system prompt then (it may be changed later, and its
template variables were filled in for that request), the instructions role, and whether images
went as images or as left-out lines (a model that reads none). :class:`SentRequest` keeps
those, and a digest of the whole body, rather than the body itself: a body holds every earlier
message and image again, so a long chat with photos would store megabytes per reply.

:func:`rebuild` makes the body again from the tree and this record, and says whether it is the
one that was sent (the digest matches). It is not when the conversation changed under the reply
since (an earlier turn deleted, an unanswered question merged into), or when the reply predates
these records; the page says so rather than pretend.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from lib.api.request import api_messages, build_body

if TYPE_CHECKING:  # a Message holds a SentRequest: conversation imports this module
    from lib.chat.conversation import Conversation, Message


def body_digest(body: dict[str, Any]) -> str:
    """A sha256 of ``body`` as canonical JSON (sorted keys), the same whatever order it was built in."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SentRequest:
    """The part of a reply's request body that the conversation does not keep."""

    #: as sent: template variables filled in
    system_prompt: str
    instruction_role: str
    #: whether the messages' images were sent as images (False: as left-out lines)
    images: bool
    #: :func:`body_digest` of the body sent
    digest: str

    def to_dict(self) -> dict[str, Any]:
        return {"system_prompt": self.system_prompt, "instruction_role": self.instruction_role,
                "images": self.images, "digest": self.digest}

    @classmethod
    def from_dict(cls, data: Any) -> SentRequest | None:
        """The record in ``data``; None for anything else (a row written by another tool, an old export)."""
        if not isinstance(data, dict):
            return None
        prompt, role, digest = data.get("system_prompt"), data.get("instruction_role"), data.get("digest")
        if not (isinstance(prompt, str) and isinstance(role, str) and isinstance(digest, str)):
            return None
        return cls(prompt, role, bool(data.get("images", True)), digest)


def sent_request(body: dict[str, Any], system_prompt: str, instruction_role: str, images: bool) -> SentRequest:
    return SentRequest(system_prompt, instruction_role, images, body_digest(body))


@dataclass(frozen=True)
class Rebuilt:
    body: dict[str, Any]
    #: True: the very body that was sent; False: the conversation changed since; None: not known
    exact: bool | None
    note: str = ""


def rebuild(conversation: Conversation, reply: Message) -> Rebuilt:
    """The body that asked for ``reply``, from the messages before it and its :class:`SentRequest`."""
    history = conversation.history(upto=reply.parent)
    model = reply.model or conversation.model
    record = reply.request
    if record is None:
        messages = api_messages(conversation.system_prompt, history, model, conversation.instruction_role)
        return Rebuilt(build_body(model, messages, reply.params), None,
                       "This reply was saved before requests were recorded: the code uses the system prompt in force now.")
    messages = api_messages(record.system_prompt, history, model, record.instruction_role, images=record.images)
    body = build_body(model, messages, reply.params)
    if body_digest(body) == record.digest:
        return Rebuilt(body, True)
    return Rebuilt(body, False, "The conversation changed after this reply (an earlier turn deleted or edited): "
                                "this is the request its messages make now, not exactly the one sent.")
