"""Saved conversations on the chat page: they survive a restart and continue where they were."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.chat.conversation import Conversation
from lib.store.database import Store
from tests.apptest_helpers import bubbles, new_app, open_panel, send
from tests.chat.test_markdown_html import audit


def restart() -> AppTest:
    """A new server process: nothing cached, a new browser session."""
    st.cache_resource.clear()
    return new_app()


def click_label(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def test_a_conversation_survives_a_restart_and_continues(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="Paris."), Behaviour(reply="About 2.1 million."), Behaviour(reply="The Seine."))
    at = send(new_app(), "Capital of France?")
    send(at, "Population?")
    at = restart()
    assert bubbles(at) == []
    click_label(at, "Capital of France?")
    assert [text for _, text in bubbles(at)] == ["Capital of France?", "Paris.", "Population?", "About 2.1 million."]
    assert any("completion **" in c.value for c in at.caption), "figures are restored too"
    send(at, "Its river?")
    assert [m["content"] for m in app_env.bodies()[-1]["messages"][1:]] == [
        "Capital of France?", "Paris.", "Population?", "About 2.1 million.", "Its river?",
    ]


def test_the_history_page_opens_a_conversation_in_the_chat(app_env: FakeAPI) -> None:
    send(new_app(), "remember me")
    conversation_id = Store(f"sqlite:///{app_env_db()}").list()[0].id
    at = restart()
    at.session_state["open_conversation_id"] = conversation_id
    at.run()
    assert bubbles(at)[0] == ("user", "remember me")


def app_env_db() -> Path:
    import os

    return Path(os.environ["CHAT_DB_PATH"])


def test_deleted_turns_and_titles_persist(app_env: FakeAPI) -> None:
    app_env.plan(Behaviour(reply="A1"), Behaviour(reply="A2"))
    at = send(new_app(), "first")
    send(at, "second")
    next(b for b in at.button if b.label == "Delete").click().run()
    open_panel(at, "rename_open")
    at.text_input(key="rename_title").input("Renamed chat").run()
    click_label(at, "Save title")
    at = restart()
    click_label(at, "Renamed chat")
    assert bubbles(at) == [("user", "second"), ("assistant", "A2")]


def test_opening_a_chat_that_ends_on_a_question_does_not_send_it(app_env: FakeAPI) -> None:
    conversation = Conversation("sys", "google/gemma-3-27b-it")
    conversation.add_user("unanswered question")
    Store(f"sqlite:///{app_env_db()}").save(conversation)
    at = new_app()
    click_label(at, "unanswered question")
    assert app_env.requests == []
    assert any("no reply yet" in e.value for e in at.error)
    click_label(at, "Retry")
    assert len(app_env.requests) == 1


def test_a_broken_database_leaves_the_chat_working(app_env: FakeAPI, monkeypatch, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("CHAT_DB_PATH", str(blocker / "chats.sqlite3"))
    at = restart()
    assert any("History is not saved" in w.value for w in at.warning)
    send(at, "still works")
    assert bubbles(at)[0] == ("user", "still works")


def test_long_chats_draw_older_turns_as_inert_html(app_env: FakeAPI) -> None:
    hostile = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2"> [x](javascript:alert(3))'
    at = new_app()
    chat = at.session_state["chat"].conversation
    for i in range(40):
        chat.add_user(f"{hostile} question {i}")
        chat.add_reply(f"{hostile} answer {i}")
    at.run()
    blocks = [h.proto.body for h in at.get("html") if not h.proto.body.lstrip().startswith("<style>")]
    assert any("question 0" in b for b in blocks)
    assert all(audit(b) == [] for b in blocks)
    assert len(at.chat_message) == 20
    assert bubbles(at)[-1][1].endswith("answer 39")


def test_own_presets_are_kept_for_the_next_visit(app_env: FakeAPI) -> None:
    at = new_app()
    at.text_area(key="system_prompt").set_value("Talk like a sommelier.").run()
    open_panel(at, "preset_open")
    at.text_input(key="preset_name").input("Sommelier").run()
    click_label(at, "Save")
    at = restart()
    assert "Sommelier" in at.selectbox(key="preset_choice").options
    at.selectbox(key="preset_choice").select("Sommelier").run()
    assert at.text_area(key="system_prompt").value == "Talk like a sommelier."


# -- what a new user meets ---------------------------------------------------------------


def test_a_fresh_install_shows_no_warning_at_all(app_env: FakeAPI) -> None:
    """An empty store has no presets saved yet: that is nothing to warn about."""
    at = restart()
    assert [w.value for w in at.warning] == []
    assert [e.value for e in at.error] == []
    assert not at.exception


def test_both_pages_use_the_icon_shipped_in_the_repository(app_env: FakeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    icons: list[object] = []
    real = st.set_page_config

    def recording(*args: object, **kwargs: object) -> object:
        icons.append(kwargs.get("page_icon"))
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(st, "set_page_config", recording)
    at = new_app()
    at.switch_page("pages/1_History.py").run()
    assert not at.exception
    assert len(icons) == 2, icons
    root = Path(__file__).resolve().parent.parent
    for icon in icons:
        # A ":material/…" icon is fetched from a font CDN by the browser, which fails offline.
        assert isinstance(icon, str) and not icon.startswith(":"), icon
        path = Path(icon) if Path(icon).is_absolute() else root / icon
        assert path.resolve() == (root / "static" / "icon.png").resolve()
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


# -- long conversations: the latest part, earlier parts on request -------------------------


def drawn(at: AppTest) -> list[str]:
    """The text of every message drawn, oldest first: the older turns' HTML blocks, then the bubbles."""
    blocks = "".join(h.proto.body for h in at.get("html"))
    older = [part.split("</p>")[0].removeprefix("<p>") for part in blocks.split('<div class="gc-body">')[1:]]
    return older + [text for _, text in bubbles(at)]


