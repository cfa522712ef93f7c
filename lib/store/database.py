"""Saved conversations: one module over SQLAlchemy Core, for SQLite (default) and PostgreSQL.

What pages call (a page gets its shared, cached store from ``ui.store.cached_store(settings)``)::

    store = open_store(settings)        # Store, or None when CHAT_HISTORY=off
    store.save(conversation)            # upsert it and all its messages, in one transaction
    store.save(conversation, removed=ids)   # … and delete the messages the user deleted (delete_turn, clear)
    store.save(conversation, changed=ids)   # … writing only these messages (the others are saved already)
    store.load(conversation_id)         # -> Conversation; ConversationNotFoundError
    store.exists(conversation_id)       # -> bool
    store.list(limit=100)               # -> list[ConversationSummary], most recently updated first
    store.list(ids=some_ids)            # -> the summaries of just those, however old
    store.list(limit=50, after=Cursor.of(last))   # -> the next page (keyset: by time, then id)
    store.list(limit=None, through=cursor)        # -> the newest down to that cursor (a grown list)
    store.rename(conversation_id, title)
    store.delete(conversation_id)       # -> bool (False when it was already gone)
    store.search(text, limit=50)        # -> list[SearchHit]: titles and message text, any case
    store.totals(conversation_id)       # -> SessionTotals of every reply in every branch
    store.image(digest)                 # -> Image | None: one stored image, without loading its chat
    store.thumbnail(digest)             # -> Thumbnail | None: its small WebP copy (or itself when small)
    store.save_comparison(comparison)   # a Comparison (#12): its row, each column's thread, its votes; one transaction
    store.load_comparison(comparison_id)   # -> Comparison; ComparisonNotFoundError
    store.list_comparisons(limit=100)   # -> list[ComparisonSummary]; the columns are never in list() nor chats
    store.delete_comparison(comparison_id)   # -> bool; its votes stay counted
    store.votes()                       # -> list[Vote]: what the leaderboard counts, each judgement once
    store.clear_votes()                 # the leaderboard starts afresh (comparisons keep showing their votes)
    store.location                      # where it saves, password hidden, for the page to show (admins only)
    store.owner                         # whose rows it reads and writes (lib.people.owner; LOCAL_OWNER by default)
    store.for_owner(owner)              # -> Store: the same database as another person sees it (one engine)
    store.get_preference(name, default) / store.set_preference(name, value)   # small JSON values
    store.add_share(kind, source_id, title, snapshot, expires)   # -> Share: a read-only link's row (lib.store.shares)
    store.list_shares() / store.revoke_share(token)   # this owner's links; -> bool
    store.shared_snapshot(token)        # -> (Share, snapshot JSON), whoever asks; ShareNotFoundError

Every failure of the database itself is raised as :class:`lib.errors.StoreError`.

Each person's rows are their own (migration 10): conversations, comparisons, votes, lab runs,
test sets and preferences carry an ``owner``, and every query of a store takes its
:attr:`Store.owner`. Another person's conversation is not found, exactly as an id never used; a
save under an id someone else holds is refused as a taken id, never written over theirs. Images
are stored once by digest for everyone, and read only through one's own messages.

Where: ``CHAT_DB_URL`` (any ``sqlite:`` or ``postgresql:`` SQLAlchemy URL) wins over
``CHAT_DB_PATH`` (a SQLite file, by default ``~/.local/share/gemma-chat/chats.sqlite3``).

Why save() never loses a message when two tabs save at once: messages are upserted by
``(conversation id, message id)`` and deleted only when named, so each tab adds its own new
messages and rewrites the ones both have with equal content. So a message removed in memory
(``delete_turn``, ``clear``) stays in the database until its id is passed in ``removed``:
compute it as ``before - set(conversation.messages)`` around the deletion.

Why it never overwrites a rename done elsewhere: each conversation row has a version that
every write moves on, and each loaded or saved copy knows the version and fields it last saw
(``Conversation.revision``). A save from an older copy merges field by field (:class:`Merged`);
a copy the store never held is only inserted, so two imports of one id cannot merge into one.
Preferences change by read-modify-write in one locked transaction (:meth:`Store.update_preference`).

The schema is versioned by numbered migrations (:data:`MIGRATIONS`), each applied in its own
transaction and recorded in ``schema_version``; opening an up-to-date database only reads.
The API key is not part of a Conversation, so it is never written here.

Images attached to messages are kept once each, by the sha256 of their bytes (table ``images``,
with a thumbnail made when first stored), and linked to each message that shows them
(``message_images``); ``load`` gives them back byte for byte. Deleting a conversation, or a
message, deletes the images nothing else shows: a photo goes with the last chat it was in.

A comparison's columns are ordinary conversations (``comparison_id``, ``column_index``), saved by
the same code as a chat; they are not listed as chats, and a search hit in one names its comparison
(``SearchHit.comparison_id``), once however many columns hold the same question. Votes outlive a
deleted comparison (an arena's leaderboard does not forget a judgement because its chat was
tidied away); :meth:`Store.clear_votes` resets the leaderboard.

Search compares a folded copy of each title and message (:mod:`lib.store.folding`), which
every write keeps next to the text, so that SQLite and PostgreSQL find the same conversations.

Rows are read back with care: a database edited by hand or by another tool (or written by an
older version) may hold a cost of 1e308, NaN, a negative count or a time in the year 40000.
Sums add only figures a reply could have, and figures and times no reply or conversation
could have read back as unknown (None), so that one bad row cannot break every page that lists.
"""

from __future__ import annotations

