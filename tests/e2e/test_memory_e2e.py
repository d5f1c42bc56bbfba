"""The served app runs with the allocator that lets it shrink after a busy hour (bench.board_scale
measures the shrinking; this keeps the start path from losing the setting)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.board_scale import memory_mb, wait_idle
from tests.e2e.conftest import ARTIFACTS
from tests.live_server import LiveApp, start_live_app
from tests.reaper import _group_members
from vdi_taxi.manage import MEMORY_ENV, serve_env


def _environ(pid: int) -> dict[str, str]:
    raw = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    return dict(item.decode(errors="replace").split("=", 1) for item in raw if b"=" in item)


def test_every_app_process_uses_glibc_malloc_with_two_arenas(live_app: LiveApp) -> None:
    pythons = [pid for pid in _group_members(live_app.pid) if b"python" in Path(f"/proc/{pid}/cmdline").read_bytes()]
    assert len(pythons) >= 2, "the supervisor and at least one worker"
    for pid in pythons:
        env = _environ(pid)
        assert {k: env.get(k) for k in MEMORY_ENV} == MEMORY_ENV, pid


def test_an_operators_own_allocator_settings_win() -> None:
    assert serve_env({"MALLOC_ARENA_MAX": "4"})["MALLOC_ARENA_MAX"] == "4"
    assert serve_env({})["PYTHONMALLOC"] == "malloc"


def test_the_idle_app_takes_less_than_300_mb(tmp_path: Path) -> None:
    """Issue 11's ceiling, for the supervisor and its worker together (an RSS sum, which counts the
    pages they share twice). The pages are compiled in a process of their own (vdi_taxi/serve.py);
    compiled in the supervisor, their leftovers put the sum at about 325 MB."""
    with start_live_app(tmp_path, ARTIFACTS / "idle-app.log", web_dir="idle") as app:
        # In a thread of its own: the browser fixtures keep an event loop running in this one.
        with ThreadPoolExecutor(1) as pool:
            pool.submit(asyncio.run, wait_idle(app.pid)).result()
        assert memory_mb(app.pid)["rss"] < 300
