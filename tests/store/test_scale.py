"""#16 at scale: search answered from trigram indexes kept in step, and lists that page, on every backend."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from lib.chat.conversation import Message
from lib.store.database import Cursor, Store
from lib.store.exporting import to_json
from lib.store.history import history_listing
from lib.store.importing import import_into
from tests.comparison_samples import make_comparison
from tests.samples import T0, make_conversation, save_spoiled

pytest_plugins = ("tests.store_fixtures",)


@contextmanager
def statements(store: Store) -> Iterator[list[tuple[str, object]]]:
    """The SQL the store sends meanwhile, with its parameters."""
    sent: list[tuple[str, object]] = []

    def record(_conn: object, _cursor: object, statement: str, parameters: object, *_: object) -> None:
        sent.append((statement, parameters))

    event.listen(store._engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(store._engine, "before_cursor_execute", record)


def search_plans(store: Store, query: str) -> list[str]:
    """The database's plans for the queries a search sends (index scans preferred where one fits)."""
    with statements(store) as sent:
        store.search(query)
    plans = []
    with store._engine.connect() as conn:
        raw = conn.connection.driver_connection
        cursor = raw.cursor()
        if not store.is_sqlite:
            # Tables this small are read whole; the question is whether an index can answer.
            cursor.execute("SET enable_seqscan = off")
            # On a table this small the owner's index is as good as any; without it (in this
            # transaction only, rolled back below) the plan shows whether the trigram index answers.
            cursor.execute("DROP INDEX ix_conversations_owner")
        for statement, parameters in sent:
            if not statement.lstrip().upper().startswith("SELECT"):
                continue
            cursor.execute(("EXPLAIN QUERY PLAN " if store.is_sqlite else "EXPLAIN ") + statement, parameters)
            plans.append("\n".join(" ".join(str(part) for part in row) for row in cursor.fetchall()))
        cursor.close()
        raw.rollback()
    return plans


def assert_index_in_step(store: Store) -> None:
    """SQLite: each FTS5 index holds exactly what its table holds (FTS5's own check against its
    content table). PostgreSQL keeps its GIN indexes itself: they must exist."""
    with store._engine.begin() as conn:
        if store.is_sqlite:
            for fts in ("conversations_fts", "messages_fts"):
                conn.execute(text(f"INSERT INTO {fts}({fts}, rank) VALUES ('integrity-check', 1)"))
        else:
            names = set(conn.execute(text("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gin_trgm_ops%'")).scalars())
            assert names == {"ix_conversations_title_folded_trgm", "ix_messages_content_folded_trgm"}


def test_search_is_answered_from_trigram_indexes(store: Store) -> None:
    store.save(make_conversation(1))
    # Few hits among the newest conversations: the index is asked (a word in every message is
    # found by reading the newest conversations first).
    plans = "\n".join(search_plans(store, "bananas"))
    if store.is_sqlite:
        assert "conversations_fts VIRTUAL TABLE INDEX" in plans
        assert "messages_fts VIRTUAL TABLE INDEX" in plans
    else:
        assert "ix_conversations_title_folded_trgm" in plans
        assert "ix_messages_content_folded_trgm" in plans


def test_index_kept_in_step_after_save_edit_delete_and_import(store: Store) -> None:
    chat = make_conversation(2)
    store.save(chat)
    assert_index_in_step(store)
    # an edit of a message and a rename move the indexed text
    reply = chat.messages["c00002-a1"]
    reply.content = "Pomegranates are red"
    store.save(chat, changed=[reply.id])
    store.rename(chat.id, "Fruit talk")
    assert_index_in_step(store)
    assert [h.message_id for h in store.search("megranat")] == [reply.id]
    assert store.search("first answer with") == []
    assert [h.conversation_id for h in store.search("fruit ta")] == [chat.id]
    assert store.search("bananas &") == []
    # a message deleted, a draft written
    removed = chat.messages["c00002-a4"]
    del chat.messages[removed.id]
    store.save(chat, removed=[removed.id])
    store.save_draft(chat.id, Message("assistant", "A streaming zanzibar", parent="c00002-u3", id="draft", created=T0 + 50))
    assert_index_in_step(store)
    assert store.search("no stats at all") == []
    assert [h.message_id for h in store.search("zanzibar")] == ["draft"]
    # an import, twice (a fresh id the second time), and a comparison
    imported = import_into(store, to_json(make_conversation(3)), max_bytes=10**7, default_model="m")
    again = import_into(store, to_json(make_conversation(3)), max_bytes=10**7, default_model="m")
    store.save_comparison(make_comparison(4))
    assert_index_in_step(store)
    found = {h.conversation_id for h in store.search("question 3:")}
    assert found == {imported.conversation.id, again.conversation.id}
    # deleting takes its text out of the index
    assert store.delete(chat.id) and store.delete(again.conversation.id)
    assert_index_in_step(store)
    assert store.search("megranat") == [] and store.search("zanzibar") == []
    assert {h.conversation_id for h in store.search("question 3:")} == {imported.conversation.id}


