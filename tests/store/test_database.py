"""The conversation store, on SQLite and (with CHAT_TEST_PG_URL) on PostgreSQL."""

from __future__ import annotations

import copy
import io
import os
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PIL import Image as PILImage
from sqlalchemy import MetaData, event, select, text

import lib.store.database as store_module
from lib.api.client import ChatClient
from lib.api.request import api_messages, build_body
from lib.chat.conversation import Conversation, Message
from lib.chat.live_reply import start_reply
from lib.chat.usage import UNKNOWN, Cost, ReplyStats, Usage, format_time
from lib.errors import ConfigurationError, ConversationExistsError, ConversationNotFoundError, StoreError
from lib.images.image import Image
from lib.images.thumbnail import Thumbnail
from lib.settings import Settings, load_settings
from lib.store.database import MIGRATIONS, Migration, Store, database_url, open_store, schema_version, snippet
from lib.store.exporting import EXPORT_FORMATS, to_json
from lib.store.folding import fold
from lib.store.importing import import_into
from tests.conftest import CANARY_KEY
from tests.image_samples import photo, small
from tests.samples import T0, make_conversation, save_spoiled

# The store and store_url fixtures, on every backend.
pytest_plugins = ("tests.store_fixtures",)

ROOT = Path(__file__).resolve().parents[2]


def sqlite_path(store: Store) -> Path:
    assert store.is_sqlite
    return Path(store.location)


# -- saving and loading ------------------------------------------------------------------


def test_round_trip_keeps_branches_stats_and_params(store: Store) -> None:
    original = make_conversation(1)
    store.save(original)
    loaded = store.load(original.id)
    assert loaded == original
    assert loaded.to_dict() == original.to_dict()
    # The parts the equality could hide behind defaults, spelled out:
    assert loaded.messages["c00001-a3"].stats == ReplyStats()
    assert loaded.messages["c00001-a4"].stats is None
    assert loaded.messages["c00001-a2"].stats.usage == Usage(12, None, None)
    assert loaded.messages["c00001-a2"].stats.cost == Cost(0.00002, "estimate")
    assert loaded.messages["c00001-a1"].params == {"temperature": 0.7, "max_tokens": 512, "stop": ["\n\n"]}
    assert [m.id for m in loaded.path()] == ["c00001-u1", "c00001-a2", "c00001-u2b", "c00001-a3", "c00001-u3"]
    assert len(loaded.siblings(loaded.messages["c00001-a1"])) == 2


def test_save_is_idempotent(store: Store) -> None:
    conversation = make_conversation(2)
    for _ in range(3):
        store.save(conversation)
    [summary] = store.list()
    assert summary.message_count == len(conversation.messages)
    assert store.load(conversation.id) == conversation


def test_save_updates_changed_fields_and_adds_new_messages(store: Store) -> None:
    conversation = make_conversation(3)
    store.save(conversation)
    conversation.title = "Renamed in memory"
    conversation.retry()
    conversation.add_reply("A reply at last", stats=ReplyStats(usage=Usage(1, 2, 3)), model="m")
    conversation.messages["c00003-u1"].content = "Edited in place"
    store.save(conversation)
    assert store.load(conversation.id) == conversation


def test_a_save_that_fails_part_way_saves_nothing(store: Store) -> None:
    conversation = make_conversation(17)
    conversation.messages["c00017-a4"].content = None  # type: ignore[assignment] - NOT NULL in the table
    with pytest.raises(StoreError):
        store.save(conversation)
    assert not store.exists(conversation.id)
    assert store.list() == []


def test_messages_deleted_in_memory_are_deleted_when_named(store: Store) -> None:
    conversation = Conversation(system_prompt="", model="m")
    for turn in range(3):
        conversation.add_user(f"question {turn}")
        conversation.add_reply(f"answer {turn}")
    store.save(conversation)
    before = set(conversation.messages)
    conversation.delete_turn(conversation.path()[2].id)
    # Without removed, a save only adds: the deleted turn would come back as a branch.
    store.save(conversation, removed=before - set(conversation.messages))
    assert store.load(conversation.id) == conversation
    assert len(store.load(conversation.id).messages) == 4

    before = set(conversation.messages)
    conversation.clear()
    store.save(conversation, removed=before)
    assert store.load(conversation.id) == conversation
    assert store.list()[0].message_count == 0


def test_an_empty_conversation_round_trips(store: Store) -> None:
    empty = Conversation(system_prompt="", model="google/gemma-3-4b-it")
    store.save(empty)
    assert store.load(empty.id) == empty
    assert store.list()[0].message_count == 0


def test_load_unknown_id_raises(store: Store) -> None:
    with pytest.raises(ConversationNotFoundError):
        store.load("nope")
    assert not store.exists("nope")


def test_message_ids_are_per_conversation(store: Store) -> None:
    first = make_conversation(4)
    copy_ = copy.deepcopy(first)
    copy_.id = "another"
    copy_.messages["c00004-u1"].content = "Only in the copy"
    store.save(first)
    store.save(copy_)
    assert store.load(first.id) == first
    assert store.load("another") == copy_


def test_nul_characters_do_not_break_saving(store: Store) -> None:
    conversation = Conversation(system_prompt="", model="m")
    conversation.add_user("before\x00after")
    store.save(conversation)
    content = store.load(conversation.id).messages[conversation.leaf].content
    # PostgreSQL text cannot hold NUL, so it becomes the replacement character there.
    assert content == ("before\x00after" if store.is_sqlite else "before\ufffdafter")


# -- list, totals, rename, delete --------------------------------------------------------


