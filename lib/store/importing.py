"""Read a conversation from a file: this app's JSON export, or a plain list of chat messages.

Three shapes are accepted:

* a :mod:`lib.store.exporting` JSON export (``"format": "gemma-chat"``), which comes back as the
  identical conversation, every branch included;
* a comparison export (``"format": "gemma-chat-comparison"``, :func:`import_comparison_into`),
  which becomes a new comparison: each column checked as a conversation export is, the images
  of all columns counted against one file's limits, and the messages of all columns against
  CHAT_IMPORT_MAX_MESSAGES; :func:`import_file` takes either kind;
* the common ``{"messages": [{"role": ..., "content": ...}, ...]}`` (or just the list), as
  the OpenAI-style APIs and many tools write it. System (or developer) messages become the
  system prompt, and consecutive turns of one role are merged, the way the chat page merges
  a message typed after a failed one, because Gemma needs user and assistant to alternate.

An export's images are checked before anything is written (:func:`_check_images`): each must be
base64 of the digest it names, of the type and size it says, and open with Pillow; they are
then stored as they are, byte for byte, never re-encoded.

Anything else (too large, too many messages, not UTF-8, not JSON, the wrong shape, a broken tree, a bad image) raises
:class:`lib.errors.ImportFormatError` with a sentence saying what is wrong, before
anything is written.
"""

from __future__ import annotations

import binascii
import json
import math
import time
from dataclasses import dataclass, field, replace
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import best_match

from lib.api.params import validate_params
from lib.chat.conversation import MERGE_SEPARATOR, Conversation, Message, new_id, title_from
from lib.chat.usage import sane_cost, sane_count, sane_seconds
from lib.errors import ChatError, ComparisonExistsError, ConversationExistsError, ImageError, ImportFormatError
from lib.experiments.compare import MAX_COLUMNS, MIN_COLUMNS, Comparison, Setup, Vote
from lib.images.image import MEDIA_TYPES, Image
from lib.images.verify import verify_image
from lib.settings import DEFAULT_IMPORT_MAX_MESSAGES
from lib.store.database import Store
from lib.store.exporting import COLUMN_NAMES, COMPARISON_FORMAT, COMPARISON_VERSION, FORMAT, VERSION

_STRING_OR_NULL = {"type": ["string", "null"]}
_NUMBER_OR_NULL = {"type": ["number", "null"]}
_COUNT = {"type": ["integer", "null"], "minimum": 0}

_STATS = {
    "type": ["object", "null"],
    "properties": {
        # Usage and Cost are built with **kwargs, so unknown keys must be refused here.
        "usage": {
            "type": ["object", "null"],
            "properties": {
                "prompt_tokens": _COUNT, "completion_tokens": _COUNT, "total_tokens": _COUNT,
                "estimated": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "cost": {
            "type": ["object", "null"],
            "required": ["usd", "source"],
            "properties": {"usd": {"type": "number"}, "source": {"type": "string"}},
            "additionalProperties": False,
        },
        "time_to_first_token": _NUMBER_OR_NULL,
        "total_time": _NUMBER_OR_NULL,
        "last_token_time": _NUMBER_OR_NULL,
        "finish_reason": _STRING_OR_NULL,
        "model": _STRING_OR_NULL,
        "provider": _STRING_OR_NULL,
        "request_id": _STRING_OR_NULL,
    },
}

_IMAGE = {
    "type": "object",
    "required": ["digest", "media_type", "width", "height", "data"],
    "properties": {
        "digest": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        "media_type": {"enum": sorted(MEDIA_TYPES)},
        "width": {"type": "integer", "minimum": 1},
        "height": {"type": "integer", "minimum": 1},
        "name": {"type": "string"},
        "note": _STRING_OR_NULL,
        "data": {"type": "string"},
    },
}

_MESSAGE = {
    "type": "object",
    "required": ["id", "role", "content"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "parent": _STRING_OR_NULL,
        "role": {"enum": ["user", "assistant"]},
        "content": {"type": "string"},
        "created": {"type": "number"},
        "status": {"enum": ["complete", "stopped", "incomplete"]},
        "stats": _STATS,
        "model": _STRING_OR_NULL,
        "params": {"type": "object"},
        "error": _STRING_OR_NULL,
        "error_title": _STRING_OR_NULL,
        "images": {"type": "array", "items": _IMAGE},
        "request": {"type": ["object", "null"]},
    },
}

EXPORT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "version", "conversation"],
    "properties": {
        "format": {"const": FORMAT},
        "version": {"const": VERSION},
        "conversation": {
            "type": "object",
            "required": ["model", "messages"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "title": {"type": "string"},
                "created": {"type": "number"},
                "updated": {"type": "number"},
                "system_prompt": {"type": "string"},
                "instruction_role": {"type": "string", "minLength": 1},
                "model": {"type": "string", "minLength": 1},
                "params": {"type": "object"},
                "leaf": _STRING_OR_NULL,
                "messages": {"type": "array", "items": _MESSAGE},
            },
        },
    },
}