import copy
import hashlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ColumnElement,
    Connection,
    Double,
    Engine,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    bindparam,
    case,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    literal_column,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy import (
    column as sql_column,
)
from sqlalchemy import (
    table as sql_table,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from lib.chat.conversation import HEAD_FIELDS, Conversation, Message, Revision
from lib.chat.sent_request import SentRequest
from lib.chat.usage import (
    EARLIEST_TIME,
    LATEST_TIME,
    MAX_COST_USD,
    MAX_TOKENS,
    Cost,
    ReplyStats,
    SessionTotals,
    Usage,
    sane_cost,
    sane_count,
    sane_number,
    sane_seconds,
    sane_time,
)
from lib.errors import (
    ChatError,
    ComparisonChangedError,
    ComparisonExistsError,
    ComparisonNotFoundError,
    ConfigurationError,
    ConversationExistsError,
    ConversationNotFoundError,
    ImageError,
    LabRunNotFoundError,
    ShareNotFoundError,
    StoreError,
    TestSetNotFoundError,
)
from lib.experiments.compare import Comparison, Setup, Vote
from lib.experiments.lab_run import LabResult
from lib.experiments.test_sets import TestSet
from lib.images.image import Image
from lib.images.thumbnail import Thumbnail, make_thumbnail
from lib.people.owner import LOCAL_OWNER
from lib.settings import Settings
from lib.store.folding import find_folded, fold
from lib.store.people import migration_14
from lib.store.request_log import migration_12

log = logging.getLogger(__name__)

#: seconds a SQLite writer waits for another one before giving up
BUSY_TIMEOUT_MS = 10_000
SNIPPET_CONTEXT = 60


# -- schema ------------------------------------------------------------------------------

VERSION_METADATA = MetaData()
schema_version = Table(
    "schema_version",
    VERSION_METADATA,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied", Double, nullable=False),
)


def _schema_v1(metadata: MetaData) -> tuple[Table, Table]:
    """The tables as migration 1 creates them.

    Migration 1 must keep creating exactly this forever. When a later migration alters a
    table, copy the new shape into a ``_schema_vN`` for the queries below and leave this one be.
    """
    conversations = Table(
        "conversations",
        metadata,
        Column("id", String, primary_key=True),
        Column("title", Text, nullable=False),
        Column("created", Double, nullable=False),
        Column("updated", Double, nullable=False),
        Column("system_prompt", Text, nullable=False),
        Column("instruction_role", String, nullable=False),
        Column("model", Text, nullable=False),
        Column("params", JSON, nullable=False),
        Column("leaf", String, nullable=True),
        Index("ix_conversations_updated", "updated"),
    )
    messages = Table(
        "messages",
        metadata,
        # Message ids are unique only within a conversation: an imported copy keeps them.
        Column("conversation_id", String, ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True),
        Column("id", String, primary_key=True),
        Column("parent", String, nullable=True),
        Column("role", String, nullable=False),
        Column("content", Text, nullable=False),
        Column("created", Double, nullable=False),
        Column("status", String, nullable=False),
        Column("model", Text, nullable=True),
        Column("params", JSON, nullable=False),
        Column("error", Text, nullable=True),
        Column("error_title", Text, nullable=True),
        # ReplyStats and Usage are optional objects whose fields are all optional too:
        # these two flags tell "no stats" from "stats with nothing known".
        Column("has_stats", Boolean, nullable=False),
        Column("has_usage", Boolean, nullable=False),
        Column("prompt_tokens", Integer, nullable=True),
        Column("completion_tokens", Integer, nullable=True),
        Column("total_tokens", Integer, nullable=True),
        Column("cost_usd", Double, nullable=True),
        Column("cost_source", String, nullable=True),
        Column("time_to_first_token", Double, nullable=True),
        Column("total_time", Double, nullable=True),
        Column("finish_reason", Text, nullable=True),
        Column("reply_model", Text, nullable=True),
        Column("provider", Text, nullable=True),
        Column("request_id", Text, nullable=True),
    )
    return conversations, messages


def _schema_v2(metadata: MetaData) -> Table:
    """Migration 2: small named values of the app's own, such as the user's system-prompt presets."""
    return Table(
        "preferences",
        metadata,
        Column("name", String, primary_key=True),
        Column("value", JSON, nullable=False),
        Column("updated", Double, nullable=False),
    )


def _columns_v5() -> list[Column]:
    """Migration 5: a version on each conversation and preference, moved on by every write, so
    that a writer holding an older copy merges into what is there instead of overwriting it."""
    return [Column("version", Integer, nullable=False, server_default=sql_text("0"))]


def _columns_v3() -> list[Column]:
    """Migration 3: the time of a reply's last token (for an honest speed) and whether its
    token counts are estimates made here (a stopped reply, which the server never counted)."""
    return [Column("last_token_time", Double, nullable=True), Column("tokens_estimated", Boolean, nullable=True)]


def _columns_v4() -> dict[str, Column]:
    """Migration 4: each table's searchable text as :func:`lib.store.folding.fold` makes it."""
    return {
        "conversations": Column("title_folded", Text, nullable=True),
        "messages": Column("content_folded", Text, nullable=True),
    }


def _schema_v6(metadata: MetaData) -> tuple[Table, Table]:
    """Migration 6: the images attached to messages, each kept once by the digest of its bytes.

    A link table rather than a list of digests in a JSON column of each message: whether an
    image is still shown anywhere (it goes with the last chat that showed it) is one indexed
    query instead of a scan of every message; foreign keys keep links and images consistent;
    and each use keeps its own file name.
    """
    images = Table(
        "images",
        metadata,
        Column("digest", String, primary_key=True),
        Column("media_type", String, nullable=False),
        Column("width", Integer, nullable=False),
        Column("height", Integer, nullable=False),
        Column("data", LargeBinary, nullable=False),
        # None when the image is as small as a thumbnail (it is its own) or none could be made.
        Column("thumbnail", LargeBinary, nullable=True),
        Column("thumbnail_type", String, nullable=True),
        # when it was first stored
        Column("created", Double, nullable=False),
    )
    message_images = Table(
        "message_images",
        metadata,
        Column("conversation_id", String, primary_key=True),
        Column("message_id", String, primary_key=True),
        Column("position", Integer, primary_key=True, autoincrement=False),
        Column("digest", String, ForeignKey("images.digest"), nullable=False),
        Column("name", Text, nullable=False),
        Column("note", Text, nullable=True),
        ForeignKeyConstraint(
            ["conversation_id", "message_id"], ["messages.conversation_id", "messages.id"], ondelete="CASCADE"
        ),
        Index("ix_message_images_digest", "digest"),
    )
    return images, message_images


def _schema_v7(metadata: MetaData) -> tuple[Table, Table]:
    """Migration 7: comparisons (#12) and the votes on their turns.

    A comparison's columns are ordinary conversations (see :func:`_columns_v7`), so that their
    messages, images, drafts and merges are saved by the code that saves a chat. Votes have no
    foreign key: they outlive their comparison, as an arena's votes do, until the leaderboard
    is reset (:meth:`Store.clear_votes`).
    """
    comparisons_table = Table(
        "comparisons",
        metadata,
        Column("id", String, primary_key=True),
        Column("title", Text, nullable=False),
        Column("created", Double, nullable=False),
        Column("updated", Double, nullable=False),
        Column("setups", JSON, nullable=False),
        Column("blind", Boolean, nullable=False),
        # not "order", which SQL reserves
        Column("column_order", JSON, nullable=False),
        Column("version", Integer, nullable=False),
        Index("ix_comparisons_updated", "updated"),
    )
    votes_table = Table(
        "votes",
        metadata,
        # A vote's id is unique within its comparison: an imported copy keeps its votes' ids, so
        # that the leaderboard counts one judgement once however often it was imported.
        Column("comparison_id", String, primary_key=True),
        Column("id", String, primary_key=True),
        Column("turn", Integer, nullable=False),
        Column("outcome", String, nullable=False),
        Column("winner", Integer, nullable=True),
        Column("setups", JSON, nullable=False),
        Column("created", Double, nullable=False),
        # False once the leaderboard was reset: the comparison still shows the vote
        Column("counted", Boolean, nullable=False),
    )
    return comparisons_table, votes_table


def _columns_v7() -> list[Column]:
    """Migration 7: which comparison a conversation is a column of, and which column (None: a chat)."""
    return [Column("comparison_id", String, nullable=True), Column("column_index", Integer, nullable=True)]


def _schema_v8(metadata: MetaData) -> tuple[Table, Table]:
    """Migration 8: the prompt lab's test sets (by name) and runs (#13).

    A run keeps its rows, set-ups, checks and cells whole, as JSON: it is read and written as
    one piece, and the rows are a copy, so that editing the test set later leaves the run as run.
    """
    test_sets_table = Table(
        "test_sets",
        metadata,
        Column("name", String, primary_key=True),
        Column("columns", JSON, nullable=False),
        Column("rows", JSON, nullable=False),
        Column("created", Double, nullable=False),
        Column("updated", Double, nullable=False),
    )
    lab_runs_table = Table(
        "lab_runs",
        metadata,
        Column("id", String, primary_key=True),
        Column("test_set", Text, nullable=False),
        Column("created", Double, nullable=False),
        Column("status", String, nullable=False),
        Column("note", Text, nullable=False),
        Column("template", JSON, nullable=False),
        Column("setups", JSON, nullable=False),
        Column("checks", JSON, nullable=False),
        Column("rows", JSON, nullable=False),
        Column("cells", JSON, nullable=False),
        Index("ix_lab_runs_created", "created"),
        Index("ix_lab_runs_test_set", "test_set"),
    )
    return test_sets_table, lab_runs_table


def _columns_v9() -> list[Column]:
    """Migration 9: what a reply's request held besides the conversation's messages (the system
    prompt then, its variables filled in), so that the request can be shown as code (#13)."""
    return [Column("request", JSON, nullable=True)]


def _owner_column() -> Column:
    """Migration 10: whose row it is (:mod:`lib.people.owner`); rows from before sign-in are the local person's."""
    return Column("owner", String, nullable=False, server_default=sql_text(f"'{LOCAL_OWNER}'"))


#: Migration 10: the tables of per-person rows that gain an owner, and the columns their owner's lists sort by
_OWNED_V10 = {"conversations": "updated", "comparisons": "updated", "votes": "created", "lab_runs": "created"}


def _schema_v10(metadata: MetaData, prefix: str = "") -> tuple[Table, Table]:
    """Migration 10: preferences and test sets, named per owner: (owner, name) is their key."""
    preferences_table = Table(
        f"{prefix}preferences",
        metadata,
        Column("owner", String, primary_key=True),
        Column("name", String, primary_key=True),
        Column("value", JSON, nullable=False),
        Column("updated", Double, nullable=False),
        Column("version", Integer, nullable=False, server_default=sql_text("0")),
    )
    test_sets_table = Table(
        f"{prefix}test_sets",
        metadata,
        Column("owner", String, primary_key=True),
        Column("name", String, primary_key=True),
        Column("columns", JSON, nullable=False),
        Column("rows", JSON, nullable=False),
        Column("created", Double, nullable=False),
        Column("updated", Double, nullable=False),
    )
    return preferences_table, test_sets_table
def _schema_v11(metadata: MetaData) -> Table:
    """Migration 11: read-only share links (#14), each a snapshot taken when it was made.

    The snapshot is the JSON export of the conversation or comparison (images inside, whole), so
    that the link shows what was shared even after the chat goes on, is renamed or is deleted;
    a revoked link keeps its row (the owner's list says so) but not its snapshot.
    """
    return Table(
        "shares",
        metadata,
        Column("token", String, primary_key=True),
        Column("owner", Text, nullable=False, server_default=LOCAL_OWNER),
        Column("kind", String, nullable=False),
        Column("source_id", String, nullable=False),
        Column("title", Text, nullable=False),
        Column("snapshot", Text, nullable=False),
        Column("created", Double, nullable=False),
        Column("expires", Double, nullable=True),
        Column("revoked", Double, nullable=True),
        Index("ix_shares_owner_created", "owner", "created"),
    )


#: the current schema, which the queries use
METADATA = MetaData()
conversations, messages = _schema_v1(METADATA)
for _column in _columns_v3():
    messages.append_column(_column)
conversations.append_column(_columns_v4()["conversations"])
messages.append_column(_columns_v4()["messages"])
for _column in _columns_v5():
    conversations.append_column(_column)
images, message_images = _schema_v6(METADATA)
for _column in _columns_v7():
    conversations.append_column(_column)
Index("ix_conversations_comparison", conversations.c.comparison_id)
comparisons, votes = _schema_v7(METADATA)
_, lab_runs = _schema_v8(MetaData())  # its test sets are keyed by owner since migration 10
for _column in _columns_v9():
    messages.append_column(_column)
for _table in (conversations, comparisons, votes, lab_runs):
    _table.append_column(_owner_column())
preferences, test_sets = _schema_v10(METADATA)
shares = _schema_v11(METADATA)


@dataclass(frozen=True)
class Migration:
    number: int
    description: str
    apply: Callable[[Connection], None]


def _migration_1(conn: Connection) -> None:
    metadata = MetaData()
    _schema_v1(metadata)
    metadata.create_all(conn)


def _migration_2(conn: Connection) -> None:
    metadata = MetaData()
    _schema_v2(metadata)
    metadata.create_all(conn)


def _migration_3(conn: Connection) -> None:
    for column in _columns_v3():
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(sql_text(f"ALTER TABLE messages ADD COLUMN {column.name} {kind}"))


#: rows folded per statement when migration 4 fills its columns
FOLD_BATCH = 500


def _fill_folded(conn: Connection, table_name: str, keys: tuple[str, ...], source: str, target: str) -> None:
    """Write ``fold(source)`` into ``target`` on every row, a batch at a time by primary key."""
    rows_table = sql_table(table_name, *(sql_column(name) for name in (*keys, source, target)))
    key_columns = [rows_table.c[k] for k in keys]
    write = (
        update(rows_table)
        .where(*(rows_table.c[k] == bindparam(f"key_{k}") for k in keys))
        .values({target: bindparam("folded")})
    )
    last: tuple[Any, ...] | None = None
    while True:
        query = select(*key_columns, rows_table.c[source]).order_by(*key_columns).limit(FOLD_BATCH)
        if last is not None:
            query = query.where(tuple_(*key_columns) > tuple_(*last))
        rows = conn.execute(query).all()
        if not rows:
            return
        conn.execute(write, [{**{f"key_{k}": r[i] for i, k in enumerate(keys)}, "folded": _fold_any(r[-1])} for r in rows])
        last = tuple(rows[-1][: len(keys)])


def _fold_any(value: Any) -> str:
    # A row written by another tool may hold a number or bytes where text belongs: it matches nothing.
    return fold(value) if isinstance(value, str) else ""


def _migration_4(conn: Connection) -> None:
    for table_name, added in _columns_v4().items():
        kind = added.type.compile(dialect=conn.dialect)
        conn.execute(sql_text(f"ALTER TABLE {table_name} ADD COLUMN {added.name} {kind}"))
    _fill_folded(conn, "conversations", ("id",), "title", "title_folded")
    _fill_folded(conn, "messages", ("conversation_id", "id"), "content", "content_folded")


def _migration_5(conn: Connection) -> None:
    for table in ("conversations", "preferences"):
        for column in _columns_v5():
            kind = column.type.compile(dialect=conn.dialect)
            conn.execute(sql_text(f"ALTER TABLE {table} ADD COLUMN {column.name} {kind} NOT NULL DEFAULT 0"))


def _migration_6(conn: Connection) -> None:
    metadata = MetaData()
    _schema_v1(metadata)  # for the foreign key's sake; only the new tables are created
    metadata.create_all(conn, tables=list(_schema_v6(metadata)))


def _migration_7(conn: Connection) -> None:
    for column in _columns_v7():
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(sql_text(f"ALTER TABLE conversations ADD COLUMN {column.name} {kind}"))
    conn.execute(sql_text("CREATE INDEX ix_conversations_comparison ON conversations (comparison_id)"))
    metadata = MetaData()
    metadata.create_all(conn, tables=list(_schema_v7(metadata)))


def _migration_8(conn: Connection) -> None:
    metadata = MetaData()
    metadata.create_all(conn, tables=list(_schema_v8(metadata)))


def _migration_9(conn: Connection) -> None:
    for column in _columns_v9():
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(sql_text(f"ALTER TABLE messages ADD COLUMN {column.name} {kind}"))


def _migration_10(conn: Connection) -> None:
    for table_name, sort in _OWNED_V10.items():
        column = _owner_column()
        kind = column.type.compile(dialect=conn.dialect)
        conn.execute(sql_text(f"ALTER TABLE {table_name} ADD COLUMN owner {kind} NOT NULL DEFAULT '{LOCAL_OWNER}'"))
        conn.execute(sql_text(f"CREATE INDEX ix_{table_name}_owner ON {table_name} (owner, {sort})"))
    # A primary key cannot be changed in place on SQLite: the two tables keyed by name are made
    # anew, keyed by (owner, name), and what they held becomes the local person's.
    metadata = MetaData()
    _schema_v10(metadata, prefix="v10_")
    metadata.create_all(conn)
    for table_name, kept in (("preferences", "name, value, updated, version"),
                             ("test_sets", "name, columns, rows, created, updated")):
        conn.execute(sql_text(
            f"INSERT INTO v10_{table_name} (owner, {kept}) SELECT '{LOCAL_OWNER}', {kept} FROM {table_name}"
        ))
        conn.execute(sql_text(f"DROP TABLE {table_name}"))
        conn.execute(sql_text(f"ALTER TABLE v10_{table_name} RENAME TO {table_name}"))


def _migration_11(conn: Connection) -> None:
    metadata = MetaData()
    metadata.create_all(conn, tables=[_schema_v11(metadata)])


#: the shortest folded query the trigram indexes of migration 13 can answer; a shorter one scans
TRIGRAM = 3
#: the newest conversations search reads whole before it asks the index (see Store._newest_message_hits)
RECENT_SCAN = 300
#: the folded columns migration 13 indexes, by table
SEARCHED = {"conversations": "title_folded", "messages": "content_folded"}


def _migration_13(conn: Connection) -> None:
    """Trigram indexes over the folded text (#16): substring search without reading every message.

    Trigrams rather than words, because search finds any substring (``granat`` in
    ``pomegranate``), and over the folded copies, so that both backends still compare as
    :func:`lib.store.folding.fold` does. PostgreSQL keeps its GIN index in step by itself;
    SQLite's FTS5 tables hold no text of their own (``content=``) and are kept in step by
    triggers, so that every save, delete and import, in any code path, updates them. They find
    rows by rowid, which only a VACUUM run by hand can renumber (the app runs none); then
    ``INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')`` (and ``conversations_fts``) mends them.
    """
    if conn.dialect.name == "sqlite":
        for table_name, column in SEARCHED.items():
            _sqlite_trigram_index(conn, table_name, column)
        return
    try:
        # pg_trgm ships with PostgreSQL and is trusted (since 13): a database owner may create it.
        with conn.begin_nested():
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except SQLAlchemyError as exc:
        log.warning("search stays a scan: the pg_trgm extension cannot be created (%s)", exc)
        return
    for table_name, column in SEARCHED.items():
        conn.exec_driver_sql(
            f"CREATE INDEX ix_{table_name}_{column}_trgm ON {table_name} USING gin ({column} gin_trgm_ops)"
        )


def _sqlite_trigram_index(conn: Connection, table_name: str, column: str) -> None:
    fts = f"{table_name}_fts"
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE {fts} USING fts5({column}, content='{table_name}', content_rowid='rowid', "
        # The text is folded already; case_sensitive keeps a match an exact substring of it.
        "tokenize='trigram case_sensitive 1')"
    )
    add = f"INSERT INTO {fts}(rowid, {column}) VALUES (new.rowid, new.{column});"
    remove = f"INSERT INTO {fts}({fts}, rowid, {column}) VALUES ('delete', old.rowid, old.{column});"
    conn.exec_driver_sql(f"CREATE TRIGGER {fts}_insert AFTER INSERT ON {table_name} BEGIN {add} END")
    conn.exec_driver_sql(f"CREATE TRIGGER {fts}_delete AFTER DELETE ON {table_name} BEGIN {remove} END")
    conn.exec_driver_sql(
        f"CREATE TRIGGER {fts}_update AFTER UPDATE OF {column} ON {table_name} "
        f"WHEN old.{column} IS NOT new.{column} BEGIN {remove} {add} END"
    )
    conn.exec_driver_sql(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "conversations and messages", _migration_1),
    Migration(2, "preferences", _migration_2),
    Migration(3, "reply speed and estimated token counts", _migration_3),
    Migration(4, "folded titles and messages, for search", _migration_4),
    Migration(5, "versions of conversations and preferences", _migration_5),
    Migration(6, "images attached to messages, each stored once", _migration_6),
    Migration(7, "comparisons, their columns and votes", _migration_7),
    Migration(8, "prompt-lab test sets and runs", _migration_8),
    Migration(9, "the request behind each reply", _migration_9),
    Migration(10, "an owner for every person's rows", _migration_10),
    Migration(11, "read-only share links", _migration_11),
    Migration(12, "the request log (#15)", migration_12),
    Migration(13, "trigram indexes for search", _migration_13),
    Migration(14, "people who signed in, named on an admin's Usage page", migration_14),
)

