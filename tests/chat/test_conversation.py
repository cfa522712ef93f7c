"""lib.chat.conversation: the tree of messages, the path on screen and what the API receives."""

from __future__ import annotations

import json

import pytest

from lib.chat.conversation import MERGE_SEPARATOR, Conversation, Message, title_from
from lib.chat.usage import Cost, ReplyStats, Usage

MODEL = "google/gemma-3-27b-it"


def new_chat() -> Conversation:
    return Conversation(system_prompt="Be brief.", model=MODEL)


def assert_alternates(chat: Conversation) -> None:
    """What Gemma's chat template demands: user first, then strictly user/assistant/user…"""
    roles = [m["role"] for m in chat.history()]
    assert roles == ["user", "assistant"] * (len(roles) // 2) + ["user"] * (len(roles) % 2), roles


def two_turns() -> tuple[Conversation, list[Message]]:
    chat = new_chat()
    u1 = chat.add_user("Hi")
    a1 = chat.add_reply("Hello!")
    u2 = chat.add_user("What is 2+2?")
    a2 = chat.add_reply("4.")
    return chat, [u1, a1, u2, a2]


# -- building a chat -----------------------------------------------------------------


def test_empty_conversation() -> None:
    chat = new_chat()
    assert chat.is_empty() and chat.path() == [] and chat.history() == []
    assert chat.last is None and not chat.awaiting_reply()
    assert chat.title == ""


def test_add_user_and_reply_build_a_path() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    assert [m.id for m in chat.path()] == [u1.id, a1.id, u2.id, a2.id]
    assert (u1.parent, a1.parent, u2.parent, a2.parent) == (None, u1.id, a1.id, u2.id)
    assert chat.leaf == a2.id and chat.last is a2
    assert chat.history() == [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "What is 2+2?"},
        {"role": "assistant", "content": "4."},
    ]
    assert_alternates(chat)


def test_history_has_no_system_prompt() -> None:
    chat, _ = two_turns()
    assert all(m["role"] in ("user", "assistant") for m in chat.history())
    assert "Be brief." not in json.dumps(chat.history())


def test_awaiting_reply() -> None:
    chat = new_chat()
    chat.add_user("Hi")
    assert chat.awaiting_reply()
    chat.add_reply("Hello")
    assert not chat.awaiting_reply()


def test_add_reply_records_status_stats_model_and_params() -> None:
    chat = new_chat()
    chat.add_user("Hi")
    stats = ReplyStats(usage=Usage(3, 2, 5), cost=Cost(0.0, "reported"))
    params = {"temperature": 0.2}
    reply = chat.add_reply("Hel", status="stopped", stats=stats, model=MODEL, params=params)
    params["temperature"] = 2.0
    assert reply.role == "assistant" and reply.status == "stopped"
    assert reply.stats is stats and reply.model == MODEL
    assert reply.params == {"temperature": 0.2}, "the reply keeps a copy of the parameters sent"


def test_a_reply_needs_a_user_message() -> None:
    chat = new_chat()
    with pytest.raises(ValueError):
        chat.add_reply("nobody asked")
    chat.add_user("Hi")
    chat.add_reply("Hello")
    with pytest.raises(ValueError):
        chat.add_reply("a second reply in a row")
    assert_alternates(chat)


def test_partial_replies_are_sent_as_assistant_turns() -> None:
    chat = new_chat()
    chat.add_user("Tell me a story")
    chat.add_reply("Once upon a", status="stopped")
    chat.add_user("Go on")
    assert chat.history()[1] == {"role": "assistant", "content": "Once upon a"}
    assert_alternates(chat)


# -- failures, retry and merging -----------------------------------------------------


def test_fail_keeps_the_user_message_with_the_error() -> None:
    chat = new_chat()
    user = chat.add_user("Hi")
    chat.fail("The API key was rejected.", "API key rejected")
    assert chat.last is user
    assert (user.error, user.error_title) == ("The API key was rejected.", "API key rejected")
    assert not chat.awaiting_reply()
    assert chat.history() == [{"role": "user", "content": "Hi"}]


def test_fail_needs_a_user_message_at_the_leaf() -> None:
    chat = new_chat()
    with pytest.raises(ValueError):
        chat.fail("x")
    chat.add_user("Hi")
    chat.add_reply("Hello")
    with pytest.raises(ValueError):
        chat.fail("x")