_TEXT_PART = {
    "type": "object",
    "required": ["type", "text"],
    "properties": {"type": {"const": "text"}, "text": {"type": "string"}},
}

MESSAGES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["messages"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "title": {"type": "string"},
        "messages": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["role", "content"],
                "properties": {
                    "role": {"enum": ["system", "developer", "user", "assistant"]},
                    "content": {
                        "anyOf": [{"type": "string"}, {"type": "array", "items": _TEXT_PART}, {"type": "null"}],
                    },
                },
            },
        },
    },
}

_EXPORT_VALIDATOR = Draft202012Validator(EXPORT_SCHEMA)
_MESSAGES_VALIDATOR = Draft202012Validator(MESSAGES_SCHEMA)


def _fail(message: str) -> ImportFormatError:
    return ImportFormatError(f"{message} Nothing was imported.")


def _validate(validator: Draft202012Validator, document: Any, what: str) -> None:
    error = best_match(validator.iter_errors(document))
    if error is None:
        return
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    # The value it quotes may be a whole image's base64: its start is enough to find it.
    quoted = repr(error.instance)
    said = error.message.replace(quoted, f"{quoted[:60]}…") if len(quoted) > 80 else error.message
    raise _fail(f"This is not {what}: {f'at {where}: ' if where else ''}{said}.")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number JSON allows")


def _parse_json(data: bytes | str, max_bytes: int) -> Any:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    if len(raw) > max_bytes:
        raise _fail(f"The file is {len(raw):,} bytes; the limit is {max_bytes:,} bytes (CHAT_IMPORT_MAX_BYTES).")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _fail("The file is not UTF-8 text, so it cannot be a JSON export.") from None
    try:
        document = json.loads(text, parse_constant=_reject_constant)
        # "\ud800" is valid JSON but no text: no database (nor the page) could take it.
        json.dumps(document, ensure_ascii=False).encode("utf-8")
        return document
    except UnicodeEncodeError:
        raise _fail("The file holds text that is not valid Unicode (a lone surrogate such as \\ud800).") from None
    except json.JSONDecodeError as exc:
        raise _fail(f"The file is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno}).") from None
    except ValueError as exc:
        raise _fail(f"The file is not valid JSON ({exc}).") from None
    except RecursionError:
        raise _fail("The file is not valid JSON (it is nested too deeply).") from None


