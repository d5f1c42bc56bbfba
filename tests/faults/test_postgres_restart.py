"""Fault: PostgreSQL is restarted while ten people use the app.

A private cluster (never the machine's shared server) is restarted with a fast shutdown,
which cuts every open connection. Ten workers keep making the requests people make
(board, take, release, book, cancel). During the outage they get the Russian
"temporarily unavailable" message and nothing else; no worker dies; afterwards every
worker succeeds again on the same engine (no restart), and the data is consistent.

The same through the production app with two backend workers on Redis: open tabs get the
message, no app worker dies, and the same tabs with the same logins go on working after
the restart, the live board included.
"""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import redis
from sqlalchemy import func
from sqlmodel import select

from services import auth, board, bookings, runtime, seed, sessions, users
from services.core import clock, db
from services.core.db import DB_DOWN, session_scope
from services.core.errors import DomainError, Unavailable
from services.core.models import SlotSession
from state.board import BoardFeed
from state.dashboard import DashboardState
from tests.conftest import REDIS_URL, empty_redis_db
from tests.faults.private_postgres import PrivatePostgres, available
from tests.live_server import start_live_app
from tests.reflex_client import board_frames, connect_on, worker_pids

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


@pytest.mark.skipif(not REDIS_URL, reason="VDI_TEST_REDIS_URL is not set (deploy/test.sh sets it)")
def test_a_postgres_restart_under_two_app_workers_fails_requests_clearly_and_keeps_workers_and_logins(
    postgres: PrivatePostgres, tmp_path, monkeypatch: pytest.MonkeyPatch
):
    number = empty_redis_db()
    take = f"{DashboardState.get_full_name()}.take"
    try:
        with start_live_app(
            tmp_path / "app",
            tmp_path / "app.log",
            web_dir="pg-restart",
            VDI_DATABASE_URL=postgres.url,
            REFLEX_REDIS_URL=f"{REDIS_URL}/{number}",
            VDI_WORKERS="2",
        ) as app:
            for key in ("VDI_DATA_DIR", "VDI_SECRET_KEY", "VDI_BCRYPT_ROUNDS"):
                monkeypatch.setenv(key, app.env[key])
            runtime.reset()
            person = users.create_user("tamara", "Тамара", "correct-horse")
            users.mark_onboarded(person.id)
            token = auth.login("tamara", "correct-horse").token
            workers = worker_pids(app, 2)
            tabs = [connect_on(app, on=pid, login=token) for pid in workers]
            board_tab = tabs[1]
            board_tab.send(f"{BoardFeed.get_full_name()}.join", {})
            board_tab.wait_for('"layout"')

            postgres.stop()
            for tab in tabs:
                mark = len(tab.received)
                tab.send(take, {"slot_id": "ppx-1"})
                tab.wait_for(DB_DOWN, since=mark)
            postgres.start()

            # The same tabs, with the same login, on the same workers: no restart, no new login.
            mark = len(board_tab.received)
            deadline = time.monotonic() + 30
            while True:
                since = len(tabs[0].received)
                tabs[0].send(take, {"slot_id": "ppx-1"})
                answer = tabs[0].wait_for_any(("/session/ppx-1", DB_DOWN, "/login"), since=since, timeout=10)
                if "/session/ppx-1" in answer:
                    break
                assert "/login" not in answer, "the restart lost the login"
                assert time.monotonic() < deadline, "the app did not recover after PostgreSQL came back"
                time.sleep(0.5)  # a person clicking again
            # The other worker's board tab hears of it: its publisher came through the outage.
            deadline = time.monotonic() + 10
            while not any((d.get("c_ppx-1") or {}).get("busy") for d in board_frames(board_tab.received[mark:])):
                assert time.monotonic() < deadline, "the board stopped after the restart"
                board_tab.wait_for('"c_ppx-1"', since=len(board_tab.received), timeout=deadline - time.monotonic())
            assert worker_pids(app, 2) == workers, "an app worker died or was replaced"
            for tab in tabs:
                tab.close()
    finally:
        client = redis.Redis.from_url(f"{REDIS_URL}/{number}")
        client.flushdb()
        client.close()
