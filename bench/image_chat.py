"""A chat with 20 images in its history: ``.venv/bin/python -m bench.image_chat``.

The chat page's script time per rerun (AppTest, this process; a rerun happens on every click)
for a conversation of 40 messages whose 20 questions each carry a prepared 896×672 photo, beside
the same conversation without images and the floor (``bench/image_floor_app.py``: the messages'
images and text and nothing else). Writes ``bench/image_chat.json`` and ``bench/image_chat.md``.
Options: ``--runs N`` (20).
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import streamlit

from bench import history
from bench.run import KEY, ROOT, ScriptTimer, environment
from lib.api.fake_api import FakeAPI
from lib.chat.conversation import Conversation
from lib.images.prepare import prepare
from tests.images.pictures import encode, photo_like

HERE = Path(__file__).resolve().parent
MODEL = "google/gemma-3-27b-it"
TURNS = 20


def conversation(with_images: bool) -> Conversation:
    chat = Conversation(system_prompt="You are helpful.", model=MODEL, title="Bench photos")
    for turn in range(1, TURNS + 1):
        images = (prepare(encode(photo_like(1600, 1200, seed=turn), "JPEG", quality=90), f"photo-{turn}.jpg"),)
        chat.add_user(history.question(turn), images=images if with_images else ())
        chat.add_reply(history.answer(turn))
    return chat


def _reruns(path: Path, setup: Any, runs: int, timer: ScriptTimer) -> list[float]:
    from streamlit.testing.v1 import AppTest

    streamlit.cache_resource.clear()
    at = AppTest.from_file(str(path), default_timeout=300)
    at.run()
    setup(at)
    at.run()
    at.run()  # warm: saved, rendered once
    timer.times.clear()
    for _ in range(runs):
        at.run()
    assert not at.exception, at.exception
    return [t * 1000 for t in timer.times]


def measure(runs: int) -> dict[str, list[float]]:
    results: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory() as tmp, FakeAPI(api_key=KEY) as fake:
        env = {"AIMLAPI_API_KEY": KEY, "AIMLAPI_BASE_URL": fake.url, "CHAT_DOTENV_PATH": f"{tmp}/none.env",
               "CHAT_SECRETS_PATH": f"{tmp}/none.toml", "CHAT_DB_PATH": f"{tmp}/bench.sqlite3"}
        with environment(**env), ScriptTimer() as timer:
            for with_images in (True, False):
                chat = conversation(with_images)

                def use(at: Any, chat: Conversation = chat) -> None:
                    at.session_state["chat"].conversation = chat

                name = "app, 20 images" if with_images else "app, no images"
                results[name] = _reruns(ROOT / "app.py", use, runs, timer)
                print(f"  {name}: {statistics.median(results[name]):.0f} ms", flush=True)
            floor_chat = conversation(True)
            floor_messages = [{"role": m.role, "content": m.content, "images": [i.data for i in m.images]}
                              for m in floor_chat.path()]
            results["floor, 20 images"] = _reruns(
                HERE / "image_floor_app.py", lambda at: at.session_state.__setitem__("messages", floor_messages), runs, timer
            )
            print(f"  floor: {statistics.median(results['floor, 20 images']):.0f} ms", flush=True)
    return results


def report(results: dict[str, list[float]], runs: int) -> str:
    lines = [
        "## A chat with 20 images",
        "",
        f"The chat page's script time per rerun with a conversation of {2 * TURNS} messages whose {TURNS} "
        f"questions each carry a prepared 896×672 photo (AppTest, {runs} reruns, ms; `python -m bench.image_chat`, "
        f"{datetime.now(UTC):%Y-%m-%d}). The floor draws the same images and text and nothing else.",
        "",
        "| Page | median | p90 |",
        "|---|---|---|",
    ]
    for name, times in results.items():
        ordered = sorted(times)
        lines.append(f"| {name} | {statistics.median(ordered):.0f} | {ordered[int(0.9 * (len(ordered) - 1))]:.0f} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    results = measure(args.runs)
    (HERE / "image_chat.json").write_text(json.dumps(results, indent=1))
    (HERE / "image_chat.md").write_text(report(results, args.runs))
    print(report(results, args.runs))


if __name__ == "__main__":
    main()