def _check_tree(conversation: dict[str, Any]) -> None:
    """The rules Conversation relies on: known parents, no loops, and user and assistant alternating."""
    items = conversation["messages"]
    by_id: dict[str, dict[str, Any]] = {}
    for item in items:
        if item["id"] in by_id:
            raise _fail(f"The export is damaged: two messages have the id {item['id']!r}.")
        by_id[item["id"]] = item
    for item in items:
        parent_id = item.get("parent")
        if parent_id is None:
            if item["role"] != "user":
                raise _fail(f"The export is damaged: message {item['id']!r} is a reply to nothing.")
            continue
        parent = by_id.get(parent_id)
        if parent is None:
            raise _fail(f"The export is damaged: message {item['id']!r} answers a message that is not in the file.")
        if parent["role"] == item["role"]:
            raise _fail(f"The export is damaged: message {item['id']!r} follows another {item['role']} message.")
    rooted: set[str] = set()
    for item in items:
        path: set[str] = set()
        node: dict[str, Any] | None = item
        while node is not None and node["id"] not in rooted:
            if node["id"] in path:
                raise _fail("The export is damaged: its messages answer each other in a loop.")
            path.add(node["id"])
            node = by_id.get(node.get("parent") or "")
        # Remembering which messages reach the root keeps a long chat linear to check.
        rooted.update(path)
    leaf = conversation.get("leaf")
    if leaf is not None and leaf not in by_id:
        raise _fail("The export is damaged: the current message is not in the file.")


#: images one message may carry: at least as many as the chat page lets a user attach
MAX_IMAGES_PER_MESSAGE = 32
#: different images one file may carry
MAX_IMAGES_PER_IMPORT = 1000
#: pixels of all the different images of one file together, each decoded once to check it:
#: 200 photos as a chat sends them (896 × 672), and a bound on the time an import takes.
#: Their bytes are bounded by the file's (CHAT_IMPORT_MAX_BYTES): base64 is larger still.
MAX_IMPORT_PIXELS = 200 * 896 * 672


def _which(item: dict[str, Any]) -> str:
    """A message as the user can find it: its id and how its text starts."""
    start = " ".join(item["content"].split())
    return f"message {item['id']!r}" + (f' ("{start[:40]}{"…" if len(start) > 40 else ""}")' if start else "")


@dataclass
class _ImageBudget:
    """The different images of one file so far, and their pixels (a comparison's columns share it)."""

    seen: set[str] = field(default_factory=set)
    pixels: int = 0


def _check_images(conversation: dict[str, Any], budget: _ImageBudget | None = None) -> None:
    """Each image must be what it says it is: base64 of its digest, of its type and size, whole,
    and not a decompression bomb; and there must not be too many."""
    budget = budget or _ImageBudget()
    seen = budget.seen
    for item in conversation["messages"]:
        attached = item.get("images") or []
        if not attached:
            continue
        if item["role"] != "user":
            raise _fail(f"The export is damaged: {_which(item)} is a reply, but carries images; only questions do.")
        if len(attached) > MAX_IMAGES_PER_MESSAGE:
            raise _fail(f"The {_which(item)} carries {len(attached)} images; at most "
                        f"{MAX_IMAGES_PER_MESSAGE} can be imported with one message.")
        for number, data in enumerate(attached, 1):
            where = f"Image {number} of {_which(item)}"
            try:
                image = Image.from_dict(data)
            except binascii.Error:
                raise _fail(f"{where} is damaged: its data is not base64.") from None
            except ValueError as exc:
                raise _fail(f"{where} is damaged: {exc}.") from None
            if image.digest in seen:
                continue
            seen.add(image.digest)
            try:
                # Refuses a size beyond MAX_PIXELS before decoding anything.
                verify_image(image)
            except ImageError as exc:
                raise _fail(f"{where} cannot be imported. {exc.message}") from None
            budget.pixels += image.width * image.height
            if len(seen) > MAX_IMAGES_PER_IMPORT or budget.pixels > MAX_IMPORT_PIXELS:
                raise _fail(f"The file carries more images than one import takes (at most {MAX_IMAGES_PER_IMPORT}, "
                            f"of {MAX_IMPORT_PIXELS:,} pixels in all); {where} is one too many.")


