"""Fault: an update the bot cannot even parse, and a command that raises. Delivery goes on.

The real Telegram worker loop (lease, read, answer, deliver) runs against the local Bot API
server over HTTP; the checks are what the server received.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from sqlalchemy import update
from sqlmodel import select

from services import analytics, runtime
from services.core import outbox
from services.core.db import session_scope
from services.core.models import AuditEvent, Notification, User
from services.telegram import worker
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:POISON-token"
EMPLOYEE_CHAT, ADMIN_CHAT = 3003, 9009


@pytest.fixture
def tg(monkeypatch: pytest.MonkeyPatch):
    server = FakeTelegram(TOKEN).start()
    monkeypatch.setenv("VDI_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("VDI_TELEGRAM_API_URL", server.base_url)
    monkeypatch.setenv("VDI_TELEGRAM_FILE_URL", server.file_url)
    runtime.reset()
    yield server
    server.stop()


@pytest.fixture
def running_worker(tg: FakeTelegram):
    """The worker loop of the app, in its own thread and event loop, stopped at the end."""
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(worker.run_worker(0.2, stop),), daemon=True)
    thread.start()
    yield
    loop.call_soon_threadsafe(stop.set)
    thread.join(timeout=20)
    assert not thread.is_alive(), "the worker did not stop"
    loop.close()


def _wait(predicate, timeout: float = 20, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_a_poison_update_and_a_crashing_command_do_not_stop_answers_or_delivery(
    tg: FakeTelegram, make_user, monkeypatch: pytest.MonkeyPatch, running_worker
):
    anna, boss = make_user("anna"), make_user("boss", admin=True)
    with session_scope() as session:
        session.exec(update(User).where(User.id == anna.id).values(telegram_chat_id=EMPLOYEE_CHAT))
        session.exec(update(User).where(User.id == boss.id).values(telegram_chat_id=ADMIN_CHAT))

    def crash() -> str:
        raise RuntimeError("report broke")

    monkeypatch.setattr(analytics, "weekly_text", crash)  # the injected fault: /stats raises
    outbox.enqueue(anna.id, "test", "До сбоя", "poison:before")
    poison = tg.push_raw({"message": {"message_id": 1, "chat": {"id": EMPLOYEE_CHAT, "type": "private"}}})  # no date
    crashing = tg.push_message(ADMIN_CHAT, "/stats")
    tg.push_message(EMPLOYEE_CHAT, "/help")
    outbox.enqueue(anna.id, "test", "После сбоя", "poison:after")

    def texts(chat: int) -> list[str]:
        return [s.text for s in tg.messages_to(chat)]

    _wait(lambda: len(texts(EMPLOYEE_CHAT)) >= 4, what=f"anna's messages, got {texts(EMPLOYEE_CHAT)}")
    _wait(lambda: len(texts(ADMIN_CHAT)) >= 3, what=f"the admin's messages, got {texts(ADMIN_CHAT)}")
    # Later traffic still flows.
    tg.push_message(EMPLOYEE_CHAT, "/help")
    outbox.enqueue(anna.id, "test", "Ещё позже", "poison:later")
    _wait(lambda: len(texts(EMPLOYEE_CHAT)) >= 6, what=f"later messages, got {texts(EMPLOYEE_CHAT)}")
    time.sleep(1)  # a few more worker beats: nothing may be sent twice

    anna_got, boss_got = texts(EMPLOYEE_CHAT), texts(ADMIN_CHAT)
    assert anna_got[0] == "До сбоя" and "После сбоя" in anna_got and "Ещё позже" in anna_got
    assert sum("Команды VDI Такси" in t for t in anna_got) == 2
    assert sum("Не получилось выполнить команду" in t for t in anna_got) == 1  # the poison's sender is told
    assert len(anna_got) == 6, anna_got
    # The admin's /stats failed: told once, and alerted once for each broken update.
    assert sum("Не получилось выполнить команду" in t for t in boss_got) == 1
    assert sum(f"сообщение №{poison}" in t for t in boss_got) == 1
    assert sum(f"сообщение №{crashing}" in t for t in boss_got) == 1
    assert len(boss_got) == 3, boss_got
    with session_scope() as session:
        failed = session.exec(select(AuditEvent.subject).where(AuditEvent.kind == "telegram_update_failed")).all()
        statuses = set(session.exec(select(Notification.status)).all())
    assert sorted(failed) == sorted([str(poison), str(crashing)])
    assert statuses == {"sent"}
    assert tg.updates == []  # the read offset moved past everything, the poison included
