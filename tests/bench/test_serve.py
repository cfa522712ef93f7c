"""bench/serve.py: what the benchmarks' server logs besides its script runs."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from bench.fake_process import ROOT
from lib.api.fake_api import Behaviour, FakeAPI

KEY = "sk-test-serve"

#: In a process of its own: install() patches Streamlit and urllib3 for good.
POST_TWICE = """
import sys, time, requests
from bench import serve
serve.install(sys.argv[1])
url, key = sys.argv[2], sys.argv[3]
requests.get(url + "/models", headers={"Authorization": "Bearer " + key}, timeout=10)
body = {"model": "google/gemma-3-27b-it", "messages": [{"role": "user", "content": "hi"}], "stream": True}
for _ in range(2):
    before = time.time()
    with requests.post(url + "/chat/completions", json=body, headers={"Authorization": "Bearer " + key},
                       stream=True, timeout=10) as answer:
        headers_in = time.time()
        answer.content
    print(before, headers_in, time.time())
"""


def test_each_chat_request_written_to_the_api_is_logged_before_its_answer(tmp_path: Path) -> None:
    log = tmp_path / "runs.jsonl"
    with FakeAPI(api_key=KEY, default=Behaviour(reply="a b", first_token_delay=0.3)) as fake:
        done = subprocess.run([sys.executable, "-c", POST_TWICE, str(log), fake.url, KEY], cwd=ROOT,
                              capture_output=True, text=True, timeout=60, check=True)
    spans = [tuple(map(float, line.split())) for line in done.stdout.split("\n") if line.strip()]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    written = [r["request_written"] for r in records if "request_written" in r]
    assert len(written) == 2  # the chat requests, not the GET of the models
    for (before, headers_in, body_in), at in zip(spans, written, strict=True):
        assert before <= at <= headers_in  # once written: before the API has answered at all
        assert body_in - at >= 0.25  # the fake's first-token delay lies after it
    assert written[0] < written[1] <= time.time()
