"""The History page, driven by Streamlit's AppTest against a SQLite file in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.chat.conversation import Conversation
from lib.chat.markdown_html import literal
from lib.chat.usage import Cost, ReplyStats, Usage, format_time
from lib.experiments.compare import Comparison
from lib.settings import load_settings
from lib.store import exporting
from lib.store.database import Store, open_store
from lib.store.exporting import ExportFormat, comparison_to_json, to_json
from tests.comparison_samples import BIG, MIDDLE, SMALL, make_comparison
from tests.conftest import isolate_env
from tests.samples import T0, make_conversation, save_spoiled

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "pages" / "1_History.py"

# The store_url fixture, on every backend.
pytest_plugins = ("tests.store_fixtures",)


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """An empty store at CHAT_DB_PATH, which the page opens too."""
    # isolate_env also empties Streamlit's caches, where the app keeps its settings and store.
    isolate_env(monkeypatch, tmp_path, CHAT_DB_PATH=str(tmp_path / "history.sqlite3"), CHAT_HISTORY="on")
    monkeypatch.delenv("CHAT_DB_URL", raising=False)
    monkeypatch.delenv("CHAT_IMPORT_MAX_BYTES", raising=False)
    settings = load_settings()
    assert not settings.db_url
    store = open_store(settings)
    assert store is not None
    yield store
    store.close()
    st.cache_resource.clear()


def chat(title: str, question: str, answer: str, updated: float, tokens: int = 30, cost: float = 0.002) -> Conversation:
    conversation = Conversation(system_prompt="", model="google/gemma-3-27b-it", title=title)
    conversation.add_user(question)
    conversation.add_reply(answer, stats=ReplyStats(usage=Usage(10, tokens - 10, tokens), cost=Cost(cost, "reported")))
    conversation.updated = updated
    return conversation


@pytest.fixture
def three(db: Store) -> list[Conversation]:
    chats = [
        chat("Banana bread", "How do I bake banana bread?", "Mash three ripe bananas, then fold in the flour.", 1_700_000_300),
        chat("Tax forms", "Which form for freelancers?", "That depends on the country you file in.", 1_700_000_200, 50, 0.01),
        chat("Rust lifetimes", "Explain lifetimes", "A lifetime names how long a borrow stays valid.", 1_700_000_100),
    ]
    for conversation in chats:
        db.save(conversation)
    return chats


def upload(at: AppTest, name: str, data: bytes) -> AppTest:
    return at.file_uploader(key="history_import").set_value((name, data, "application/json")).run()


def page() -> AppTest:
    """The History page as a user reaches it: the app starts on the chat, then switches."""
    at = AppTest.from_file(str(PAGE.parent.parent / "app.py"), default_timeout=30).run()
    return at.switch_page(f"pages/{PAGE.name}").run()


def table(at: AppTest) -> list[dict[str, object]]:
    return at.dataframe[0].value.to_dict("records")


def test_lists_conversations_newest_first_with_their_figures(three: list[Conversation]) -> None:
    at = page()
    assert not at.exception
    rows = table(at)
    assert [r["Title"] for r in rows] == ["Banana bread", "Tax forms", "Rust lifetimes"]
    assert rows[1]["Messages"] == 2
    assert rows[1]["Tokens"] == 50
    assert rows[1]["Cost"] == "$0.01"
    assert at.selectbox(key="history_selected").value == three[0].id


def test_empty_history_says_so(db: Store) -> None:
    at = page()
    assert not at.exception
    assert "No saved conversations yet" in at.info[0].value


def test_history_off_says_so(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_HISTORY", "off")
    at = page()
    assert not at.exception
    assert "History is off" in at.info[0].value
    assert not at.dataframe and not at.button


def test_search_finds_text_across_conversations(three: list[Conversation]) -> None:
    at = page()
    at.text_input(key="history_search").input("RIPE").run()
    assert [r["Title"] for r in table(at)] == ["Banana bread"]
    assert any("**ripe**" in m.value for m in at.markdown)
    at.text_input(key="history_search").input("the").run()
    assert [r["Title"] for r in table(at)] == ["Banana bread", "Tax forms"]
    at.text_input(key="history_search").input("nothing like this").run()
    assert not at.dataframe
    assert "No conversation contains" in at.info[0].value


def test_rename(three: list[Conversation], db: Store) -> None:
    at = page()
    at.selectbox(key="history_selected").select(three[1].id).run()
    at.text_input(key=f"history_title_{three[1].id}").input("Freelance taxes").run()
    at.button(key="history_rename").click().run()
    assert not at.exception
    assert db.load(three[1].id).title == "Freelance taxes"
    assert [r["Title"] for r in table(at)][1] == "Freelance taxes"
    assert "Renamed" in at.success[0].value


def test_delete_asks_first(three: list[Conversation], db: Store) -> None:
    at = page()
    at.selectbox(key="history_selected").select(three[2].id).run()
    at.button(key="history_delete").click().run()
    assert "for good" in at.warning[0].value
    assert db.exists(three[2].id)

    at.button(key="history_delete_no").click().run()
    assert not at.warning
    assert db.exists(three[2].id)

    at.button(key="history_delete").click().run()
    at.button(key="history_delete_yes").click().run()
    assert not at.exception
    assert not db.exists(three[2].id)
    assert [r["Title"] for r in table(at)] == ["Banana bread", "Tax forms"]
    assert "Deleted" in at.success[0].value


def test_download_buttons_for_the_selected_conversation(three: list[Conversation]) -> None:
    at = page()
    assert [b.label for b in at.download_button] == ["Export JSON", "Export Markdown", "Export HTML"]


def test_the_exports_are_made_when_clicked_not_on_every_run(
    three: list[Conversation], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Made on every run, the three exports of a conversation of 10,000 messages took 2 s of each
    (bench/long_chats.py); a click on a download button makes its own (tests/e2e/test_safety.py)."""
    made: list[str] = []

    def counting(export: ExportFormat) -> ExportFormat:
        def render(conversation: Conversation) -> str:
            made.append(export.label)
            return export.render(conversation)

        return replace(export, render=render)

    monkeypatch.setattr(exporting, "EXPORT_FORMATS", tuple(counting(e) for e in exporting.EXPORT_FORMATS))
    at = page()
    at.run()
    assert [b.label for b in at.download_button] == ["Export JSON", "Export Markdown", "Export HTML"]
    assert made == []