def test_list_is_newest_first_with_counts_tokens_and_cost(store: Store) -> None:
    for seed in (5, 7, 6):
        store.save(make_conversation(seed))
    summaries = store.list()
    assert [s.id for s in summaries] == ["conv-00007", "conv-00006", "conv-00005"]
    first = summaries[0]
    assert first.title == "Conversation 7: bananas & <tags>"
    assert first.updated == T0 + 7 + 10
    assert first.message_count == 8
    # a1 reported 42 tokens; a2 only prompt tokens (12); a3 and a4 none
    assert first.total_tokens == 42 + 12
    assert first.cost_usd == pytest.approx(0.00014)
    # one estimate, and two replies whose cost is unknown
    assert first.totals.cost_estimated and first.totals.cost_incomplete
    assert first.cost_text().endswith("+ unknown")
    assert [s.id for s in store.list(limit=2)] == ["conv-00007", "conv-00006"]


def test_totals_cover_every_branch(store: Store) -> None:
    conversation = make_conversation(8, filler=2)
    store.save(conversation)
    totals = store.totals(conversation.id)
    assert totals.requests == 6
    assert totals.prompt_tokens == 12 + 12 + 100 + 101
    assert totals.completion_tokens == 30 + 200 + 200
    assert totals.cost_usd == pytest.approx(0.00012 + 0.00002 + 0.002)
    # the model the server named, else the one asked for; a4 has neither
    assert totals.models == {"google/gemma-3-27b-it:free": 3, "google/gemma-3-27b-it": 1, "google/gemma-3-12b-it": 1}
    with pytest.raises(ConversationNotFoundError):
        store.totals("missing")


def test_rename(store: Store) -> None:
    store.save(make_conversation(9))
    store.rename("conv-00009", "  A   better\ttitle ")
    assert store.load("conv-00009").title == "A better title"
    assert store.list()[0].title == "A better title"
    with pytest.raises(StoreError, match="empty"):
        store.rename("conv-00009", "   ")
    with pytest.raises(ConversationNotFoundError):
        store.rename("missing", "x")


def test_delete_removes_the_conversation_and_its_messages_only(store: Store) -> None:
    store.save(make_conversation(10))
    store.save(make_conversation(11))
    assert store.delete("conv-00010") is True
    assert store.delete("conv-00010") is False
    with pytest.raises(ConversationNotFoundError):
        store.load("conv-00010")
    assert [s.id for s in store.list()] == ["conv-00011"]
    assert store.search("Question 10") == []
    with store._transaction(write=False) as conn:
        left = conn.execute(select(store_module.messages.c.conversation_id).distinct()).scalars().all()
    assert left == ["conv-00011"]
    assert store.load("conv-00011") == make_conversation(11)


# -- rows that no version of the app writes -----------------------------------------------


def test_figures_and_times_no_reply_could_have_read_back_as_unknown(store: Store) -> None:
    save_spoiled(store, 40)
    store.save(make_conversation(41))

    newest, spoiled = store.list()
    assert (newest.id, spoiled.id) == ("conv-00041", "conv-00040")  # an impossible time sorts last
    assert newest == next(s for s in store.list(ids=["conv-00041"]))
    assert (spoiled.created, spoiled.updated) == (None, None) and format_time(spoiled.updated) == UNKNOWN
    assert (spoiled.message_count, spoiled.total_tokens, spoiled.cost_text()) == (8, 0, UNKNOWN)
    totals = store.totals("conv-00040")
    assert (totals.requests, totals.prompt_tokens, totals.completion_tokens, totals.cost_usd) == (4, 0, 0, 0.0)
    assert totals.cost_incomplete and not totals.cost_estimated
    assert store.totals("conv-00041").cost_usd == pytest.approx(0.00014)

    assert [(h.conversation_id, h.updated) for h in store.search("question 4")] == [
        ("conv-00041", T0 + 41 + 10), ("conv-00040", None)
    ]
    loaded = store.load("conv-00040")
    a1, a2 = loaded.messages["c00040-a1"].stats, loaded.messages["c00040-a2"].stats
    assert a1 is not None and a2 is not None
    assert a1.usage == Usage(None, None, None) and a1.cost is None
    assert (a1.time_to_first_token, a1.total_time, a1.last_token_time) == (None, None, None)
    assert a2.usage == Usage(None, None, None) and a2.cost is None and a2.total_time == 0.4
    # Impossible times become the nearest known ones: the first and the last message's.
    assert (loaded.created, loaded.updated) == (T0 + 40 + 0.1, T0 + 40 + 0.8)
    assert loaded.messages["c00040-a2"].created == loaded.created
    for export in EXPORT_FORMATS:
        assert export.render(loaded)


@pytest.mark.parametrize("store_url", ["sqlite"], indirect=True)
def test_text_where_sqlite_should_hold_a_number_reads_as_unknown(store: Store) -> None:
    store.save(make_conversation(42))
    with store._transaction(write=True) as conn:
        conn.execute(text(
            "UPDATE messages SET cost_usd = 'a lot', prompt_tokens = 'many', total_time = 'long' WHERE id = 'c00042-a1'"
        ))
        conn.execute(text("UPDATE conversations SET updated = 'soon', created = x'00' WHERE id = 'conv-00042'"))
    [summary] = store.list()
    assert (summary.updated, summary.created, summary.cost_text()) == (None, None, "≈$0.00002 (estimate) + unknown")
    assert store.totals(summary.id).prompt_tokens == 12
    assert store.search("Question 42")[0].updated is None
    stats = store.load(summary.id).messages["c00042-a1"].stats
    assert stats is not None and (stats.cost, stats.usage.prompt_tokens, stats.total_time) == (None, None, None)


# -- search ------------------------------------------------------------------------------


def test_search_finds_a_word_from_the_middle_with_a_snippet(store: Store) -> None:
    words = [f"word{i}" for i in range(200)]
    words[100] = "Pomegranate"
    conversation = Conversation(system_prompt="", model="m", title="Fruit talk")
    conversation.add_user(" ".join(words))
    store.save(conversation)
    store.save(make_conversation(12))

    [hit] = store.search("pomeGRANATE")
    assert (hit.conversation_id, hit.message_id, hit.role) == (conversation.id, conversation.leaf, "user")
    assert hit.snippet.startswith("…") and hit.snippet.endswith("…")
    assert len(hit.snippet) < 200
    assert hit.snippet[hit.start : hit.end] == "Pomegranate"


