"""What the History page lists: the newest conversations and comparisons, or the ones a search
found, however old."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lib.api.models import model_info
from lib.chat.markdown_html import literal
from lib.chat.usage import format_time
from lib.store.database import ComparisonSummary, ConversationSummary, Cursor, SearchHit, Store
from lib.store.exporting import COLUMN_NAMES
from lib.words import count


@dataclass(frozen=True)
class Listing:
    #: the conversations to list and choose from, most recently updated first
    summaries: list[ConversationSummary]
    #: whether there was a query (then ``hits`` are its matches, and ``summaries`` their conversations)
    searched: bool = False
    hits: list[SearchHit] = field(default_factory=list)
    #: the comparisons to list, as ``summaries`` are listed (a search's: those its hits are in)
    comparisons: list[ComparisonSummary] = field(default_factory=list)
    #: whether older conversations (comparisons) than those listed exist: the page offers "Show more"
    more: bool = False
    more_comparisons: bool = False

    def matches_text(self) -> str:
        """What a search found, in a few words."""
        text = f"{count(len(self.hits), 'match', 'matches')} in {count(len(self.summaries), 'conversation')}"
        return f"{text} and {count(len(self.comparisons), 'comparison')}" if self.comparisons else text


Summary = TypeVar("Summary", ConversationSummary, ComparisonSummary)


def grown_list(page: Callable[..., list[Summary]], size: int, through: Cursor | None) -> tuple[list[Summary], bool]:
    """A list that grows a page at a time: the newest ``size`` rows, or every row from the newest
    down to ``through`` (where the last "Show more" ended); and whether there are older ones.

    ``page`` is :meth:`Store.list` or :meth:`Store.list_comparisons`. Keyset bounds rather than a
    count of rows: a chat saved meanwhile moves to the top without pushing another out of sight.
    """
    if through is None:
        rows = page(limit=size + 1)
        return rows[:size], len(rows) > size
    return page(limit=None, through=through), bool(page(limit=1, after=through))


def next_page_end(page: Callable[..., list[Any]], size: int, shown: list[Summary]) -> Cursor | None:
    """Where the list ends after one more page below ``shown``; None when there is none."""
    older = page(limit=size, after=Cursor.of(shown[-1])) if shown else []
    return Cursor.of(older[-1]) if older else None


def history_listing(
    store: Store, query: str, *, limit: int, selected: str | None = None, selected_comparison: str | None = None,
    through: Cursor | None = None, comparisons_through: Cursor | None = None,
) -> Listing:
    """The conversations and comparisons to list for ``query`` (blank: no search).

    A search lists the conversations and comparisons its hits are in, fetched by id: never looked
    up among the newest ``limit``, where an older one would be missing and its hit could not be
    opened. Without a search the newest page of ``limit`` of each is listed, or as many pages as
    "Show more" asked for (down to ``through`` and ``comparisons_through``); and ``selected`` and
    ``selected_comparison`` too (one just imported with its old dates, say) when they are older
    than those and still exist.
    """
    if query.strip():
        hits = store.search(query)
        chats = [hit.conversation_id for hit in hits if hit.comparison_id is None]
        compared = [hit.comparison_id for hit in hits if hit.comparison_id is not None]
        summaries = store.list(limit=limit, ids=chats) if chats else []
        comparisons = store.list_comparisons(limit=limit, ids=compared) if compared else []
        return Listing(summaries, searched=True, hits=hits, comparisons=comparisons)
    summaries, more = grown_list(store.list, limit, through)
    if selected is not None and selected not in {s.id for s in summaries}:
        summaries = [*store.list(limit=1, ids=[selected]), *summaries]
    comparisons, more_comparisons = grown_list(store.list_comparisons, limit, comparisons_through)
    if selected_comparison is not None and selected_comparison not in {c.id for c in comparisons}:
        comparisons = [*store.list_comparisons(limit=1, ids=[selected_comparison]), *comparisons]
    return Listing(summaries, comparisons=comparisons, more=more, more_comparisons=more_comparisons)


def comparison_rows(comparisons: list[ComparisonSummary]) -> list[dict[str, object]]:
    """The comparisons as the History page's table shows them."""
    return [
        {
            "Title": c.title or "(untitled)",
            # The models only: a set-up's whole label is long, and shown for the selected one.
            "Models": " vs ".join(model_info(model).label for model in c.models),
            "Updated": format_time(c.updated),
            "Turns": c.turns,
            "Votes": c.votes,
            "Cost": c.cost_text(),
        }
        for c in comparisons
    ]


def comparison_caption(summary: ComparisonSummary) -> str:
    """A few lines on the selected comparison: its figures, and each column's set-up."""
    blind = " · blind" if summary.blind else ""
    figures = (
        f"{count(len(summary.labels), 'set-up')} · {count(summary.turns, 'turn')} · {count(summary.votes, 'vote')} · "
        f"{summary.cost_text()}"
        f"{blind} · started {format_time(summary.created)}"
    )
    columns = "  \n".join(f"{name}: {literal(label)}" for name, label in zip(COLUMN_NAMES, summary.labels, strict=False))
    return f"{figures}  \n{columns}"


def comparison_options(comparisons: list[ComparisonSummary]) -> dict[str, str]:
    """Each comparison's name in the page's select box, by id: title and time, and a number after
    a repeat. The select box tells its options apart by these names alone (an import of a
    comparison still saved has the same title and times), so two equal ones would open the same."""
    names: dict[str, str] = {}
    used: set[str] = set()
    for summary in comparisons:
        name = base = f"{summary.title or '(untitled)'} · {format_time(summary.updated)}"
        number = 1
        while name in used:
            number += 1
            name = f"{base} ({number})"
        used.add(name)
        names[summary.id] = name
    return names
