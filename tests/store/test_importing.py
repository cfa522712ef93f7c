"""Importing: this app's JSON export and the common {"messages": [...]} shape; anything else changes nothing."""

from __future__ import annotations

import base64
import hashlib
import json
import struct
import time
import zlib
from typing import Any

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

import lib.store.database as store_module
import lib.store.importing as importing
from lib.chat.conversation import MERGE_SEPARATOR, Conversation
from lib.errors import ChatError, ImportFormatError
from lib.settings import DEFAULT_IMPORT_MAX_BYTES, DEFAULT_IMPORT_MAX_MESSAGES, load_settings
from lib.store.database import Store
from lib.store.exporting import to_json
from lib.store.importing import import_into, parse
from tests.image_samples import encode, photo, small
from tests.samples import make_conversation

# The store fixture, on every backend.
pytest_plugins = ("tests.store_fixtures",)

LIMIT = 1_000_000
MODEL = "google/gemma-3-27b-it"


def load(data: bytes | str | Any, max_bytes: int = LIMIT) -> Any:
    if not isinstance(data, (bytes, str)):
        data = json.dumps(data)
    return parse(data, max_bytes=max_bytes, default_model=MODEL)


def export_document(seed: int = 1) -> dict[str, Any]:
    return json.loads(to_json(make_conversation(seed)))


# -- this app's export -------------------------------------------------------------------


def test_an_export_comes_back_identical_with_every_branch() -> None:
    original = make_conversation(1, filler=3)
    assert load(to_json(original)) == original


def test_a_byte_order_mark_is_fine() -> None:
    original = make_conversation(2)
    assert load(b"\xef\xbb\xbf" + to_json(original).encode()) == original


def test_import_keeps_the_id_when_it_is_free_and_takes_a_fresh_one_otherwise(store: Store) -> None:
    original = make_conversation(3)
    original.params.pop("nested")  # not a parameter of the model's spec: an import leaves it out
    first = import_into(store, to_json(original), max_bytes=LIMIT, default_model=MODEL).conversation
    assert first.id == original.id
    assert store.load(original.id) == original
    second = import_into(store, to_json(original), max_bytes=LIMIT, default_model=MODEL).conversation
    assert second.id != original.id
    assert store.load(second.id).messages == original.messages
    assert store.load(original.id) == original
    assert len(store.list()) == 2


# -- the {"messages": [...]} shape -------------------------------------------------------


def test_messages_shape_becomes_a_conversation() -> None:
    conversation = load(
        {
            "model": "google/gemma-3-12b-it",
            "messages": [
                {"role": "system", "content": "Be terse."},
                {"role": "user", "content": "Hi"},
                {"role": "assistant", "content": "Hello."},
                {"role": "user", "content": [{"type": "text", "text": "Part one"}, {"type": "text", "text": "part two"}]},
            ],
        }
    )
    assert conversation.system_prompt == "Be terse."
    assert conversation.instruction_role == "system"
    assert conversation.model == "google/gemma-3-12b-it"
    assert conversation.title == "Hi"
    assert conversation.history() == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello."},
        {"role": "user", "content": "Part one\npart two"},
    ]
    assert len(conversation.messages) == 3


def test_messages_shape_merges_turns_so_roles_alternate() -> None:
    conversation = load(
        [
            {"role": "developer", "content": "Rule one."},
            {"role": "user", "content": "First"},
            {"role": "user", "content": "Second"},
            {"role": "system", "content": "Rule two."},
            {"role": "assistant", "content": "A"},
            {"role": "assistant", "content": None},
            {"role": "assistant", "content": "B"},
            {"role": "user", "content": "   "},
            {"role": "user", "content": "Third"},
        ]
    )
    assert conversation.system_prompt == f"Rule one.{MERGE_SEPARATOR}Rule two."
    assert conversation.instruction_role == "developer"
    assert conversation.model == MODEL
    assert conversation.history() == [
        {"role": "user", "content": f"First{MERGE_SEPARATOR}Second"},
        {"role": "assistant", "content": f"A{MERGE_SEPARATOR}B"},
        {"role": "user", "content": "Third"},
    ]
    roles = [m.role for m in conversation.path()]
    assert all(a != b for a, b in zip(roles, roles[1:], strict=False))