def test_search_titles_and_any_case_and_literal_wildcards(store: Store) -> None:
    store.save(make_conversation(13))
    hits = store.search("BANANAS &")
    assert [(h.message_id, h.role) for h in hits] == [(None, None)]
    assert hits[0].snippet == "Conversation 13: bananas & <tags>"
    # Unicode case folding, on both backends
    assert {h.message_id for h in store.search("ÜNÏCÖDÉ")} == {"c00013-u1"}
    # % and _ are text, not LIKE wildcards
    assert {h.message_id for h in store.search("50% of_it")} == {"c00013-u1"}
    assert store.search("5_%") == []
    assert store.search("   ") == []


def test_search_orders_newest_conversation_first_title_before_messages(store: Store) -> None:
    store.save(make_conversation(14))
    store.save(make_conversation(15))
    hits = store.search("conversation 1")
    assert [(h.conversation_id, h.message_id) for h in hits] == [("conv-00015", None), ("conv-00014", None)]
    answers = store.search("answer")
    assert [(h.conversation_id, h.message_id) for h in answers] == [
        ("conv-00015", "c00015-a1"), ("conv-00015", "c00015-a2"), ("conv-00014", "c00014-a1"), ("conv-00014", "c00014-a2"),
    ]


#: conversation id: (title, one message); each probe below must find the same ones on every backend
SEARCH_CORPUS = {
    "greek-upper": ("Odyssey", "ΟΔΥΣΣΕΥΣ ΚΑΙ ΣΙΣΥΦΟΣ"),
    "greek-lower": ("Οδυσσεύς", "ο οδυσσευς και ο σισυφος"),
    "ligature": ("Finance", "The ﬁnal oﬃce report"),
    "german-eszett": ("Straße", "Die Straße ist lang, das Maß ist voll"),
    "german-caps": ("STRASSE", "DIE STRASSE IST LANG"),
    "turkish": ("İzmir trip", "DİYARBAKIR and ırmak"),
    "english-i": ("Iris", "In Istanbul it is sunny"),
    "composed": ("Composed", "un caf\u00e9 cr\u00e8me"),
    "decomposed": ("Decomposed", "un cafe\u0301 cre\u0300me"),
    "emoji": ("Emoji", "🍌 and 👩‍💻 coder"),
    "nul": ("Nul", "before\x00after"),
    "wild": ("Wildcards", "100% sure_thing back\\slash 'single' \"double\""),
    "space": ("Spaces", "tab\there  two   spaces\nnew line"),
    "long": ("Long", "lorem " * 2000),
}

SEARCH_PROBES = [
    # Greek: a final sigma (ς) and a capital one (Σ) fold alike; accents stay significant.
    ("ΟΔΥΣΣΕΥΣ", {"greek-upper", "greek-lower"}),
    ("οδυσσευς", {"greek-upper", "greek-lower"}),
    ("ς", {"greek-upper", "greek-lower"}),
    ("Σίσυφος", set()),
    # ligatures fold to their letters
    ("ﬁnal", {"ligature"}),
    ("FINAL", {"ligature"}),
    ("office", {"ligature"}),
    ("ﬁ", {"ligature"}),
    # German: ß, SS and ẞ are one; "Odyssey" has an "ss" too
    ("straße", {"german-eszett", "german-caps"}),
    ("STRASSE", {"german-eszett", "german-caps"}),
    ("STRAẞE", {"german-eszett", "german-caps"}),
    ("ß", {"greek-upper", "german-eszett", "german-caps"}),
    ("MASS", {"german-eszett"}),
    # Turkish: a dotted capital İ is i; a dotless ı is a letter of its own
    ("izmir", {"turkish"}),
    ("İSTANBUL", {"english-i"}),
    ("DIYARBAKIR", {"turkish"}),
    ("diyarbakır", set()),
    ("IRMAK", set()),
    ("ırmak", {"turkish"}),
    # an accent composed (é) or decomposed (e + U+0301) finds both; no accent finds neither
    ("café", {"composed", "decomposed"}),
    ("cafe\u0301", {"composed", "decomposed"}),
    ("CRÈME", {"composed", "decomposed"}),
    ("cafe", set()),
    ("🍌", {"emoji"}),
    ("👩‍💻 CODER", {"emoji"}),
    # PostgreSQL stores NUL as U+FFFD, so on both backends the two find each other
    ("before\x00after", {"nul"}),
    ("\x00", {"nul"}),
    ("before\ufffdafter", {"nul"}),
    # SQL's wildcards and escapes are plain text
    ("100%", {"wild"}),
    ("%", {"wild"}),
    ("_", {"wild"}),
    ("sur_", set()),
    ("%sure", set()),
    ("back\\slash", {"wild"}),
    ("\\", {"wild"}),
    ("'single'", {"wild"}),
    ('"double"', {"wild"}),
    ("lorem " * 1500, {"long"}),
    ("lorem" * 3, set()),
    # any whitespace is one space, and none at either end counts
    ("tab here", {"space"}),
    ("  Two\tSpaces\n", {"space"}),
    ("spaces new LINE", {"space"}),
    ("   ", set()),
    ("nothing like this", set()),
]


@pytest.fixture
def corpus(store: Store) -> Store:
    for number, (key, (title, content)) in enumerate(SEARCH_CORPUS.items()):
        chat = Conversation(system_prompt="", model="m", title=title, id=key, updated=T0 + number)
        chat.add_user(content)
        store.save(chat)
    return store


@pytest.mark.parametrize(("query", "found"), SEARCH_PROBES, ids=[repr(q[:20]) for q, _ in SEARCH_PROBES])
def test_search_finds_the_same_conversations_on_every_backend(corpus: Store, query: str, found: set[str]) -> None:
    hits = corpus.search(query)
    assert {h.conversation_id for h in hits} == found
    for hit in hits:
        # The mark covers the match, even where folding changes lengths (ß is ss, ﬁ is fi).
        assert fold(query) in fold(hit.snippet[hit.start : hit.end]), (hit.snippet, hit.start, hit.end)


