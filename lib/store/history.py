"""What the History page lists: the newest conversations, or the ones a search found, however old."""

from __future__ import annotations

from dataclasses import dataclass, field

from lib.store.database import ConversationSummary, SearchHit, Store


@dataclass(frozen=True)
class Listing:
    #: the conversations to list and choose from, most recently updated first
    summaries: list[ConversationSummary]
    #: whether there was a query (then ``hits`` are its matches, and ``summaries`` their conversations)
    searched: bool = False
    hits: list[SearchHit] = field(default_factory=list)


def history_listing(store: Store, query: str, *, limit: int, selected: str | None = None) -> Listing:
    """The conversations to list for ``query`` (blank: no search).

    A search lists the conversations its hits are in, fetched by id: never looked up among the
    newest ``limit``, where an older one would be missing and its hit could not be opened.
    Without a search the newest ``limit`` are listed, and ``selected`` too (a conversation just
    imported with its old dates, say) when it is older than those and still exists.
    """
    if query.strip():
        hits = store.search(query)
        summaries = store.list(limit=limit, ids=[hit.conversation_id for hit in hits]) if hits else []
        return Listing(summaries, searched=True, hits=hits)
    summaries = store.list(limit=limit)
    if selected is not None and selected not in {s.id for s in summaries}:
        summaries = [*store.list(limit=1, ids=[selected]), *summaries]
    return Listing(summaries)