def test_garbage_import_shows_an_error_and_imports_nothing(three: list[Conversation], db: Store) -> None:
    at = page()
    upload(at, "chat.json", b"\x00 definitely not json")
    assert not at.exception
    assert "not valid JSON" in at.error[0].value or "not UTF-8" in at.error[0].value
    assert len(db.list()) == 3


def test_wrong_schema_import_shows_an_error(three: list[Conversation], db: Store) -> None:
    at = page()
    upload(at, "chat.json", b'{"messages": [{"role": "tool"}]}')
    assert "Nothing was imported" in at.error[0].value
    assert len(db.list()) == 3


def test_oversized_import_shows_an_error(three: list[Conversation], db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAT_IMPORT_MAX_BYTES", "100")
    at = page()
    upload(at, "big.json", to_json(make_conversation(1)).encode())
    assert "the limit is 100 bytes" in at.error[0].value
    assert len(db.list()) == 3


def test_a_good_import_is_listed_and_selected_once(db: Store) -> None:
    at = page()
    upload(at, "chat.json", to_json(make_conversation(1)).encode())
    assert not at.exception and not at.error
    assert "Imported" in at.success[0].value
    assert at.selectbox(key="history_selected").value == "conv-00001"
    # The uploader still holds the file on later reruns; it is not imported again.
    at.text_input(key="history_search").input("bananas").run()
    at.text_input(key="history_search").input("").run()
    assert len(db.list()) == 1


def test_open_continues_the_conversation_in_the_chat(three: list[Conversation]) -> None:
    at = page()
    at.selectbox(key="history_selected").select(three[1].id).run()
    at.button(key="history_open").click().run()
    assert not at.exception
    chat = at.session_state["chat"].conversation
    assert chat.id == three[1].id
    assert [m.name for m in at.chat_message], "the chat page now shows it"


# -- importing beside saved conversations -----------------------------------------------


def test_an_import_beside_saved_conversations_is_selected_without_a_crash(
    three: list[Conversation], db: Store
) -> None:
    at = page()
    assert at.selectbox(key="history_selected").value == three[0].id
    upload(at, "chat.json", to_json(make_conversation(1)).encode())
    assert not at.exception
    assert not at.error
    assert "Imported" in at.success[0].value
    assert at.selectbox(key="history_selected").value == "conv-00001"
    assert len(db.list()) == 4


def test_an_import_is_saved_once_however_often_the_page_reruns(three: list[Conversation], db: Store) -> None:
    at = page()
    upload(at, "chat.json", to_json(make_conversation(1)).encode())
    # The uploader still holds the file: each later run must leave the store as it is.
    at.run()
    at.selectbox(key="history_selected").select(three[2].id).run()
    at.button(key="history_rename").click().run()
    assert not at.exception
    assert len(db.list()) == 4
    assert at.selectbox(key="history_selected").value == three[2].id, "the import does not take the selection back"


def test_an_import_while_searching_clears_the_search_to_show_it(three: list[Conversation], db: Store) -> None:
    at = page()
    at.text_input(key="history_search").input("bananas").run()
    upload(at, "chat.json", to_json(make_conversation(1)).encode())
    assert not at.exception
    assert at.text_input(key="history_search").value == ""
    assert at.selectbox(key="history_selected").value == "conv-00001"


def test_the_uploader_states_the_import_limit_and_only_that(db: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    at = page()
    uploader = at.file_uploader(key="history_import")
    assert uploader.proto.max_upload_size_mb == 20  # CHAT_IMPORT_MAX_BYTES' default, 20,000,000 bytes
    assert "MB" not in uploader.proto.label
    monkeypatch.setenv("CHAT_IMPORT_MAX_BYTES", "2500000")
    st.cache_resource.clear()
    at = page()
    assert at.file_uploader(key="history_import").proto.max_upload_size_mb == 3


# -- more conversations than the page lists ----------------------------------------------

#: the page lists the newest PAGE_SIZE (100) conversations, then 100 more for each "Show more"
PAGE_SIZE = 100
CROWD = 505


@pytest.fixture
def crowd(db: Store) -> list[Conversation]:
    """More conversations than the page lists, oldest first; only the oldest mentions a quetzal."""
    chats = []
    for number in range(CROWD):
        question = "Where do quetzals live?" if number == 0 else f"Question number {number}"
        chats.append(chat(f"Chat {number}", question, f"Answer number {number}", T0 + 1000 + number))
    for conversation in chats:
        db.save(conversation)
    return chats


def test_a_hit_in_a_conversation_older_than_the_listed_ones_opens_it(crowd: list[Conversation]) -> None:
    oldest = crowd[0]
    at = page()
    assert len(table(at)) == PAGE_SIZE and "Chat 0" not in {r["Title"] for r in table(at)}
    at.text_input(key="history_search").input("QUETZALS").run()
    assert not at.exception
    assert not at.info, "no 'No conversation contains that text' beside a hit"
    assert any("**quetzals**" in m.value for m in at.markdown)
    assert [r["Title"] for r in table(at)] == ["Chat 0"]
    assert at.selectbox(key="history_selected").value == oldest.id
    assert at.text_input(key=f"history_title_{oldest.id}").value == "Chat 0"
    at.button(key="history_open").click().run()
    assert not at.exception
    assert at.session_state["chat"].conversation.id == oldest.id
    assert "Where do quetzals live?" in [m.markdown[0].value for m in at.chat_message if m.markdown]


def test_the_list_pages_and_every_conversation_opens_whatever_its_age(crowd: list[Conversation]) -> None:
    at = page()
    newest_first = [c.title for c in reversed(crowd)]
    assert [r["Title"] for r in table(at)] == newest_first[:PAGE_SIZE]
    for shown in (200, 300, 400, 500, 505):
        at.button(key="history_through_more").click().run()
        assert not at.exception
        assert [r["Title"] for r in table(at)] == newest_first[:shown]
    assert not [b for b in at.button if b.key == "history_through_more"], "no more to show"
    # the oldest, listed at last, opens
    oldest = crowd[0]
    at.selectbox(key="history_selected").select(oldest.id).run()
    at.button(key="history_open").click().run()
    assert not at.exception
    assert at.session_state["chat"].conversation.id == oldest.id


def test_a_chat_saved_after_the_list_grew_pushes_none_out_of_sight(crowd: list[Conversation], db: Store) -> None:
    at = page()
    at.button(key="history_through_more").click().run()
    db.save(chat("Brand new", "New question", "New answer", T0 + 10_000))
    at.run()
    titles = [r["Title"] for r in table(at)]
    assert titles == ["Brand new", *[c.title for c in reversed(crowd)][:200]]


def test_an_import_older_than_the_listed_ones_is_listed_and_selected(crowd: list[Conversation]) -> None:
    at = page()
    upload(at, "chat.json", to_json(make_conversation(1)).encode())  # last updated long before the crowd
    assert not at.exception and not at.error
    assert at.selectbox(key="history_selected").value == "conv-00001"
    assert table(at)[0]["Title"] == "Conversation 1: bananas & <tags>"
    assert at.text_input(key="history_title_conv-00001").value == "Conversation 1: bananas & <tags>"


# -- rows that no version of the app writes ----------------------------------------------


@pytest.fixture
def spoiled(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """A good conversation beside one with impossible figures and times, on each backend."""
    isolate_env(monkeypatch, tmp_path, CHAT_DB_URL=store_url, CHAT_HISTORY="on")
    store = Store(store_url)
    store.save(make_conversation(41))
    save_spoiled(store, 40)
    yield store
    store.close()
    st.cache_resource.clear()


def test_a_row_with_impossible_figures_shows_them_as_unknown(spoiled: Store) -> None:
    at = page()
    assert not at.exception, at.exception
    rows = table(at)
    assert [r["Title"] for r in rows] == ["Conversation 41: bananas & <tags>", "Conversation 40: bananas & <tags>"]
    assert (rows[1]["Updated"], rows[1]["Tokens"], rows[1]["Cost"]) == ("—", 0, "—")
    at.selectbox(key="history_selected").select("conv-00040").run()
    assert not at.exception, at.exception
    assert any("started —" in c.value for c in at.caption)
    assert [b.label for b in at.download_button] == ["Export JSON", "Export Markdown", "Export HTML"]
    at.text_input(key="history_search").input("question 40").run()
    assert not at.exception and [r["Title"] for r in table(at)] == ["Conversation 40: bananas & <tags>"]


def test_the_chat_page_lists_a_row_with_impossible_figures(spoiled: Store) -> None:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30).run()
    assert not at.exception, at.exception
    listed = at.button(key="open-conv-00040")
    assert "—" in listed.help
    listed.click().run()
    assert not at.exception, at.exception
    assert at.session_state["chat"].conversation.id == "conv-00040"


# -- comparisons (#12) -------------------------------------------------------------------


def comparisons_table(at: AppTest) -> list[dict[str, object]]:
    [found] = [d for d in at.dataframe if "Models" in d.value.columns]
    return found.value.to_dict("records")


@pytest.fixture
def compared(db: Store, three: list[Conversation]) -> list[Comparison]:
    """Two saved comparisons beside three chats; the newer one of three set-ups, blind."""
    older = make_comparison(1, question="Where do quetzals live?")
    newer = make_comparison(2, setups=(BIG, SMALL, MIDDLE), turns=3)
    newer.title, newer.blind = "Three models", True
    for comparison in (older, newer):
        db.save_comparison(comparison)
    return [newer, older]


def test_comparisons_are_listed_apart_from_the_conversations(compared: list[Comparison]) -> None:
    at = page()
    assert not at.exception
    assert [r["Title"] for r in table(at)] == ["Banana bread", "Tax forms", "Rust lifetimes"], "columns are not chats"
    rows = comparisons_table(at)
    assert [r["Title"] for r in rows] == ["Three models", "Where do quetzals live?"]
    assert rows[0]["Models"] == "Gemma 3 27B vs Gemma 3 4B vs Gemma 3 12B"
    assert (rows[0]["Turns"], rows[0]["Votes"], rows[0]["Cost"]) == (3, 1, "$0.02")
    assert at.selectbox(key="history_selected_comparison").value == compared[0].id
    [caption] = [c.value for c in at.caption if "3 set-ups · 3 turns · 1 vote · $0.02 · blind" in c.value]
    assert f"C: {literal(MIDDLE.label())}" in caption and f"A: {literal(BIG.label())}" in caption
    labels = [b.label for b in at.download_button]
    assert labels == ["Export JSON", "Export Markdown", "Export HTML", "Export JSON", "Export HTML"]


def test_no_comparisons_yet_says_so_quietly(three: list[Conversation]) -> None:
    at = page()
    assert any("No saved comparisons yet" in c.value for c in at.caption)
    assert len(at.dataframe) == 1 and not at.warning and len(at.info) == 0


def test_open_switches_to_the_compare_page_with_the_comparison_in_the_address(compared: list[Comparison]) -> None:
    at = page()
    at.selectbox(key="history_selected_comparison").select(compared[1].id).run()
    at.button(key="history_cmp_open").click().run()
    assert not at.exception
    assert at.query_params["cmp"] == compared[1].id
    assert any("Compare" in t.value for t in at.title)


def test_delete_a_comparison_asks_first_and_keeps_its_votes(compared: list[Comparison], db: Store) -> None:
    at = page()
    at.selectbox(key="history_selected_comparison").select(compared[1].id).run()
    at.button(key="history_cmp_delete").click().run()
    assert "Its votes stay in the leaderboard" in at.warning[0].value
    at.button(key="history_cmp_delete_no").click().run()
    assert not at.warning and db.comparison_exists(compared[1].id)
    at.button(key="history_cmp_delete").click().run()
    at.button(key="history_cmp_delete_yes").click().run()
    assert not at.exception
    assert not db.comparison_exists(compared[1].id)
    assert [r["Title"] for r in comparisons_table(at)] == ["Three models"]
    assert "Deleted the comparison" in at.success[0].value
    assert len(db.votes()) == 2


def test_the_comparison_exports_are_made_when_clicked(compared: list[Comparison], monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[str] = []

    def counting(export: ExportFormat) -> ExportFormat:
        def render(comparison: Comparison) -> str:
            made.append(export.label)
            return export.render(comparison)

        return replace(export, render=render)

    monkeypatch.setattr(exporting, "COMPARISON_EXPORT_FORMATS", tuple(counting(e) for e in exporting.COMPARISON_EXPORT_FORMATS))
    at = page()
    at.run()
    assert not at.exception
    assert made == []


def test_a_comparison_export_imports_through_the_uploader(db: Store) -> None:
    at = page()
    upload(at, "comparison.json", comparison_to_json(make_comparison(3)).encode())
    assert not at.exception and not at.error
    assert "Imported the comparison “What is a banana?” (2 set-ups, 2 turns, 1 vote)." in at.success[0].value
    assert at.selectbox(key="history_selected_comparison").value == "cmp-0003"
    assert [r["Title"] for r in comparisons_table(at)] == ["What is a banana?"]
    assert db.list() == [] and "No saved conversations yet" in at.info[0].value
    at.run()
    assert len(db.list_comparisons()) == 1, "imported once however often the page reruns"


def test_a_search_finds_a_comparison_by_its_text(compared: list[Comparison]) -> None:
    at = page()
    at.text_input(key="history_search").input("QUETZALS").run()
    assert not at.exception
    assert "2 matches in 0 conversations and 1 comparison" in [c.value for c in at.caption]
    assert any(m.value.startswith("Comparison **Where do quetzals live?**") for m in at.markdown)
    assert [r["Title"] for r in comparisons_table(at)] == ["Where do quetzals live?"]
    assert not [d for d in at.dataframe if "Models" not in d.value.columns], "no conversation listed"
    at.text_input(key="history_search").input("bananas").run()
    assert any("No comparison contains that text." in c.value for c in at.caption)


def test_an_imported_copy_of_a_saved_comparison_opens_itself_not_the_original(compared: list[Comparison]) -> None:
    """The select box tells its options apart by their names: two equal names would open one of them."""
    at = page()
    upload(at, "copy.json", comparison_to_json(compared[0]).encode())
    copy_id = at.selectbox(key="history_selected_comparison").value
    assert copy_id != compared[0].id
    names = at.selectbox(key="history_selected_comparison").options
    assert len(names) == len(set(names)) == 3
    assert {n for n in names if n.startswith("Three models")} == {f"Three models · {format_time(compared[0].updated)}",
                                                                   f"Three models · {format_time(compared[0].updated)} (2)"}
    at.button(key="history_cmp_open").click().run()
    assert at.query_params["cmp"] == copy_id