def test_search_marks_the_original_characters_where_folding_changes_lengths() -> None:
    assert snippet("Die Straße ist lang", "STRASSE") == ("Die Straße ist lang", 4, 10)
    assert snippet("Die Straße ist lang", "s") == ("Die Straße ist lang", 4, 5)
    assert snippet("Die Straße ist lang", "ss") == ("Die Straße ist lang", 8, 9)
    assert snippet("The ﬁnal report", "final") == ("The ﬁnal report", 4, 8)
    assert snippet("The ﬁnal report", "i") == ("The ﬁnal report", 4, 5)
    assert snippet("un cafe\u0301 noir", "CAFÉ") == ("un cafe\u0301 noir", 3, 8)
    assert snippet("ΟΔΥΣΣΕΥΣ", "ς") == ("ΟΔΥΣΣΕΥΣ", 3, 4)
    assert snippet("İzmir", "izmir") == ("İzmir", 0, 5)


def test_every_write_keeps_the_folded_copy_current(store: Store) -> None:
    chat = Conversation(system_prompt="", model="m", title="ΣΊΣΥΦΟΣ")
    question = chat.add_user("first words")
    store.save(chat)
    assert [h.conversation_id for h in store.search("σίσυφος")] == [chat.id]
    store.rename(chat.id, "Die Straße")
    assert store.search("σίσυφος") == [] and [h.message_id for h in store.search("STRASSE")] == [None]
    chat.title = "Die Straße"
    question.content = "edited ﬁve words"
    store.save(chat, changed=[question.id])
    assert store.search("first words") == [] and [h.message_id for h in store.search("FIVE")] == [question.id]
    draft = Message("assistant", "ΟΔΥΣΣΕΥΣ so far", parent=question.id, status="incomplete")
    store.save_draft(chat.id, draft)
    assert [h.message_id for h in store.search("οδυσσευς")] == [draft.id]
    chat.add_reply("Done: café", id=draft.id)
    store.save(chat, changed=[draft.id])
    assert store.search("οδυσσευς") == [] and [h.message_id for h in store.search("CAFE\u0301")] == [draft.id]
    store.delete(chat.id)
    imported = import_into(store, to_json(chat).encode(), max_bytes=1_000_000, default_model="m")
    assert {h.message_id for h in store.search("café")} == {draft.id}
    assert {h.conversation_id for h in store.search("straße")} == {imported.conversation.id}


def test_snippet_of_short_text_and_of_no_match() -> None:
    assert snippet("short  text\nhere", "TEXT") == ("short text here", 6, 10)
    assert snippet("abc", "zzz") == ("abc", 0, 0)


# -- schema and migrations ---------------------------------------------------------------


def versions(store: Store) -> list[tuple[int, float]]:
    with store._transaction(write=False) as conn:
        return [tuple(r) for r in conn.execute(select(schema_version).order_by(schema_version.c.version))]


def test_migrations_run_once_and_reopening_is_a_no_op(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    first = Store(store_url)
    recorded = versions(first)
    assert [v for v, _ in recorded] == [m.number for m in MIGRATIONS]
    first.close()

    def must_not_run(_conn: object) -> None:
        raise AssertionError("an up-to-date database was migrated again")

    monkeypatch.setattr(store_module, "MIGRATIONS", tuple(Migration(m.number, m.description, must_not_run) for m in MIGRATIONS))
    again = Store(store_url)
    assert versions(again) == recorded
    again.close()


def test_a_failing_migration_changes_nothing(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    Store(store_url).close()

    def half_done(conn: object) -> None:
        conn.execute(text("CREATE TABLE scratch (x INTEGER)"))  # type: ignore[attr-defined]
        conn.execute(text("ALTER TABLE conversations ADD COLUMN pinned INTEGER"))  # type: ignore[attr-defined]
        raise RuntimeError("the next migration is broken")

    latest = MIGRATIONS[-1].number
    monkeypatch.setattr(store_module, "MIGRATIONS", (*MIGRATIONS, Migration(latest + 1, "broken", half_done)))
    with pytest.raises(RuntimeError, match="broken"):
        Store(store_url)
    monkeypatch.undo()

    reopened = Store(store_url)
    assert reopened.schema_version() == latest
    with reopened._transaction(write=False) as conn:
        from sqlalchemy import inspect

        inspector = inspect(conn)
        assert not inspector.has_table("scratch")
        assert "pinned" not in {c["name"] for c in inspector.get_columns("conversations")}
    reopened.save(make_conversation(16))
    reopened.close()


def test_a_newer_schema_is_refused(store_url: str) -> None:
    opened = Store(store_url)
    with opened._transaction(write=True) as conn:
        conn.execute(schema_version.insert().values(version=99, applied=0.0))
    opened.close()
    with pytest.raises(StoreError, match="newer version"):
        Store(store_url)


def test_sqlite_runs_in_wal_mode_with_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "dir" / "chats.sqlite3"
    opened = Store(f"sqlite:///{path}")
    with opened._transaction(write=False) as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == store_module.BUSY_TIMEOUT_MS
    opened.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    # Conversations are private.
    assert path.stat().st_mode & 0o077 == 0
    assert path.parent.stat().st_mode & 0o077 == 0


# -- concurrency and crashes -------------------------------------------------------------


def run_together(*jobs: object) -> None:
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job: object) -> None:
        try:
            barrier.wait()
            job()  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors


def test_two_tabs_saving_different_conversations_at_once_lose_nothing(store: Store) -> None:
    tabs = [Conversation(system_prompt="", model="m", id=f"tab-{n}") for n in range(2)]

    def chat(conversation: Conversation) -> None:
        for turn in range(15):
            conversation.add_user(f"{conversation.id} question {turn}")
            store.save(conversation)
            conversation.add_reply(f"{conversation.id} answer {turn}")
            store.save(conversation)

    run_together(*(lambda c=c: chat(c) for c in tabs))
    for conversation in tabs:
        assert store.load(conversation.id) == conversation
        assert len(conversation.messages) == 30


def test_two_tabs_adding_to_the_same_conversation_at_once_lose_nothing(store: Store) -> None:
    base = Conversation(system_prompt="", model="m", id="shared")
    base.add_user("Where do we start?")
    base.add_reply("Here.")
    store.save(base)
    tabs = [copy.deepcopy(base) for _ in range(2)]

    def chat(conversation: Conversation, name: str) -> None:
        for turn in range(15):
            conversation.add_user(f"{name} question {turn}")
            conversation.add_reply(f"{name} answer {turn}")
            store.save(conversation)

    run_together(lambda: chat(tabs[0], "left"), lambda: chat(tabs[1], "right"))
    loaded = store.load("shared")
    expected = {**tabs[0].messages, **tabs[1].messages}
    assert loaded.messages == expected
    assert len(expected) == 2 + 2 * 30
    assert loaded.leaf in (tabs[0].leaf, tabs[1].leaf)


WRITER = """
import sys
from lib.store.database import Store
from tests.samples import make_conversation

store = Store(sys.argv[1])
seed = 0
while True:
    store.save(make_conversation(seed, filler=20))
    print(seed, flush=True)
    seed += 1
"""


def test_a_writer_killed_mid_save_leaves_an_intact_database(tmp_path: Path) -> None:
    path = tmp_path / "chats.sqlite3"
    url = f"sqlite:///{path}"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, url], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    committed: list[int] = []
    try:
        assert writer.stdout is not None
        while len(committed) < 12:
            line = writer.stdout.readline()
            assert line, f"the writer died: {writer.stderr.read() if writer.stderr else ''}"
            committed.append(int(line))
        os.kill(writer.pid, signal.SIGKILL)
        rest, _ = writer.communicate(timeout=10)
        committed += [int(n) for n in rest.split()]
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait()
    assert writer.returncode == -signal.SIGKILL

    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
    reopened = Store(url)
    saved = {s.id for s in reopened.list(limit=1000)}
    for seed in committed:
        assert reopened.load(f"conv-{seed:05d}") == make_conversation(seed, filler=20)
    # The save the kill interrupted is either wholly there or wholly absent.
    for conversation_id in saved:
        seed = int(conversation_id.removeprefix("conv-"))
        assert reopened.load(conversation_id) == make_conversation(seed, filler=20)
    assert saved >= {f"conv-{seed:05d}" for seed in committed}
    reopened.close()


