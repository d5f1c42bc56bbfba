"""Fault: another process holds a long write transaction on the SQLite file.

Takes and bookings queue behind it (busy timeout) and go through when it ends; past the
timeout they fail with a Russian message and change nothing. The file stays intact.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime

import pytest
from sqlmodel import select

from services import bookings, runtime, sessions
from services.core import clock
from services.core.db import DB_BUSY, session_scope
from services.core.errors import Unavailable
from services.core.models import Booking, SlotSession
from services.core.settings import get_settings

# SQLite's own locking is the fault here.
pytestmark = pytest.mark.sqlite_only

NOW = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)  # Wednesday 10:05 in Moscow
TOMORROW = "2026-11-26"

HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN IMMEDIATE")
conn.execute("UPDATE board_version SET version = version + 1000")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("COMMIT")
print("committed", flush=True)
"""


class LockHolder:
    """A separate process inside a write transaction until told to commit."""

    def __init__(self, db_path: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, db_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None and self.proc.stdout.readline().strip() == "locked"

    def commit(self) -> None:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()
        assert self.proc.stdout.readline().strip() == "committed"
        assert self.proc.wait(timeout=10) == 0

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def db_path(demo_slots) -> str:
    clock.freeze(NOW)
    return get_settings().database_url.split("///", 1)[1]


def _integrity(path: str) -> str:
    with sqlite3.connect(path) as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _version(path: str) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute("SELECT version FROM board_version").fetchone()[0]


def test_takes_and_bookings_wait_for_a_long_write_and_then_go_through(db_path, make_user, monkeypatch):
    monkeypatch.setenv("VDI_DB_BUSY_SECONDS", "20")
    runtime.reset()
    anna, boris = make_user("anna"), make_user("boris")
    before = _version(db_path)
    holder = LockHolder(db_path)
    results: dict[str, object] = {}

    def attempt(name: str, call) -> None:
        try:
            results[name] = call()
        except Exception as exc:
            results[name] = exc

    workers = [
        threading.Thread(target=attempt, args=("take", lambda: sessions.take_slot(anna.id, "ppx-1"))),
        threading.Thread(
            target=attempt, args=("book", lambda: bookings.create_booking(boris.id, "ppx-2", TOMORROW, "14:30", 60))
        ),
    ]
    try:
        for w in workers:
            w.start()
        time.sleep(1.5)  # the lock is held on purpose for this long: both must still be waiting
        assert results == {}, f"went through a held write lock: {results}"
        holder.commit()
        for w in workers:
            w.join(timeout=20)
    finally:
        holder.kill()
    assert not isinstance(results["take"], Exception), results["take"]
    assert not isinstance(results["book"], Exception), results["book"]
    with session_scope() as session:
        assert len(session.exec(select(SlotSession).where(SlotSession.ended_at.is_(None))).all()) == 1
        assert len(session.exec(select(Booking)).all()) == 1
    assert _version(db_path) >= before + 1000  # the other process's write is kept too
    assert _integrity(db_path) == "ok"


def test_past_the_busy_timeout_a_take_and_a_booking_fail_in_russian_and_change_nothing(db_path, make_user, monkeypatch):
    monkeypatch.setenv("VDI_DB_BUSY_SECONDS", "1")
    runtime.reset()
    anna, boris = make_user("anna"), make_user("boris")
    holder = LockHolder(db_path)
    try:
        started = time.monotonic()
        with pytest.raises(Unavailable) as took:
            sessions.take_slot(anna.id, "ppx-1")
        with pytest.raises(Unavailable) as booked:
            bookings.create_booking(boris.id, "ppx-2", TOMORROW, "14:30", 60)
        assert time.monotonic() - started < 10
        assert took.value.message == booked.value.message == DB_BUSY
        assert "занята" in DB_BUSY
        holder.commit()
    finally:
        holder.kill()
    with session_scope() as session:
        assert session.exec(select(SlotSession)).all() == []
        assert session.exec(select(Booking)).all() == []
    # Repeating the same requests afterwards works: nothing was left half-done.
    assert sessions.take_slot(anna.id, "ppx-1").slot_id == "ppx-1"
    assert bookings.create_booking(boris.id, "ppx-2", TOMORROW, "14:30", 60).id
    assert _integrity(db_path) == "ok"