def test_retry_does_not_duplicate_the_user_message() -> None:
    chat = new_chat()
    user = chat.add_user("Hi")
    chat.fail("rate limited")
    chat.retry()
    assert user.error is None and chat.awaiting_reply()
    assert len(chat.messages) == 1
    chat.fail("rate limited again")
    chat.retry()
    reply = chat.add_reply("Hello")
    assert [m.id for m in chat.path()] == [user.id, reply.id]
    assert len(chat.messages) == 2


def test_retry_on_a_reply_changes_nothing() -> None:
    chat, _ = two_turns()
    before = chat.to_dict()
    chat.retry()
    assert chat.to_dict()["messages"] == before["messages"]


def test_typing_after_a_failure_merges_into_the_unanswered_message() -> None:
    chat = new_chat()
    chat.add_user("Hi")
    chat.add_reply("Hello")
    first = chat.add_user("What is the capital of France?")
    chat.fail("server error", "The API had a server error")
    merged = chat.add_user("And of Spain?")
    assert merged is first
    assert merged.content == f"What is the capital of France?{MERGE_SEPARATOR}And of Spain?"
    assert merged.error is None and merged.error_title is None
    assert chat.awaiting_reply()
    assert len(chat.messages) == 3
    assert chat.history()[-1] == {"role": "user", "content": "What is the capital of France?\n\nAnd of Spain?"}
    assert_alternates(chat)


def test_never_two_user_messages_in_a_row() -> None:
    chat = new_chat()
    for text in ("one", "two", "three"):
        chat.add_user(text)
        chat.fail("nope")
    chat.add_user("four")
    assert_alternates(chat)
    assert chat.history() == [{"role": "user", "content": "one\n\ntwo\n\nthree\n\nfour"}]


def test_merge_into_an_empty_message_does_not_start_with_a_separator() -> None:
    chat = new_chat()
    chat.add_user("")
    assert chat.add_user("Hi").content == "Hi"


def test_an_error_is_cleared_by_the_reply() -> None:
    chat = new_chat()
    user = chat.add_user("Hi")
    chat.fail("timeout")
    chat.add_reply("Hello")
    assert user.error is None


# -- branches: siblings, regenerate, edit, select, delete ----------------------------


def test_regenerate_adds_a_sibling_reply() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    chat.regenerate()
    assert chat.leaf == u2.id and chat.awaiting_reply()
    a2b = chat.add_reply("Four.")
    assert [m.id for m in chat.siblings(a2b)] == [a2.id, a2b.id]
    assert chat.siblings(a2) == chat.siblings(a2b)
    assert chat.history()[-1]["content"] == "Four."
    assert a2.id in chat.messages, "the old reply stays reachable"


def test_regenerate_an_earlier_reply() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    chat.regenerate(a1.id)
    assert [m.id for m in chat.path()] == [u1.id]
    chat.add_reply("Hi there!")
    assert len(chat.siblings(a1)) == 2
    assert_alternates(chat)


def test_only_a_reply_can_be_regenerated() -> None:
    chat, (u1, *_rest) = two_turns()
    with pytest.raises(ValueError):
        chat.regenerate(u1.id)


def test_edit_adds_a_sibling_user_message() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    edited = chat.edit(u2.id, "What is 3+3?")
    assert edited.parent == a1.id and edited.id != u2.id
    assert [m.id for m in chat.siblings(edited)] == [u2.id, edited.id]
    assert chat.history()[-1] == {"role": "user", "content": "What is 3+3?"}
    assert u2.content == "What is 2+2?", "the original is kept"
    assert_alternates(chat)


def test_edit_the_first_message_adds_a_root_sibling() -> None:
    chat, (u1, *_rest) = two_turns()
    edited = chat.edit(u1.id, "Hello")
    assert edited.parent is None
    assert [m.id for m in chat.siblings(edited)] == [u1.id, edited.id]
    assert chat.path() == [edited]


def test_siblings_only_share_a_role() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    assert chat.siblings(a1) == [a1]
    assert chat.siblings(u2) == [u2]


def test_select_shows_the_branch_through_a_message() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    chat.edit(u2.id, "What is 3+3?")
    chat.add_reply("6.")
    chat.select(u2.id)
    assert [m.id for m in chat.path()] == [u1.id, a1.id, u2.id, a2.id]
    chat.select(u1.id)
    assert chat.path()[-1].content == "6.", "select follows the newest descendants"


