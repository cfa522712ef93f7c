"""lib/chat/context_gauge.py: how full the context window is."""

from __future__ import annotations

import pytest

from lib.chat.context_gauge import (
    CHARS_PER_TOKEN,
    TOKENS_PER_IMAGE,
    TOKENS_PER_MESSAGE,
    estimate_content,
    estimate_tokens,
    gauge,
)
from lib.chat.conversation import Conversation, Message
from lib.chat.usage import ReplyStats, Usage

BIG = "google/gemma-3-27b-it"
SMALL = "google/gemma-3n-e4b-it"


def reply(text: str, prompt: int | None, completion: int | None) -> Message:
    return Message("assistant", text, stats=ReplyStats(usage=Usage(prompt, completion)))


def test_estimate_is_about_four_characters_a_token() -> None:
    assert CHARS_PER_TOKEN == 4
    assert estimate_tokens("") == 0
    assert estimate_tokens("abcd") == 1
    assert estimate_tokens("abcde") == 2
    assert estimate_tokens("x" * 400) == 100


def test_images_count_a_fixed_number_of_tokens() -> None:
    parts = [{"type": "text", "text": "x" * 40}, {"type": "image_url", "image_url": {"url": "data:,"}}]
    assert TOKENS_PER_IMAGE == 256
    assert estimate_content(parts) == 10 + 256


def test_exact_count_from_the_last_reply() -> None:
    path = [Message("user", "x" * 4000), reply("y" * 4000, 12_000, 340)]
    result = gauge(BIG, "system", path)
    assert result.used == 12_340
    assert not result.is_estimate
    assert result.window == 128_000
    assert result.fraction == pytest.approx(12_340 / 128_000)
    assert result.level == "ok"
    assert result.message == "12,340 of 128,000 tokens (9.6%)"


def test_the_latest_reply_with_usage_wins() -> None:
    path = [Message("user", "a"), reply("b", 100, 10), Message("user", "c"), reply("d", 500, 50)]
    assert gauge(BIG, "", path).used == 550


def test_messages_after_the_counted_reply_are_estimated() -> None:
    # a user message whose reply failed stays at the leaf
    path = [Message("user", "a"), reply("b", 100, 10), Message("user", "x" * 400)]
    result = gauge(BIG, "", path)
    assert result.used == 110 + 100 + TOKENS_PER_MESSAGE
    assert result.is_estimate
    assert result.message.startswith("≈")


def test_without_usage_everything_is_estimated() -> None:
    path = [Message("user", "x" * 400), reply("y" * 800, None, None)]
    result = gauge(BIG, "s" * 40, path)
    assert result.used == 100 + 200 + 10 + 3 * TOKENS_PER_MESSAGE
    assert result.is_estimate
    assert result.message == f"≈{result.used:,} of 128,000 tokens (0.3%, estimated)"


def test_a_reply_with_only_one_count_is_not_exact() -> None:
    path = [Message("user", "x" * 400), reply("y" * 400, 5_000, None)]
    result = gauge(BIG, "", path)
    assert result.used == 200 + 2 * TOKENS_PER_MESSAGE
    assert result.is_estimate


def test_an_empty_chat() -> None:
    result = gauge(BIG)
    assert (result.used, result.is_estimate, result.level) == (0, False, "ok")
    assert result.message == "0 of 128,000 tokens (0.0%)"
    assert gauge(BIG, "  ").used == 0


def test_next_turn_adds_the_pending_message_and_the_reply_reserve() -> None:
    path = [Message("user", "a"), reply("b", 1_000, 0)]
    result = gauge(BIG, "", path, pending_text="x" * 400, max_tokens=2_000)
    assert result.pending == 100 + TOKENS_PER_MESSAGE
    assert result.reserve == 2_000
    assert result.next_turn == 1_000 + 104 + 2_000
    assert gauge(BIG, "", path, pending_text="   ").pending == 0