def _from_export(document: dict[str, Any]) -> Conversation:
    version = document.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > VERSION:
        raise _fail(f"The export has version {version}, made by a newer version of this app (this one reads {VERSION}).")
    _validate(_EXPORT_VALIDATOR, document, f"a {FORMAT} export")
    _check_tree(document["conversation"])
    _check_images(document["conversation"])
    return Conversation.from_dict(document["conversation"])


def _text_of(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(part["text"] for part in content)


def _from_messages(document: dict[str, Any], default_model: str) -> Conversation:
    _validate(_MESSAGES_VALIDATOR, document, 'a list of chat messages ({"messages": [{"role", "content"}, ...]})')
    instructions: list[str] = []
    instruction_role = "system"
    turns: list[tuple[str, str]] = []
    for item in document["messages"]:
        role, text = item["role"], _text_of(item["content"])
        if not text.strip():
            continue
        if role in ("system", "developer"):
            if not instructions:
                instruction_role = role
            instructions.append(text.strip())
        elif turns and turns[-1][0] == role:
            turns[-1] = (role, f"{turns[-1][1]}{MERGE_SEPARATOR}{text}")
        else:
            turns.append((role, text))
    if not turns:
        raise _fail("The file has no user or assistant message with text in it.")
    if turns[0][0] != "user":
        raise _fail("The first message (after any system message) must be from the user, not the assistant.")
    now = time.time()
    messages: dict[str, Message] = {}
    parent: str | None = None
    for index, (role, text) in enumerate(turns):
        # Evenly spaced times keep the order; siblings are sorted by creation time.
        message = Message(role, text, parent=parent, created=now + index * 0.001)  # type: ignore[arg-type]
        messages[message.id] = message
        parent = message.id
    first_user = turns[0][1]
    return Conversation(
        system_prompt=MERGE_SEPARATOR.join(instructions),
        model=document.get("model") or default_model,
        title=(document.get("title") or "").strip() or title_from(first_user),
        created=now,
        updated=now + len(turns) * 0.001,
        instruction_role=instruction_role,
        messages=messages,
        leaf=parent,
    )


def _message_count(document: dict[str, Any]) -> int:
    """How many messages the file holds, whatever else is wrong with it (the schema says that later)."""
    holder = document.get("conversation") if "format" in document else document
    messages = holder.get("messages") if isinstance(holder, dict) else None
    return len(messages) if isinstance(messages, list) else 0


def _check_count(document: dict[str, Any], max_messages: int) -> None:
    # Counted before the schema is checked: that check alone took 6 s for 150,000 messages.
    if (count := _message_count(document)) > max_messages:
        raise _fail(f"The file holds {count:,} messages; a conversation may hold at most {max_messages:,} "
                    "(CHAT_IMPORT_MAX_MESSAGES), so that the chat page can open it quickly.")


def _document(data: bytes | str, max_bytes: int) -> dict[str, Any]:
    document = _parse_json(data, max_bytes)
    if isinstance(document, list):
        document = {"messages": document}
    if not isinstance(document, dict):
        raise _fail("The file holds JSON but not a conversation (expected an object with messages).")
    return document


def parse(
    data: bytes | str, *, max_bytes: int, default_model: str, max_messages: int = DEFAULT_IMPORT_MAX_MESSAGES
) -> Conversation:
    """The conversation in ``data``; ImportFormatError when it is not one, or holds over ``max_messages``."""
    return _conversation_of(_document(data, max_bytes), default_model, max_messages)


def _conversation_of(document: dict[str, Any], default_model: str, max_messages: int) -> Conversation:
    _check_count(document, max_messages)
    if "format" in document:
        if document["format"] != FORMAT:
            raise _fail(f"The file is in the format {str(document['format'])[:40]!r}, not a {FORMAT} export.")
        return _from_export(document)
    if "messages" in document:
        return _from_messages(document, default_model)
    raise _fail(f'The file is neither a {FORMAT} export nor a list of chat messages ({{"messages": [...]}}).')


#: the earliest time a conversation could be from (this app did not exist before 2000)
EARLIEST = 946_684_800.0


@dataclass
class Imported:
    """A conversation just imported, and what was changed in it on the way (for the page to say)."""

    conversation: Conversation
    notes: list[str]


def _sane_time(value: float, fallback: float) -> float:
    return value if math.isfinite(value) and EARLIEST <= value <= time.time() + 86_400 else fallback


def _sanitize(conversation: Conversation) -> list[str]:
    """Bring every number into a range the app can store, sum and show, and every parameter within
    its model's spec; what cannot be is dropped (unknown), and each kind of change is noted.

    A time of 1e308 or a cost of 1e308 would otherwise break the History page, or the sums of
    every page that lists conversations, for everyone who opens them.
    """
    notes: list[str] = []
    now = time.time()
    times = figures = 0
    for index, message in enumerate(sorted(conversation.messages.values(), key=lambda m: (m.created, m.id))):
        fixed = _sane_time(message.created, now + index * 0.001)
        times += fixed != message.created
        message.created = fixed
        stats = message.stats
        if stats is None:
            continue
        before = repr(stats)
        if stats.usage is not None:
            usage = stats.usage
            usage.prompt_tokens, usage.completion_tokens, usage.total_tokens = (
                None if v is None else sane_count(v) for v in (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens)
            )
        if stats.cost is not None and sane_cost(stats.cost.usd) is None:
            stats.cost = None
        stats.time_to_first_token, stats.total_time, stats.last_token_time = (
            sane_seconds(v) for v in (stats.time_to_first_token, stats.total_time, stats.last_token_time)
        )
        figures += repr(stats) != before
    for name in ("created", "updated"):
        value = getattr(conversation, name)
        fixed = _sane_time(value, now)
        times += fixed != value
        setattr(conversation, name, fixed)
    if times:
        notes.append(f"{times} time{'s' if times != 1 else ''} outside any possible date became the time of import.")
    if figures:
        notes.append(f"{figures} repl{'ies' if figures != 1 else 'y'} had token counts, costs or timings no reply "
                     "could have; those figures are now unknown.")
    dropped: set[str] = set()
    for holder, model in [(conversation, conversation.model)] + [
        (m, m.model or conversation.model) for m in conversation.messages.values()
    ]:
        kept: dict[str, Any] = {}
        for name, value in holder.params.items():
            try:
                kept.update(validate_params(model, {name: value}))
            except ChatError:
                dropped.add(name)
        holder.params = kept
    if dropped:
        notes.append(f"Parameters outside the model's spec were left out: {', '.join(sorted(dropped))}.")
    return notes


def import_into(
    store: Store, data: bytes | str, *, max_bytes: int, default_model: str,
    max_messages: int = DEFAULT_IMPORT_MAX_MESSAGES,
) -> Imported:
    """Parse ``data``, make its figures and parameters sane, and save it as a conversation.

    A fresh id when its id is taken already.
    """
    return _import_conversation(store, _document(data, max_bytes), default_model, max_messages)


def _import_conversation(store: Store, document: dict[str, Any], default_model: str, max_messages: int) -> Imported:
    conversation = _conversation_of(document, default_model, max_messages)
    notes = _sanitize(conversation)
    if store.exists(conversation.id):
        conversation.id = new_id()
    try:
        store.save(conversation)
    except ConversationExistsError:  # imported at the same moment by someone else
        conversation.id = new_id()
        store.save(conversation)
    return Imported(conversation, notes)


# -- comparisons (#12) -------------------------------------------------------------------

_SETUP = {
    "type": "object",
    "required": ["model"],
    "properties": {
        "model": {"type": "string", "minLength": 1},
        "system_prompt": {"type": "string"},
        "instruction_role": {"type": "string", "minLength": 1},
        "params": {"type": "object"},
    },
}

_VOTE = {
    "type": "object",
    "required": ["id", "turn", "outcome", "setups", "created"],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "turn": {"type": "integer", "minimum": 1},
        "outcome": {"enum": ["win", "tie", "bad"]},
        "winner": {"type": ["integer", "null"], "minimum": 0},
        "setups": {"type": "array", "minItems": MIN_COLUMNS, "maxItems": MAX_COLUMNS, "items": _SETUP},
        "created": {"type": "number"},
    },
}