# -- the API key -------------------------------------------------------------------------


def test_the_api_key_is_never_written(store: Store, settings: Settings) -> None:
    """A real chat through the fake API with the canary key, saved: the key is nowhere in the database."""
    conversation = Conversation(system_prompt="Be brief.", model=settings.model)
    conversation.add_user("Hello there")
    body = build_body(conversation.model, api_messages(conversation.system_prompt, conversation.history(), conversation.model))
    client = ChatClient(settings)
    reply = start_reply(client, body)
    assert reply.wait(10)
    outcome = reply.outcome()
    assert outcome.error is None and outcome.text
    conversation.add_reply(
        outcome.text, status=outcome.status, stats=outcome.stats, model=settings.model, params={"temperature": 0.5}
    )
    client.close()
    store.save(conversation)
    assert store.load(conversation.id).messages[conversation.leaf].stats.request_id

    canary = CANARY_KEY.encode()
    if store.is_sqlite:
        files = list(sqlite_path(store).parent.glob("chats.sqlite3*"))
        assert files
        for file in files:
            assert canary not in file.read_bytes(), file
    with store._transaction(write=False) as conn:
        for table in ("schema_version", "conversations", "messages"):
            dump = repr(conn.execute(text(f"SELECT * FROM {table}")).all()).encode()
            assert canary not in dump
            assert CANARY_KEY[-12:].encode() not in dump


# -- settings and opening ----------------------------------------------------------------


def test_history_settings_and_their_defaults() -> None:
    defaults = load_settings({})
    assert defaults.history is True
    assert defaults.db_path == Path("~/.local/share/gemma-chat/chats.sqlite3").expanduser()
    assert defaults.db_url == ""
    assert defaults.import_max_bytes == 20_000_000
    custom = load_settings({"CHAT_HISTORY": "OFF", "CHAT_DB_PATH": "/x/y.db", "CHAT_IMPORT_MAX_BYTES": "1000"})
    assert (custom.history, custom.db_path, custom.import_max_bytes) == (False, Path("/x/y.db"), 1000)
    with pytest.raises(ConfigurationError, match="CHAT_HISTORY"):
        load_settings({"CHAT_HISTORY": "maybe"})
    for bad in ("lots", "0", "nan", "inf"):
        with pytest.raises(ConfigurationError, match="CHAT_IMPORT_MAX_BYTES"):
            load_settings({"CHAT_IMPORT_MAX_BYTES": bad})


def test_open_store_follows_the_settings(tmp_path: Path) -> None:
    assert open_store(load_settings({"CHAT_HISTORY": "off"})) is None
    path = tmp_path / "sub" / "mine.sqlite3"
    opened = open_store(load_settings({"CHAT_DB_PATH": str(path)}))
    assert opened is not None and opened.location == str(path)
    opened.close()
    other = tmp_path / "other.sqlite3"
    both = load_settings({"CHAT_DB_PATH": str(path), "CHAT_DB_URL": f"sqlite:///{other}"})
    assert database_url(both) == f"sqlite:///{other}"


def test_bad_urls_are_configuration_errors(tmp_path: Path) -> None:
    for url in ("not a url", "mysql://u:p@127.0.0.1/db", "sqlite://", "sqlite:///:memory:"):
        with pytest.raises(ConfigurationError):
            Store(url)