def test_warns_from_80_percent() -> None:
    path = [Message("user", "a"), reply("b", 102_400, 0)]
    result = gauge(BIG, "", path)
    assert result.level == "warn"
    assert result.message.startswith("102,400 of 128,000 tokens (80.0%)")
    assert "Nearly full" in result.message
    assert gauge(BIG, "", [Message("user", "a"), reply("b", 102_399, 0)]).level == "ok"


def test_a_large_reserve_alone_can_warn() -> None:
    path = [Message("user", "a"), reply("b", 1_000, 0)]
    assert gauge(BIG, "", path, max_tokens=101_400).level == "warn"
    assert gauge(BIG, "", path, max_tokens=101_399).level == "ok"


def test_3n_overflows_its_8192_window() -> None:
    path = [Message("user", "a"), reply("b", 6_000, 1_000)]
    fits = gauge(SMALL, "", path, max_tokens=1_192)
    assert fits.window == 8_192 and fits.next_turn == 8_192 and fits.level == "warn"
    result = gauge(SMALL, "", path, pending_text="x" * 400, max_tokens=1_192)
    assert result.level == "overflow"
    assert result.message == (
        "The next turn may not fit: it needs about 8,296 tokens "
        "(conversation 7,000 + your message ≈104 + reply up to 1,192) of 8,192. "
        "Start a new chat, shorten the message or lower Max tokens."
    )


def test_overflow_without_message_or_reserve_names_only_the_conversation() -> None:
    result = gauge(SMALL, "", [Message("user", "a"), reply("b", 9_000, 0)])
    assert result.level == "overflow"
    assert "(conversation 9,000) of 8,192" in result.message
    assert result.fraction == pytest.approx(9_000 / 8_192)
    assert result.progress == 1.0


def test_unknown_model_has_no_window() -> None:
    result = gauge("someone/other", "", [Message("user", "a"), reply("b", 5_000, 100)], max_tokens=10**9)
    assert result.window is None and result.fraction is None
    assert result.level == "unknown"
    assert result.progress == 0.0
    assert result.message == "5,100 tokens (context window unknown)"


def test_free_variant_uses_the_same_window() -> None:
    assert gauge("google/gemma-3n-e4b-it:free").window == 8_192


def test_works_on_a_conversation_path() -> None:
    chat = Conversation(system_prompt="Be brief.", model=SMALL)
    chat.add_user("Hello there")
    chat.add_reply("Hi!", stats=ReplyStats(usage=Usage(20, 3)))
    chat.add_user("And now?")
    chat.fail("boom")
    result = gauge(chat.model, chat.system_prompt, chat.path(), pending_text="more")
    assert result.used == 23 + estimate_tokens("And now?") + TOKENS_PER_MESSAGE
    assert result.is_estimate


def test_counts_made_here_for_a_stopped_reply_keep_the_gauge_an_estimate() -> None:
    chat = Conversation(system_prompt="", model="google/gemma-3-27b-it")
    chat.add_user("hello")
    chat.add_reply("partial", status="stopped", stats=ReplyStats(usage=Usage(40, 3, 43, estimated=True)))
    reading = gauge(chat.model, chat.system_prompt, chat.path())
    assert reading.used == 43 and reading.is_estimate


def test_each_image_counts_as_gemma_3_encodes_it_and_is_marked_as_an_estimate() -> None:
    from lib.chat.conversation import Conversation
    from tests.image_samples import photo

    chat = Conversation(system_prompt="", model="google/gemma-3-27b-it")
    chat.add_user("abcd", images=(photo(), photo(seed=1)))
    reading = gauge(chat.model, "", chat.path())
    assert reading.used == 1 + 4 + 2 * 256 and reading.is_estimate and reading.message.startswith("≈")
    photos = gauge(chat.model, "", chat.path(), pending_images=1)
    assert photos.pending == 256 and "≈256 more for the 1 image to send" in photos.message
    assert "≈512 more for the 2 images to send" in gauge(chat.model, "", chat.path(), pending_images=2).message
