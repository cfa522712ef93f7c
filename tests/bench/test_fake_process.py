"""The benchmarks' fake API in a process of its own (bench/fake_process.py)."""

from __future__ import annotations

import os
import time

import pytest
import requests

from bench.fake_process import FakeProcess
from lib.api.fake_api import Behaviour

KEY = "sk-test-fake-process"


def ask(url: str, question: str) -> requests.Response:
    return requests.post(
        f"{url}/chat/completions", headers={"Authorization": f"Bearer {KEY}"}, timeout=10,
        json={"model": "google/gemma-3-27b-it", "messages": [{"role": "user", "content": question}], "stream": True},
    )


@pytest.fixture(scope="module")
def fake() -> FakeProcess:
    with FakeProcess(KEY, nice=0) as process:
        yield process


def test_the_behaviour_and_framing_set_here_are_what_the_other_process_answers_with(fake: FakeProcess) -> None:
    fake.default = Behaviour(reply="mk1a x mk1z")
    fake.framing = "close"
    try:
        answer = ask(fake.url, "question mk1")
    finally:
        fake.default, fake.framing = Behaviour(), "chunked"
    assert answer.status_code == 200
    assert answer.headers["Connection"] == "close"  # the close framing, not chunks
    assert "mk1a" in answer.text and "mk1z" in answer.text
    assert "chunked" not in answer.headers.get("Transfer-Encoding", "")


def test_it_tells_when_each_request_arrived_and_each_stream_began_and_ended(fake: FakeProcess) -> None:
    fake.default = Behaviour(reply="mk2a x mk2z", first_token_delay=0.1)
    before = time.time()
    ask(fake.url, "question mk2")
    after = time.time()
    fake.default = Behaviour()
    first_byte, last_byte, request_at = fake.timings()
    assert before <= request_at["mk2"] <= first_byte["mk2a"] <= last_byte["mk2a"] <= after
    assert first_byte["mk2a"] - request_at["mk2"] >= 0.1  # the first-token delay lies between


def test_it_is_its_own_process_and_says_its_priority(fake: FakeProcess) -> None:
    assert fake._process is not None and fake._process.pid != os.getpid()
    assert fake.priority() == 0


def test_its_behaviour_is_set_here_not_read() -> None:
    process = FakeProcess(KEY)
    with pytest.raises(AttributeError):
        process.default  # noqa: B018 - reading it is the point


def test_it_runs_at_the_priority_asked() -> None:
    with FakeProcess(KEY, nice=5) as process:  # a lower priority: allowed without root
        assert process.priority() == 5