def test_an_unreachable_server_is_a_store_error_without_the_password() -> None:
    with pytest.raises(StoreError) as caught:
        Store("postgresql://someone:s3cret-pass@127.0.0.1:9/chats")
    assert "s3cret-pass" not in str(caught.value)
    assert "***" in str(caught.value)


def test_location_hides_a_password(store: Store) -> None:
    if store.is_sqlite:
        assert store.location.endswith("chats.sqlite3")
    else:
        assert "***" in store.location or "@" not in store.location
        assert store.url.startswith("postgresql+psycopg://")


def write_as_version(store_url: str, version: int, monkeypatch: pytest.MonkeyPatch, *chats: Conversation) -> None:
    """A database as the app of ``version`` left it: only its migrations, and rows with only its columns."""
    with monkeypatch.context() as patched:
        patched.setattr(store_module, "MIGRATIONS", MIGRATIONS[:version])
        old = Store(store_url)
    with old._transaction(write=True) as conn:
        tables = MetaData()
        tables.reflect(conn, only=["conversations", "messages"])
        for chat in chats:
            row = {
                "id": chat.id, "title": old._text(chat.title), "created": chat.created, "updated": chat.updated,
                "system_prompt": old._text(chat.system_prompt), "instruction_role": chat.instruction_role,
                "model": chat.model, "params": dict(chat.params), "leaf": chat.leaf,
            }
            conn.execute(tables.tables["conversations"].insert(), [row])
            rows = [old._message_row(chat.id, m) for m in chat.messages.values()]
            kept = tables.tables["messages"].c
            conn.execute(tables.tables["messages"].insert(), [{k: v for k, v in r.items() if k in kept} for r in rows])
    assert old.schema_version() == version
    old.close()