COMPARISON_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["format", "version", "comparison"],
    "properties": {
        "format": {"const": COMPARISON_FORMAT},
        "version": {"const": COMPARISON_VERSION},
        "comparison": {
            "type": "object",
            "required": ["setups", "threads"],
            "properties": {
                "id": {"type": "string", "minLength": 1},
                "title": {"type": "string"},
                "created": {"type": "number"},
                "updated": {"type": "number"},
                "blind": {"type": "boolean"},
                "order": {"type": "array", "items": {"type": "integer", "minimum": 0}},
                "setups": {"type": "array", "minItems": MIN_COLUMNS, "maxItems": MAX_COLUMNS, "items": _SETUP},
                "threads": {
                    "type": "array", "minItems": MIN_COLUMNS, "maxItems": MAX_COLUMNS,
                    "items": EXPORT_SCHEMA["properties"]["conversation"],
                },
                "votes": {"type": "array", "items": _VOTE},
            },
        },
    },
}

_COMPARISON_VALIDATOR = Draft202012Validator(COMPARISON_SCHEMA)


@dataclass
class ImportedComparison:
    """A comparison just imported, and what was changed in it on the way (for the page to say)."""

    comparison: Comparison
    notes: list[str]


def _comparison_message_count(document: dict[str, Any]) -> int:
    """How many messages all the columns hold, whatever else is wrong with the file."""
    holder = document.get("comparison")
    threads = holder.get("threads") if isinstance(holder, dict) else None
    return sum(
        len(t["messages"]) for t in threads or [] if isinstance(t, dict) and isinstance(t.get("messages"), list)
    ) if isinstance(threads, list) else 0


