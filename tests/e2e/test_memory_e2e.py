"""The served app runs with the allocator that lets it shrink after a busy hour (bench.board_scale
measures the shrinking; this keeps the start path from losing the setting)."""

from __future__ import annotations

from pathlib import Path

from tests.live_server import LiveApp
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
