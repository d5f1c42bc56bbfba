"""Fault: PostgreSQL is restarted while ten people use the app.

A private cluster (never the machine's shared server) is restarted with a fast shutdown,
which cuts every open connection. Ten workers keep making the requests people make
(board, take, release, book, cancel). During the outage they get the Russian
"temporarily unavailable" message and nothing else; no worker dies; afterwards every
worker succeeds again on the same engine (no restart), and the data is consistent.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func
from sqlmodel import select

from services import board, bookings, runtime, seed, sessions, users
from services.core import clock, db
from services.core.db import DB_DOWN, session_scope
from services.core.errors import DomainError, Unavailable
from services.core.models import SlotSession
from tests.faults.private_postgres import PrivatePostgres, available

NOW = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)  # Wednesday 10:05 in Moscow
SLOTS = ["ppx-1", "ppx-2", "ppx-3", "gem-dt", "nbp"]
USERS = 10

pytestmark = pytest.mark.skipif(not available(), reason="PostgreSQL server binaries are not installed")


@pytest.fixture
def postgres(monkeypatch: pytest.MonkeyPatch) -> Iterator[PrivatePostgres]:
    pg = PrivatePostgres()
    try:
        pg.start()
        monkeypatch.setenv("VDI_DATABASE_URL", pg.url)
        runtime.reset()
        db.migrate()
        with session_scope() as session:
            session.add_all(seed.demo_slots())
        yield pg
    finally:
        runtime.reset()  # closes the pool before the server goes
        pg.destroy()


class Worker(threading.Thread):
    """One person clicking around: every outcome is counted, nothing may escape."""

    def __init__(self, user_id: int, n: int, stop: threading.Event) -> None:
        super().__init__(name=f"user-{n}", daemon=True)
        self.user_id, self.n, self.stop = user_id, n, stop
        self.outcomes: Counter = Counter()
        self.russian: set[str] = set()
        self.unexpected: list[BaseException] = []
        self.last_ok = 0.0
        self.rng = random.Random(n)

    def step(self) -> None:
        board.load_board()
        slot = self.rng.choice(SLOTS)
        kind = self.rng.random()
        if kind < 0.6:
            sessions.take_slot(self.user_id, slot)
            sessions.release_slot(self.user_id, slot)
        else:
            day = "2026-11-26" if self.n % 2 else "2026-11-27"
            start = f"{9 + self.n}:{'30' if kind < 0.8 else '00'}"
            made = bookings.create_booking(self.user_id, slot, day, start, 30)
            bookings.cancel_booking(self.user_id, made.id)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.step()
                self.outcomes["ok"] += 1
                self.last_ok = time.monotonic()
            except Unavailable as exc:
                self.outcomes["unavailable"] += 1
                self.russian.add(exc.message)
                time.sleep(0.05)  # a person would not click faster than this
            except DomainError:
                self.outcomes["refused"] += 1  # busy slot, limit, booking taken: ordinary answers
            except BaseException as exc:
                self.unexpected.append(exc)
                self.outcomes["crash"] += 1
                time.sleep(0.05)


def test_a_postgres_restart_under_ten_users_gives_a_russian_message_and_service_resumes_without_restart(
    postgres: PrivatePostgres,
):
    clock.freeze(NOW)
    people = [users.create_user(f"pg{n}", f"Сотрудник {n}", "correct-horse") for n in range(USERS)]
    stop = threading.Event()
    workers = [Worker(p.id, n, stop) for n, p in enumerate(people)]
    for w in workers:
        w.start()
    try:
        deadline = time.monotonic() + 30
        while not all(w.outcomes["ok"] for w in workers):
            assert time.monotonic() < deadline, "workers did not get going on a healthy database"
            time.sleep(0.05)
        postgres.stop()
        time.sleep(2)  # the database is down for this long, on purpose: requests keep coming
        postgres.start()
        restarted = time.monotonic()
        deadline = restarted + 30
        while not all(w.last_ok > restarted for w in workers):
            assert time.monotonic() < deadline, "service did not resume after the restart"
            time.sleep(0.05)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
    assert not any(w.is_alive() for w in workers), "a worker hung"
    unexpected = [exc for w in workers for exc in w.unexpected]
    assert not unexpected, f"errors without a Russian message: {unexpected[:3]!r}"
    assert sum(w.outcomes["unavailable"] for w in workers) > 0, "the restart was not felt at all"
    assert set().union(*(w.russian for w in workers)) == {DB_DOWN}
    # Consistency: never two open sessions on a slot or for one person.
    with session_scope() as session:
        per_slot = session.exec(
            select(SlotSession.slot_id, func.count())
            .where(SlotSession.ended_at.is_(None))
            .group_by(SlotSession.slot_id)
        ).all()
        per_user = session.exec(
            select(SlotSession.user_id, func.count())
            .where(SlotSession.ended_at.is_(None))
            .group_by(SlotSession.user_id)
        ).all()
    assert all(n == 1 for _, n in per_slot), per_slot
    assert all(n == 1 for _, n in per_user), per_user
