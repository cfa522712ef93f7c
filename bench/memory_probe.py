"""What the server keeps: ``.venv/bin/python -m bench.memory_probe`` (#16, memory).

The same walk as ``bench/scale.py``'s memory part (one long session, then sessions that come and
go), on a server that answers ``bench/serve.py``'s memory dumps: at each moment, live objects by
type and, with ``--frames N`` (tracemalloc, slower), where the memory still held was allocated.
Prints what grew between moments; the dumps stay in the work folder for a closer look.
Options: ``--turns N`` (200), ``--sessions N`` (20), ``--ttl S`` (20), ``--frames N`` (0: no tracing).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from bench import history
from bench.run import KEY, new_session, start_server
from bench.scale import drop_closed
from lib.api import fake_api
from lib.api.fake_api import Behaviour, FakeAPI
from tests.e2e import harness


def dump(folder: Path, name: str, trim: bool = False) -> dict[str, Any]:
    """Ask the server for a dump (``trim``: after it gave free memory back) and wait for it."""
    (folder / f"{name}.request").write_text("trim" if trim else "")
    harness.wait_for(lambda: (folder / f"{name}.json").exists() and not (folder / f"{name}.request").exists(),
                     300, what=f"memory dump {name}")
    data = json.loads((folder / f"{name}.json").read_text())
    ob = data.get("obmalloc", {})
    print(f"  {name}: RSS {data['rss_kib'] / 1024:.1f} MiB, sessions {data['sessions']}, "
          f"traced {data.get('traced_kib', 0) / 1024:.1f} MiB, blocks {data['allocated_blocks']:,}, "
          f"Python arenas {ob.get('arenas')} (in use {ob.get('allocated_bytes', 0) / 2**20:.1f} MiB, "
          f"free in them {(ob.get('available_bytes', 0) + ob.get('unused_pools_bytes', 0)) / 2**20:.1f} MiB)\n"
          "    glibc MiB: " + ", ".join(f"{k.removesuffix('_bytes')} {v / 2**20:.1f}" if k.endswith("_bytes") else f"{k} {v}"
                                     for k, v in data["glibc"].items())
          + "\n    resident MiB by mapping: " + ", ".join(f"{k} {v / 1024:.1f}" for k, v in data["mappings"].items() if v > 512),
          flush=True)
    return data


def compare(folder: Path, before: str, after: str, top: int = 15) -> None:
    a = json.loads((folder / f"{before}.json").read_text())
    b = json.loads((folder / f"{after}.json").read_text())
    grown = sorted(((b["types"].get(t, 0) - a["types"].get(t, 0), t) for t in set(a["types"]) | set(b["types"])),
                   reverse=True)
    print(f"\n{before} -> {after}: RSS {(b['rss_kib'] - a['rss_kib']) / 1024:+.1f} MiB, "
          f"blocks {b['allocated_blocks'] - a['allocated_blocks']:+,}; objects by type:")
    for change, name in grown[:top]:
        if change:
            print(f"  {change:+8,} {name}")
    if (folder / f"{before}.snapshot").exists() and (folder / f"{after}.snapshot").exists():
        old = tracemalloc.Snapshot.load(str(folder / f"{before}.snapshot"))
        new = tracemalloc.Snapshot.load(str(folder / f"{after}.snapshot"))
        print("  allocated where (traceback, most recent call last):")
        for stat in new.compare_to(old, "traceback")[:top]:
            if stat.size_diff <= 0:
                continue
            frames = [f"{f.filename.split('site-packages/')[-1].split('wt-memory/')[-1]}:{f.lineno}"
                      for f in stat.traceback]
            print(f"  {stat.size_diff / 1024:+9.0f} KiB {stat.count_diff:+7,}  " + " < ".join(reversed(frames[-5:])))


def walk(fake: FakeAPI, tmp: Path, folder: Path, turns: int, sessions: int, ttl: int, frames: int) -> None:
    from playwright.sync_api import sync_playwright

    fake_api.fake_reply = None
    env = {"STREAMLIT_SERVER_DISCONNECTED_SESSION_TTL": str(ttl), "BENCH_MEMORY_DIR": str(folder)}
    if frames:
        env["PYTHONTRACEMALLOC"] = str(frames)
    app = start_server("memory-probe", "app.py", fake, tmp, **env)
    try:
        with sync_playwright() as playwright:
            browser = harness.launch_chromium(playwright)
            dump(folder, "started")
            context, page = new_session(browser, app)
            dump(folder, "open")
            for n in range(1, turns + 1):
                fake.default = Behaviour(reply=history.answer(n) + f" end{n}z")
                harness.send(page, history.question(n))
                harness.wait_for(lambda n=n: page.get_by_text(f"end{n}z").count() > 0, 60, what=f"turn {n}", page=page)
                if n in (1, 10) or n % 50 == 0:
                    time.sleep(1)
                    dump(folder, f"turn{n:03d}")
            context.close()
            drop_closed(browser, app, ttl)
            dump(folder, "closed")
            dump(folder, "closed-trimmed", trim=True)
            for s in range(sessions):
                context, page = new_session(browser, app)
                for n in range(1, 6):
                    marker = f"s{s}t{n}z"
                    fake.default = Behaviour(reply=history.answer(n) + f" {marker}")
                    harness.send(page, history.question(n))
                    harness.wait_for(lambda m=marker, p=page: p.get_by_text(m).count() > 0, 60, what=marker, page=page)
                context.close()
            drop_closed(browser, app, ttl)
            dump(folder, "sessions")
            dump(folder, "sessions-trimmed", trim=True)
            browser.close()
    finally:
        app.server.stop()
    moments = ["started", "open", "turn001", "turn010"] + [f"turn{n:03d}" for n in range(50, turns + 1, 50)]
    moments += ["closed", "closed-trimmed", "sessions", "sessions-trimmed"]
    moments = [m for m in moments if (folder / f"{m}.json").exists()]
    for before, after in zip(moments, moments[1:], strict=False):
        compare(folder, before, after)
    compare(folder, "open", "closed")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--ttl", type=int, default=20)
    parser.add_argument("--frames", type=int, default=0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="gemma-memory-"))
    folder = tmp / "dumps"
    folder.mkdir()
    print(f"dumps in {folder}", flush=True)
    with FakeAPI(api_key=KEY) as fake:
        walk(fake, tmp, folder, args.turns, args.sessions, args.ttl, args.frames)


if __name__ == "__main__":
    main()
