"""Realistic chat history for the benchmarks: questions, Markdown answers with figures."""

from __future__ import annotations

from lib.chat.conversation import Conversation
from lib.chat.usage import Cost, ReplyStats, Usage

ANSWER = (
    "Here is what I found about **item {n}**:\n\n"
    "1. The first point, with a little `inline code` and some words to make it a realistic line.\n"
    "2. A second point that goes on a bit longer, the way a model's answers tend to when asked.\n"
    "3. A third point, *emphasised*, closing the list.\n\n"
    "```python\nprint('example {n}')\n```\n\n"
    "In short: the answer to question {n} is about sixty to eighty words long, like most chat replies."
)


def question(n: int) -> str:
    return f"Question {n}: could you explain item {n} in a few sentences, with an example?"


def answer(n: int) -> str:
    return ANSWER.format(n=n)


def stats(n: int) -> ReplyStats:
    return ReplyStats(
        usage=Usage(prompt_tokens=40 + 90 * n, completion_tokens=85, total_tokens=125 + 90 * n),
        cost=Cost(0.000012 + n * 1e-7, "reported"),
        time_to_first_token=0.42,
        total_time=1.9,
        finish_reason="stop",
        model="google/gemma-3-27b-it:free",
        provider="FakeRun",
        request_id=f"req-{n}",
    )


def fill(conversation: Conversation, messages: int) -> Conversation:
    """Add ``messages`` messages (user and reply in turn) to ``conversation``."""
    for index in range(messages):
        n = index // 2 + 1
        if index % 2 == 0:
            conversation.add_user(question(n))
        else:
            conversation.add_reply(answer(n), stats=stats(n), model=conversation.model)
    return conversation