def test_short_queries_still_search(store: Store) -> None:
    chat = make_conversation(5)
    chat.messages["c00005-a1"].content = "ok π"
    store.save(chat)
    assert {h.message_id for h in store.search("π")} == {"c00005-a1"}
    assert {h.message_id for h in store.search("OK")} == {"c00005-a1"}
    assert {h.message_id for h in store.search("a2")} == set()


def page_through(page: object, size: int) -> list[str]:
    seen: list[str] = []
    cursor = None
    while True:
        rows = page(limit=size, after=cursor)  # type: ignore[operator]
        seen.extend(r.id for r in rows)
        if len(rows) < size:
            return seen
        cursor = Cursor.of(rows[-1])


def test_paging_returns_every_conversation_once_in_order(store: Store) -> None:
    chats = [make_conversation(seed) for seed in range(10, 33)]
    for chat in chats[:6]:
        chat.updated = T0 + 100  # equal times: the id decides
    for chat in chats:
        store.save(chat)
    save_spoiled(store, 40)  # an impossible time, listed last
    store.save_comparison(make_comparison(41))  # its columns are not chats
    everything = [s.id for s in store.list(limit=1000)]
    assert len(everything) == 24 and everything[-1] == "conv-00040"
    for size in (1, 5, 7, 24):
        assert page_through(store.list, size) == everything
    # a list grown page by page is drawn again from the newest down to its last cursor
    first = store.list(limit=7)
    second = store.list(limit=7, after=Cursor.of(first[-1]))
    assert [s.id for s in store.list(limit=1000, through=Cursor.of(second[-1]))] == everything[:14]
    assert store.list(limit=3, after=Cursor.of(store.list(limit=1000)[-1])) == []


def test_paging_comparisons(store: Store) -> None:
    for seed in range(50, 58):
        store.save_comparison(make_comparison(seed))
    everything = [s.id for s in store.list_comparisons(limit=100)]
    assert len(everything) == 8
    assert page_through(store.list_comparisons, 3) == everything


def test_a_hit_older_than_any_page_opens(store: Store) -> None:
    old = make_conversation(60)
    old.messages["c00060-a1"].content = "the oldest kumquat"
    old.updated = T0 - 10_000
    store.save(old)
    for seed in range(61, 75):
        store.save(make_conversation(seed))
    assert old.id not in {s.id for s in store.list(limit=5)}
    listing = history_listing(store, "KUMQUAT", limit=5)
    assert [s.id for s in listing.summaries] == [old.id]
    assert store.load(listing.hits[0].conversation_id).messages["c00060-a1"].content == "the oldest kumquat"


def test_a_word_in_every_message_finds_the_same_newest_hits_by_scan_as_by_index(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import lib.store.database as store_module

    for seed in range(80, 90):
        chat = make_conversation(seed)
        if seed % 3 == 0:
            chat.updated = T0 + 500  # ties: the id decides
        store.save(chat)
    for query, limit in (("answer", 4), ("answer", 50), ("question 8", 3), ("bananas", 2), ("up", 5)):
        monkeypatch.setattr(store_module, "RECENT_SCAN", 0)  # the index alone
        by_index = store.search(query, limit=limit)
        monkeypatch.setattr(store_module, "RECENT_SCAN", 3)  # the newest three read first
        assert store.search(query, limit=limit) == by_index, query
        assert len(by_index) == min(limit, len(store.search(query, limit=1000)))
