"""The live board at scale: hundreds of logged-in board tabs on one app process.

Tabs are Socket.IO clients that send what a Chromium tab sends (see bench/tab_client.py),
all in this one process, so the server does the same work as for real tabs without 200
browsers' rendering fighting it for the 2 cores. Server CPU is the app's whole process
group's CPU time, read from /proc. Run:
    python -m bench.board_scale                 # the full run (about 10 minutes)
    python -m bench.board_scale --churn 200     # a shorter growth check
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from bench.tab_client import FEED, Tab, taker_process
from services import auth, runtime, sessions, users
from state.dashboard import DashboardState
from tests.live_server import ROOT, LiveApp, start_live_app

TAKE = f"{DashboardState.get_full_name()}.take"
SLOT = "ppx-2"
TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _group_pids(pgid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = stat.rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid:
                pids.append(int(entry))
    return pids


def cpu_seconds(pgid: int) -> float:
    """User + system CPU of every live process of the app's process group."""
    total = 0
    for pid in _group_pids(pgid):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def rss_by_process(pgid: int) -> dict[str, float]:
    out = {}
    for pid in _group_pids(pgid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:60]
            out[f"{pid} {cmd}"] = int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE / 2**20
        except OSError:
            continue
    return out


def memory_mb(pgid: int) -> dict[str, float]:
    """RSS and PSS of the process group, both from one read of each process's smaps_rollup.

    PSS counts the pages the supervisor shares with its forked worker once, split between them;
    a plain RSS sum counts them twice."""
    totals = {"Rss": 0, "Pss": 0}
    for pid in _group_pids(pgid):
        try:
            lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
        except OSError:
            continue
        for line in lines:
            key, _, value = line.partition(":")
            if key in totals:
                totals[key] += int(value.split()[0]) * 1024
    return {key.lower(): round(total / 2**20, 1) for key, total in totals.items()}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def wait_idle(pgid: int, quiet: float = 0.1, window: float = 1.0, limit: float = 60.0) -> float:
    """Wait until the app burns less than `quiet` CPU-s per `window`; returns the seconds waited."""
    start = time.monotonic()
    last = cpu_seconds(pgid)
    while time.monotonic() - start < limit:
        await asyncio.sleep(window)
        now = cpu_seconds(pgid)
        if now - last < quiet:
            return time.monotonic() - start
        last = now
    return time.monotonic() - start


async def open_tabs(url: str, token: str, count: int, batch: int = 25) -> list[Tab]:
    tabs: list[Tab] = []
    for start in range(0, count, batch):
        group = [Tab(url, token) for _ in range(min(batch, count - start))]
        await asyncio.gather(*(t.open() for t in group))
        await asyncio.gather(*(t.wait(lambda t=t: t.has_board, 60) for t in group))
        tabs.extend(group)
    return tabs


async def close_tabs(tabs: list[Tab]) -> None:
    await asyncio.gather(*(t.close() for t in tabs), return_exceptions=True)


