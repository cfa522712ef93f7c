"""A conversation as a tree of messages, the way ChatGPT and LibreChat keep one.

Each message points at its parent. The chat on screen is one path from the root to the
current leaf; editing a message or regenerating a reply adds a sibling instead of
overwriting, so earlier versions stay reachable ("reply 1 of 2").

Rules that keep every request valid for Gemma's chat template, which demands that
user and assistant alternate:

* A reply always hangs under a user message, and a user message under a reply (or the root).
* A user message whose reply failed keeps the error (``Message.error``) and stays the leaf.
  If the user then types a new message instead of pressing Retry, the new text is
  appended to that unanswered message (separated by a blank line) and the two are sent
  together as one turn: nothing typed is lost and no two user messages are ever sent in a row.
* Partial replies (stopped, or cut by a fault) stay in the tree, marked, and are sent as
  assistant turns like any other.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from lib.chat.sent_request import SentRequest
from lib.chat.usage import ReplyStats
from lib.images.image import Image

Role = Literal["user", "assistant"]
#: complete: the server ended the reply; stopped: the user pressed Stop;
#: incomplete: a fault cut the stream after some text had arrived
ReplyStatus = Literal["complete", "stopped", "incomplete"]

MERGE_SEPARATOR = "\n\n"


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass
class Message:
    role: Role
    content: str
    parent: str | None = None
    id: str = field(default_factory=new_id)
    created: float = field(default_factory=time.time)
    #: assistant messages: how the reply ended
    status: ReplyStatus = "complete"
    #: assistant messages: tokens, cost and timings
    stats: ReplyStats | None = None
    #: assistant messages: the model asked for and the parameters sent
    model: str | None = None
    params: dict[str, Any] = field(default_factory=dict)
    #: user messages: why the last attempt to answer failed (shown with a Retry button);
    #: assistant messages: the fault that cut an incomplete reply
    error: str | None = None
    error_title: str | None = None
    #: user messages: the images attached, in order, as they were sent
    images: tuple[Image, ...] = ()
    #: assistant messages: what else the request held (the system prompt then), to show it as code
    request: SentRequest | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "parent": self.parent,
            "role": self.role,
            "content": self.content,
            "created": self.created,
            "status": self.status,
            "stats": self.stats.to_dict() if self.stats else None,
            "model": self.model,
            "params": dict(self.params),
            "error": self.error,
            "error_title": self.error_title,
            **({"images": [image.to_dict() for image in self.images]} if self.images else {}),
            **({"request": self.request.to_dict()} if self.request else {}),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Message:
        return cls(
            role=data["role"],
            content=data["content"],
            parent=data.get("parent"),
            id=data.get("id") or new_id(),
            created=float(data.get("created") or time.time()),
            status=data.get("status") or "complete",
            stats=ReplyStats.from_dict(data.get("stats")),
            model=data.get("model"),
            params=dict(data.get("params") or {}),
            error=data.get("error"),
            error_title=data.get("error_title"),
            images=tuple(Image.from_dict(image) for image in data.get("images") or ()),
            request=SentRequest.from_dict(data.get("request")),
        )


#: the fields of a conversation (besides its messages) that the user changes and the store merges
HEAD_FIELDS = ("title", "system_prompt", "instruction_role", "model", "params")


@dataclass(frozen=True)
class Revision:
    """What the store last held of a conversation, as this copy knows it: its version, and its
    head fields then. A later save tells this copy's own changes from another writer's by them."""

    version: int
    head: dict[str, Any]


@dataclass
class Conversation:
    system_prompt: str
    model: str
    id: str = field(default_factory=new_id)
    title: str = ""
    created: float = field(default_factory=time.time)
    updated: float = field(default_factory=time.time)
    #: the system-role name used for instructions (27B accepts "system" or "developer")
    instruction_role: str = "system"
    params: dict[str, Any] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    leaf: str | None = None
    #: set by the store when it loads or saves this copy; None for one it never held
    revision: Revision | None = field(default=None, compare=False, repr=False)

    # -- reading ---------------------------------------------------------------------

    def path(self) -> list[Message]:
        """The messages on screen, oldest first: the branch that ends at the current leaf."""
        out: list[Message] = []
        node_id = self.leaf
        while node_id is not None:
            node = self.messages[node_id]
            out.append(node)
            node_id = node.parent
        out.reverse()
        return out

    def children(self, parent: str | None) -> list[Message]:
        return sorted(
            # list(): a copy taken at once, because a reply may be recorded from its worker thread
            (m for m in list(self.messages.values()) if m.parent == parent), key=lambda m: m.created
        )

    def siblings(self, message: Message) -> list[Message]:
        """All versions of ``message``: the messages sharing its parent and role, oldest first."""
        return [m for m in self.children(message.parent) if m.role == message.role]

    @property
    def last(self) -> Message | None:
        return self.messages[self.leaf] if self.leaf else None

    def awaiting_reply(self) -> bool:
        """Whether the leaf is a user message that should be answered now."""
        last = self.last
        return last is not None and last.role == "user" and last.error is None

    def is_empty(self) -> bool:
        return not self.messages

    # -- writing ---------------------------------------------------------------------

    def _touch(self) -> None:
        self.updated = time.time()

    def add_user(self, text: str, images: tuple[Image, ...] = ()) -> Message:
        """Add what the user typed and attached; merged into an unanswered message rather than doubled."""
        last = self.last
        if last is not None and last.role == "user":
            last.content = f"{last.content}{MERGE_SEPARATOR}{text}" if last.content and text else last.content or text
            last.images = (*last.images, *images)
            last.error = last.error_title = None
            self._touch()
            return last
        message = Message("user", text, parent=self.leaf, images=tuple(images))
        self.messages[message.id] = message
        self.leaf = message.id
        if not self.title:
            self.title = title_from(text) or title_from(", ".join(i.name or "image" for i in images))
        self._touch()
        return message

    def add_reply(
        self,
        text: str,
        *,
        status: ReplyStatus = "complete",
        stats: ReplyStats | None = None,
        model: str | None = None,
        params: dict[str, Any] | None = None,
        to: str | None = None,
        id: str | None = None,  # noqa: A002 - the message's own field name
        request: SentRequest | None = None,
    ) -> Message:
        """Attach a reply to the user message ``to`` (default: the one at the leaf), with ``id`` if given.

        The leaf moves to the reply when it was on the question, as it is unless the user
        went elsewhere while the reply streamed.
        """
        question = self._question(to)
        question.error = question.error_title = None
        message = Message(
            "assistant", text, parent=question.id, status=status, stats=stats,
            model=model, params=dict(params or {}), request=request, **({"id": id} if id else {}),
        )
        self.messages[message.id] = message
        if self.leaf == question.id:
            self.leaf = message.id
        self._touch()
        return message

    def _question(self, message_id: str | None) -> Message:
        question = self.messages.get(message_id) if message_id else self.last
        if question is None or question.role != "user":
            raise ValueError("a reply needs a user message to answer")
        return question

    def fail(self, error: str, title: str | None = None, to: str | None = None) -> None:
        """Record that answering ``to`` (default: the leaf) failed; the user message stays, with the error."""
        question = self._question(to)
        question.error, question.error_title = error, title
        self._touch()

    def retry(self) -> None:
        """Clear the leaf's error so that it is answered again; nothing is added."""
        last = self.last
        if last is not None and last.role == "user":
            last.error = last.error_title = None

    def regenerate(self, reply_id: str | None = None) -> None:
        """Ask again for the reply ``reply_id`` (default: the last); the old one stays as a sibling."""
        reply = self.messages[reply_id] if reply_id else self.last
        if reply is None or reply.role != "assistant" or reply.parent is None:
            raise ValueError("only a reply can be regenerated")
        self.leaf = reply.parent
        self.messages[reply.parent].error = None
        self._touch()

    def edit(self, message_id: str, text: str, images: tuple[Image, ...] | None = None) -> Message:
        """Send ``text`` (with ``images``, by default the original's) in place of an earlier user
        message; the old branch stays reachable."""
        original = self.messages[message_id]
        if original.role != "user":
            raise ValueError("only a user message can be edited")
        kept = original.images if images is None else tuple(images)
        message = Message("user", text, parent=original.parent, images=kept)
        self.messages[message.id] = message
        self.leaf = message.id
        self._touch()
        return message

    def select(self, message_id: str) -> None:
        """Show the branch through ``message_id``, following its newest descendants."""
        node = self.messages[message_id]
        while children := self.children(node.id):
            node = children[-1]
        self.leaf = node.id

    def delete_turn(self, user_id: str) -> None:
        """Remove a user message and the reply shown for it; later turns move up to close the gap."""
        user = self.messages[user_id]
        if user.role != "user":
            raise ValueError("a turn is deleted by its user message")
        on_path = {m.id for m in self.path()}
        replies = self.children(user.id)
        shown = next((r for r in replies if r.id in on_path), replies[-1] if replies else None)
        for reply in replies:
            if reply is not shown:
                self._drop_subtree(reply.id)
        if shown is not None:
            for child in self.children(shown.id):
                child.parent = user.parent
            del self.messages[shown.id]
        del self.messages[user.id]
        if self.leaf not in self.messages:
            self.leaf = user.parent
            if self.leaf is None and (roots := self.children(None)):
                self.select(roots[-1].id)
        if not self.messages:
            self.title = ""
        self._touch()

    def _drop_subtree(self, message_id: str) -> None:
        for child in self.children(message_id):
            self._drop_subtree(child.id)
        del self.messages[message_id]

    def clear(self) -> None:
        self.messages.clear()
        self.leaf = None
        self.title = ""
        self._touch()

    # -- what the API receives -------------------------------------------------------

    def head(self) -> dict[str, Any]:
        """The values of :data:`HEAD_FIELDS` now (``params`` copied)."""
        return {name: dict(self.params) if name == "params" else getattr(self, name) for name in HEAD_FIELDS}

    def path_to(self, message_id: str | None) -> list[Message]:
        """The messages from the root down to ``message_id``, oldest first (empty for None)."""
        out: list[Message] = []
        while message_id is not None and message_id in self.messages:
            node = self.messages[message_id]
            out.append(node)
            message_id = node.parent
        out.reverse()
        return out

    def history(self, upto: str | None = None) -> list[dict[str, Any]]:
        """The path (or the messages down to ``upto``) as ``{role, content}`` dicts, and ``images`` where
        a message has some; without the system prompt."""
        path = self.path() if upto is None else self.path_to(upto)
        return [{"role": m.role, "content": m.content, **({"images": m.images} if m.images else {})} for m in path]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "created": self.created,
            "updated": self.updated,
            "system_prompt": self.system_prompt,
            "instruction_role": self.instruction_role,
            "model": self.model,
            "params": dict(self.params),
            "leaf": self.leaf,
            "messages": [m.to_dict() for m in sorted(self.messages.values(), key=lambda m: m.created)],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Conversation:
        messages = [Message.from_dict(m) for m in data.get("messages", [])]
        return cls(
            system_prompt=data.get("system_prompt") or "",
            model=data["model"],
            id=data.get("id") or new_id(),
            title=data.get("title") or "",
            created=float(data.get("created") or time.time()),
            updated=float(data.get("updated") or time.time()),
            instruction_role=data.get("instruction_role") or "system",
            params=dict(data.get("params") or {}),
            messages={m.id: m for m in messages},
            leaf=data.get("leaf"),
        )


def title_from(text: str, limit: int = 60) -> str:
    """A one-line title from the first message."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"