def test_a_version_1_database_is_migrated_and_keeps_its_chats(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = make_conversation(17)
    write_as_version(store_url, 1, monkeypatch, kept)
    new = Store(store_url)
    assert new.schema_version() == MIGRATIONS[-1].number
    assert new.load(kept.id).to_dict() == kept.to_dict()
    new.set_preference("presets", {"version": 1, "presets": [{"name": "Mine", "prompt": "p"}]})
    new.set_preference("presets", {"version": 1, "presets": []})
    assert new.get_preference("presets") == {"version": 1, "presets": []}
    assert new.get_preference("missing", "fallback") == "fallback"
    assert {h.message_id for h in new.search("ÜNÏCÖDÉ")} == {"c00017-u1"}
    new.close()


def test_migration_4_folds_every_title_and_message_already_saved(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # More rows than one batch holds, and text that only folding finds.
    monkeypatch.setattr(store_module, "FOLD_BATCH", 3)
    chats = [make_conversation(seed) for seed in range(30, 34)]
    special = Conversation(system_prompt="", model="m", title="DIE STRAẞE", id="special")
    special.add_user("ΟΔΥΣΣΕΥΣ met a cafe\u0301 owner\x00here")
    write_as_version(store_url, 3, monkeypatch, *chats, special)

    new = Store(store_url)
    assert new.schema_version() == MIGRATIONS[-1].number
    with new._transaction(write=False) as conn:
        titles = conn.execute(select(store_module.conversations.c.title_folded)).scalars().all()
        contents = conn.execute(select(store_module.messages.c.content_folded)).scalars().all()
    assert len(titles) == 5 and None not in titles
    assert len(contents) == 4 * 8 + 1 and None not in contents
    assert [h.conversation_id for h in new.search("die strasse")] == ["special"]
    assert [h.message_id for h in new.search("οδυσσευς MET A CAFÉ owner\x00HERE")] == [special.leaf]
    assert {h.conversation_id for h in new.search("bananas &")} == {c.id for c in chats}
    new.close()


def test_a_draft_reply_is_shown_in_place_and_replaced_by_the_reply(store: Store) -> None:
    chat = Conversation(system_prompt="p", model="google/gemma-3-27b-it")
    question = chat.add_user("hello")
    store.save(chat)
    draft = Message("assistant", "Hel", parent=question.id, status="incomplete", error="cut", error_title="Interrupted")
    store.save_draft(chat.id, draft)
    loaded = store.load(chat.id)
    assert [m.content for m in loaded.path()] == ["hello", "Hel"] and loaded.path()[-1].status == "incomplete"
    store.save_draft(chat.id, Message("assistant", "Hello th", parent=question.id, id=draft.id, status="incomplete"))
    assert store.load(chat.id).path()[-1].content == "Hello th"
    chat.add_reply("Hello there.", id=draft.id)
    store.save(chat, changed=[draft.id])
    final = store.load(chat.id)
    assert [m.content for m in final.path()] == ["hello", "Hello there."] and len(final.messages) == 2
    assert final.path()[-1].status == "complete" and final.path()[-1].error is None


def test_a_draft_for_a_deleted_conversation_does_not_bring_it_back(store: Store) -> None:
    chat = Conversation(system_prompt="p", model="google/gemma-3-27b-it")
    question = chat.add_user("hello")
    store.save(chat)
    store.delete(chat.id)
    store.save_draft(chat.id, Message("assistant", "Hel", parent=question.id, status="incomplete"))
    assert not store.exists(chat.id)


# -- versions: a writer with an older copy never overwrites silently (#10 item 10) -------------


def test_a_rename_elsewhere_survives_a_save_from_an_older_copy(store: Store) -> None:
    tab = make_conversation(1)
    store.save(tab)
    store.rename(tab.id, "Renamed on History")
    tab.add_user("one more message")
    merged = store.save(tab)
    assert store.load(tab.id).title == "Renamed on History"
    assert tab.title == "Renamed on History", "the open copy shows the new title from now on"
    assert merged.adopted == ("title",) and not merged.lost
    assert [h.conversation_id for h in store.search("renamed on history")] == [tab.id], "search finds the kept title"


def test_fields_each_side_changed_are_both_kept(store: Store) -> None:
    store.save(make_conversation(2))
    first, second = store.load("conv-00002"), store.load("conv-00002")
    first.system_prompt = "Be brief."
    store.save(first)
    second.params = {"temperature": 0.1}
    merged = store.save(second)
    saved = store.load("conv-00002")
    assert (saved.system_prompt, saved.params) == ("Be brief.", {"temperature": 0.1})
    assert merged.adopted == ("system_prompt",) and second.system_prompt == "Be brief."


def test_the_later_of_two_changes_to_one_field_loses_and_is_handed_back(store: Store) -> None:
    store.save(make_conversation(3))
    first, second = store.load("conv-00003"), store.load("conv-00003")
    first.system_prompt = "Answer in French."
    store.save(first)
    second.system_prompt = "Answer in German."
    merged = store.save(second)
    assert store.load("conv-00003").system_prompt == "Answer in French."
    assert merged.lost == {"system_prompt": "Answer in German."}, "what the user typed is handed back, not dropped"
    assert second.system_prompt == "Answer in French."
    # From then on the copy is up to date: its next change is saved.
    second.system_prompt = "Answer in German."
    assert not store.save(second) and store.load("conv-00003").system_prompt == "Answer in German."


def test_each_write_moves_the_version_on(store: Store) -> None:
    chat = make_conversation(4)
    store.save(chat)
    assert chat.revision is not None and chat.revision.version == 1
    store.save(chat)
    store.rename(chat.id, "New")
    assert store.load(chat.id).revision.version == 3  # type: ignore[union-attr]


def test_a_copy_the_store_never_held_does_not_overwrite_one_with_its_id(store: Store) -> None:
    store.save(make_conversation(5))
    stranger = make_conversation(5)
    stranger.title = "Someone else's"
    with pytest.raises(ConversationExistsError):
        store.save(stranger)
    assert store.load("conv-00005").title != "Someone else's"


def test_a_save_after_a_delete_does_not_bring_it_back(store: Store) -> None:
    chat = make_conversation(6)
    store.save(chat)
    store.delete(chat.id)
    chat.add_user("still typing")
    with pytest.raises(ConversationNotFoundError):
        store.save(chat)
    assert not store.exists(chat.id)


def test_two_sessions_changing_one_preference_both_keep_their_change(store: Store) -> None:
    other = Store(store.url)
    try:
        both_read = threading.Barrier(2)

        def add(into: Store, name: str) -> None:
            def change(stored: dict | None) -> dict:
                names = [*(stored or {}).get("names", []), name]
                try:
                    both_read.wait(timeout=0.5)  # both would have read the same value without the row lock
                except threading.BrokenBarrierError:
                    pass
                return {"names": names}
            into.update_preference("presets", change)

        workers = [threading.Thread(target=add, args=(s, n)) for s, n in ((store, "a"), (other, "b"))]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        assert sorted(store.get_preference("presets")["names"]) == ["a", "b"]
    finally:
        other.close()


def test_a_failing_preference_change_saves_nothing(store: Store) -> None:
    store.set_preference("presets", {"names": ["a"]})

    def refuse(_stored: object) -> object:
        raise StoreError("no")

    with pytest.raises(StoreError):
        store.update_preference("presets", refuse)
    assert store.get_preference("presets") == {"names": ["a"]}


# -- images ------------------------------------------------------------------------------


def image_rows(store: Store) -> dict[str, bytes]:
    with store._transaction(write=False) as conn:
        return dict(conn.execute(select(store_module.images.c.digest, store_module.images.c.data)).all())


def link_count(store: Store) -> int:
    with store._transaction(write=False) as conn:
        return len(conn.execute(select(store_module.message_images)).all())


def chat_with_images(chat_id: str, *attached: tuple[Image, ...]) -> Conversation:
    """A chat with one question per tuple of images, each answered."""
    chat = Conversation(system_prompt="", model="google/gemma-3-27b-it", id=chat_id)
    for turn, images in enumerate(attached):
        chat.add_user(f"{chat_id} question {turn}", images=images)
        chat.add_reply(f"{chat_id} answer {turn}")
    return chat


def test_images_come_back_byte_for_byte_in_order_with_their_names(store: Store) -> None:
    shown = (
        photo(note="first frame of an animated GIF"),
        small((1, 2, 3), "image/png", name="a.png"),
        small((4, 5, 6), "image/webp", name="b.webp"),
        small((7, 8, 9), "image/gif", name="c.gif"),
    )
    chat = chat_with_images("pics", shown, (small((9, 9, 9), "image/jpeg", name="d.jpg"),))
    store.save(chat)
    loaded = store.load(chat.id)
    assert loaded == chat
    first = loaded.path()[0]
    assert [i.data for i in first.images] == [i.data for i in shown]
    assert [(i.name, i.note, i.media_type, i.width, i.height, i.digest) for i in first.images] == [
        (i.name, i.note, i.media_type, i.width, i.height, i.digest) for i in shown
    ]
    assert loaded.to_dict() == chat.to_dict()


def test_an_image_shown_in_many_messages_and_chats_is_stored_once(store: Store) -> None:
    shared = photo()
    store.save(chat_with_images("one", (shared,), (shared, photo(name="again.jpg"))))
    store.save(chat_with_images("two", (shared,)))
    assert image_rows(store) == {shared.digest: shared.data}
    assert link_count(store) == 4
    assert [i.name for i in store.load("one").path()[2].images] == ["holiday.jpg", "again.jpg"]
    assert store.load("two").path()[0].images == (shared,)


def test_deleting_a_chat_deletes_the_images_no_other_chat_shows(store: Store) -> None:
    shared, own = photo(), small()
    store.save(chat_with_images("one", (shared, own)))
    store.save(chat_with_images("two", (shared,)))
    assert store.delete("one") is True
    assert image_rows(store) == {shared.digest: shared.data}
    assert store.load("two").path()[0].images == (shared,)
    assert store.delete("two") is True
    assert image_rows(store) == {} and link_count(store) == 0


def test_deleting_messages_deletes_their_images_and_a_merge_links_new_ones(store: Store) -> None:
    chat = chat_with_images("chat", (photo(),))
    store.save(chat)
    # A message typed after a failed one is merged into it, images and all: its links are rewritten.
    question = chat.add_user("and this", images=(small(),))
    chat.fail("The API had a server error.")
    question = chat.add_user("and that", images=(small((0, 0, 255)),))
    store.save(chat, changed=[question.id])
    assert store.load(chat.id) == chat
    assert len(image_rows(store)) == 3
    before = set(chat.messages)
    chat.clear()
    store.save(chat, removed=before)
    assert image_rows(store) == {} and link_count(store) == 0


def test_a_save_that_fails_part_way_stores_no_image(store: Store) -> None:
    chat = chat_with_images("broken", (photo(),))
    chat.path()[-1].content = None  # type: ignore[assignment] - NOT NULL in the table
    with pytest.raises(StoreError):
        store.save(chat)
    assert image_rows(store) == {} and link_count(store) == 0


def test_thumbnails_are_small_webps_and_a_small_image_is_its_own(store: Store) -> None:
    big, tiny = photo(), small()
    store.save(chat_with_images("pics", (big, tiny)))
    thumb = store.thumbnail(big.digest)
    assert thumb is not None and thumb.media_type == "image/webp"
    with PILImage.open(io.BytesIO(thumb.data)) as opened:
        assert (opened.format, opened.size) == ("WEBP", (256, 192))
    assert len(thumb.data) < len(big.data) / 5
    assert store.thumbnail(tiny.digest) == Thumbnail(tiny.data, tiny.media_type)
    assert store.thumbnail("0" * 64) is None
    assert store.image(big.digest) == Image(big.data, "image/jpeg", 896, 672)
    assert store.image("0" * 64) is None


def test_an_image_no_thumbnail_can_be_made_of_is_still_saved(store: Store) -> None:
    # Not a real PNG: nothing a chat sends (prepared images are real), but a save must not fail for it.
    odd = Image(b"\x89PNG not really", "image/png", 1000, 1000, name="odd.png")
    chat = chat_with_images("odd", (odd,))
    store.save(chat)
    assert store.load(chat.id) == chat
    assert store.thumbnail(odd.digest) == Thumbnail(odd.data, "image/png")


def test_a_stored_image_that_cannot_be_read_is_left_out_and_the_chat_opens(store: Store) -> None:
    kept, spoiled = photo(), small()
    chat = chat_with_images("spoiled", (kept, spoiled))
    store.save(chat)
    with store._transaction(write=True) as conn:
        conn.execute(
            store_module.images.update().where(store_module.images.c.digest == spoiled.digest).values(media_type="image/bmp")
        )
    assert store.load(chat.id).path()[0].images == (kept,)


def test_listing_search_and_totals_count_messages_not_images(store: Store) -> None:
    chat = chat_with_images("pics", (photo(), small(), small((0, 0, 0))), ())
    chat.path()[1].stats = ReplyStats(usage=Usage(10, 5, 15), cost=Cost(0.001, "reported"))
    store.save(chat)
    [summary] = store.list()
    assert summary.message_count == 4 and summary.total_tokens == 15
    assert summary.cost_usd == pytest.approx(0.001)
    assert store.totals(chat.id).requests == 2
    assert [h.message_id for h in store.search("answer 0")] == [chat.path()[1].id]
    assert [s.id for s in store.list(ids=["pics"])] == ["pics"]


def test_migration_6_adds_images_to_a_version_5_database_with_chats(store_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    kept = make_conversation(18)
    write_as_version(store_url, 5, monkeypatch, kept)
    new = Store(store_url)
    assert new.schema_version() == MIGRATIONS[-1].number
    assert new.load(kept.id).to_dict() == kept.to_dict()
    chat = chat_with_images("after", (photo(),))
    new.save(chat)
    assert new.load(chat.id) == chat
    assert {s.id for s in new.list()} == {kept.id, "after"}
    assert {h.conversation_id for h in new.search("after answer 0")} == {"after"}
    assert new.delete(kept.id) and new.delete("after")
    assert image_rows(new) == {}
    new.close()


def test_a_chat_saved_while_the_last_other_chat_showing_its_image_is_deleted_keeps_it(store: Store) -> None:
    shared = photo()
    store.save(chat_with_images("old", (shared,)))
    linking, deleted = threading.Event(), threading.Event()

    # The saver finds the image stored and is about to link it, when the other chat is deleted:
    # the deletion must wait, or it would delete the image the new chat is linking.
    @event.listens_for(store._engine, "before_cursor_execute")
    def pause(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if threading.current_thread().name == "saver" and statement.startswith("INSERT INTO message_images"):
            linking.set()
            deleted.wait(1)

    def delete_old() -> None:
        linking.wait(10)
        store.delete("old")
        deleted.set()

    errors: list[BaseException] = []

    def save_new() -> None:
        try:
            store.save(chat_with_images("new", (shared,)))
        except StoreError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=save_new, name="saver"), threading.Thread(target=delete_old)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors
    assert store.load("new").path()[0].images == (shared,)
    assert image_rows(store) == {shared.digest: shared.data}


def test_migration_9_keeps_each_replys_request_and_reads_older_replies_without_one(
    store_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lib.chat.sent_request import SentRequest

    kept = make_conversation(19)
    write_as_version(store_url, 8, monkeypatch, kept)
    new = Store(store_url)
    assert new.schema_version() == MIGRATIONS[-1].number >= 9
    old = new.load(kept.id)
    assert old.to_dict() == kept.to_dict() and all(m.request is None for m in old.messages.values())
    reply = next(m for m in old.messages.values() if m.role == "assistant")
    reply.request = SentRequest("You are {{filled}} in: Ada.", "developer", False, "ab" * 32)
    new.save(old, changed=[reply.id])
    assert new.load(kept.id).messages[reply.id].request == reply.request
    new.close()