class Bench:
    def __init__(self, url: str, pgid: int) -> None:
        self.url = url
        self.pgid = pgid
        self.results: dict = {}
        self.taker_id = 0
        self.taker_token = ""
        self.watch_token = ""
        self.taker = None  # pipe to the taker's own process

    def accounts(self) -> None:
        taker = users.create_user("scaletaker", "Такси Бенч", "bench-pass-1")
        users.mark_onboarded(taker.id)
        watcher = users.create_user("scalewatch", "Наблюдатель", "bench-pass-2")
        users.mark_onboarded(watcher.id)
        self.taker_id = taker.id
        self.taker_token = auth.login("scaletaker", "bench-pass-1").token
        self.watch_token = auth.login("scalewatch", "bench-pass-2").token

    async def fan_out(self, watchers: list[Tab], rounds: int) -> dict:
        """A take by another person, `rounds` times: when each watcher has it, what it got, what it cost."""
        latencies: list[float] = []
        own: list[float] = []
        cpu: list[float] = []
        frames_per_tab: list[int] = []
        bytes_per_tab: list[int] = []
        # One unrecorded warm-up take first: the first take after start-up loads code paths.
        for round_no in range(rounds + 1):
            self.taker.send("open")
            assert await asyncio.to_thread(self.taker.recv) == "ready"
            await wait_idle(self.pgid, quiet=0.05, window=0.5, limit=10)
            marks = [len(w.frames) for w in watchers]
            cpu0 = cpu_seconds(self.pgid)
            self.taker.send("go")
            sent, url_at = await asyncio.to_thread(self.taker.recv)
            await asyncio.gather(*(w.wait(lambda w=w: (w.card(SLOT) or {}).get("busy"), 30) for w in watchers))
            await asyncio.sleep(0.3)  # late frames of the same take would count too
            spent = cpu_seconds(self.pgid) - cpu0
            for w, mark in zip(watchers, marks, strict=True):
                if round_no == 0:
                    break
                got = w.frames[mark:]
                frames_per_tab.append(len(got))
                bytes_per_tab.append(sum(size for _, size, _ in got))
                latencies.append(next(t for t, _, f in got if _delta(f, FEED).get(f"c_{SLOT}")) - sent)
            if round_no > 0:
                cpu.append(spent)
                own.append(url_at - sent)
            await asyncio.to_thread(sessions.release_slot, self.taker_id, SLOT)
            await asyncio.gather(*(w.wait(lambda w=w: not (w.card(SLOT) or {}).get("busy"), 30) for w in watchers))
        ms = [x * 1000 for x in latencies]
        return {
            "tabs": len(watchers),
            "fan_out_ms": {"p50": pct(ms, 0.5), "p95": pct(ms, 0.95), "max": max(ms)},
            "frames_per_tab_per_take": statistics.mean(frames_per_tab),
            "bytes_per_tab_per_take": statistics.mean(bytes_per_tab),
            "cpu_s_per_take": {"median": statistics.median(cpu), "max": max(cpu)},
            "taker_take_to_room_url_ms": {"p50": statistics.median(own) * 1000, "max": max(own) * 1000},
        }

    async def first_boards(self, count: int) -> dict:
        tabs = [Tab(self.url, self.watch_token) for _ in range(count)]
        start = time.time()

        async def one(t: Tab) -> float:
            await t.open()
            await t.wait(lambda: t.has_board, 30)
            return _arrival(t, FEED, "layout") - start

        times = [x * 1000 for x in await asyncio.gather(*(one(t) for t in tabs))]
        await close_tabs(tabs)
        return {"tabs": count, "first_board_ms": {"p50": pct(times, 0.5), "p95": pct(times, 0.95), "max": max(times)}}

    async def churn(self, total: int, batch: int = 50) -> dict:
        cpu0 = cpu_seconds(self.pgid)
        start = time.monotonic()
        for done in range(0, total, batch):
            tabs = await open_tabs(self.url, self.watch_token, min(batch, total - done), batch)
            await close_tabs(tabs)
        return {"tabs": total, "cpu_s": cpu_seconds(self.pgid) - cpu0, "wall_s": time.monotonic() - start}

    def log(self, key: str, value) -> None:
        self.results[key] = value
        print(f"{key}: {json.dumps(value, ensure_ascii=False)}", flush=True)

    async def run(
        self, tabs: int, small: int, rounds: int, burst: int, churn: int, expiry_wait: float, passes: int
    ) -> dict:
        await wait_idle(self.pgid)
        self.log("memory_idle_mb_fresh", memory_mb(self.pgid))
        self.log("rss_idle_by_process_mb", rss_by_process(self.pgid))

        watchers = await open_tabs(self.url, self.watch_token, small)
        self.log(f"fresh_{small}_tabs", await self.fan_out(watchers, rounds))
        await close_tabs(watchers)

        await wait_idle(self.pgid)
        cpu0 = cpu_seconds(self.pgid)
        start = time.monotonic()
        watchers = await open_tabs(self.url, self.watch_token, tabs)
        boards_at = time.monotonic() - start
        idle_after = await wait_idle(self.pgid)
        self.log(
            f"connect_{tabs}_tabs",
            {"cpu_s": cpu_seconds(self.pgid) - cpu0, "all_boards_s": boards_at, "idle_s": boards_at + idle_after},
        )
        self.log(f"memory_mb_with_{tabs}_tabs", memory_mb(self.pgid))
        self.log(f"with_{tabs}_tabs", await self.fan_out(watchers, rounds))
        await close_tabs(watchers)

        await wait_idle(self.pgid)
        self.log(f"burst_{burst}_tabs", await self.first_boards(burst))

        # Closed tabs' state is freed once it expires (VDI_TAB_STATE_SECONDS). Two passes tell
        # a leak (RSS grows again) from memory the process keeps for reuse (it does not).
        for n in range(1, (passes if churn else 1) + 1):
            if churn:
                self.log(f"churn_pass_{n}", await self.churn(churn))
                self.log(f"memory_mb_right_after_churn_pass_{n}", memory_mb(self.pgid))
            await asyncio.sleep(expiry_wait)
            await wait_idle(self.pgid)
            self.log(f"memory_mb_after_tabs_closed_and_expired_pass_{n}", memory_mb(self.pgid))
        if churn:
            watchers = await open_tabs(self.url, self.watch_token, small)
            self.log(f"after_churn_{small}_tabs", await self.fan_out(watchers, rounds))
            await close_tabs(watchers)
        self.log("rss_by_process_mb_at_end", rss_by_process(self.pgid))
        return self.results


def _delta(frame: dict, substate: str) -> dict:
    return (frame.get("delta") or {}).get(substate) or {}


def _arrival(tab: Tab, substate: str, key: str) -> float:
    return next(t for t, _, f in tab.frames if key in _delta(f, substate))


@contextlib.contextmanager
def bench_on(app: LiveApp) -> Iterator[Bench]:
    """A Bench against a live app: its accounts made, the taker's own tab in a process of its own."""
    for key in ("VDI_DATA_DIR", "VDI_SECRET_KEY", "VDI_BCRYPT_ROUNDS", "VDI_DATABASE_URL"):
        if key in app.env:
            os.environ[key] = app.env[key]
    runtime.reset()
    bench = Bench(app.url, app.pid)
    bench.accounts()
    parent, child = multiprocessing.Pipe()
    taker = multiprocessing.get_context("spawn").Process(
        target=taker_process, args=(app.url, bench.taker_token, TAKE, SLOT, child), daemon=True
    )
    taker.start()
    bench.taker = parent
    try:
        yield bench
    finally:
        parent.send("stop")
        taker.join(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tabs", type=int, default=200)
    parser.add_argument("--small", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--burst", type=int, default=50)
    parser.add_argument("--churn", type=int, default=2000)
    parser.add_argument("--expiry-wait", type=float, default=150.0)
    parser.add_argument("--churn-passes", type=int, default=2)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        start_live_app(Path(tmp), ROOT / "bench-results" / "app.log") as app,
        bench_on(app) as bench,
    ):
        results = asyncio.run(
            bench.run(args.tabs, args.small, args.rounds, args.burst, args.churn, args.expiry_wait, args.churn_passes)
        )
    out = ROOT / "bench-results" / "board_scale.json"
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