def test_messages_shape_keeps_a_given_title() -> None:
    assert load({"title": " My chat ", "messages": [{"role": "user", "content": "x"}]}).title == "My chat"


# -- what is refused ---------------------------------------------------------------------


def broken_tree(change: str) -> dict[str, Any]:
    document = export_document()
    messages = document["conversation"]["messages"]
    if change == "unknown parent":
        messages[1]["parent"] = "nowhere"
    elif change == "duplicate id":
        messages[2]["id"] = messages[1]["id"]
    elif change == "loop":
        messages[0]["parent"] = messages[-1]["id"]
        messages[0]["role"] = "user"
        messages[-1]["role"] = "assistant"
    elif change == "reply to nothing":
        messages[1]["parent"] = None
    elif change == "two users in a row":
        messages[3]["parent"] = messages[0]["id"]
    elif change == "unknown leaf":
        document["conversation"]["leaf"] = "gone"
    return document


REFUSED: list[tuple[str, Any, str]] = [
    ("not UTF-8", b"\xff\xfe\x00garbage", "not UTF-8"),
    ("not JSON", b"this is not json {", "not valid JSON"),
    ("truncated JSON", to_json(make_conversation(9))[:-40], "not valid JSON"),
    ("NaN", '{"messages": [{"role": "user", "content": "x", "n": NaN}]}', "not valid JSON"),
    ("a number", "42", "not a conversation"),
    ("an object of something else", {"hello": "world"}, "neither"),
    ("another format", {"format": "chatgpt", "version": 1, "conversation": {}}, "'chatgpt'"),
    ("a newer version", {**export_document(), "version": 2}, "newer version"),
    ("no conversation", {"format": "gemma-chat", "version": 1}, "'conversation' is a required property"),
    ("no model", {"format": "gemma-chat", "version": 1, "conversation": {"messages": []}}, "'model'"),
    ("a bad role", {**export_document(), "conversation": {**export_document()["conversation"], "messages": [
        {"id": "m", "role": "tool", "content": "x"}]}}, "'tool' is not one of"),
    ("unknown usage keys", {**export_document(), "conversation": {**export_document()["conversation"], "messages": [
        {"id": "m", "role": "user", "content": "x", "stats": {"usage": {"tokens": 5}}}]}}, "usage"),
    ("a tool message", {"messages": [{"role": "tool", "content": "x"}]}, "messages[0].role"),
    ("an image part", {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
     "messages[0].content"),
    ("content missing", {"messages": [{"role": "user"}]}, "'content' is a required property"),
    ("no messages", {"messages": []}, "messages"),
    ("only a system message", {"messages": [{"role": "system", "content": "x"}]}, "no user or assistant message"),
    ("the assistant first", {"messages": [{"role": "assistant", "content": "Hi!"}, {"role": "user", "content": "x"}]},
     "must be from the user"),
    *[(change, broken_tree(change), "damaged") for change in
      ("unknown parent", "duplicate id", "loop", "reply to nothing", "two users in a row", "unknown leaf")],
]


@pytest.mark.parametrize(("case", "data", "says"), REFUSED, ids=[case for case, _, _ in REFUSED])
def test_bad_files_raise_a_clear_error(case: str, data: Any, says: str) -> None:
    with pytest.raises(ImportFormatError) as caught:
        load(data)
    assert says in str(caught.value)
    assert str(caught.value).endswith("Nothing was imported.")
    assert isinstance(caught.value, ChatError) and not caught.value.retryable


def test_an_oversized_file_is_refused_before_it_is_read() -> None:
    data = to_json(make_conversation(4, filler=5)).encode()
    with pytest.raises(ImportFormatError, match=f"{len(data):,} bytes; the limit is 1,000 bytes"):
        load(data, max_bytes=1000)
    assert load(data, max_bytes=len(data)) == make_conversation(4, filler=5)


@pytest.mark.parametrize("data", [b"\x00\x01garbage", b"[1, 2, 3]", json.dumps(broken_tree("loop")).encode()])
def test_a_refused_import_leaves_the_store_unchanged(store: Store, data: bytes) -> None:
    existing = make_conversation(5)
    store.save(existing)
    before = store.list()
    with pytest.raises(ImportFormatError):
        import_into(store, data, max_bytes=LIMIT, default_model=MODEL)
    with pytest.raises(ImportFormatError):
        import_into(store, to_json(make_conversation(6)), max_bytes=100, default_model=MODEL)
    assert store.list() == before
    assert store.load(existing.id) == existing


def test_an_import_of_impossible_numbers_and_parameters_keeps_the_app_working(store: Store) -> None:
    """A time of 1e308, a cost of 1e308, a token count of 10**30 or max_tokens of 1e9 would break the
    History page (or every page's sums) for everyone; they become unknown, or are left out, and are named."""
    document = json.loads(to_json(make_conversation(4)))
    conversation = document["conversation"]
    conversation["created"] = 1e308
    conversation["params"] = {"max_tokens": 1_000_000_000, "temperature": "hot", "top_p": 0.5}
    replies = [m for m in conversation["messages"] if m["role"] == "assistant" and m.get("stats")]
    replies[0]["created"] = -62_000_000_000  # a negative year
    replies[0]["stats"]["cost"] = {"usd": 1e308, "source": "reported"}
    replies[0]["stats"]["usage"] = {"prompt_tokens": 10**30, "completion_tokens": 5, "total_tokens": 10**30}
    imported = import_into(store, json.dumps(document), max_bytes=LIMIT, default_model=MODEL)
    saved = store.load(imported.conversation.id)
    assert saved.params == {"top_p": 0.5}
    assert 946_684_800 <= saved.created <= time.time() + 1
    reply = saved.messages[replies[0]["id"]]
    assert reply.stats is not None and reply.stats.cost is None
    assert reply.stats.usage is not None and reply.stats.usage.prompt_tokens is None and reply.stats.usage.completion_tokens == 5
    assert 946_684_800 <= reply.created
    said = " ".join(imported.notes)
    assert "max_tokens" in said and "temperature" in said and "time" in said and "unknown" in said
    assert store.list()[0].cost_text()  # the sums still work


def test_a_lone_surrogate_is_refused_with_a_clear_message() -> None:
    with pytest.raises(ImportFormatError, match="not valid Unicode"):
        load('{"messages": [{"role": "user", "content": "bad \\ud800 text"}]}')


def test_two_imports_of_one_id_at_once_make_two_conversations(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    data = to_json(make_conversation(8))
    # Both imports checked for the id before either saved: what two people importing at once meet.
    monkeypatch.setattr(store, "exists", lambda _id: False)
    first = import_into(store, data, max_bytes=10**7, default_model="m").conversation
    second = import_into(store, data, max_bytes=10**7, default_model="m").conversation
    assert first.id != second.id
    assert len(store.list()) == 2
    assert len(store.load(first.id).messages) == len(store.load(second.id).messages) == len(make_conversation(8).messages)


# -- images ------------------------------------------------------------------------------


def chat_with_photos(count: int = 2, **options: Any) -> Conversation:
    chat = Conversation("", MODEL, title="Photos")
    for n in range(count):
        chat.add_user(f"What is in photo {n}?", images=(photo(f"photo-{n}.jpg", seed=n, **options),))
        chat.add_reply(f"Photo {n} shows noise.")
    return chat


def image_count(store: Store) -> int:
    with store._transaction(write=False) as conn:
        return len(conn.execute(select(store_module.images.c.digest)).all())


def test_an_export_with_images_is_imported_and_stored_byte_for_byte(store: Store) -> None:
    original = chat_with_photos(2)
    shared = original.path()[0].images[0]
    original.add_user("Again, with a small one", images=(shared, small()))
    imported = import_into(store, to_json(original), max_bytes=LIMIT, default_model=MODEL).conversation
    saved = store.load(imported.id)
    assert saved == original
    for message in original.messages.values():
        assert [(i.data, i.digest) for i in saved.messages[message.id].images] == [
            (i.data, i.digest) for i in message.images
        ]
    assert image_count(store) == 3  # the photo shown twice is stored once


def test_a_chat_of_twenty_photos_re_imports_under_the_default_limit(store: Store) -> None:
    # Twenty photos of 250 kB, as large as a detailed prepared photo or screenshot comes out.
    original = chat_with_photos(20, quality=90)
    data = to_json(original).encode()
    assert len(data) > 5_000_000  # more than the old default took
    imported = import_into(store, data, max_bytes=load_settings({}).import_max_bytes, default_model=MODEL)
    assert store.load(imported.conversation.id) == original


def png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header says it is ``width`` × ``height``: what a decompression bomb looks like to a reader."""
    data = bytearray(encode(PILImage.new("1", (1, 1))))
    header = b"IHDR" + struct.pack(">II", width, height) + bytes(data[24:29])
    data[12:29] = header
    data[29:33] = struct.pack(">I", zlib.crc32(header))
    return bytes(data)


def image_dict(raw: bytes, media_type: str, width: int, height: int, /, **changes: Any) -> dict[str, Any]:
    return {"digest": hashlib.sha256(raw).hexdigest(), "media_type": media_type, "width": width, "height": height,
            "name": "bad.img", "note": None, "data": base64.b64encode(raw).decode(), **changes}


def with_image(image: dict[str, Any] | list[dict[str, Any]], *, on: str = "user") -> dict[str, Any]:
    """An export whose question (or reply) carries ``image``."""
    document = json.loads(to_json(chat_with_photos(1)))
    message = next(m for m in document["conversation"]["messages"] if m["role"] == on)
    message["images"] = image if isinstance(image, list) else [image]
    return document


PNG = encode(PILImage.new("RGB", (4, 3), (1, 2, 3)))
JPEG = encode(PILImage.new("RGB", (40, 30), (1, 2, 3)), "image/jpeg")

BAD_IMAGES: list[tuple[str, Any, str]] = [
    ("not base64", with_image(image_dict(PNG, "image/png", 4, 3, data="not base64!")), "not base64"),
    ("another digest", with_image(image_dict(PNG, "image/png", 4, 3, digest="0" * 64)), "does not match its digest"),
    ("a type the API does not take", with_image(image_dict(PNG, "image/bmp", 4, 3)), "'image/bmp' is not one of"),
    ("a PNG said to be a JPEG", with_image(image_dict(PNG, "image/jpeg", 4, 3)), "is PNG, not JPEG as it says"),
    ("the wrong size", with_image(image_dict(PNG, "image/png", 40, 30)), "is 4 × 3 pixels, not 40 × 30"),
    ("not an image", with_image(image_dict(b"just text", "image/png", 4, 3)), "not an image of a type the API takes"),
    ("a cut JPEG", with_image(image_dict(JPEG[: len(JPEG) // 2], "image/jpeg", 40, 30)), "damaged"),
    ("a decompression bomb", with_image(image_dict(png_claiming(20_000, 20_000), "image/png", 20_000, 20_000)),
     "too large to open safely"),
    ("too many pixels", with_image(image_dict(png_claiming(5000, 5000), "image/png", 5000, 5000)),
     "5000 × 5000 pixels, more than the 16,777,216 allowed"),
    ("too many images", with_image([image_dict(PNG, "image/png", 4, 3)] * 33), "carries 33 images; at most 32"),
    ("an image on a reply", with_image(image_dict(PNG, "image/png", 4, 3), on="assistant"), "is a reply, but carries images"),
    ("no digest", with_image({k: v for k, v in image_dict(PNG, "image/png", 4, 3).items() if k != "digest"}),
     "'digest' is a required property"),
]


@pytest.mark.parametrize(("case", "document", "says"), BAD_IMAGES, ids=[case for case, _, _ in BAD_IMAGES])
def test_a_bad_image_is_refused_naming_its_message_and_nothing_is_stored(
    store: Store, case: str, document: dict[str, Any], says: str
) -> None:
    with pytest.raises(ImportFormatError) as caught:
        import_into(store, json.dumps(document), max_bytes=LIMIT, default_model=MODEL)
    said = str(caught.value)
    assert says in said and said.endswith("Nothing was imported.")
    if "images" not in says:
        assert "What is in photo 0?" in said or "images[" in said
    assert store.list() == [] and image_count(store) == 0


def test_an_error_quoting_an_image_does_not_quote_all_its_data() -> None:
    document = with_image([])
    next(m for m in document["conversation"]["messages"] if m["role"] == "user")["images"] = "A" * 1_000_000
    with pytest.raises(ImportFormatError, match="is not of type 'array'") as caught:
        load(document, max_bytes=10**7)
    assert len(str(caught.value)) < 500


def test_too_many_pixels_in_one_file_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importing, "MAX_IMPORT_PIXELS", 896 * 672 * 2)
    load(to_json(chat_with_photos(2)))
    with pytest.raises(ImportFormatError, match="more images than one import takes"):
        load(to_json(chat_with_photos(3)))
# -- how many messages one conversation may hold ------------------------------------------


def chat_messages(count: int) -> bytes:
    return json.dumps(
        {"messages": [{"role": "user" if n % 2 == 0 else "assistant", "content": f"m{n}"} for n in range(count)]}
    ).encode()


def test_a_conversation_of_more_messages_than_the_limit_is_refused_and_nothing_is_stored(store: Store) -> None:
    existing = make_conversation(7)
    store.save(existing)
    before = store.list()
    with pytest.raises(ImportFormatError) as refused:
        import_into(store, chat_messages(11), max_bytes=LIMIT, default_model=MODEL, max_messages=10)
    assert str(refused.value) == (
        "The file holds 11 messages; a conversation may hold at most 10 (CHAT_IMPORT_MAX_MESSAGES), so that "
        "the chat page can open it quickly. Nothing was imported."
    )
    export = to_json(make_conversation(8, filler=4))
    count = len(json.loads(export)["conversation"]["messages"])
    with pytest.raises(ImportFormatError, match=f"holds {count} messages; a conversation may hold at most {count - 1} "):
        import_into(store, export, max_bytes=LIMIT, default_model=MODEL, max_messages=count - 1)
    assert store.list() == before
    assert import_into(store, export, max_bytes=LIMIT, default_model=MODEL, max_messages=count).conversation.messages


def test_the_default_limit_refuses_150000_messages_at_once() -> None:
    """The issue's file: 150,000 short messages in under 5 MB were imported in 28 s and never opened."""
    data = chat_messages(150_000)
    started = time.perf_counter()
    with pytest.raises(ImportFormatError, match="holds 150,000 messages; a conversation may hold at most 10,000 "):
        load(data, max_bytes=10_000_000)
    assert time.perf_counter() - started < 3  # counted before the schema check, which alone took 6 s


def test_a_conversation_at_the_limit_imports_and_opens_quickly(store: Store) -> None:
    data = chat_messages(DEFAULT_IMPORT_MAX_MESSAGES)
    started = time.perf_counter()
    imported = import_into(store, data, max_bytes=DEFAULT_IMPORT_MAX_BYTES, default_model=MODEL)
    loaded = store.load(imported.conversation.id)
    assert len(loaded.path()) == DEFAULT_IMPORT_MAX_MESSAGES
    assert time.perf_counter() - started < 10  # about 1 s on SQLite and on PostgreSQL (bench/long_chats.py)