def _check_votes(data: dict[str, Any]) -> None:
    columns, turns = len(data["setups"]), set()
    for number, vote in enumerate(data.get("votes") or [], 1):
        if len(vote["setups"]) != columns:
            raise _fail(f"The export is damaged: vote {number} is on {len(vote['setups'])} set-ups, not the {columns} columns.")
        winner = vote.get("winner")
        if (vote["outcome"] == "win") != (winner is not None) or (winner is not None and winner >= columns):
            raise _fail(f"The export is damaged: vote {number} names a winner where it should not, or none where it should.")
        if vote["turn"] in turns:
            raise _fail(f"The export is damaged: two votes are on turn {vote['turn']}.")
        turns.add(vote["turn"])


def _comparison_of(document: dict[str, Any], max_messages: int) -> Comparison:
    version = document.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > COMPARISON_VERSION:
        raise _fail(f"The export has version {version}, made by a newer version of this app "
                    f"(this one reads {COMPARISON_VERSION}).")
    if (count := _comparison_message_count(document)) > max_messages:
        raise _fail(f"The file holds {count:,} messages; a comparison may hold at most {max_messages:,} in all its "
                    "columns (CHAT_IMPORT_MAX_MESSAGES), so that the page can open it quickly.")
    _validate(_COMPARISON_VALIDATOR, document, f"a {COMPARISON_FORMAT} export")
    data = document["comparison"]
    if len(data["threads"]) != len(data["setups"]):
        raise _fail(f"The export is damaged: it has {len(data['setups'])} set-ups but {len(data['threads'])} columns.")
    ids = [t.get("id") for t in data["threads"] if t.get("id")]
    if len(set(ids)) != len(ids):
        raise _fail("The export is damaged: two columns have the same id.")
    budget = _ImageBudget()
    for thread in data["threads"]:
        _check_tree(thread)
        _check_images(thread, budget)
    _check_votes(data)
    comparison = Comparison(
        [Setup.from_dict(s) for s in data["setups"]],
        [Conversation.from_dict(t) for t in data["threads"]],
        id=data.get("id") or new_id(),
        title=data.get("title") or "",
        created=float(data.get("created") or time.time()),
        updated=float(data.get("updated") or time.time()),
        blind=bool(data.get("blind")),
        order=list(data.get("order") or []),
        votes=[Vote.from_dict(v) for v in data.get("votes") or []],
    )
    if any(vote.turn > comparison.turns for vote in comparison.votes):
        raise _fail(f"The export is damaged: a vote is on a turn after the last of its {comparison.turns}.")
    return comparison


