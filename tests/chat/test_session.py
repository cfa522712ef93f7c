"""ChatSession: how replies are recorded and how the conversation is saved."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lib.api.fake_api import Behaviour, FakeAPI
from lib.chat.live_reply import LiveReply
from lib.chat.session import ChatSession
from lib.errors import ConversationNotFoundError, StoreError
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


def test_a_chat_deleted_elsewhere_stays_deleted_until_kept_as_a_new_one(
    settings: Settings, fake_api: FakeAPI, store: Store
) -> None:
    chat = ChatSession.start(settings, store)
    turn(chat, settings, "one")
    deleted = chat.conversation.id
    store.delete(deleted)
    turn(chat, settings, "two")
    assert not store.exists(deleted), "deleting is final: the open tab does not bring it back"
    assert chat.deleted_elsewhere
    assert [m.content for m in chat.conversation.path() if m.role == "user"] == ["one", "two"], "nothing typed is lost"
    chat.save_as_new()
    assert not chat.deleted_elsewhere and chat.conversation.id != deleted
    saved = store.load(chat.conversation.id)
    assert [m.content for m in saved.path() if m.role == "user"] == ["one", "two"]
    assert not store.exists(deleted)


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


def streaming(chat: ChatSession, settings: Settings, question: str) -> LiveReply:
    """Ask ``question`` and return its reply once its first text has arrived (still streaming)."""
    chat.conversation.add_user(question)
    live = chat.begin_reply(settings)
    assert live is not None
    for view in live.views():
        if view.text:
            break
    return live


def test_a_new_run_re_attaches_to_the_reply_in_flight_and_it_ends_complete(settings: Settings, fake_api: FakeAPI) -> None:
    """Any click reruns the page while a reply streams; the reply must go on, asked for once."""
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(reply="one two three four five six", token_rate=20))
    live = streaming(chat, settings, "count")
    # The next script run: the same reply, no second request.
    assert chat.begin_reply(settings) is live
    assert chat.reply_in_flight() is live
    assert live.wait(10)
    reply = chat.conversation.last
    assert reply is not None and reply.role == "assistant"
    assert reply.status == "complete" and reply.content == "one two three four five six"
    assert len(fake_api.requests) == 1
    assert chat.reply_in_flight() is None and chat.begin_reply(settings) is None


def test_the_worker_records_the_reply_when_no_page_watches(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(reply="saved without a page"))
    chat.conversation.add_user("hello")
    live = chat.begin_reply(settings)
    assert live is not None and live.wait(10)
    saved = store.load(chat.conversation.id)
    assert [m.content for m in saved.path()] == ["hello", "saved without a page"]


def test_stop_records_once_whoever_gets_there_first(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(reply="one two three four five six seven eight", token_rate=10))
    live = streaming(chat, settings, "count")
    stopped = chat.stop_reply()
    assert stopped is not None and stopped.status == "stopped" and "eight" not in stopped.content
    # The page's own record, after its loop ends, gets the same message; nothing is added twice.
    assert chat.record(live) is stopped
    assert [m.role for m in chat.conversation.path()] == ["user", "assistant"]
    assert len(fake_api.requests) == 1


def test_a_message_typed_while_a_reply_streams_waits_for_it(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(reply="first answer here", token_rate=20), Behaviour(reply="second answer"))
    live = streaming(chat, settings, "one")
    chat.submit("two")
    assert chat.queued == [("two", ())]
    assert chat.conversation.path()[-1].content == "one", "not merged into the question in flight"
    assert chat.begin_reply(settings) is live
    assert live.wait(10)
    second = chat.begin_reply(settings)
    assert second is not None and second is not live and chat.queued == []
    assert second.wait(10)
    assert [m.content for m in chat.conversation.path()] == ["one", "first answer here", "two", "second answer"]
    assert [m["content"] for m in fake_api.bodies()[1]["messages"][1:]] == ["one", "first answer here", "two"]


def test_a_reply_left_for_a_new_chat_finishes_in_the_background_and_is_saved(
    settings: Settings, fake_api: FakeAPI, store: Store
) -> None:
    chat = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(reply="one two three four five", token_rate=20))
    live = streaming(chat, settings, "background please")
    left = chat.conversation.id
    chat.new_chat()
    assert chat.reply_in_flight() is None and chat.begin_reply(settings) is None
    # Reopened while it still streams: the page re-attaches to it.
    chat.open(left)
    assert chat.reply_in_flight() is live
    chat.new_chat()
    assert live.wait(10)
    saved = store.load(left)
    assert [m.content for m in saved.path()] == ["background please", "one two three four five"]
    assert saved.path()[-1].status == "complete"


def test_begin_reply_gives_none_when_nothing_waits(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    assert chat.begin_reply(settings) is None
    assert fake_api.requests == []


def test_a_stopped_reply_counts_its_tokens_as_an_estimate(settings: Settings, fake_api: FakeAPI) -> None:
    """The server never reports usage for a stream cut short, yet those tokens were generated."""
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(reply="one two three four five six seven eight", token_rate=10))
    streaming(chat, settings, "count")
    reply = chat.stop_reply()
    assert reply is not None and reply.stats is not None and reply.stats.usage is not None
    usage = reply.stats.usage
    assert usage.estimated and usage.completion_tokens and usage.prompt_tokens
    assert chat.totals.requests == 1 and chat.totals.completion_tokens == usage.completion_tokens
    assert chat.totals.tokens_estimated


def test_a_watched_reply_is_recorded_by_the_run_that_draws_it(settings: Settings, fake_api: FakeAPI) -> None:
    """The drawing run records it after showing the whole text; the worker keeps off the GIL meanwhile."""
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(reply="one two three", token_rate=10))  # still streaming when watched
    live = streaming(chat, settings, "count")
    with chat.watching(live):
        assert live.wait(10)
        assert chat.conversation.last is not None and chat.conversation.last.role == "user", "not recorded yet"
        reply = chat.record(live)
    assert reply is chat.conversation.last and reply is not None and reply.content == "one two three"


def test_a_run_cut_short_records_the_reply_that_ended_under_it(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    fake_api.plan(Behaviour(reply="one two three", token_rate=10))
    live = streaming(chat, settings, "count")
    with pytest.raises(KeyboardInterrupt), chat.watching(live):  # stands for Streamlit's RerunException
        assert live.wait(10)
        raise KeyboardInterrupt
    reply = chat.conversation.last
    assert reply is not None and reply.role == "assistant" and reply.status == "complete"
    assert chat.reply_in_flight() is None


def test_another_session_opening_the_conversation_draws_the_reply_streaming_into_it(
    settings: Settings, fake_api: FakeAPI, store: Store
) -> None:
    """A reloaded page is a new session: it finds the reply its old session started, still streaming."""
    first = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(reply="one two three four five", token_rate=20))
    live = streaming(first, settings, "go on without me")
    first.autosave()  # as the page does right after starting a reply
    second = ChatSession.start(settings, store)
    second.open(first.conversation.id)
    assert second.reply_in_flight() is live and second.begin_reply(settings) is live
    with second.watching(live):
        assert live.wait(10)
        reply = second.record(live)
    assert reply is not None and reply.status == "complete"
    assert [m.content for m in store.load(first.conversation.id).path()] == ["go on without me", "one two three four five"]
    assert first.record(live) is reply, "recorded once, whichever session asks"
    assert len(fake_api.requests) == 1


def test_another_person_cannot_open_a_conversation_by_its_id_while_its_reply_streams(
    settings: Settings, fake_api: FakeAPI, store: Store
) -> None:
    """The reply in flight is found by conversation id for a reloaded page; not for someone else."""
    alice = ChatSession.start(settings, store.for_owner("issuer alice"))
    fake_api.plan(Behaviour(reply="one two three four five", token_rate=20))
    live = streaming(alice, settings, "mine alone")
    alice.autosave()
    bob = ChatSession.start(settings, store.for_owner("issuer bob"))
    with pytest.raises(ConversationNotFoundError):
        bob.open(alice.conversation.id)
    assert bob.reply_in_flight() is None and bob.conversation.id != alice.conversation.id
    assert live.wait(10)
    alice.record(live)


def test_what_arrived_is_saved_while_the_reply_streams(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    """A server killed mid-reply loses at most the last few seconds of it (the draft's interval)."""
    chat = ChatSession.start(settings, store)
    fake_api.plan(Behaviour(reply=" ".join(f"w{i}" for i in range(40)), token_rate=40))
    chat.conversation.add_user("keep it")
    chat.autosave()
    live = chat.begin_reply(settings)
    assert live is not None
    live.progress_every = 0.2
    time.sleep(0.6)
    saved = store.load(chat.conversation.id).path()
    assert [m.role for m in saved] == ["user", "assistant"], "the part so far is saved, and shown in place"
    draft = saved[-1]
    assert draft.status == "incomplete" and draft.content.startswith("w0 w1") and "w39" not in draft.content
    assert draft.error_title == "Interrupted"
    assert live.wait(10)
    final = store.load(chat.conversation.id)
    assert [m.role for m in final.messages.values()] == ["user", "assistant"], "the reply replaced its draft"
    assert final.path()[-1].id == draft.id and final.path()[-1].status == "complete" and final.path()[-1].error is None


def test_a_chat_outlives_its_database_file_being_deleted(settings: Settings, fake_api: FakeAPI, tmp_path: Path) -> None:
    path = tmp_path / "gone" / "chats.sqlite3"
    store = Store(f"sqlite:///{path}")
    chat = ChatSession.start(settings, store)
    turn(chat, settings, "one")
    for leftover in path.parent.iterdir():
        leftover.unlink()
    path.parent.rmdir()
    turn(chat, settings, "two")
    assert path.exists(), "a new file, at once"
    assert store.generation == 1 and store.notice and "deleted" in store.notice
    assert not chat.deleted_elsewhere, "a lost file is not a deletion by the user"
    reopened = Store(f"sqlite:///{path}")
    assert [m.content for m in reopened.load(chat.conversation.id).path() if m.role == "user"] == ["one", "two"]


def test_a_rename_on_history_is_not_undone_by_the_open_tab(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    turn(chat, settings, "one")
    store.rename(chat.conversation.id, "Named on History")
    turn(chat, settings, "two")
    assert store.load(chat.conversation.id).title == "Named on History"
    assert chat.conversation.title == "Named on History"
    assert [m.adopted for m in chat.merged] == [("title",)], "the page is told, to bring its widgets up to date"


def test_presets_saved_by_two_sessions_are_both_kept(settings: Settings, store: Store) -> None:
    first, second = ChatSession.start(settings, store), ChatSession.start(settings, store)
    first.change_presets(lambda presets: presets.put("Mine", "first"))
    second.change_presets(lambda presets: presets.put("Yours", "second"))
    assert {"Mine", "Yours"} <= set(second.presets.names())
    first.reload_presets()
    assert {"Mine", "Yours"} <= set(first.presets.names())
    assert {"Mine", "Yours"} <= set(ChatSession.start(settings, store).presets.names())


def test_images_for_a_model_that_reads_none_are_refused_before_any_request(settings: Settings, fake_api: FakeAPI) -> None:
    from lib.errors import ImageError
    from lib.images.image import Image
    from tests.images.test_image import PNG_1X1

    chat = ChatSession.start(settings)
    image = Image(PNG_1X1, "image/png", 1, 1, name="dot.png")
    chat.conversation.model = "google/gemma-3n-e4b-it"
    with pytest.raises(ImageError, match="reads no images"):
        chat.submit("what is this?", (image,))
    assert chat.conversation.is_empty() and chat.begin_reply(settings) is None and fake_api.requests == []
    chat.conversation.model = "my/own-vision-model"
    with pytest.raises(ImageError):
        chat.submit("what is this?", (image,))
    chat.other_model_reads_images = True
    chat.submit("what is this?", (image,))
    assert chat.conversation.last.images == (image,)
    chat.conversation.model = "google/gemma-3-27b-it"
    chat.submit("and this?", (image,))
    assert chat.conversation.last.images == (image, image), "merged into the unanswered message, images too"


def test_a_chat_with_images_goes_on_with_a_model_that_reads_none(settings: Settings, fake_api: FakeAPI) -> None:
    from lib.api.request import LEFT_OUT
    from lib.images.image import Image
    from tests.images.test_image import PNG_1X1

    chat = ChatSession.start(settings)
    chat.submit("what is this?", (Image(PNG_1X1, "image/png", 1, 1),))
    answer(chat, settings)
    chat.conversation.model = "google/gemma-3n-e4b-it"
    chat.submit("and in words only?")
    answer(chat, settings)
    body = fake_api.requests[-1].body
    assert all(isinstance(m["content"], str) for m in body["messages"]), "no image_url part for a text-only model"
    assert LEFT_OUT in body["messages"][0]["content"]
    assert chat.conversation.last.role == "assistant" and not chat.conversation.last.error


def test_a_closed_session_is_freed_at_once_and_memory_given_back(
    settings: Settings, fake_api: FakeAPI, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import threading
    import weakref

    from lib import memory

    given = threading.Event()
    monkeypatch.setattr(memory, "SETTLE_SECONDS", 0.0)
    monkeypatch.setattr(memory, "give_back", given.set)
    chat = ChatSession.start(settings, store)
    for number in range(3):
        fake_api.plan(Behaviour(reply=f"Reply {number}"))
        turn(chat, settings, f"question {number}")
    conversation = weakref.ref(chat.conversation)
    gone = weakref.ref(chat)
    # As Streamlit drops a closed session's state: only reference counting, no full collection.
    gc.disable()
    try:
        del chat
        assert gone() is None and conversation() is None, "nothing keeps a closed session's chat alive"
    finally:
        gc.enable()
    assert given.wait(5), "memory is given back once a session has gone"


def test_a_closed_session_leaves_no_rendered_older_turns_in_the_cache(
    settings: Settings, fake_api: FakeAPI, store: Store
) -> None:
    import gc

    from lib.chat import transcript

    chat = ChatSession.start(settings, store)
    for number in range(3):
        fake_api.plan(Behaviour(reply=f"Reply {number}"))
        turn(chat, settings, f"question {number}")
    ids = [m.id for m in chat.path()]
    transcript.settled_blocks(chat.path(), drawn=chat.drawn)  # as the page draws older turns
    assert all(i in transcript._cache for i in ids)
    # As Streamlit drops a closed session's state: only reference counting, no full collection.
    gc.disable()
    try:
        del chat
        assert not any(i in transcript._cache for i in ids), "what a session rendered goes with it (#16)"
    finally:
        gc.enable()
