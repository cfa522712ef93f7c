"""History: every saved conversation and comparison, to search, open, rename, delete, export and import."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

import streamlit as st

from lib.chat.markdown_html import literal
from lib.chat.usage import format_time
from lib.errors import ChatError, ComparisonNotFoundError, ConversationNotFoundError
from lib.settings import Settings, load_settings
from lib.store.database import ComparisonSummary, ConversationSummary, SearchHit, Store
from lib.store.exporting import (
    COMPARISON_EXPORT_FORMATS,
    EXPORT_FORMATS,
    comparison_filename,
    comparison_title,
    filename,
)
from lib.store.history import (
    comparison_caption,
    comparison_options,
    comparison_rows,
    history_listing,
    next_page_end,
)
from lib.store.importing import ImportedComparison, import_file
from lib.words import count
from ui.nav import PAGE_ICON, page_links
from ui.people import is_admin_here, require_sign_in
from ui.share import share_button, shared_links
from ui.store import cached_store

# The icon ships with the app: a ":material/…" page icon is fetched from a font CDN, which fails offline.
st.set_page_config(page_title="History · Gemma Chat", page_icon=PAGE_ICON)
require_sign_in()

#: rows a page of the list adds; "Show more" adds another
PAGE_SIZE = 100
#: where the list ends after "Show more" (a Cursor; absent: the first page)
THROUGH = "history_through"
COMPARISONS_THROUGH = "history_comparisons_through"
SHOWN_HITS = 20
SELECTED = "history_selected"
CONFIRM_DELETE = "history_confirm_delete"
FLASH = "history_flash"
IMPORTED = "history_imported_files"
IMPORT_ERROR = "history_import_error"
UPLOADER = "history_import"
SELECTED_COMPARISON = "history_selected_comparison"
CONFIRM_DELETE_COMPARISON = "history_confirm_delete_comparison"
COMPARE_PAGE = "pages/2_Compare.py"
#: this page's own path in the app's address (share links are made from it)
PAGE_PATH = "History"


def show_hit(hit: SearchHit) -> None:
    where = "title" if hit.role is None else ("you" if hit.role == "user" else "reply")
    text = hit.snippet
    marked = f"{literal(text[: hit.start])}**{literal(text[hit.start : hit.end])}**{literal(text[hit.end :])}"
    kind = "Comparison " if hit.comparison_id else ""
    st.markdown(f"{kind}**{literal(hit.title or '(untitled)')}** · {where}: {marked}")


def upload_limit_mb(settings: Settings) -> int:
    """The uploader's limit in whole MB: CHAT_IMPORT_MAX_BYTES rounded up, within the server's ceiling.

    The uploader states its limit itself ("5MB per file"), so the page never states another one;
    the import still checks the exact byte count.
    """
    wanted = max(1, math.ceil(settings.import_max_bytes / 1_000_000))
    ceiling = st.get_option("server.maxUploadSize")
    return min(wanted, ceiling) if isinstance(ceiling, int) and ceiling > 0 else wanted


def import_upload(store: Store, settings: Settings) -> None:
    """Import the file just uploaded, as a callback: it runs before the page is drawn.

    Only before the selectbox exists may its key be set, so selecting the import here
    cannot crash the page. The uploader keeps its file across reruns, and the same file
    may be handed over again; each file id is imported once.
    """
    uploaded = st.session_state.get(UPLOADER)
    done: set[str] = st.session_state.setdefault(IMPORTED, set())
    if uploaded is None or uploaded.file_id in done:
        return
    done.add(uploaded.file_id)
    try:
        imported = import_file(
            store, uploaded.getvalue(), max_bytes=settings.import_max_bytes, default_model=settings.model,
            max_messages=settings.import_max_messages,
        )
    except ChatError as exc:
        st.session_state[IMPORT_ERROR] = str(exc)
        return
    # A search that the import does not match would hide it from the list and the selection.
    st.session_state["history_search"] = ""
    if isinstance(imported, ImportedComparison):
        comparison = imported.comparison
        st.session_state[SELECTED_COMPARISON] = comparison.id
        st.session_state.pop(CONFIRM_DELETE_COMPARISON, None)
        st.session_state[FLASH] = " ".join([
            f"Imported the comparison “{literal(comparison_title(comparison) or 'untitled')}” "
            f"({count(len(comparison.setups), 'set-up')}, {count(comparison.turns, 'turn')}, "
            f"{count(len(comparison.votes), 'vote')}).",
            *imported.notes,
        ])
        return
    conversation = imported.conversation
    st.session_state[SELECTED] = conversation.id
    st.session_state.pop(CONFIRM_DELETE, None)
    st.session_state[FLASH] = " ".join(
        [f"Imported “{conversation.title or 'untitled'}” ({len(conversation.messages)} messages).", *imported.notes]
    )


def import_section(store: Store, settings: Settings) -> None:
    st.file_uploader(
        'Import a conversation or a comparison: a JSON export of this app, or `{"messages": [{"role", "content"}, …]}`',
        type=["json"],
        key=UPLOADER,
        max_upload_size=upload_limit_mb(settings),
        on_change=import_upload,
        args=(store, settings),
    )
    if error := st.session_state.pop(IMPORT_ERROR, None):
        st.error(error, icon=":material/error:")


def confirm_delete(
    asked: str, item_id: str, key: str, label: str, question: str, delete: Callable[[], object], selected: str, done: str,
) -> None:
    """A Delete button that asks first (``question``), then deletes, unselects the item and says ``done``."""
    if st.session_state.get(asked) != item_id:
        if st.button(label, key=key):
            st.session_state[asked] = item_id
            st.rerun()
        return
    st.warning(question)
    yes, no = st.columns(2)
    if yes.button("Yes, delete", type="primary", key=f"{key}_yes"):
        delete()
        st.session_state.pop(asked, None)
        st.session_state.pop(selected, None)
        st.session_state[FLASH] = done
        st.rerun()
    if no.button("Cancel", key=f"{key}_no"):
        st.session_state.pop(asked, None)
        st.rerun()


def delete_controls(store: Store, summary: ConversationSummary) -> None:
    title = summary.title or "untitled"
    confirm_delete(
        CONFIRM_DELETE, summary.id, "history_delete", "Delete",
        f"Delete “{title}” and its {summary.message_count} messages for good?",
        partial(store.delete, summary.id), SELECTED, f"Deleted “{title}”.",
    )


def selected_section(store: Store, summary: ConversationSummary) -> None:
    st.caption(
        f"{summary.message_count} messages · {summary.total_tokens:,} tokens · {summary.cost_text()} · "
        f"`{summary.model}` · started {format_time(summary.created)}"
    )
    if st.button("Open", type="primary", key="history_open"):
        st.session_state["open_conversation_id"] = summary.id
        st.switch_page("app.py")

    title_column, button_column = st.columns([4, 1], vertical_alignment="bottom")
    new_title = title_column.text_input("Title", value=summary.title, key=f"history_title_{summary.id}")
    if button_column.button("Rename", key="history_rename"):
        store.rename(summary.id, new_title)
        st.session_state[FLASH] = f"Renamed to “{' '.join(new_title.split())}”."
        st.rerun()

    try:
        conversation = store.load(summary.id)
    except ConversationNotFoundError:
        st.warning("This conversation was just deleted, perhaps in another tab.")
        return
    share_button(store, conversation, key="history_share", page_path=PAGE_PATH)
    export_buttons(EXPORT_FORMATS, conversation, filename, "history_download")
    delete_controls(store, summary)


def export_buttons(formats: Sequence[Any], item: Any, name: Callable[[Any, str], str], key: str) -> None:
    """One download button per format, side by side, for a conversation or a comparison."""
    with st.container(horizontal=True, gap="small", vertical_alignment="center"):
        for export in formats:
            st.download_button(
                f"Export {export.label}",
                # Made on the click: the three of a conversation of 10,000 messages took 2 s of every run.
                data=partial(export.render, item),
                file_name=name(item, export.extension),
                mime=export.mime,
                key=f"{key}_{export.extension}",
                on_click="ignore",
            )


def delete_comparison_controls(store: Store, summary: ComparisonSummary) -> None:
    title = literal(summary.title or "untitled")
    confirm_delete(
        CONFIRM_DELETE_COMPARISON, summary.id, "history_cmp_delete", "Delete comparison",
        f"Delete the comparison “{title}” and its {len(summary.labels)} columns for good? Its votes stay in the leaderboard.",
        partial(store.delete_comparison, summary.id), SELECTED_COMPARISON, f"Deleted the comparison “{title}”.",
    )


def selected_comparison_section(store: Store, summary: ComparisonSummary) -> None:
    st.caption(comparison_caption(summary))
    if st.button("Open comparison", type="primary", key="history_cmp_open"):
        st.switch_page(COMPARE_PAGE, query_params={"cmp": summary.id})
    try:
        comparison = store.load_comparison(summary.id)
    except ComparisonNotFoundError:
        st.warning("This comparison was just deleted, perhaps in another tab.")
        return
    share_button(store, comparison, key="history_cmp_share", page_path=PAGE_PATH, label="Share comparison")
    export_buttons(COMPARISON_EXPORT_FORMATS, comparison, comparison_filename, "history_cmp_download")
    delete_comparison_controls(store, summary)


def show_more(store: Store, shown: list[ConversationSummary] | list[ComparisonSummary], key: str) -> None:
    """Grow the list by a page, as a callback: the list is drawn again with it."""
    page = store.list if key == THROUGH else store.list_comparisons
    if (end := next_page_end(page, PAGE_SIZE, shown)) is not None:
        st.session_state[key] = end


def show_more_button(store: Store, shown: list[ConversationSummary] | list[ComparisonSummary], key: str) -> None:
    label = "Show more" if key == THROUGH else "Show more comparisons"
    st.button(
        label, key=f"{key}_more", on_click=show_more, args=(store, shown, key), icon=":material/expand_more:",
        help=f"The next {PAGE_SIZE}, older ones",
    )


def comparisons_section(store: Store, comparisons: list[ComparisonSummary], searched: bool, more: bool) -> None:
    st.subheader("Comparisons")
    if not comparisons:
        st.caption("No comparison contains that text." if searched else "No saved comparisons yet: Compare saves them here.")
        return
    st.dataframe(comparison_rows(comparisons), hide_index=True)
    if more:
        show_more_button(store, comparisons, COMPARISONS_THROUGH)
    ids = [c.id for c in comparisons]
    if st.session_state.get(SELECTED_COMPARISON) not in ids:
        st.session_state[SELECTED_COMPARISON] = ids[0]
    chosen = st.selectbox("Comparison", ids, key=SELECTED_COMPARISON, format_func=comparison_options(comparisons).get)
    selected_comparison_section(store, next(c for c in comparisons if c.id == chosen))


def main() -> None:
    with st.sidebar:
        page_links()
    st.title("History")
    settings = load_settings()
    store = cached_store(settings)
    if store is None:
        st.info("History is off (`CHAT_HISTORY=off`): conversations are not saved, so there is nothing to list.")
        return
    if is_admin_here(settings):  # where the database lives is for its admin, not for everyone who signs in
        st.caption(f"Saved in `{store.location}`")
    if flash := st.session_state.pop(FLASH, None):
        st.success(flash)

    query = st.text_input("Search all conversations", key="history_search", placeholder="a word from any title or message")
    # The conversations a search found are fetched by id, so a hit in the oldest one opens too.
    listing = history_listing(
        store, query, limit=PAGE_SIZE, selected=st.session_state.get(SELECTED),
        selected_comparison=st.session_state.get(SELECTED_COMPARISON),
        through=st.session_state.get(THROUGH), comparisons_through=st.session_state.get(COMPARISONS_THROUGH),
    )
    summaries = listing.summaries
    if listing.searched:
        st.caption(listing.matches_text())
        for hit in listing.hits[:SHOWN_HITS]:
            show_hit(hit)

    if summaries:
        st.dataframe(
            [
                {
                    "Title": s.title or "(untitled)",
                    "Updated": format_time(s.updated),
                    "Messages": s.message_count,
                    "Tokens": s.total_tokens,
                    "Cost": s.cost_text(),
                }
                for s in summaries
            ],
            hide_index=True,
        )
        if listing.more:
            show_more_button(store, summaries, THROUGH)
        ids = [s.id for s in summaries]
        if st.session_state.get(SELECTED) not in ids:
            st.session_state[SELECTED] = ids[0]
        by_id = {s.id: s for s in summaries}
        chosen = st.selectbox(
            "Conversation",
            ids,
            key=SELECTED,
            format_func=lambda i: f"{by_id[i].title or '(untitled)'} · {format_time(by_id[i].updated)}",
        )
        selected_section(store, by_id[chosen])
    elif listing.searched:
        if not listing.hits:  # else they were deleted since, perhaps in another tab: nothing to say
            st.info("No conversation contains that text.")
    else:
        st.info("No saved conversations yet. Chats are saved here as you have them.")

    st.divider()
    comparisons_section(store, listing.comparisons, listing.searched, listing.more_comparisons)
    st.divider()
    shared_links(store, PAGE_PATH)
    st.divider()
    import_section(store, settings)


try:
    main()
except ChatError as exc:
    st.error(str(exc), icon=":material/error:")