# Any fixed number: the advisory lock that keeps two processes from migrating at once.
_PG_MIGRATION_LOCK = int.from_bytes(hashlib.sha256(b"gemma-chat migrations").digest()[:4], "big")
# Another: held by a writer from where it links or unlinks images to its commit (see Store._write_images).
_PG_IMAGES_LOCK = int.from_bytes(hashlib.sha256(b"gemma-chat images").digest()[:4], "big")


# -- what list() and search() return ----------------------------------------------------


@dataclass(frozen=True)
class ConversationSummary:
    """One line of the History page."""

    id: str
    title: str
    #: None when the row holds a time no conversation could have (see :func:`lib.chat.usage.sane_time`)
    created: float | None
    updated: float | None
    model: str
    message_count: int
    total_tokens: int
    totals: SessionTotals

    @property
    def cost_usd(self) -> float:
        return self.totals.cost_usd

    def cost_text(self) -> str:
        return self.totals.cost_text()


@dataclass(frozen=True)
class Cursor:
    """Where a page of a list ends (its last row's time and id): the next page starts after it."""

    updated: float | None
    id: str

    @classmethod
    def of(cls, summary: ConversationSummary | ComparisonSummary) -> Cursor:
        return cls(summary.updated, summary.id)


@dataclass(frozen=True)
class Merged:
    """What a save took from another writer, who changed the conversation since this copy was read.

    Field by field: a field only one side changed takes that side's value; a field both changed
    keeps the other writer's, who saved first, and this copy's value is in ``lost`` (the caller
    says so). The messages need no merging: each is saved by its own id.
    """

    #: every head field's value as saved
    values: dict[str, Any] = field(default_factory=dict)
    #: fields only the other writer changed: this copy now shows their value
    adopted: tuple[str, ...] = ()
    #: fields both changed: the value this copy had, which was not saved
    lost: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.adopted or self.lost)


def _as_json(value: Any) -> Any:
    # As a JSON column gives it back (lists, not tuples), so that equal values compare equal.
    return json.loads(json.dumps(value))


def _merge(base: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any], names: Iterable[str] = HEAD_FIELDS) -> Merged:
    values, adopted, lost = {}, [], {}
    for name in names:
        old, own, other = base.get(name), mine[name], theirs[name]
        if name == "params":
            old, other = _as_json(old), _as_json(other)
        if own == old or own == other:
            values[name] = other
            if other != old:
                adopted.append(name)
        elif other == old:
            values[name] = own
        else:
            values[name] = other
            lost[name] = own
    return Merged(values, tuple(adopted), lost)


@dataclass
class _PendingSave:
    """A conversation's rows, made before its transaction, and what the transaction decided."""

    conversation: Conversation
    mine: dict[str, Any]
    row: dict[str, Any]
    rows: list[dict[str, Any]]
    gone: list[str]
    merged: Merged = field(default_factory=Merged)
    version: int = 0

    def settle(self) -> Merged:
        """Give the copy what was saved, once the transaction committed."""
        for name in (*self.merged.adopted, *self.merged.lost):
            setattr(self.conversation, name, self.merged.values[name])
        self.conversation.updated = self.row["updated"]
        self.conversation.revision = Revision(self.version, {name: self.row[name] for name in HEAD_FIELDS})
        return self.merged


@dataclass(frozen=True)
class SearchHit:
    """A conversation whose title (``message_id`` None) or one of whose messages matched."""

    conversation_id: str
    title: str
    updated: float | None
    message_id: str | None
    #: "user" or "assistant" for a message, None for the title
    role: str | None
    #: the matching text with some context, on one line; "…" where it was cut
    snippet: str
    #: where the match is within ``snippet``, for highlighting
    start: int
    end: int
    #: set when the conversation is a column of this comparison (then ``title`` is the comparison's)
    comparison_id: str | None = None


@dataclass(frozen=True)
class ComparisonSummary:
    """One line of the History page's comparisons."""

    id: str
    #: its own title, else its first question's
    title: str
    created: float | None
    updated: float | None
    #: each column's set-up, in column order
    labels: tuple[str, ...]
    models: tuple[str, ...]
    blind: bool
    #: messages sent to every column
    turns: int
    votes: int
    #: every reply of every column
    totals: SessionTotals

    def cost_text(self) -> str:
        return self.totals.cost_text()


@dataclass(frozen=True)
class Share:
    """A read-only link's row, without its snapshot: what the owner's list shows."""

    token: str
    owner: str
    #: "conversation" or "comparison"
    kind: str
    source_id: str
    title: str
    created: float
    #: None: never expires
    expires: float | None
    #: when it was revoked, or None
    revoked: float | None

    def live(self, now: float) -> bool:
        return self.revoked is None and (self.expires is None or now < self.expires)


def snippet(text: str, needle: str, context: int = SNIPPET_CONTEXT) -> tuple[str, int, int]:
    """``text`` cut to the first match of ``needle`` (as search compares them) with some context
    either side, and where the match is in the cut; (0, 0) and the start when none is found."""
    flat = " ".join(text.split())
    start, end = find_folded(flat, needle) or (0, 0)
    left = max(0, start - context)
    right = min(len(flat), end + context)
    if left > 0 and (space := flat.find(" ", left, start)) != -1:
        left = space + 1
    if right < len(flat) and (space := flat.rfind(" ", end, right)) != -1:
        right = space
    prefix = "…" if left > 0 else ""
    suffix = "…" if right < len(flat) else ""
    cut = f"{prefix}{flat[left:right]}{suffix}"
    return cut, start - left + len(prefix), end - left + len(prefix)


# -- the store ---------------------------------------------------------------------------


def database_url(settings: Settings) -> str:
    """The URL the store opens: CHAT_DB_URL, else the SQLite file CHAT_DB_PATH."""
    if settings.db_url:
        return settings.db_url
    path = Path(settings.db_path).expanduser().resolve()
    return URL.create("sqlite", database=str(path)).render_as_string(hide_password=False)


def open_store(settings: Settings) -> Store | None:
    """The store the settings name, migrated and ready; None when CHAT_HISTORY=off."""
    if not settings.history:
        return None
    return Store(database_url(settings))


