"""Fault: the app is killed with SIGKILL in the middle of the working day, then started again.

Before the kill: one person works in a slot, another's session is about to run out, a freed
slot is offered to the first in line, and three messages wait in the outbox because the Bot
API is failing. The kill gives the app no chance to tidy up. After the restart: the running
session is intact, the overdue session end and the offer expiry happen once, at once, and
every message reaches Telegram exactly once.
"""

from __future__ import annotations

import os
import signal
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlmodel import select

from services import queue, runtime, session_views, sessions
from services.core import clock, outbox
from services.core.db import session_scope
from services.core.models import Notification, QueueEntry, SlotSession, User
from tests.fake_telegram import FakeTelegram
from tests.live_server import ROOT, free_port, start_live_app

# The killed app and this test share one SQLite file; PostgreSQL restarts have their own fault test.
pytestmark = pytest.mark.sqlite_only

TOKEN = "424242:KILL-token"
LOGS = ROOT / "test-artifacts"


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _link(user_id: int, chat: int) -> None:
    with session_scope() as session:
        session.exec(update(User).where(User.id == user_id).values(telegram_chat_id=chat))


def _notes() -> list[Notification]:
    with session_scope() as session:
        return list(session.exec(select(Notification).order_by(Notification.id)).all())


@pytest.fixture
def telegram_server():
    server = FakeTelegram(TOKEN).start()
    yield server
    server.stop()


def test_an_app_killed_mid_session_loses_nothing_and_does_nothing_twice_after_restart(
    tmp_path: Path, telegram_server: FakeTelegram, make_user, monkeypatch: pytest.MonkeyPatch
):
    tg = telegram_server
    data = Path(os.environ["VDI_DATA_DIR"])  # the app and this test share the database file
    port, secret = free_port(), "fault-suite-secret-" + "x" * 40
    monkeypatch.setenv("VDI_SECRET_KEY", secret)  # access links are encrypted with it
    runtime.reset()
    env = {
        "VDI_TELEGRAM_TOKEN": TOKEN,
        "VDI_TELEGRAM_API_URL": tg.base_url,
        "VDI_TELEGRAM_FILE_URL": tg.file_url,
        "VDI_SCHEDULER_TICK_SECONDS": "1",
    }

    with start_live_app(data, LOGS / "fault-app-before-kill.log", port=port, secret_key=secret, **env) as app:
        dave, anna, carol, boris, eve = (make_user(n) for n in ("kdave", "kanna", "kcarol", "kboris", "keve"))
        for n, person in enumerate((dave, anna, carol, boris, eve)):
            _link(person.id, 5000 + n)
        kept = sessions.take_slot(dave.id, "ppx-1")  # must survive the kill untouched
        ending = sessions.take_slot(anna.id, "ppx-2")
        sessions.take_slot(carol.id, "ppx-3")
        queue.join_queue(boris.id, "ppx-3")
        queue.join_queue(eve.id, "ppx-3")
        sessions.release_slot(carol.id, "ppx-3")  # boris is offered the slot
        # Telegram starts failing; three messages to dave are in the app's hands when it dies.
        tg.outage = (502, None)
        for n in range(3):
            outbox.enqueue(dave.id, "test", f"Важное сообщение {n}", f"kill:{n}")
        _wait(lambda: any("Важное сообщение 0" in a[2] for a in tg.attempts), 30, "the app trying to send")
        # Anna's time and Boris's offer both run out while the app is down.
        soon = clock.now() + timedelta(seconds=2)
        with session_scope() as session:
            session.exec(update(SlotSession).where(SlotSession.id == ending.id).values(deadline_at=soon))
            session.exec(
                update(QueueEntry)
                .where(QueueEntry.user_id == boris.id, QueueEntry.status == "offered")
                .values(offer_expires_at=soon)
            )
        os.killpg(app.pid, signal.SIGKILL)
        killed_at = clock.now()
        _wait(lambda: not Path(f"/proc/{app.pid}").exists() or _zombie(app.pid), 10, "the app to die")

    time.sleep(3)  # both deadlines pass while nothing runs
    with session_scope() as session:
        assert session.get(SlotSession, ending.id).ended_at is None  # nobody did it while down
    tg.outage = None

    with start_live_app(data, LOGS / "fault-app-after-kill.log", port=port, secret_key=secret, **env):
        back_at = clock.now()
        ended = _wait(lambda: session_views.get_session(ending.id).ended_at, 20, "the overdue session end")
        with session_scope() as session:
            boris_entry = session.exec(select(QueueEntry).where(QueueEntry.user_id == boris.id)).one()
            eve_entry = session.exec(select(QueueEntry).where(QueueEntry.user_id == eve.id)).one()
        _wait(lambda: all(n.status == "sent" for n in _notes()), 60, "the outbox to drain")
        time.sleep(3)  # a few more ticks and worker rounds: nothing may happen twice
        notes = _notes()

    # The overdue work ran at once after the restart (the dead process's leases did not hold it up).
    assert ended - back_at < timedelta(seconds=15) and ended > killed_at
    assert session_views.get_session(ending.id).end_reason == "timeout"
    assert boris_entry.status == "expired" and boris_entry.ended_at - back_at < timedelta(seconds=15)
    assert eve_entry.status == "offered"
    # The other session is intact: still running, same access link.
    kept_now = session_views.my_session_on_slot(dave.id, "ppx-1")
    assert kept_now is not None and kept_now.id == kept.id and kept_now.access_url == kept.access_url
    # Every message once, in order per chat; every outbox row sent once.
    dedupe = Counter(n.dedupe_key for n in notes)
    assert all(c == 1 for c in dedupe.values())
    got = Counter((s.chat_id, s.method, s.text) for s in tg.sent)
    assert all(c == 1 for c in got.values()), [k for k, c in got.items() if c > 1]
    assert [s.text for s in tg.messages_to(5000) if s.text.startswith("Важное")] == [
        f"Важное сообщение {n}" for n in range(3)
    ]
    kinds = Counter(n.kind for n in notes)
    assert kinds["queue_offer"] == 2  # boris, then eve: one offer message each
    assert sum(1 for n in notes if n.dedupe_key == f"dump:{ending.id}") == 1


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True