def test_delete_a_middle_turn_closes_the_gap() -> None:
    chat = new_chat()
    u1 = chat.add_user("one")
    a1 = chat.add_reply("1")
    u2 = chat.add_user("two")
    chat.add_reply("2")
    u3 = chat.add_user("three")
    a3 = chat.add_reply("3")
    chat.delete_turn(u2.id)
    assert [m.id for m in chat.path()] == [u1.id, a1.id, u3.id, a3.id]
    assert len(chat.messages) == 4
    assert_alternates(chat)


def test_delete_the_last_turn_moves_the_leaf_back() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    chat.delete_turn(u2.id)
    assert chat.leaf == a1.id
    assert [m.id for m in chat.path()] == [u1.id, a1.id]


def test_delete_the_only_turn_empties_the_chat() -> None:
    chat = new_chat()
    user = chat.add_user("Hi")
    chat.add_reply("Hello")
    chat.delete_turn(user.id)
    assert chat.is_empty() and chat.leaf is None and chat.title == ""


def test_delete_a_failed_message() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    failed = chat.add_user("three")
    chat.fail("timeout")
    chat.delete_turn(failed.id)
    assert chat.leaf == a2.id
    assert failed.id not in chat.messages


def test_delete_drops_the_other_versions_of_the_reply() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    chat.regenerate()
    chat.add_reply("Four.")
    chat.delete_turn(u2.id)
    assert set(chat.messages) == {u1.id, a1.id}


def test_delete_needs_a_user_message() -> None:
    chat, (u1, a1, *_rest) = two_turns()
    with pytest.raises(ValueError):
        chat.delete_turn(a1.id)


# -- title, clear --------------------------------------------------------------------


def test_title_comes_from_the_first_message() -> None:
    chat = new_chat()
    chat.add_user("  How do   I\nbake bread?  ")
    chat.add_reply("Like this.")
    chat.add_user("And cake?")
    assert chat.title == "How do I bake bread?"


def test_title_from_a_long_message_is_cut_with_an_ellipsis() -> None:
    title = title_from("word " * 40)
    assert len(title) <= 60 and title.endswith("…")
    assert title_from("x" * 60) == "x" * 60
    assert title_from("x" * 61) == "x" * 59 + "…"


def test_an_existing_title_is_kept() -> None:
    chat = new_chat()
    chat.title = "Renamed"
    chat.add_user("Hi")
    assert chat.title == "Renamed"


def test_clear_starts_over() -> None:
    chat, _ = two_turns()
    chat.clear()
    assert chat.is_empty() and chat.leaf is None and chat.title == ""
    chat.add_user("New start")
    assert chat.title == "New start"


def test_changes_touch_updated() -> None:
    chat = new_chat()
    chat.updated = 0.0
    chat.add_user("Hi")
    assert chat.updated > 0


# -- serialisation -------------------------------------------------------------------


def test_round_trip_through_json() -> None:
    chat, (u1, a1, u2, a2) = two_turns()
    chat.params = {"temperature": 0.7}
    chat.instruction_role = "developer"
    a2.stats = ReplyStats(usage=Usage(10, 2, 12), cost=Cost(0.00001, "meta"), total_time=1.5, finish_reason="stop")
    a2.status = "incomplete"
    a2.error = "The reply was cut off."
    chat.regenerate()
    chat.add_reply("Four.")
    chat.add_user("Thanks")
    chat.fail("Rate limited", "Rate limited")
    data = json.loads(json.dumps(chat.to_dict()))
    back = Conversation.from_dict(data)
    assert back == chat
    assert back.history() == chat.history()
    assert back.messages[a2.id].stats == a2.stats
    assert back.last is not None and back.last.error == "Rate limited"
    assert [m.id for m in back.siblings(back.messages[a2.id])] == [m.id for m in chat.siblings(a2)]


def test_from_dict_defaults() -> None:
    chat = Conversation.from_dict({"model": MODEL})
    assert chat.is_empty() and chat.system_prompt == "" and chat.instruction_role == "system"
    assert chat.id and chat.leaf is None


def test_message_round_trip() -> None:
    message = Message("assistant", "Hi", parent="p", status="stopped", model=MODEL, params={"top_p": 0.9})
    assert Message.from_dict(json.loads(json.dumps(message.to_dict()))) == message
