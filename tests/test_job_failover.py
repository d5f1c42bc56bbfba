"""Background jobs run once across processes, and survive the death of the process running them.

Two real job-runner processes (the app's own lifespan tasks, tests/job_runner.py) share one
database; the one holding the leases is killed with SIGKILL in the middle of work.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from services import bookings, queue, runtime, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.models import Booking, Lease, Notification, QueueEntry, SlotSession, User
from tests.fake_telegram import FakeTelegram
from tests.live_server import ROOT, stop_process_group

LEASE_SECONDS = 3
TOKEN = "515151:failover-token"
HELP_ANSWER = "Команды"  # the bot's /help answer starts with the command list


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    server = FakeTelegram(TOKEN).start()
    yield server
    server.stop()


@pytest.fixture
def start_runner(database, telegram: FakeTelegram, tmp_path: Path) -> Iterator[Callable[[str], subprocess.Popen]]:
    env = {
        **os.environ,  # the test's database (VDI_DATA_DIR / VDI_DATABASE_URL)
        "VDI_LEASE_SECONDS": str(LEASE_SECONDS),
        "VDI_SCHEDULER_TICK_SECONDS": "1",
        # Bookings all day, so a booking starting soon can be made whenever the test runs,
        # and its reminder falls in the (widened) reminder window.
        "VDI_BOOKING_OPEN": "00:00",
        "VDI_BOOKING_CLOSE": "24:00",
        "VDI_SESSION_WARN_MINUTES": "60",
        "VDI_TELEGRAM_TOKEN": TOKEN,
        "VDI_TELEGRAM_API_URL": telegram.base_url,
        "VDI_TELEGRAM_FILE_URL": telegram.file_url,
    }
    os.environ.update({k: env[k] for k in ("VDI_BOOKING_OPEN", "VDI_BOOKING_CLOSE", "VDI_SESSION_WARN_MINUTES")})
    runtime.reset()
    procs: list[subprocess.Popen] = []

    def start(name: str) -> subprocess.Popen:
        log = open(tmp_path / f"runner-{name}.log", "w")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.job_runner"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        stop_process_group(proc)
    for key in ("VDI_BOOKING_OPEN", "VDI_BOOKING_CLOSE", "VDI_SESSION_WARN_MINUTES"):
        os.environ.pop(key, None)


def _holder(proc: subprocess.Popen) -> str:
    return f"{socket.gethostname()}:{proc.pid}"


def _lease_holders() -> dict[str, str]:
    now = clock.now()
    with session_scope() as session:
        return {row.name: row.holder for row in session.exec(select(Lease)).all() if row.expires_at > now}


def _wait(predicate: Callable[[], object], timeout: float, what: str) -> float:
    began = time.monotonic()
    while time.monotonic() - began < timeout:
        if predicate():
            return time.monotonic() - began
        time.sleep(0.05)
    raise AssertionError(f"not within {timeout} s: {what}")


@dataclass
class Batch:
    """Work that becomes due at once: a session to warn, a slot to offer, a booking to remind of,
    and a bot command to answer."""

    warned_session: int
    offered_user: int
    booking: int
    help_update: int
    chats: list[int]


def _link(user_id: int) -> int:
    chat = 900_000 + user_id
    with session_scope() as session:
        session.exec(update(User).where(User.id == user_id).values(telegram_chat_id=chat))
    return chat


def _due_work(make_user, telegram: FakeTelegram, tag: str, warn_slot: str, offer_slot: str, book_slot: str) -> Batch:
    warned, holder, waiter, booker = (make_user(f"{tag}{role}") for role in ("w", "h", "q", "r"))
    chats = [_link(u.id) for u in (warned, holder, waiter, booker)]
    now = clock.now()
    work = sessions.take_slot(warned.id, warn_slot)
    sessions.take_slot(holder.id, offer_slot)
    queue.join_queue(waiter.id, offer_slot)
    with session_scope() as session:
        # One session nears its end (a warning is due), the other is over (it ends, the slot is offered).
        session.exec(
            update(SlotSession).where(SlotSession.id == work.id).values(deadline_at=now + timedelta(minutes=10))
        )
        session.exec(
            update(SlotSession)
            .where(SlotSession.slot_id == offer_slot, SlotSession.ended_at.is_(None))
            .values(deadline_at=now - timedelta(seconds=1))
        )
    # The next half hour that is at least two minutes away: its reminder is due at once.
    start = clock.local(now + timedelta(minutes=2))
    start = start.replace(second=0, microsecond=0) + timedelta(minutes=(30 - start.minute % 30) % 30)
    booking = bookings.create_booking(booker.id, book_slot, start.date().isoformat(), start.strftime("%H:%M"), 30)
    help_update = telegram.push_message(chats[0], "/help")
    return Batch(work.id, waiter.id, booking.id, help_update, chats)


def _all_delivered() -> bool:
    with session_scope() as session:
        return not session.exec(select(Notification.id).where(Notification.status.in_(("pending", "sending")))).first()


def _batch_done(batch: Batch, telegram: FakeTelegram) -> bool:
    with session_scope() as session:
        warned = session.get(SlotSession, batch.warned_session)
        booking = session.get(Booking, batch.booking)
        offered = session.exec(
            select(QueueEntry).where(QueueEntry.user_id == batch.offered_user, QueueEntry.status == "offered")
        ).first()
    answered = any(HELP_ANSWER in s.text for s in telegram.messages_to(batch.chats[0]))
    return (
        bool(warned and warned.warned_at and booking and booking.reminder_sent_at and offered and answered)
        and _all_delivered()
    )


def test_killing_the_job_holder_hands_every_job_to_the_other_process_and_nothing_happens_twice(
    start_runner, telegram: FakeTelegram, make_user, demo_slots, tmp_path: Path
):
    before = _due_work(make_user, telegram, "a", "ppx-1", "ppx-2", "nbp")
    first = start_runner("first")
    _wait(lambda: _lease_holders().get("scheduler") == _holder(first), 20, "the first runner takes the scheduler")
    second = start_runner("second")
    _wait(lambda: _batch_done(before, telegram), 30, "the first runner does the due work and sends its messages")
    _wait(lambda: _lease_holders().get("telegram") == _holder(first), 5, "the first runner holds the bot")
    # The second runner is up and beating (its scheduler ran a tick), yet holds nothing.
    _wait(lambda: "Running job" in (tmp_path / "runner-second.log").read_text(), 20, "the second runner beats")
    assert set(_lease_holders().values()) == {_holder(first)}

    os.killpg(first.pid, signal.SIGKILL)
    killed_at = time.monotonic()
    first.wait()
    after = _due_work(make_user, telegram, "b", "ppx-3", "gpt-1", "hf-1")
    for lease in ("scheduler", "telegram"):
        _wait(lambda lease=lease: _lease_holders().get(lease) == _holder(second), 2 * LEASE_SECONDS + 5, lease)
        taken_over = time.monotonic() - killed_at
        print(f"{lease} lease taken over {taken_over:.2f} s after SIGKILL (lease {LEASE_SECONDS} s)")
        assert taken_over < 2 * LEASE_SECONDS, f"{lease}: {taken_over:.2f} s"
    _wait(lambda: _batch_done(after, telegram), 30, "the second runner does the new work and sends its messages")
    time.sleep(2 * LEASE_SECONDS)  # a few more beats of the survivor: nothing is redone or resent
    stop_process_group(second)

    with session_scope() as session:
        notes = session.exec(select(Notification)).all()
    assert notes and {n.status for n in notes} == {"sent"}
    receipts = Counter((s.chat_id, s.text) for s in telegram.sent if s.method == "sendMessage")
    assert [r for r, times in receipts.items() if times > 1] == []
    assert sum(receipts.values()) == len(notes)  # one receipt per outbox row, none from elsewhere
    kinds = Counter(n.kind for n in notes)
    # Per batch: one warning, one offer, one reminder, one answer to /help, each exactly once.
    assert kinds["session_ending"] == 2 and kinds["queue_offer"] == 2 and kinds["booking_reminder"] == 2
    assert kinds["reply"] == 2
    for batch in (before, after):
        assert len([s for s in telegram.messages_to(batch.chats[0]) if HELP_ANSWER in s.text]) == 1