class Store:
    """Conversations in a database; safe to share between threads and browser sessions.

    A store is bound to one owner (:mod:`lib.people.owner`): every query reads and writes only
    that person's rows, so another's conversation is as unknown to it as an id never used.
    :meth:`for_owner` gives another person's view, sharing the engine.
    """

    def __init__(self, url: str, owner: str = LOCAL_OWNER) -> None:
        #: whose rows this store reads and writes
        self.owner: str = owner
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise ConfigurationError(
                "CHAT_DB_URL must be a database URL such as postgresql+psycopg://user:password@host/db "
                "or sqlite:////path/to/chats.sqlite3."
            ) from None
        if parsed.drivername in ("postgresql", "postgres"):
            # SQLAlchemy would pick psycopg2, which is not installed; psycopg 3 is.
            parsed = parsed.set(drivername="postgresql+psycopg")
        backend = parsed.get_backend_name()
        if backend not in ("sqlite", "postgresql"):
            raise ConfigurationError(f"The chat history supports SQLite and PostgreSQL, not {backend!r}.")
        self._url = parsed
        self.is_sqlite = backend == "sqlite"
        #: the store whose engine and file state its owners' views share
        self._root: Store = self
        self._generation = 0
        self._notice: str | None = None
        self._recreating = threading.Lock()
        self.owner: str = LOCAL_OWNER
        if self.is_sqlite:
            self._engine = self._sqlite_engine(parsed)
        else:
            self._engine = create_engine(
                parsed,
                pool_pre_ping=True,
                # A server that does not answer should fail the page fast, not hang it;
                # utf8 so that a database created without a locale (SQL_ASCII) still round-trips text.
                connect_args={"connect_timeout": 5, "client_encoding": "utf8"},
            )
        try:
            self.migrate()
        except BaseException:
            self._engine.dispose()
            raise

    def _sqlite_engine(self, url: URL) -> Engine:
        database = url.database or ""
        if database in ("", ":memory:") or database.startswith("file:"):
            raise ConfigurationError("The chat history needs a SQLite file, not an in-memory database.")
        path = Path(database)
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            # Chats are private; SQLite gives its -wal and -shm files the mode of this one.
            path.touch(mode=0o600, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"Cannot create the chat history file {path}: {exc.strerror}.") from None
        engine = create_engine(url)

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
            # sqlite3's own transaction handling would not BEGIN before SELECT or DDL;
            # SQLAlchemy emits BEGIN itself instead (see _begin).
            dbapi_connection.isolation_level = None
            cursor = dbapi_connection.cursor()
            cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # A writer takes the lock up front, so that busy_timeout applies; a deferred
            # transaction that reads first and then writes fails at once with SQLITE_BUSY.
            write = conn.get_execution_options().get("gemma_write", False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine

    def for_owner(self, owner: str) -> Store:
        """This database as ``owner`` sees it: the same engine and pool, only their rows."""
        if not owner:
            raise ValueError("a store needs an owner")
        view = copy.copy(self)
        view.owner = owner
        return view

    @property
    def generation(self) -> int:
        """Counts the times the SQLite file was found deleted and made anew (see :meth:`check_file`)."""
        return self._root._generation

    @property
    def notice(self) -> str | None:
        """What the page should say about that, until a new store replaces this one."""
        return self._root._notice

    @property
    def location(self) -> str:
        """Where conversations are saved, for display: the file, or the URL without its password."""
        if self.is_sqlite:
            return str(self._url.database)
        return self._url.render_as_string(hide_password=True)

    @property
    def url(self) -> str:
        """The full URL (with any password), e.g. as a cache key; never show it."""
        return self._url.render_as_string(hide_password=False)

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.location!r}, owner={self.owner!r})"

    def check_file(self) -> None:
        """Make the SQLite file anew if it was deleted while the app ran.

        SQLite would go on writing into the deleted file, and everything saved from then on
        would be lost at the next start. Instead a new file is made at once, migrated, and
        :attr:`generation` moves on, so that sessions save their chats into it whole.
        """
        if not self.is_sqlite:
            return
        path = Path(self._url.database or "")
        if path.exists():
            return
        with self._recreating:
            if path.exists():
                return
            self._engine.dispose()  # the pool's connections hold the deleted file open
            try:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                path.touch(mode=0o600, exist_ok=True)
            except OSError as exc:
                raise StoreError(f"The chat history file {path} was deleted and cannot be made anew: {exc.strerror}.") from None
            self._root._generation += 1
            self._root._notice = (
                f"The chat history file {path} was deleted while the app ran. A new one was made: chats open "
                "in a browser are saved into it again; the others were lost with the file."
            )
            log.warning("the chat history file %s was deleted while the app ran; made a new one", path)
            self.migrate()

    @contextmanager
    def _transaction(self, *, write: bool) -> Iterator[Connection]:
        if self.is_sqlite and write and not self._recreating.locked():
            self.check_file()
        try:
            with self._engine.connect() as conn:
                conn.execution_options(gemma_write=write)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"The chat history database at {self.location} failed.", detail=reason) from exc

    # -- migrations ----------------------------------------------------------------------

    def schema_version(self) -> int:
        with self._transaction(write=False) as conn:
            return self._version(conn)

    @staticmethod
    def _version(conn: Connection) -> int:
        if not inspect(conn).has_table(schema_version.name):
            return 0
        return conn.scalar(select(func.max(schema_version.c.version))) or 0

    def _applied(self, conn: Connection | None = None) -> set[int]:
        if conn is None:
            with self._transaction(write=False) as own:
                return self._applied(own)
        if not inspect(conn).has_table(schema_version.name):
            return set()
        return set(conn.scalars(select(schema_version.c.version)))

    def migrate(self) -> None:
        """Apply the migrations this database lacks, each in its own transaction."""
        latest = MIGRATIONS[-1].number
        current = self.schema_version()
        if current > latest:
            raise StoreError(
                f"The chat history database at {self.location} has schema version {current}, made by a newer "
                f"version of this app (this one knows up to {latest}). Update the app to open it."
            )
        applied = self._applied()
        for migration in MIGRATIONS:
            # By number, not only above the highest: migrations numbered apart in branches
            # merged later (9–11 after 12) still run on a database that has 12.
            if migration.number in applied:
                continue
            with self._transaction(write=True) as conn:
                if not self.is_sqlite:
                    conn.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
                VERSION_METADATA.create_all(conn)
                # Another process may have migrated while this one waited for the lock.
                if migration.number in self._applied(conn):
                    continue
                migration.apply(conn)
                conn.execute(insert(schema_version).values(version=migration.number, applied=time.time()))

    # -- writing -------------------------------------------------------------------------

    def _upsert(self, table: Table, keys: list[str], where: ColumnElement[bool] | None = None) -> Any:
        """Insert, or update the row with these keys (only where ``where`` holds of it)."""
        statement = (sqlite_insert if self.is_sqlite else pg_insert)(table)
        return statement.on_conflict_do_update(
            index_elements=keys,
            set_={c.name: statement.excluded[c.name] for c in table.columns if c.name not in keys},
            where=where,
        )

    def _text(self, value: str | None) -> str | None:
        # PostgreSQL text cannot hold NUL; one stray NUL from a model must not make every save fail.
        if value is None or self.is_sqlite:
            return value
        return value.replace("\x00", "\ufffd")

    def save(
        self, conversation: Conversation, *, removed: Iterable[str] = (), changed: Iterable[str] | None = None
    ) -> Merged:
        """Insert or update the conversation and its messages, and delete ``removed``; all or nothing.

        ``changed`` names the only messages to write (those new or edited since the last save);
        None writes them all.

        Never overwrites another writer's change. A copy the store never held (no
        ``conversation.revision``) is only inserted: ConversationExistsError when its id is taken.
        A copy that was loaded or saved before is merged field by field into what another writer
        saved since (see :class:`Merged`), and takes on the result; ConversationNotFoundError
        when the conversation was deleted meanwhile (deleting is final).
        """
        pending = self._pending(conversation, removed, changed)
        with self._transaction(write=True) as conn:
            self._write_conversation(conn, pending)
        return pending.settle()

    def _pending(
        self, conversation: Conversation, removed: Iterable[str] = (), changed: Iterable[str] | None = None
    ) -> _PendingSave:
        """The rows a save writes, made before its transaction so that it stays short."""
        mine = self._stored_head(conversation)
        row = {
            "id": conversation.id,
            "owner": self.owner,
            "title_folded": _fold_any(conversation.title),
            "created": conversation.created,
            "updated": conversation.updated,
            "leaf": conversation.leaf,
            **mine,
        }
        # A fixed order, so that two savers of one conversation lock its rows in the same order.
        wanted = conversation.messages.values() if changed is None else (
            conversation.messages[i] for i in set(changed) if i in conversation.messages
        )
        rows = [self._message_row(conversation.id, m) for m in sorted(wanted, key=lambda m: m.id)]
        gone = sorted(set(removed) - set(conversation.messages))
        return _PendingSave(conversation, mine, row, rows, gone)

    def _write_conversation(self, conn: Connection, pending: _PendingSave, placed: dict[str, Any] | None = None) -> None:
        """Write one conversation within ``conn``'s transaction (see :meth:`save`); ``placed`` are
        the columns that make it a comparison's column."""
        conversation, row = pending.conversation, {**pending.row, **(placed or {})}
        if conversation.revision is None:
            pending.version = 1
            # Another person's conversation of this id stays theirs: the insert is refused, as for one's own.
            inserted = conn.execute(self._insert_new(conversations), {**row, "version": pending.version})
            if inserted.first() is None:
                raise ConversationExistsError(f"A saved conversation has the id {conversation.id} already.")
        else:
            current = conn.execute(
                select(conversations).where(self._mine(conversations), conversations.c.id == conversation.id).with_for_update()
            ).mappings().first()
            if current is None:
                raise ConversationNotFoundError(f"The conversation {conversation.id} was deleted.")
            pending.version = current["version"] + 1
            if current["version"] != conversation.revision.version:
                pending.merged = _merge(
                    conversation.revision.head, pending.mine, {name: current[name] for name in HEAD_FIELDS}
                )
                row.update(pending.merged.values, updated=max(row["updated"], current["updated"]))
                row["title_folded"] = _fold_any(row["title"])
            conn.execute(
                update(conversations)
                .where(self._mine(conversations), conversations.c.id == conversation.id)
                .values({**{k: v for k, v in row.items() if k != "id"}, "version": pending.version})
            )
        pending.row = row
        if pending.rows:
            conn.execute(self._upsert(messages, ["conversation_id", "id"]), pending.rows)
        written = [conversation.messages[r["id"]] for r in pending.rows]
        self._write_images(conn, conversation.id, written, pending.gone)
        if pending.gone:
            conn.execute(
                delete(messages).where(messages.c.conversation_id == conversation.id, messages.c.id.in_(pending.gone))
            )

    def _mine(self, table: Table) -> ColumnElement[bool]:
        """The condition that a row of ``table`` is this store's owner's."""
        return table.c.owner == self.owner

    def _stored_head(self, conversation: Conversation) -> dict[str, Any]:
        """The head fields as the database keeps them, to compare with what it holds."""
        head = conversation.head()
        for name in ("title", "system_prompt"):
            head[name] = self._text(head[name])
        head["params"] = _as_json(head["params"])
        return head

    def _insert_new(self, table: Table) -> Any:
        """Insert a row unless its key is taken; the result has a row only when it was inserted
        (psycopg reports no rowcount here, so RETURNING tells)."""
        statement = (sqlite_insert if self.is_sqlite else pg_insert)(table).on_conflict_do_nothing()
        return statement.returning(*table.primary_key.columns)

    def _write_images(self, conn: Connection, conversation_id: str, written: list[Message], gone: list[str]) -> None:
        """Link each written message to its images, in order, and unlink the ``gone`` ones; store
        the images the database lacks, and delete those no message shows any more.

        An image is stored once, by its digest, however many messages and conversations show it.
        """
        link = message_images
        unlinked: set[str] = set()
        if written or gone:
            # A message keeps its images unless it changed them; its links are rewritten with it.
            unlinked = set(conn.execute(
                delete(link)
                .where(link.c.conversation_id == conversation_id, link.c.message_id.in_([m.id for m in written] + gone))
                .returning(link.c.digest)
            ).scalars())
        links = [
            {"conversation_id": conversation_id, "message_id": m.id, "position": position,
             "digest": image.digest, "name": self._text(image.name), "note": self._text(image.note)}
            for m in written for position, image in enumerate(m.images)
        ]
        if not links and not unlinked:
            return
        # Two PostgreSQL writers, one deleting an image that no link shows and one linking it anew,
        # would fail the second (or, without the foreign key, leave a link to nothing): they take
        # turns from here. Only here, after the last row lock a writer takes, so that whoever holds
        # it never waits for another writer. SQLite runs one writer at a time anyway.
        if not self.is_sqlite:
            conn.execute(select(func.pg_advisory_xact_lock(_PG_IMAGES_LOCK)))
        needed = {image.digest: image for m in written for image in m.images}
        if needed:
            stored = set(conn.execute(select(images.c.digest).where(images.c.digest.in_(needed))).scalars())
            new = [self._image_row(image) for digest, image in sorted(needed.items()) if digest not in stored]
            if new:
                conn.execute((sqlite_insert if self.is_sqlite else pg_insert)(images).on_conflict_do_nothing(), new)
            conn.execute(insert(link), links)
        if orphans := sorted(unlinked - set(needed)):
            used = select(link.c.digest).where(link.c.digest == images.c.digest).exists()
            conn.execute(delete(images).where(images.c.digest.in_(orphans), ~used))

    @staticmethod
    def _image_row(image: Image) -> dict[str, Any]:
        try:
            thumbnail = make_thumbnail(image)
        except ImageError as exc:
            # The chat is saved all the same; pages show the image itself in its place.
            log.warning("%s", exc)
            thumbnail = None
        return {
            "digest": image.digest, "media_type": image.media_type, "width": image.width, "height": image.height,
            "data": image.data, "created": time.time(),
            "thumbnail": thumbnail.data if thumbnail else None, "thumbnail_type": thumbnail.media_type if thumbnail else None,
        }

    def save_draft(self, conversation_id: str, message: Message) -> None:
        """Write one reply still streaming, and show it in place of its question's lack of one.

        The conversation moves to it only if it was at its question; the reply, once it ends,
        is saved under the same id over it. A conversation deleted meanwhile stays deleted.
        A draft is a reply's text: it carries no images.
        """
        with self._transaction(write=True) as conn:
            if not self._holds(conn, conversation_id):
                return
            conn.execute(self._upsert(messages, ["conversation_id", "id"]), [self._message_row(conversation_id, message)])
            conn.execute(
                update(conversations)
                .where(conversations.c.id == conversation_id, conversations.c.leaf == message.parent)
                .values(leaf=message.id)
            )

    def _message_row(self, conversation_id: str, message: Message) -> dict[str, Any]:
        stats = message.stats
        usage = stats.usage if stats else None
        cost = stats.cost if stats else None
        return {
            "conversation_id": conversation_id,
            "id": message.id,
            "parent": message.parent,
            "role": message.role,
            "content": self._text(message.content),
            "content_folded": _fold_any(message.content),
            "created": message.created,
            "status": message.status,
            "model": message.model,
            "params": dict(message.params),
            "error": self._text(message.error),
            "error_title": self._text(message.error_title),
            "has_stats": stats is not None,
            "has_usage": usage is not None,
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "completion_tokens": usage.completion_tokens if usage else None,
            "total_tokens": usage.total_tokens if usage else None,
            "cost_usd": cost.usd if cost else None,
            "cost_source": cost.source if cost else None,
            "time_to_first_token": stats.time_to_first_token if stats else None,
            "total_time": stats.total_time if stats else None,
            "last_token_time": stats.last_token_time if stats else None,
            "tokens_estimated": usage.estimated if usage else None,
            "finish_reason": stats.finish_reason if stats else None,
            "reply_model": stats.model if stats else None,
            "provider": stats.provider if stats else None,
            "request_id": stats.request_id if stats else None,
            "request": message.request.to_dict() if message.request else None,
        }

    def get_preference(self, name: str, default: Any = None) -> Any:
        """A value saved with :meth:`set_preference` (JSON), or ``default``."""
        with self._transaction(write=False) as conn:
            value = conn.scalar(select(preferences.c.value).where(self._mine(preferences), preferences.c.name == name))
        return default if value is None else value

    def set_preference(self, name: str, value: Any) -> None:
        """Replace a value whole; to change part of one that others may change too, :meth:`update_preference`."""
        self.update_preference(name, lambda _stored: value)

    def update_preference(self, name: str, change: Callable[[Any], Any], default: Any = None) -> Any:
        """Apply ``change`` to the value saved now (``default`` when none) and save its result; returns it.

        Read and write are one transaction, with the row locked: two sessions that each add a
        preset both keep theirs. An exception from ``change`` saves nothing and is raised.
        """
        p = preferences
        with self._transaction(write=True) as conn:
            for _ in range(2):
                current = conn.execute(
                    select(p.c.value, p.c.version).where(self._mine(p), p.c.name == name).with_for_update()
                ).first()
                if current is None:
                    value = change(default)
                    new = {"owner": self.owner, "name": name, "value": value, "updated": time.time(), "version": 1}
                    if conn.execute(self._insert_new(p), new).first() is not None:
                        return value
                    continue  # another session inserted it meanwhile (PostgreSQL): change that one
                value = change(current.value)
                conn.execute(
                    update(p).where(self._mine(p), p.c.name == name)
                    .values(value=value, updated=time.time(), version=current.version + 1)
                )
                return value
        raise StoreError(f"The preference {name!r} could not be saved.")

    def rename(self, conversation_id: str, title: str) -> None:
        title = " ".join(title.split())
        if not title:
            raise StoreError("A title cannot be empty.")
        with self._transaction(write=True) as conn:
            result = conn.execute(
                update(conversations)
                .where(self._mine(conversations), conversations.c.id == conversation_id)
                .values(title=self._text(title), title_folded=fold(title), version=conversations.c.version + 1)
            )
            if result.rowcount == 0:
                raise ConversationNotFoundError(f"No saved conversation has the id {conversation_id}.")

    def delete(self, conversation_id: str) -> bool:
        """Delete the conversation, its messages, and the images no other conversation shows;
        False when there was nothing to delete.

        A comparison's column is not deleted here (False): its comparison would lose a column.
        :meth:`delete_comparison` deletes it with the others.
        """
        with self._transaction(write=True) as conn:
            # The conversation's row first, as save() locks it: a save waits here instead of deadlocking.
            found = conn.execute(
                select(conversations.c.id, conversations.c.comparison_id)
                .where(self._mine(conversations), conversations.c.id == conversation_id)
                .with_for_update()
            ).first()
            if found is None or found.comparison_id is not None:
                return False
            self._delete_conversation(conn, conversation_id)
            return True

    def _delete_conversation(self, conn: Connection, conversation_id: str) -> None:
        """Delete a conversation whose row this transaction has locked, with its messages and images."""
        linked = select(message_images.c.message_id).where(message_images.c.conversation_id == conversation_id)
        self._write_images(conn, conversation_id, [], list(conn.execute(linked.distinct()).scalars()))
        # Explicitly rather than by ON DELETE CASCADE, which SQLite honours only with foreign_keys on.
        conn.execute(delete(messages).where(messages.c.conversation_id == conversation_id))
        conn.execute(delete(conversations).where(conversations.c.id == conversation_id))

    # -- reading -------------------------------------------------------------------------

    def exists(self, conversation_id: str) -> bool:
        """Whether this owner has saved a conversation of this id (another's is not theirs to know of)."""
        with self._transaction(write=False) as conn:
            return self._holds(conn, conversation_id)

    def _holds(self, conn: Connection, conversation_id: str) -> bool:
        found = select(conversations.c.id).where(self._mine(conversations), conversations.c.id == conversation_id)
        return conn.scalar(found) is not None

    def load(self, conversation_id: str) -> Conversation:
        with self._transaction(write=False) as conn:
            return self._load_in(conn, conversation_id)

    def _load_in(self, conn: Connection, conversation_id: str) -> Conversation:
        row = conn.execute(
            select(conversations).where(self._mine(conversations), conversations.c.id == conversation_id)
        ).mappings().first()
        if row is None:
            raise ConversationNotFoundError(f"No saved conversation has the id {conversation_id}.")
        message_rows = conn.execute(
            select(messages)
            .where(messages.c.conversation_id == conversation_id)
            .order_by(messages.c.created, messages.c.id)
        ).mappings().all()
        attached = self._images_of(conn, conversation_id)
        loaded = [_message_from_row(r, attached.get(r["id"], ())) for r in message_rows]
        created, updated = _known_times(row["created"], row["updated"], loaded)
        by_id = {m.id: m for m in loaded}
        leaf = row["leaf"]
        if leaf is not None and leaf not in by_id:
            # Only a database edited by hand gets here; an unknown leaf would break Conversation.path().
            leaf = max(loaded, key=lambda m: m.created).id if loaded else None
        return Conversation(
            system_prompt=row["system_prompt"],
            model=row["model"],
            id=row["id"],
            title=row["title"],
            created=created,
            updated=updated,
            instruction_role=row["instruction_role"],
            params=dict(row["params"] or {}),
            messages=by_id,
            leaf=leaf,
            revision=Revision(row["version"], {name: row[name] for name in HEAD_FIELDS}),
        )

    def _images_of(self, conn: Connection, conversation_id: str) -> dict[str, tuple[Image, ...]]:
        """Each message's images, in order, by message id; the bytes of each image read once."""
        link = message_images
        link_rows = conn.execute(
            select(link).where(link.c.conversation_id == conversation_id).order_by(link.c.message_id, link.c.position)
        ).mappings().all()
        if not link_rows:
            return {}
        digests = sorted({r["digest"] for r in link_rows})
        stored = {
            r["digest"]: r
            for r in conn.execute(
                select(images.c.digest, images.c.media_type, images.c.width, images.c.height, images.c.data)
                .where(images.c.digest.in_(digests))
            ).mappings()
        }
        attached: dict[str, list[Image]] = {}
        for r in link_rows:
            image = _image_from_row(stored.get(r["digest"]), r["name"], r["note"])
            if image is not None:
                attached.setdefault(r["message_id"], []).append(image)
        return {message_id: tuple(found) for message_id, found in attached.items()}

    def _shown_to_owner(self, digest: str) -> ColumnElement[bool]:
        """That a message of one of this owner's conversations shows the image: images are stored
        once for everyone, and reached only through one's own messages."""
        link, c = message_images, conversations
        return (
            select(link.c.digest)
            .join(c, c.c.id == link.c.conversation_id)
            .where(link.c.digest == digest, self._mine(c))
            .exists()
        )

    def image(self, digest: str) -> Image | None:
        """The stored image with this digest (without a name: each message names it), or None;
        None too when none of this owner's messages shows it."""
        with self._transaction(write=False) as conn:
            if not conn.scalar(select(self._shown_to_owner(digest))):
                return None
            row = conn.execute(
                select(images.c.digest, images.c.media_type, images.c.width, images.c.height, images.c.data)
                .where(images.c.digest == digest)
            ).mappings().first()
        return None if row is None else _image_from_row(row, "", None)

    def thumbnail(self, digest: str) -> Thumbnail | None:
        """A small copy of the stored image, to show without reading the whole of it; the image
        itself when it is that small already; None when no image has this digest."""
        i = images
        with self._transaction(write=False) as conn:
            if not conn.scalar(select(self._shown_to_owner(digest))):
                return None
            row = conn.execute(select(i.c.thumbnail, i.c.thumbnail_type).where(i.c.digest == digest)).first()
            if row is None:
                return None
            if row.thumbnail is not None and row.thumbnail_type:
                return Thumbnail(bytes(row.thumbnail), row.thumbnail_type)
            whole = conn.execute(select(i.c.data, i.c.media_type).where(i.c.digest == digest)).first()
        return None if whole is None else Thumbnail(bytes(whole.data), whole.media_type)

    def _aggregates(self) -> Any:
        m = messages
        reply = m.c.role == "assistant"
        prompt, completion, total = (
            _within(counted, 0, MAX_TOKENS) for counted in (m.c.prompt_tokens, m.c.completion_tokens, m.c.total_tokens)
        )
        cost = _within(m.c.cost_usd, 0.0, MAX_COST_USD)
        # A reply that reported only prompt and completion counts still counts in the total.
        reply_total = func.coalesce(total, func.coalesce(prompt, 0) + func.coalesce(completion, 0))
        return (
            func.count(m.c.id).label("message_count"),
            func.count(case((reply, 1))).label("replies"),
            func.coalesce(func.sum(prompt), 0).label("prompt_tokens"),
            func.coalesce(func.sum(completion), 0).label("completion_tokens"),
            func.coalesce(func.sum(reply_total), 0).label("total_tokens"),
            func.coalesce(func.sum(cost), 0.0).label("cost_usd"),
            func.max(case((and_(m.c.cost_source == "estimate", cost.is_not(None)), 1), else_=0)).label("cost_estimated"),
            func.max(case((and_(reply, cost.is_(None)), 1), else_=0)).label("cost_incomplete"),
        )

    @staticmethod
    def _totals_from(row: Any) -> SessionTotals:
        return SessionTotals(
            requests=int(row["replies"] or 0),
            prompt_tokens=int(row["prompt_tokens"] or 0),
            completion_tokens=int(row["completion_tokens"] or 0),
            cost_usd=float(row["cost_usd"] or 0.0),
            cost_incomplete=bool(row["cost_incomplete"]),
            cost_estimated=bool(row["cost_estimated"]),
        )

    def list(
        self, limit: int | None = 100, ids: Iterable[str] | None = None, *, after: Cursor | None = None,
        through: Cursor | None = None,
    ) -> list[ConversationSummary]:
        """Saved conversations, most recently updated first, with their totals over all branches.

        With ``ids``, only those conversations, however old (the ones a search found, say). A page
        at a time (#16): ``after`` the :class:`Cursor` of the last one listed, the next ``limit``;
        ``through`` one, every conversation from the newest down to it (a list grown page by page,
        drawn again).
        """
        c, m = conversations, messages
        # A comparison's columns are not chats: the History page lists them as its comparison.
        where = [self._mine(c), c.c.comparison_id.is_(None)]
        if ids is not None:
            where.append(c.c.id.in_(sorted(set(ids))))
        where.extend(_paged(c, after, through))
        # The page first, from the conversations alone; then the sums of just its messages.
        query = (
            select(c.c.id, c.c.title, c.c.created, c.c.updated, c.c.model)
            .where(*where)
            .order_by(*_newest(c))
            .limit(limit)
        )
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).mappings().all()
            found = [r["id"] for r in rows]
            sums = {
                r["conversation_id"]: r
                for r in conn.execute(
                    select(m.c.conversation_id, *self._aggregates())
                    .where(m.c.conversation_id.in_(found))
                    .group_by(m.c.conversation_id)
                ).mappings()
            } if found else {}
        return [
            ConversationSummary(
                id=r["id"],
                title=r["title"],
                created=sane_time(r["created"]),
                updated=sane_time(r["updated"]),
                model=r["model"],
                message_count=int(sums[r["id"]]["message_count"]) if r["id"] in sums else 0,
                total_tokens=int(sums[r["id"]]["total_tokens"] or 0) if r["id"] in sums else 0,
                totals=self._totals_from(sums[r["id"]]) if r["id"] in sums else SessionTotals(),
            )
            for r in rows
        ]

    def totals(self, conversation_id: str) -> SessionTotals:
        """Requests, tokens and cost of every reply in the conversation, in every branch."""
        m = messages
        answered_by = func.coalesce(m.c.reply_model, m.c.model)
        with self._transaction(write=False) as conn:
            if not self._holds(conn, conversation_id):
                raise ConversationNotFoundError(f"No saved conversation has the id {conversation_id}.")
            row = conn.execute(select(*self._aggregates()).where(m.c.conversation_id == conversation_id)).mappings().one()
            models = conn.execute(
                select(answered_by, func.count())
                .where(m.c.conversation_id == conversation_id, m.c.role == "assistant", answered_by.is_not(None))
                .group_by(answered_by)
            ).all()
        totals = self._totals_from(row)
        totals.models = {name: int(count) for name, count in models}
        return totals

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Titles and messages containing ``text`` as :func:`lib.store.folding.fold` compares them
        (any case, either form of an accent, any whitespace), newest conversation first."""
        needle = fold(text)
        if not needle:
            return []
        c, m, k = conversations, messages, comparisons
        newest = (_time(c.c.updated).desc().nulls_last(), c.c.id)
        # A column's hit names its comparison, and the comparison's title where it has its own.
        placed = (c.c.comparison_id, k.c.title.label("comparison_title"))
        title_query = (
            select(c.c.id, c.c.title, c.c.updated, *placed)
            .select_from(c.outerjoin(k, k.c.id == c.c.comparison_id))
            .where(self._mine(c), self._contains(c, needle))
            .order_by(*newest)
            .limit(limit)
        )
        with self._transaction(write=False) as conn:
            title_rows = conn.execute(title_query).mappings().all()
            found = self._newest_message_hits(conn, needle, limit)
            message_rows = conn.execute(
                select(c.c.id, c.c.title, c.c.updated, *placed, m.c.id.label("message_id"), m.c.role, m.c.content,
                       m.c.created)
                .select_from(m.join(c, m.c.conversation_id == c.c.id).outerjoin(k, k.c.id == c.c.comparison_id))
                # The conversations' ids too: SQLite would read every message for the pairs alone.
                .where(m.c.conversation_id.in_(sorted({pair[0] for pair in found})),
                       tuple_(m.c.conversation_id, m.c.id).in_(found))
            ).mappings().all() if found else []
        ranked: list[tuple[tuple[Any, ...], SearchHit]] = []
        for r in title_rows:
            cut, start, end = snippet(r["title"], text)
            updated = sane_time(r["updated"])
            hit = SearchHit(r["id"], r["comparison_title"] or r["title"], updated, None, None, cut, start, end,
                            r["comparison_id"])
            ranked.append(((*_newest_first(updated), r["id"], 0, *_oldest_first(None), ""), hit))
        for r in message_rows:
            cut, start, end = snippet(r["content"], text)
            updated = sane_time(r["updated"])
            hit = SearchHit(r["id"], r["comparison_title"] or r["title"], updated, r["message_id"], r["role"],
                            cut, start, end, r["comparison_id"])
            ranked.append(((*_newest_first(updated), r["id"], 1, *_oldest_first(sane_time(r["created"])), r["message_id"]), hit))
        ranked.sort(key=lambda pair: pair[0])
        return _once_per_comparison([hit for _, hit in ranked])[:limit]

    def _newest_message_hits(self, conn: Connection, needle: str, limit: int) -> list[tuple[str, str]]:
        """The (conversation id, message id) of the first ``limit`` messages containing ``needle``,
        newest conversation first; by their keys alone, so that the sort never carries the text.

        A word in every message costs the trigram index most (each of its trigrams is in every
        row) and a plain scan least (the newest conversations hold enough hits): the newest
        :data:`RECENT_SCAN` conversations are read first, and the index asked only when they
        hold fewer than ``limit``. Either way the hits are the newest: a hit outside those
        conversations ranks after every hit within them.
        """
        c, m = conversations, messages
        order = (*_newest(c), _time(m.c.created).nulls_last(), m.c.id)

        def keys(where: ColumnElement[bool]) -> list[tuple[str, str]]:
            return [tuple(row) for row in conn.execute(  # type: ignore[misc]
                select(m.c.conversation_id, m.c.id).select_from(m.join(c, m.c.conversation_id == c.c.id))
                .where(self._mine(c), where).order_by(*order).limit(limit)
            )]

        recent = select(c.c.id).where(self._mine(c)).order_by(*_newest(c)).limit(RECENT_SCAN).scalar_subquery()
        found = keys(and_(m.c.conversation_id.in_(recent), self._substring(m, needle)))
        return found if len(found) >= limit else keys(self._contains(m, needle))

    def _substring(self, table: Table, needle: str) -> ColumnElement[bool]:
        """The plain substring test of the table's folded text, which both backends count alike: a scan."""
        return (func.instr if self.is_sqlite else func.strpos)(table.c[SEARCHED[table.name]], needle) > 0

    def _contains(self, table: Table, needle: str) -> ColumnElement[bool]:
        """Whether the table's folded text (see :data:`SEARCHED`) contains the folded ``needle``.

        A plain substring test, which both backends count alike, found through migration 13's
        trigram index when the needle is long enough to have a trigram; a shorter one scans.
        """
        column = table.c[SEARCHED[table.name]]
        if len(needle) < TRIGRAM:
            return self._substring(table, needle)
        if not self.is_sqlite:
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            return column.like(f"%{escaped}%", escape="\\")
        fts = f"{table.name}_fts"
        # A phrase of trigrams, each following the last, is exactly the substring: no row needs reading again.
        phrase = '"' + needle.replace('"', '""') + '"'
        indexed = select(literal_column("rowid")).select_from(sql_table(fts)).where(
            literal_column(fts).op("MATCH")(phrase)
        )
        return literal_column(f"{table.name}.rowid").in_(indexed)

    # -- comparisons (#12) ---------------------------------------------------------------

    def save_comparison(self, comparison: Comparison, *, changed: Iterable[str] | None = None) -> Merged:
        """Insert or update the comparison, each column's thread (as :meth:`save` saves a chat) and
        its votes; all or nothing.

        ``changed`` names the only messages to write, in any column; None writes them all.

        Versioned as chats are. A copy the store never held is only inserted: ComparisonExistsError
        when its id is taken. An older copy is merged into what another writer saved since, field
        by field (title, blind, order, and each column's set-up as ``"setup <i>"``), in the returned
        :class:`Merged`; each thread merges as :meth:`save` merges a chat. Columns added or removed
        on both sides cannot be merged: ComparisonChangedError, nothing saved. Deleted meanwhile:
        ComparisonNotFoundError. A turn voted on in two copies keeps the later vote, and the copy
        takes on the votes as stored.
        """
        mine = self._comparison_head(comparison)
        # A message in any column is a change of the comparison: History lists it by that time.
        updated = max([comparison.updated, *(thread.updated for thread in comparison.threads)])
        row = {"id": comparison.id, "owner": self.owner, "created": comparison.created, "updated": updated,
               **_comparison_row(mine)}
        pending = [self._pending(thread, changed=changed) for thread in comparison.threads]
        with self._transaction(write=True) as conn:
            version, merged, row = self._write_comparison_row(conn, comparison, mine, row)
            for index, item in enumerate(pending):
                self._write_conversation(conn, item, {"comparison_id": comparison.id, "column_index": index})
            self._write_votes(conn, comparison.id, comparison.votes)
            stored_votes = self._votes_of(conn, comparison.id)
        for item in pending:
            item.settle()
        values = merged.values or mine
        comparison.title, comparison.blind = values["title"], values["blind"]
        for name in (*merged.adopted, *merged.lost):
            if name.startswith("setup "):
                comparison.setups[int(name.split()[1])] = Setup.from_dict(values[name])
        if sorted(values["order"]) == list(range(len(comparison.setups))):
            comparison.order = list(values["order"])
        comparison.updated = row["updated"]
        comparison.votes = stored_votes
        comparison.revision = Revision(version, values)
        return merged

    def _comparison_head(self, comparison: Comparison) -> dict[str, Any]:
        """The fields of a comparison that the user changes and a save merges, as stored."""
        head: dict[str, Any] = {"title": self._text(comparison.title), "blind": comparison.blind, "order": comparison.order}
        head.update({f"setup {i}": setup.to_dict() for i, setup in enumerate(comparison.setups)})
        return _as_json(head)

    def _write_comparison_row(
        self, conn: Connection, comparison: Comparison, mine: dict[str, Any], row: dict[str, Any]
    ) -> tuple[int, Merged, dict[str, Any]]:
        """Insert or update the comparison's own row; its version, what was merged, the row written.

        Locks the row of the comparison and of every column it has now, before any image is linked
        (see :meth:`_write_images`); deletes the columns this copy removed.
        """
        k, c = comparisons, conversations
        if comparison.revision is None:
            if conn.execute(self._insert_new(k), {**row, "version": 1}).first() is None:
                raise ComparisonExistsError(f"A saved comparison has the id {comparison.id} already.")
            return 1, Merged(values=mine), row
        current = conn.execute(
            select(k).where(self._mine(k), k.c.id == comparison.id).with_for_update()
        ).mappings().first()
        if current is None:
            raise ComparisonNotFoundError(f"The comparison {comparison.id} was deleted.")
        stored = conn.execute(
            select(c.c.id, c.c.column_index).where(c.c.comparison_id == comparison.id).order_by(c.c.id).with_for_update()
        ).all()
        in_columns = [thread_id for thread_id, _ in sorted(stored, key=lambda r: (r.column_index is None, r.column_index))]
        threads = [thread.id for thread in comparison.threads]
        merged = Merged(values=mine)
        if current["version"] != comparison.revision.version:
            if in_columns != threads:
                raise ComparisonChangedError(
                    "The columns of this comparison were changed in another tab since this one opened it; "
                    "nothing was saved. Reopen it from History to see them."
                )
            merged = _merge(comparison.revision.head, mine, _stored_comparison_head(current), names=list(mine))
            row = {**row, **_comparison_row(merged.values), "updated": max(row["updated"], current["updated"])}
        for removed in set(in_columns) - set(threads):
            self._delete_conversation(conn, removed)
        conn.execute(update(k).where(self._mine(k), k.c.id == comparison.id).values(
            {**{name: value for name, value in row.items() if name != "id"}, "version": current["version"] + 1}
        ))
        return current["version"] + 1, merged, row

    def _write_votes(self, conn: Connection, comparison_id: str, cast: Iterable[Vote]) -> None:
        """Store the votes the store lacks; on a turn voted on already, the later vote stands."""
        v = votes
        held = {
            r.turn: (r.created, r.id)
            for r in conn.execute(
                select(v.c.turn, v.c.created, v.c.id).where(self._mine(v), v.c.comparison_id == comparison_id)
            )
        }
        for vote in sorted(cast, key=lambda item: item.turn):
            if vote.turn in held and held[vote.turn] >= (vote.created, vote.id):
                continue
            conn.execute(delete(v).where(self._mine(v), v.c.comparison_id == comparison_id, v.c.turn == vote.turn))
            # A vote of this id kept by another person (whose comparison of this id they deleted) stays theirs.
            conn.execute((sqlite_insert if self.is_sqlite else pg_insert)(v).on_conflict_do_nothing().values(
                comparison_id=comparison_id, owner=self.owner, id=vote.id, turn=vote.turn, outcome=vote.outcome,
                winner=vote.winner,
                setups=[setup.to_dict() for setup in vote.setups], created=vote.created, counted=True,
            ))

    def _votes_of(self, conn: Connection, comparison_id: str) -> list[Vote]:
        rows = conn.execute(
            select(votes).where(self._mine(votes), votes.c.comparison_id == comparison_id).order_by(votes.c.turn)
        ).mappings()
        return [vote for vote in map(_vote_from_row, rows) if vote is not None]

    def comparison_exists(self, comparison_id: str) -> bool:
        with self._transaction(write=False) as conn:
            found = select(comparisons.c.id).where(self._mine(comparisons), comparisons.c.id == comparison_id)
            return conn.scalar(found) is not None

    def load_comparison(self, comparison_id: str) -> Comparison:
        """The comparison with its columns' threads and its votes; ComparisonNotFoundError."""
        k, c = comparisons, conversations
        with self._transaction(write=False) as conn:
            row = conn.execute(select(k).where(self._mine(k), k.c.id == comparison_id)).mappings().first()
            if row is None:
                raise ComparisonNotFoundError(f"No saved comparison has the id {comparison_id}.")
            thread_ids = conn.execute(
                select(c.c.id).where(c.c.comparison_id == comparison_id).order_by(c.c.column_index, c.c.id)
            ).scalars().all()
            threads = [self._load_in(conn, thread_id) for thread_id in thread_ids]
            cast = self._votes_of(conn, comparison_id)
        created, updated = _known_times(row["created"], row["updated"], [])
        try:
            comparison = Comparison(
                [Setup.from_dict(setup) for setup in row["setups"]], threads, id=row["id"], title=row["title"],
                created=created, updated=updated, blind=bool(row["blind"]), order=list(row["column_order"]), votes=cast,
            )
        except (KeyError, TypeError, ValueError) as exc:
            # Only a database edited by hand (or a column deleted by another tool) gets here.
            raise StoreError(f"The saved comparison {comparison_id} is damaged and cannot be opened.", detail=str(exc)) from None
        comparison.revision = Revision(row["version"], _stored_comparison_head(row))
        return comparison

    def list_comparisons(
        self, limit: int | None = 100, ids: Iterable[str] | None = None, *, after: Cursor | None = None,
        through: Cursor | None = None,
    ) -> list[ComparisonSummary]:
        """Saved comparisons, most recently updated first, with their columns, turns, votes and totals.

        With ``ids``, only those comparisons, however old (the ones a search found, say); ``after``
        and ``through`` page as :meth:`list` does.
        """
        k, c, m = comparisons, conversations, messages
        where = [self._mine(k), *_paged(k, after, through)]
        if ids is not None:
            where.append(k.c.id.in_(sorted(set(ids))))
        query = (
            select(k.c.id, k.c.title, k.c.created, k.c.updated, k.c.setups, k.c.blind)
            .where(*where)
            .order_by(*_newest(k))
            .limit(limit)
        )
        with self._transaction(write=False) as conn:
            rows = conn.execute(query).mappings().all()
            found = [r["id"] for r in rows]
            columns = c.join(m, m.c.conversation_id == c.c.id)
            sums = {
                r["comparison_id"]: r
                for r in conn.execute(
                    select(c.c.comparison_id, *self._aggregates())
                    .select_from(columns).where(c.c.comparison_id.in_(found)).group_by(c.c.comparison_id)
                ).mappings()
            }
            questions = conn.execute(
                select(c.c.comparison_id, func.count(m.c.id))
                .select_from(columns).where(c.c.comparison_id.in_(found), m.c.role == "user")
                .group_by(c.c.comparison_id, c.c.id)
            ).all()
            first_titles = dict(conn.execute(
                select(c.c.comparison_id, c.c.title).where(c.c.comparison_id.in_(found), c.c.column_index == 0)
            ).all())
            vote_counts = dict(conn.execute(
                select(votes.c.comparison_id, func.count()).where(votes.c.comparison_id.in_(found))
                .group_by(votes.c.comparison_id)
            ).all())
        turns: dict[str, int] = {}
        for comparison_id, count in questions:
            turns[comparison_id] = max(turns.get(comparison_id, 0), int(count))
        summaries = []
        for r in rows:
            labels, models = _column_names(r["setups"])
            summaries.append(ComparisonSummary(
                id=r["id"],
                title=r["title"] or first_titles.get(r["id"]) or "",
                created=sane_time(r["created"]),
                updated=sane_time(r["updated"]),
                labels=labels,
                models=models,
                blind=bool(r["blind"]),
                turns=turns.get(r["id"], 0),
                votes=int(vote_counts.get(r["id"], 0)),
                totals=self._totals_from(sums[r["id"]]) if r["id"] in sums else SessionTotals(),
            ))
        return summaries

    def delete_comparison(self, comparison_id: str) -> bool:
        """Delete the comparison, its columns' threads, and the images nothing else shows; False
        when there was nothing to delete. Its votes stay in the leaderboard until :meth:`clear_votes`."""
        k, c = comparisons, conversations
        with self._transaction(write=True) as conn:
            found = conn.execute(select(k.c.id).where(self._mine(k), k.c.id == comparison_id).with_for_update()).first()
            threads = conn.execute(
                select(c.c.id).where(self._mine(c), c.c.comparison_id == comparison_id).order_by(c.c.id).with_for_update()
            ).scalars().all()
            for thread_id in threads:
                self._delete_conversation(conn, thread_id)
            conn.execute(delete(k).where(self._mine(k), k.c.id == comparison_id))
            return found is not None

    def votes(self) -> list[Vote]:
        """Every vote the leaderboard counts, oldest first: each judgement once, however many
        imported copies of its comparison hold it; those of deleted comparisons too."""
        v = votes
        with self._transaction(write=False) as conn:
            rows = conn.execute(
                select(v).where(self._mine(v), v.c.counted.is_(True)).order_by(v.c.created, v.c.id)
            ).mappings().all()
        seen: set[str] = set()
        counted = []
        for row in rows:
            if row["id"] in seen:
                continue
            seen.add(row["id"])
            if (vote := _vote_from_row(row)) is not None:
                counted.append(vote)
        return counted

    def clear_votes(self) -> None:
        """Start the leaderboard afresh: the votes of deleted comparisons go; the others stay with
        their comparison (which still shows what was voted) but are no longer counted."""
        v = votes
        with self._transaction(write=True) as conn:
            gone = ~select(comparisons.c.id).where(comparisons.c.id == v.c.comparison_id).exists()
            conn.execute(delete(v).where(self._mine(v), gone))
            conn.execute(update(v).where(self._mine(v), v.c.counted.is_(True)).values(counted=False))

    # -- the prompt lab: test sets and runs ------------------------------------------------

    def save_test_set(self, test_set: TestSet) -> None:
        """Save under its name, replacing a test set of that name (its creation time stays)."""
        now = time.time()
        row = {"owner": self.owner, "name": self._text(test_set.name), "columns": test_set.columns,
               "rows": test_set.rows, "created": now, "updated": now}
        statement = (sqlite_insert if self.is_sqlite else pg_insert)(test_sets)
        statement = statement.on_conflict_do_update(
            index_elements=["owner", "name"],
            set_={name: statement.excluded[name] for name in ("columns", "rows", "updated")},
        )
        with self._transaction(write=True) as conn:
            conn.execute(statement, _as_json(row))

    def load_test_set(self, name: str) -> TestSet:
        with self._transaction(write=False) as conn:
            row = conn.execute(
                select(test_sets).where(self._mine(test_sets), test_sets.c.name == name)
            ).mappings().first()
        if row is None:
            raise TestSetNotFoundError(f"No test set is saved as {name!r}.")
        return TestSet(row["name"], list(row["columns"]), [dict(r) for r in row["rows"]])

    def list_test_sets(self) -> list[str]:
        """The names of the saved test sets, most recently saved first."""
        with self._transaction(write=False) as conn:
            return list(conn.execute(
                select(test_sets.c.name).where(self._mine(test_sets))
                .order_by(test_sets.c.updated.desc(), test_sets.c.name)
            ).scalars())

    def delete_test_set(self, name: str) -> bool:
        """Delete the test set; its runs stay (each keeps a copy of its rows)."""
        with self._transaction(write=True) as conn:
            return conn.execute(delete(test_sets).where(self._mine(test_sets), test_sets.c.name == name)).rowcount > 0

    def save_run(self, result: LabResult) -> None:
        """Insert or replace a run (saved as it goes, then once more when it ends)."""
        data = result.to_dict()
        row = {name: data[name] for name in ("id", "created", "status", "template", "setups", "checks", "rows", "cells")}
        row.update(owner=self.owner, test_set=self._text(result.test_set), note=self._text(result.note))
        # Another person's run of this id is not replaced: the upsert then writes nothing, and says so.
        statement = self._upsert(lab_runs, ["id"], where=self._mine(lab_runs)).returning(lab_runs.c.id)
        with self._transaction(write=True) as conn:
            if conn.execute(statement, _as_json(row)).first() is None:
                raise StoreError(f"A saved run has the id {result.id} already.")

    def load_run(self, run_id: str) -> LabResult:
        """The run as saved; LabRunNotFoundError, or StoreError when its row is damaged."""
        with self._transaction(write=False) as conn:
            row = conn.execute(select(lab_runs).where(self._mine(lab_runs), lab_runs.c.id == run_id)).mappings().first()
        if row is None:
            raise LabRunNotFoundError(f"No saved run has the id {run_id}.")
        try:
            return LabResult.from_dict(dict(row))
        except (KeyError, TypeError, ValueError, ChatError) as exc:
            raise StoreError(f"The saved run {run_id} is damaged and cannot be opened.", detail=str(exc)) from None

    def list_runs(self, test_set: str | None = None, limit: int = 100) -> list[LabResult]:
        """Saved runs, newest first; with ``test_set``, only the runs of that test set (to diff two)."""
        query = select(lab_runs.c.id).where(self._mine(lab_runs)).order_by(lab_runs.c.created.desc(), lab_runs.c.id).limit(limit)
        if test_set is not None:
            query = query.where(lab_runs.c.test_set == test_set)
        with self._transaction(write=False) as conn:
            ids = list(conn.execute(query).scalars())
        return [self.load_run(run_id) for run_id in ids]

    def delete_run(self, run_id: str) -> bool:
        with self._transaction(write=True) as conn:
            return conn.execute(delete(lab_runs).where(self._mine(lab_runs), lab_runs.c.id == run_id)).rowcount > 0

    # -- read-only share links (lib.store.shares makes and reads their snapshots) -----------------

    def add_share(self, token: str, kind: str, source_id: str, title: str, snapshot: str,
                  expires: float | None) -> Share:
        """Keep a new link of this owner's; ``token`` must be unguessable (lib.store.shares makes it)."""
        share = Share(token, self.owner, kind, source_id, self._text(title) or "", time.time(), expires, None)
        with self._transaction(write=True) as conn:
            conn.execute(insert(shares).values(**share.__dict__, snapshot=self._text(snapshot)))
        return share

    def list_shares(self) -> list[Share]:
        """This owner's links that are not revoked, newest first (expired ones too: the page says so)."""
        columns = [c for c in shares.c if c.name != "snapshot"]
        query = (select(*columns).where(self._mine(shares), shares.c.revoked.is_(None))
                 .order_by(shares.c.created.desc(), shares.c.token))
        with self._transaction(write=False) as conn:
            return [Share(**row) for row in conn.execute(query).mappings()]

    def revoke_share(self, token: str) -> bool:
        """Revoke one of this owner's links for good, dropping its snapshot; False when it is none of theirs."""
        query = (update(shares).where(shares.c.token == token, self._mine(shares), shares.c.revoked.is_(None))
                 .values(revoked=time.time(), snapshot=""))
        with self._transaction(write=True) as conn:
            return conn.execute(query).rowcount > 0

    def shared_snapshot(self, token: str, now: float | None = None) -> tuple[Share, str]:
        """The link and its snapshot, for anyone holding the token (no owner: that is what a link is for).

        Raises ShareNotFoundError alike for an unknown, a revoked and an expired token.
        """
        with self._transaction(write=False) as conn:
            row = conn.execute(select(shares).where(shares.c.token == token)).mappings().first()
        if row is None:
            raise ShareNotFoundError("Nothing is shared at this address.")
        data = dict(row)
        snapshot = data.pop("snapshot")
        share = Share(**data)
        if not share.live(time.time() if now is None else now):
            raise ShareNotFoundError("Nothing is shared at this address.")
        return share, snapshot


