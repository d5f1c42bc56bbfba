"""Fault: the Bot API answers 502 for ten minutes, then 429 with retry_after.

Real python-telegram-bot against the local Bot API server over HTTP; time is simulated with
the app clock so ten minutes of back-off take a few seconds.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlmodel import select

from services import runtime
from services.core import clock, outbox
from services.core.db import session_scope
from services.core.models import Notification, User
from services.telegram import delivery
from tests.fake_telegram import FakeTelegram

TOKEN = "123456:FAULT-token"
CHATS = (1001, 2002)


@pytest.fixture
def tg(monkeypatch: pytest.MonkeyPatch):
    server = FakeTelegram(TOKEN).start()
    monkeypatch.setenv("VDI_TELEGRAM_TOKEN", TOKEN)
    monkeypatch.setenv("VDI_TELEGRAM_API_URL", server.base_url)
    monkeypatch.setenv("VDI_TELEGRAM_FILE_URL", server.file_url)
    runtime.reset()
    yield server
    server.stop()


def test_after_a_long_502_outage_and_a_429_every_message_arrives_once_in_order_and_retry_after_is_kept(
    tg: FakeTelegram, make_user
):
    people = [make_user(f"chat{chat}") for chat in CHATS]
    with session_scope() as session:
        for person, chat in zip(people, CHATS, strict=True):
            session.exec(update(User).where(User.id == person.id).values(telegram_chat_id=chat))
    start = clock.now().replace(microsecond=0)
    written: dict[int, list[str]] = {chat: [] for chat in CHATS}
    sim = {"t": 0}

    def write(n: int) -> None:
        for person, chat in zip(people, CHATS, strict=True):
            text = f"Сообщение {n} для {chat}"
            assert outbox.enqueue(person.id, "test", text, f"fault3:{chat}:{n}")
            written[chat].append(text)

    async def run() -> tuple[int, int]:
        bot = delivery.make_bot()
        async with bot:
            # Ten minutes of 502 (a new message every minute), one round every five seconds.
            tg.outage = (502, None)
            for t in range(0, 600, 5):
                sim["t"] = t
                clock.freeze(start + timedelta(seconds=t))
                if t % 60 == 0:
                    write(t // 60)
                await delivery.deliver_due(bot)
            assert all(status == 502 for *_, status in tg.attempts)
            # Then «too many requests, retry after 30 s»: the first request gets it, and then nothing
            # may reach the server for 30 simulated seconds.
            tg.outage = (429, 30)
            t = 600
            while not any(status == 429 for *_, status in tg.attempts):
                t += 5
                assert t < 1200, "no request was made after the 502s ended"
                clock.freeze(start + timedelta(seconds=t))
                await delivery.deliver_due(bot)
            told_at, seen = t, len(tg.attempts)
            tg.outage = None
            while t < told_at + 30:
                write(100 + t)  # new messages keep coming in the meantime
                await delivery.deliver_due(bot)
                assert len(tg.attempts) == seen, f"a request at +{t - told_at}s ignored retry_after=30"
                t += 1
                clock.freeze(start + timedelta(seconds=t))
            # Afterwards everything drains.
            for _ in range(400):
                with session_scope() as session:
                    left = session.exec(select(Notification.id).where(Notification.status != "sent")).all()
                if not left:
                    return told_at, t
                t += 5
                clock.freeze(start + timedelta(seconds=t))
                await delivery.deliver_due(bot)
            raise AssertionError(f"messages never delivered: {left}")

    asyncio.run(run())
    for chat in CHATS:
        got = [s.text for s in tg.messages_to(chat)]
        assert got == written[chat], f"chat {chat}: lost, duplicated or out of order"
    with session_scope() as session:
        rows = session.exec(select(Notification)).all()
    assert {row.status for row in rows} == {"sent"}
    assert len(rows) == sum(len(v) for v in written.values())