def _sanitize_comparison(comparison: Comparison) -> list[str]:
    """:func:`_sanitize` for each column, and the same for the comparison's own times and set-ups."""
    notes: list[str] = []
    for name, thread in zip(COLUMN_NAMES, comparison.threads, strict=False):
        notes += [f"Column {name}: {note}" for note in _sanitize(thread)]
    now = time.time()
    comparison.created, comparison.updated = _sane_time(comparison.created, now), _sane_time(comparison.updated, now)
    comparison.votes = [replace(v, created=_sane_time(v.created, now)) for v in comparison.votes]
    dropped: set[str] = set()
    for index, setup in enumerate(comparison.setups):
        kept: dict[str, Any] = {}
        for name, value in setup.params.items():
            try:
                kept.update(validate_params(setup.model, {name: value}))
            except ChatError:
                dropped.add(name)
        comparison.setups[index] = replace(setup, params=kept)
    if dropped:
        notes.append(f"Set-up parameters outside the model's spec were left out: {', '.join(sorted(dropped))}.")
    return notes


def _fresh_ids(store: Store, comparison: Comparison, *, all_of_them: bool = False) -> None:
    """New ids where the store holds the comparison's (an export of one still saved) or a column's."""
    if all_of_them or store.comparison_exists(comparison.id):
        comparison.id = new_id()
    for thread in comparison.threads:
        if all_of_them or store.exists(thread.id):
            thread.id = new_id()


def _import_comparison(store: Store, document: dict[str, Any], max_messages: int) -> ImportedComparison:
    comparison = _comparison_of(document, max_messages)
    notes = _sanitize_comparison(comparison)
    _fresh_ids(store, comparison)
    try:
        store.save_comparison(comparison)
    except (ComparisonExistsError, ConversationExistsError):  # imported at the same moment by someone else
        _fresh_ids(store, comparison, all_of_them=True)
        store.save_comparison(comparison)
    return ImportedComparison(comparison, notes)


def import_comparison_into(
    store: Store, data: bytes | str, *, max_bytes: int, max_messages: int = DEFAULT_IMPORT_MAX_MESSAGES
) -> ImportedComparison:
    """Parse a comparison export, make its figures, times and parameters sane, and save it as a new
    comparison (fresh ids where its own are taken). Its votes keep their ids: the leaderboard
    counts a vote once however many copies hold it."""
    return _import_comparison(store, _document(data, max_bytes), max_messages)


def parse_comparison(data: bytes | str, *, max_bytes: int, max_messages: int = DEFAULT_IMPORT_MAX_MESSAGES) -> Comparison:
    """The comparison in a comparison export, checked as an import is, but not saved; ImportFormatError."""
    document = _document(data, max_bytes)
    if document.get("format") != COMPARISON_FORMAT:
        raise _fail(f"The file is not a {COMPARISON_FORMAT} export.")
    return _comparison_of(document, max_messages)


def import_file(
    store: Store, data: bytes | str, *, max_bytes: int, default_model: str,
    max_messages: int = DEFAULT_IMPORT_MAX_MESSAGES,
) -> Imported | ImportedComparison:
    """What History's uploader takes: a comparison export, or anything :func:`import_into` takes."""
    document = _document(data, max_bytes)
    if document.get("format") == COMPARISON_FORMAT:
        return _import_comparison(store, document, max_messages)
    return _import_conversation(store, document, default_model, max_messages)