def _stored_comparison_head(row: Any) -> dict[str, Any]:
    """A comparison row's fields as :meth:`Store._comparison_head` makes them."""
    setups = row["setups"] if isinstance(row["setups"], list) else []
    head = {"title": row["title"], "blind": bool(row["blind"]), "order": row["column_order"]}
    head.update({f"setup {i}": setup for i, setup in enumerate(setups)})
    return _as_json(head)


def _comparison_row(head: dict[str, Any]) -> dict[str, Any]:
    """The comparison table's columns from its head fields."""
    setups = [head[f"setup {i}"] for i in range(len(head)) if f"setup {i}" in head]
    return {"title": head["title"], "blind": head["blind"], "column_order": head["order"], "setups": setups}


def _column_names(setups: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Each column's label and model, from a row's set-ups; "?" for one that cannot be read."""
    labels, models = [], []
    for data in setups if isinstance(setups, list) else []:
        try:
            setup = Setup.from_dict(data)
        except (KeyError, TypeError, ValueError, AttributeError):
            labels.append("?")
            models.append("?")
            continue
        labels.append(setup.label())
        models.append(setup.model)
    return tuple(labels), tuple(models)


def _vote_from_row(row: Any) -> Vote | None:
    """The vote a row holds; None (and a warning) for one edited by hand into something no vote is."""
    try:
        vote = Vote(
            turn=int(row["turn"]), outcome=row["outcome"], winner=None if row["winner"] is None else int(row["winner"]),
            setups=tuple(Setup.from_dict(setup) for setup in row["setups"]), created=float(row["created"]), id=row["id"],
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning("a stored vote cannot be read: %s", exc)
        return None
    if vote.outcome not in ("win", "tie", "bad") or (vote.outcome == "win") != (vote.winner is not None) or (
        vote.winner is not None and not 0 <= vote.winner < len(vote.setups)
    ):
        log.warning("the stored vote %s is not a vote any version of the app casts; left out", vote.id)
        return None
    return vote


def _once_per_comparison(hits: list[SearchHit]) -> list[SearchHit]:
    """The hits without the copies a comparison's other columns make: its question (and title) is
    in every column, and is found once."""
    seen: set[tuple[str, str | None, str]] = set()
    kept = []
    for hit in hits:
        if hit.comparison_id is not None:
            key = (hit.comparison_id, hit.role, hit.snippet)
            if key in seen:
                continue
            seen.add(key)
        kept.append(hit)
    return kept


def _within(value: ColumnElement[Any], low: float, high: float) -> ColumnElement[Any]:
    """``value`` where it lies in [low, high], else NULL: NaN, infinities, 1e308 and text never
    reach a sum (1e308 + 1e308 overflows on PostgreSQL and fails the whole query)."""
    return case((value.between(low, high), value))


def _time(value: ColumnElement[Any]) -> ColumnElement[Any]:
    """A time column, NULL where no conversation could be from then: to sort by, as :func:`sane_time` reads it."""
    return _within(value, EARLIEST_TIME, LATEST_TIME)


def _newest(table: Table) -> tuple[ColumnElement[Any], ...]:
    """The order lists and pages follow: newest first, unknown times last, then by id."""
    return (_time(table.c.updated).desc().nulls_last(), table.c.id)


def _after(table: Table, cursor: Cursor) -> ColumnElement[bool]:
    """The rows that come after ``cursor`` in the order of :func:`_newest`: keyset paging, which
    stays as fast at the last page as at the first and skips or repeats no row when others are saved."""
    when = _time(table.c.updated)
    if cursor.updated is None:
        return and_(when.is_(None), table.c.id > cursor.id)
    return or_(when < cursor.updated, and_(when == cursor.updated, table.c.id > cursor.id), when.is_(None))


def _paged(table: Table, after: Cursor | None, through: Cursor | None) -> list[ColumnElement[bool]]:
    """The conditions of a page: the rows after one cursor, and up to another."""
    return [
        *([_after(table, after)] if after is not None else []),
        *([~_after(table, through)] if through is not None else []),
    ]


def _newest_first(when: float | None) -> tuple[bool, float]:
    # The order of _time(...).desc().nulls_last(): unknown times last.
    return (when is None, -(when or 0.0))


def _oldest_first(when: float | None) -> tuple[bool, float]:
    return (when is None, when or 0.0)


def _known_times(created: Any, updated: Any, loaded: list[Message]) -> tuple[float, float]:
    """The conversation's times, any impossible one (in a row edited by hand) replaced by the
    nearest known: so that sorting, formatting and exporting it cannot fail.

    A message's impossible time becomes the conversation's start.
    """
    known = [t for t in (sane_time(m.created) for m in loaded) if t is not None]
    start = sane_time(created) or min(known, default=None) or sane_time(updated) or EARLIEST_TIME
    end = sane_time(updated) or max(known, default=start)
    for message in loaded:
        if sane_time(message.created) is None:
            message.created = start
    return start, end


def _image_from_row(row: Any, name: str | None, note: str | None) -> Image | None:
    """The image a row holds; None (and a warning) for a row that no image could come from, a
    missing one or one edited by hand, so that the chat still opens, without it."""
    if row is None:
        log.warning("a message links to an image that is not stored")
        return None
    try:
        image = Image(bytes(row["data"]), row["media_type"], int(row["width"]), int(row["height"]), name or "", note)
    except (TypeError, ValueError) as exc:
        log.warning("a stored image cannot be read: %s", exc)
        return None
    if image.digest != row["digest"]:
        log.warning("the stored image %s does not match its digest; left out", row["digest"])
        return None
    return image


def _message_from_row(row: Any, attached: tuple[Image, ...] = ()) -> Message:
    stats = None
    if row["has_stats"]:
        # Figures no reply could have (a row written by hand or another tool) read as unknown.
        counts = (sane_number(row[name], sane_count) for name in ("prompt_tokens", "completion_tokens", "total_tokens"))
        usage = Usage(*counts, bool(row["tokens_estimated"])) if row["has_usage"] else None
        usd = sane_number(row["cost_usd"], sane_cost)
        cost = Cost(usd, row["cost_source"]) if row["cost_source"] is not None and usd is not None else None
        stats = ReplyStats(
            usage=usage,
            cost=cost,
            time_to_first_token=sane_seconds(row["time_to_first_token"]),
            total_time=sane_seconds(row["total_time"]),
            last_token_time=sane_seconds(row["last_token_time"]),
            finish_reason=row["finish_reason"],
            model=row["reply_model"],
            provider=row["provider"],
            request_id=row["request_id"],
        )
    return Message(
        role=row["role"],
        content=row["content"],
        parent=row["parent"],
        id=row["id"],
        created=row["created"],
        status=row["status"],
        stats=stats,
        model=row["model"],
        params=dict(row["params"] or {}),
        error=row["error"],
        error_title=row["error_title"],
        images=attached,
        request=SentRequest.from_dict(row["request"]),
    )
