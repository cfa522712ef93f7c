"""ChatSession: how replies are recorded and how the conversation is saved."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.chat.session import ChatSession
from lib.errors import StoreError
from lib.settings import Settings
from lib.store.database import Store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(f"sqlite:///{tmp_path / 'chats.sqlite3'}")


def answer(chat: ChatSession, settings: Settings) -> None:
    live = chat.begin_reply(settings)
    assert live.wait(10), "the reply should finish"
    chat.record(live)


def turn(chat: ChatSession, settings: Settings, text: str) -> None:
    chat.conversation.add_user(text)
    chat.autosave()
    answer(chat, settings)


def test_each_turn_is_saved_as_it_happens(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    chat.autosave()
    assert store.list() == [], "an empty chat is not saved"
    fake_api.plan(Behaviour(reply="Hi there."))
    turn(chat, settings, "hello")
    saved = store.load(chat.conversation.id)
    assert [m.content for m in saved.path()] == ["hello", "Hi there."]
    assert saved.path()[-1].stats is not None and saved.path()[-1].stats.usage is not None


def test_a_failed_turn_is_saved_with_its_error_and_retry_clears_it(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(status=401))
    turn(chat, settings, "hello")
    assert store.load(chat.conversation.id).path()[-1].error
    chat.retry()
    answer(chat, settings)
    saved = store.load(chat.conversation.id)
    assert [m.role for m in saved.path()] == ["user", "assistant"] and saved.path()[0].error is None


def test_a_deleted_turn_is_gone_after_a_reload(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    turn(chat, settings, "one")
    turn(chat, settings, "two")
    chat.delete_turn(chat.conversation.path()[0].id)
    assert [m.content for m in store.load(chat.conversation.id).path() if m.role == "user"] == ["two"]


def test_a_chat_deleted_elsewhere_is_saved_whole_again(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    turn(chat, settings, "one")
    store.delete(chat.conversation.id)
    turn(chat, settings, "two")
    assert [m.content for m in store.load(chat.conversation.id).path() if m.role == "user"] == ["one", "two"]


def test_new_chat_and_open_switch_conversations(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    turn(chat, settings, "first chat")
    first_id = chat.conversation.id
    chat.conversation.system_prompt = "Be terse."
    chat.new_chat()
    assert chat.conversation.is_empty() and chat.conversation.system_prompt == "Be terse."
    turn(chat, settings, "second chat")
    chat.open(first_id)
    assert chat.conversation.path()[0].content == "first chat"
    assert len(store.list()) == 2


def test_a_failing_store_never_loses_the_chat(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)

    def broken(*args: object, **kwargs: object) -> None:
        raise StoreError("The chat history database at x failed.")

    store.save = broken  # type: ignore[method-assign]
    turn(chat, settings, "hello")
    assert chat.save_error and "failed" in chat.save_error
    assert [m.role for m in chat.conversation.path()] == ["user", "assistant"]


def test_totals_count_replies_not_failures(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(status=400), Behaviour(reply="ok"))
    turn(chat, settings, "a")
    chat.retry()
    answer(chat, settings)
    assert chat.totals.requests == 1 and chat.totals.completion_tokens == 1


def test_recording_a_reply_still_streaming_keeps_it_as_stopped(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(reply="one two three four five six", token_rate=10))
    chat.conversation.add_user("count")
    live = chat.begin_reply(settings)
    for view in live.views():
        if view.text:
            break
    chat.record(live)
    reply = chat.conversation.last
    assert reply is not None and reply.role == "assistant" and reply.status == "stopped"
    assert reply.content and "six" not in reply.content


def test_a_reply_is_recorded_once_whichever_run_gets_there_first(settings: Settings, fake_api: FakeAPI) -> None:
    """Streamlit's fastReruns can start the next run before the interrupted one unwinds."""
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(reply="one two three four five six seven eight", token_rate=10))
    chat.conversation.add_user("count")
    live = chat.begin_reply(settings)
    assert live is not None
    for view in live.views():
        if view.text:
            break
    # The next run: it settles the reply still streaming, and asks for nothing new.
    chat.settle()
    assert chat.begin_reply(settings) is None
    # The interrupted run's finally clause records it too, and gets the same message.
    first = chat.conversation.last
    assert chat.record(live) is first
    assert [m.role for m in chat.conversation.path()] == ["user", "assistant"]
    assert first is not None and first.status == "stopped"
    assert len(fake_api.requests) == 1


def test_begin_reply_gives_none_when_nothing_waits(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    assert chat.begin_reply(settings) is None
    assert fake_api.requests == []
