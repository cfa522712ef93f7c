"""The request behind a reply, rebuilt from the conversation and what the reply keeps (lib.chat.sent_request)."""

from __future__ import annotations

import pytest

from lib.api.fake_api import FakeAPI
from lib.api.request import LEFT_OUT
from lib.chat.conversation import Conversation, Message
from lib.chat.sent_request import SentRequest, body_digest, rebuild
from lib.chat.session import ChatSession
from lib.errors import TemplateError
from lib.settings import Settings
from lib.store.database import Store
from tests.image_samples import photo

pytest_plugins = ("tests.store_fixtures",)


def turn(chat: ChatSession, settings: Settings, text: str, **images: object) -> Message:
    chat.submit(text, tuple(images.get("images", ())))  # type: ignore[arg-type]
    live = chat.begin_reply(settings)
    assert live is not None and live.wait(10)
    reply = chat.record(live)
    assert reply is not None
    return reply


def test_the_rebuilt_body_is_the_one_sent_after_the_system_prompt_changed(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    chat.conversation.system_prompt = "Be brief."
    first = turn(chat, settings, "one")
    chat.conversation.system_prompt = "Be long-winded."
    chat.conversation.params = {"temperature": 0.3}
    second = turn(chat, settings, "two")
    sent = fake_api.bodies()
    assert rebuild(chat.conversation, first) == rebuild(chat.conversation, first)
    assert rebuild(chat.conversation, first).body == sent[0] and rebuild(chat.conversation, first).exact is True
    assert rebuild(chat.conversation, second).body == sent[1] and rebuild(chat.conversation, second).exact is True
    assert sent[0]["messages"][0] == {"role": "system", "content": "Be brief."}


def test_the_record_outlives_a_reload_from_the_store(settings: Settings, fake_api: FakeAPI, store: Store) -> None:
    chat = ChatSession.start(settings, store)
    chat.conversation.system_prompt = "Answer in French."
    reply = turn(chat, settings, "hello")
    chat.conversation.system_prompt = "Answer in German."
    chat.autosave()
    loaded = store.load(chat.conversation.id)
    again = rebuild(loaded, loaded.messages[reply.id])
    assert again.exact is True and again.body == fake_api.bodies()[0]
    assert loaded.messages[reply.id].request == reply.request


def test_the_record_goes_through_an_export(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    reply = turn(chat, settings, "hello")
    copied = Conversation.from_dict(chat.conversation.to_dict())
    assert rebuild(copied, copied.messages[reply.id]).body == fake_api.bodies()[0]


def test_a_filled_template_is_what_is_sent_and_kept(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    chat.conversation.system_prompt = "You are {{persona}}, {{tone|formal,casual}}."
    assert [v.name for v in chat.asks_for("Tell me about {{topic}} on {{date}}")] == ["persona", "tone", "topic"]
    text = chat.fill_message("Tell me about {{topic}}", {"persona": "a pirate", "tone": "Casual", "topic": "ships"})
    reply = turn(chat, settings, text)
    assert fake_api.bodies()[0]["messages"][:2] == [
        {"role": "system", "content": "You are a pirate, casual."},
        {"role": "user", "content": "Tell me about ships"},
    ]
    assert chat.conversation.system_prompt == "You are {{persona}}, {{tone|formal,casual}}.", "the template stays"
    assert chat.asks_for("next") == [], "the system prompt's values are kept for the next message"
    assert not chat.prompt_lacks_values()
    assert rebuild(chat.conversation, reply).exact is True


def test_a_system_prompt_without_its_values_sends_nothing(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    chat.conversation.system_prompt = "You are {{persona}}."
    chat.submit("hello")
    assert chat.prompt_lacks_values()
    assert chat.begin_reply(settings) is None
    assert fake_api.bodies() == [] and "persona" in (chat.conversation.last.error or "")
    with pytest.raises(TemplateError):
        chat.fill_message("{{x}}", {})


def test_images_left_out_for_a_text_only_model_are_rebuilt_as_left_out(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    chat.conversation.model = "google/gemma-3-27b-it"
    turn(chat, settings, "look", images=(photo(),))
    chat.conversation.model = "google/gemma-3n-e4b-it"
    reply = turn(chat, settings, "and now?")
    again = rebuild(chat.conversation, reply)
    assert again.exact is True and again.body == fake_api.bodies()[1]
    assert LEFT_OUT in again.body["messages"][0]["content"]


def test_a_deleted_earlier_turn_is_said(settings: Settings, fake_api: FakeAPI) -> None:
    chat = ChatSession.start(settings)
    turn(chat, settings, "one")
    reply = turn(chat, settings, "two")
    chat.delete_turn(chat.conversation.path()[0].id)
    again = rebuild(chat.conversation, reply)
    assert again.exact is False and "changed" in again.note


def test_a_reply_without_a_record_uses_the_system_prompt_now() -> None:
    chat = Conversation(system_prompt="Now.", model="google/gemma-3-27b-it")
    chat.add_user("hi")
    reply = chat.add_reply("hello", model="google/gemma-3-27b-it")
    again = rebuild(chat, reply)
    assert again.exact is None and again.body["messages"][0]["content"] == "Now." and again.note


def test_the_digest_ignores_key_order_and_reads_only_sane_records() -> None:
    assert body_digest({"a": 1, "b": [2]}) == body_digest({"b": [2], "a": 1})
    assert SentRequest.from_dict(None) is None and SentRequest.from_dict({"system_prompt": 1}) is None
    record = SentRequest("p", "system", False, "ab")
    assert SentRequest.from_dict(record.to_dict()) == record
