"""Conversations for tests, built the same way every time (ids and times included)."""

from __future__ import annotations

from sqlalchemy import Table, update

import lib.store.database as store_module
from lib.chat.conversation import Conversation, Message
from lib.chat.usage import Cost, ReplyStats, Usage
from lib.store.database import Store

#: a fixed instant, so that conversations built in two processes are equal
T0 = 1_760_000_000.0


def stats(prompt: int, completion: int, cost: Cost | None, *, finish: str = "stop", request: str = "req") -> ReplyStats:
    return ReplyStats(
        usage=Usage(prompt, completion, prompt + completion),
        cost=cost,
        time_to_first_token=0.25,
        total_time=1.5,
        finish_reason=finish,
        model="google/gemma-3-27b-it:free",
        provider="google",
        request_id=request,
    )


def make_conversation(seed: int = 0, *, filler: int = 0) -> Conversation:
    """A conversation with branches, every reply status, stats in every shape, and awkward text.

    The same seed always gives an equal conversation (ids and times included), so a
    subprocess can write one and the test can rebuild it to compare. ``filler`` adds that
    many more turns of 2 kB each, to make a save take a while.
    """
    prefix = f"c{seed:05d}"

    def msg(key: str, role: str, content: str, parent: str | None, offset: float, **extra: object) -> Message:
        return Message(role, content, parent=f"{prefix}-{parent}" if parent else None,  # type: ignore[arg-type]
                       id=f"{prefix}-{key}", created=T0 + seed + offset, **extra)  # type: ignore[arg-type]

    items = [
        msg("u1", "user", f"Question {seed}: what's 'quoted' \"text\", 50% of_it, and Ünïcödé 🍌?\nSecond line.", None, 0.1),
        msg("a1", "assistant", "First answer with **Markdown**\n\n```python\nprint('<b>')\n```", "u1", 0.2,
            stats=stats(12, 30, Cost(0.00012, "reported")), model="google/gemma-3-27b-it",
            params={"temperature": 0.7, "max_tokens": 512, "stop": ["\n\n"]}),
        msg("a2", "assistant", "Regenerated answer, stopped half", "u1", 0.3, status="stopped",
            stats=ReplyStats(usage=Usage(12, None, None), cost=Cost(0.00002, "estimate"), total_time=0.4),
            model="google/gemma-3-12b-it", params={"temperature": 1.2}),
        msg("u2", "user", "A follow-up", "a2", 0.4),
        msg("u2b", "user", "An edited follow-up", "a2", 0.5),
        msg("a3", "assistant", "Cut off by a dropped connection", "u2b", 0.6, status="incomplete",
            stats=ReplyStats(), model="google/gemma-3-27b-it"),
        msg("u3", "user", "This one failed", "a3", 0.7, error="The API had a server error (502).", error_title="Server error"),
        msg("a4", "assistant", "No stats at all", "u2", 0.8),
    ]
    # The failed u3 has no reply, so filler turns hang off a4 instead, alternating properly.
    parent = "a4"
    for turn in range(filler):
        items.append(msg(f"fu{turn}", "user", f"filler question {turn} " + "x" * 2000, parent, 1 + turn))
        items.append(msg(f"fa{turn}", "assistant", f"filler answer {turn} " + "y" * 2000, f"fu{turn}", 1.5 + turn,
                         stats=stats(100 + turn, 200, Cost(0.001, "meta"))))
        parent = f"fa{turn}"
    return Conversation(
        system_prompt="Be <b>helpful</b>.\nTwo lines.",
        model="google/gemma-3-27b-it",
        id=f"conv-{seed:05d}",
        title=f"Conversation {seed}: bananas & <tags>",
        created=T0 + seed,
        updated=T0 + seed + 10,
        instruction_role="developer",
        params={"temperature": 0.7, "top_p": 0.9, "nested": {"list": [1, 2.5, None, "x"]}},
        messages={m.id: m for m in items},
        leaf=f"{prefix}-u3" if not filler else f"{prefix}-{parent}",
    )


def spoil(store: Store, table: Table, row_id: str, **values: object) -> None:
    """Write ``values`` into a row directly, as a hand edit or another tool would: no sanitizer."""
    with store._transaction(write=True) as conn:
        conn.execute(update(table).where(table.c.id == row_id).values(**values))


def save_spoiled(store: Store, seed: int) -> Conversation:
    """``make_conversation(seed)``, saved, then given figures and times that no reply or
    conversation could have: two costs of 1e308 (whose sum overflows on PostgreSQL), token
    counts that overflow SQLite's sum, NaN, negative and endless times.
    """
    conversation = make_conversation(seed)
    store.save(conversation)
    m, c, prefix = store_module.messages, store_module.conversations, f"c{seed:05d}"
    # What each backend's columns can hold: SQLite's integers are 64-bit and it keeps NaN as NULL.
    huge = 2**62 if store.is_sqlite else 2_000_000_000
    nan = float("inf") if store.is_sqlite else float("nan")
    spoil(store, m, f"{prefix}-a1", cost_usd=1e308, prompt_tokens=huge, completion_tokens=-5, total_tokens=huge,
          time_to_first_token=1e308, total_time=nan, last_token_time=-1.0)
    spoil(store, m, f"{prefix}-a2", cost_usd=1e308, prompt_tokens=huge, created=float("inf"))
    spoil(store, c, conversation.id, created=-1.0, updated=1e308)
    return conversation
