"""Scale-out: the live board's fan-out over 1, 2 and 4 backend workers, and the take on Redis.

Every run is the production app on PostgreSQL. The worker runs use Reflex's Redis state manager
(REFLEX_REDIS_URL, VDI_WORKERS=n); the kernel spreads the board tabs over the workers, and a
change made through one worker reaches the others' tabs through the Redis bell (state/board.py).
Fan-out is timed from the taker's send of the take (in a process of its own) to each board
tab's receipt of the changed card; tabs are Socket.IO clients that send what a Chromium tab
sends (bench/tab_client.py). The take itself (send → the room's URL back on the taker's own
tab) is compared between the in-memory state manager (one process, no Redis) and Redis.
Run (needs PostgreSQL and Redis, as the tests do):
    VDI_TEST_POSTGRES_URL=... VDI_TEST_REDIS_URL=... python -m bench.scale_out
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

import redis

from bench.board_scale import Bench, bench_on, close_tabs, open_tabs, wait_idle
from bench.tab_client import Tab
from services import runtime
from services.core import db
from tests.conftest import REDIS_URL, create_pg_database, drop_pg_database, empty_redis_db
from tests.live_server import ROOT, LiveApp, free_port, serving_pid, start_live_app


def _serving_counts(tabs: list[Tab], url: str, pid: int) -> dict[str, int]:
    """How many tabs each worker serves: the server end of each websocket, read from /proc."""
    app = LiveApp(url=url, env={}, log_path=Path(), pid=pid)
    counts: Counter[str] = Counter()
    for tab in tabs:
        try:
            port = tab.sio.eio.ws._conn.transport.get_extra_info("sockname")[1]
        except AttributeError:  # another websocket library: the split is not reported
            port = None
        counts[str(serving_pid(app, port) if port else "unknown")] += 1
    return dict(counts)


async def _measure(bench: Bench, tabs: int, rounds: int) -> dict:
    await wait_idle(bench.pgid)
    watchers = await open_tabs(bench.url, bench.watch_token, tabs)
    try:
        result = await bench.fan_out(watchers, rounds)
        result["tabs_by_worker"] = _serving_counts(watchers, bench.url, bench.pgid)
        return result
    finally:
        await close_tabs(watchers)


def run_one(label: str, workers: int, use_redis: bool, tabs: int, rounds: int, port: int) -> dict:
    url = create_pg_database()
    extra = {"VDI_DATABASE_URL": url, "VDI_WORKERS": str(workers)}
    number = 0
    if use_redis:
        number = empty_redis_db()
        extra["REFLEX_REDIS_URL"] = f"{REDIS_URL}/{number}"
    try:
        with (
            tempfile.TemporaryDirectory() as tmp,
            start_live_app(
                Path(tmp), ROOT / "bench-results" / f"scale-out-{label}.log", web_dir="scale-out", port=port, **extra
            ) as app,
            bench_on(app) as bench,
        ):
            result = asyncio.run(_measure(bench, tabs, rounds))
            result.update(label=label, workers=workers, state_manager="redis" if use_redis else "memory")
            print(json.dumps(result, ensure_ascii=False), flush=True)
            return result
    finally:
        runtime.reset()
        db.dispose_engines()
        drop_pg_database(url)
        if use_redis:
            client = redis.Redis.from_url(f"{REDIS_URL}/{number}")
            client.flushdb()
            client.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tabs", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--take-rounds", type=int, default=10)
    parser.add_argument("--workers", default="1,2,4")
    args = parser.parse_args()
    if not (REDIS_URL and os.environ.get("VDI_TEST_POSTGRES_URL")):
        print("needs VDI_TEST_POSTGRES_URL and VDI_TEST_REDIS_URL", file=sys.stderr)
        return 2
    port = free_port()
    results = [
        # The take alone (one board tab watching): the state manager is the only difference.
        run_one("take-memory", 1, False, 1, args.take_rounds, port),
        run_one("take-redis", 1, True, 1, args.take_rounds, port),
    ]
    for n in (int(x) for x in args.workers.split(",")):
        results.append(run_one(f"fan-out-{n}-workers", n, True, args.tabs, args.rounds, port))
    out = ROOT / "bench-results" / "scale_out.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