def saved_conversation(messages: int, title: str) -> str:
    conversation = Conversation(system_prompt="", model="google/gemma-3-27b-it", title=title)
    for n in range(messages // 2):
        conversation.add_user(f"{title} question {n}")
        conversation.add_reply(f"{title} answer {n}")
    Store(f"sqlite:///{app_env_db()}").save(conversation)
    return conversation.id


def test_a_long_conversation_opens_on_its_latest_part_and_shows_earlier_ones_on_request(app_env: FakeAPI) -> None:
    long_id, short_id = saved_conversation(1_000, "long"), saved_conversation(10, "short")
    at = restart()
    at.session_state["open_conversation_id"] = long_id
    at.run()
    assert drawn(at) == [f"long {kind} {n}" for n in range(400, 500) for kind in ("question", "answer")]
    earlier = next(b for b in at.button if b.key == "show-earlier")
    assert earlier.label == "Show 200 earlier messages"
    assert any("800 earlier messages are not drawn" in c.value for c in at.caption)

    earlier.click().run()
    assert drawn(at)[0] == "long question 300" and len(drawn(at)) == 400
    for _ in range(3):
        next(b for b in at.button if b.key == "show-earlier").click().run()
    assert drawn(at) == [f"long {kind} {n}" for n in range(500) for kind in ("question", "answer")]
    assert not [b for b in at.button if b.key == "show-earlier"]

    at.session_state["open_conversation_id"] = short_id
    at.run()
    assert drawn(at) == [f"short {kind} {n}" for n in range(5) for kind in ("question", "answer")]
    at.session_state["open_conversation_id"] = long_id
    at.run()
    assert len(drawn(at)) == 200  # the latest part again, not the whole conversation left open before


def test_the_sidebar_lists_a_page_at_a_time_and_opens_the_oldest(app_env: FakeAPI) -> None:
    store = Store(f"sqlite:///{app_env_db()}")
    for number in range(15):
        conversation = Conversation(system_prompt="", model="google/gemma-3-27b-it", title=f"Sidebar chat {number}")
        conversation.add_user(f"Question {number}")
        conversation.add_reply(f"Answer {number}")
        conversation.updated = 1_700_000_000 + number
        store.save(conversation)
    at = new_app()

    def listed() -> list[str]:
        return [b.label for b in at.sidebar.button if b.label.startswith("Sidebar chat")]

    assert listed() == [f"Sidebar chat {n}" for n in range(14, 2, -1)]
    click_label(at, "Show more")
    assert listed() == [f"Sidebar chat {n}" for n in range(14, -1, -1)]
    assert "Show more" not in [b.label for b in at.sidebar.button]
    click_label(at, "Sidebar chat 0")
    assert [text for _, text in bubbles(at)] == ["Question 0", "Answer 0"]
