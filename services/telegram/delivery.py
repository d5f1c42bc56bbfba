"""Delivery of the outbox to Telegram: claim due rows, send, retry with back-off, record what failed.

A single worker (database lease) sends; a claim is a conditional update, so a
second or restarted worker never sends the same row.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import update
from sqlmodel import select

from services.core import clock
from services.core.db import session_scope
from services.core.files import dump_download_path
from services.core.models import Notification, SystemStatus, User
from services.core.settings import get_settings

if TYPE_CHECKING:
    # The Telegram library (about 19 MB) is imported only where the bot runs: every app process
    # imports this module for the delivery status on the profile, and an installation without
    # Telegram never loads the library.
    import telegram

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 12
FLOOD_KEY = "telegram_flood_wait"


def make_bot() -> telegram.Bot:
    import telegram

    cfg = get_settings().telegram
    return telegram.Bot(cfg.token, base_url=cfg.api_url, base_file_url=cfg.file_url)


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


def _flood_wait(until: datetime) -> None:
    """Telegram said «too many requests, retry after N s»: nothing at all is sent before then."""
    with session_scope() as session:
        row = session.get(SystemStatus, FLOOD_KEY) or SystemStatus(key=FLOOD_KEY, state="wait", updated_at=clock.now())
        row.detail, row.updated_at = until.isoformat(), clock.now()
        session.add(row)


def _claim_due(limit: int) -> list[tuple[Notification, int | None]]:
    """Claim due messages in order. A chat whose earlier message is still waiting (in back-off, or
    being sent) gets nothing newer: messages to one chat arrive in the order they were written."""
    now = clock.now()
    with session_scope() as session:
        flood = session.get(SystemStatus, FLOOD_KEY)
        if flood is not None and flood.detail and datetime.fromisoformat(flood.detail) > now:
            return []
        open_rows = session.exec(
            select(Notification, User.telegram_chat_id)
            .join(User, User.id == Notification.user_id, isouter=True)
            .where(Notification.status.in_(("pending", "sending")))
            .order_by(Notification.id)
        ).all()
        held: set[int] = set()  # chats with an older message not yet delivered
        claimed = []
        for note, linked_chat in open_rows:
            chat = note.chat_id or linked_chat
            if chat is not None and chat in held:
                continue
            due = note.status == "pending" and note.next_attempt_at is not None and note.next_attempt_at <= now
            if not due or len(claimed) >= limit:
                if chat is not None:
                    held.add(chat)
                continue
            # Claim: a second worker (or a restarted one) cannot send the same row.
            result = session.exec(
                update(Notification)
                .where(Notification.id == note.id, Notification.status == "pending")
                .values(status="sending", attempts=Notification.attempts + 1, next_attempt_at=now)
            )
            if result.rowcount == 1:
                # The ORM already applied the UPDATE to `note` (attempts, status) in memory.
                claimed.append((note, chat))
            elif chat is not None:
                held.add(chat)
        return claimed


def _unclaim(note: Notification, not_before: datetime) -> None:
    """Put a claimed message back untried (its attempt not counted): an earlier one to the chat failed."""
    with session_scope() as session:
        session.exec(
            update(Notification)
            .where(Notification.id == note.id, Notification.status == "sending")
            .values(status="pending", attempts=Notification.attempts - 1, next_attempt_at=not_before)
        )


def _finish(note_id: int, **values) -> None:
    with session_scope() as session:
        session.exec(update(Notification).where(Notification.id == note_id).values(**values))


async def _send(bot: telegram.Bot, note: Notification, chat_id: int) -> None:
    cfg = get_settings().telegram
    if note.document_path:
        path = Path(note.document_path)
        if path.exists() and path.stat().st_size <= cfg.max_document_bytes:
            await bot.send_message(chat_id, note.text)
            with open(path, "rb") as fh:
                await bot.send_document(
                    chat_id, document=fh, filename=note.document_name or path.name, caption="📦 Артефакты сессии"
                )
            return
        link = get_settings().public_url + dump_download_path(path.name)
        await bot.send_message(chat_id, note.text + f"\n\n📦 Архив больше 50 МБ — скачайте на портале: {link}")
        return
    await bot.send_message(chat_id, note.text)


async def deliver_due(bot: telegram.Bot, limit: int = 20) -> DeliveryReport:
    from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

    report = DeliveryReport()
    stalled: set[int] = set()  # chats whose message failed this round: their later ones wait
    flood_until: datetime | None = None
    for note, chat_id in await asyncio.to_thread(_claim_due, limit):
        assert note.id is not None
        if chat_id is None:
            await asyncio.to_thread(_finish, note.id, status="skipped", last_error="Telegram не привязан")
            report.skipped += 1
            continue
        if flood_until is not None or chat_id in stalled:
            await asyncio.to_thread(_unclaim, note, flood_until or clock.now())
            continue
        try:
            await _send(bot, note, chat_id)
        except (Forbidden, BadRequest) as exc:
            # Permanent: the person blocked the bot or the chat is gone. Recorded, shown on the profile.
            await asyncio.to_thread(_finish, note.id, status="failed", last_error=str(exc)[:500])
            if note.user_id is not None:
                await asyncio.to_thread(_record_user_error, note.user_id, str(exc))
            report.failed += 1
        except (RetryAfter, TimedOut, NetworkError, TelegramError, OSError) as exc:
            if isinstance(exc, RetryAfter):
                wait = exc.retry_after if isinstance(exc.retry_after, timedelta) else timedelta(seconds=exc.retry_after)
                flood_until = clock.now() + wait
                await asyncio.to_thread(_flood_wait, flood_until)
            else:
                wait = _backoff(note.attempts)
            final = note.attempts >= MAX_ATTEMPTS
            stalled.add(chat_id)
            await asyncio.to_thread(
                _finish,
                note.id,
                status="failed" if final else "pending",
                last_error=str(exc)[:500],
                next_attempt_at=clock.now() + wait,
            )
            report.failed += final
            report.retried += not final
        else:
            await asyncio.to_thread(_finish, note.id, status="sent", sent_at=clock.now(), last_error="")
            report.sent += 1
    return report


def _record_user_error(user_id: int, error: str) -> None:
    with session_scope() as session:
        session.exec(update(User).where(User.id == user_id).values(telegram_error=error[:300]))


def release_stuck_claims(older_than: timedelta = timedelta(minutes=5)) -> None:
    """Rows claimed by a worker that died mid-send go back to the queue."""
    with session_scope() as session:
        session.exec(
            update(Notification)
            .where(Notification.status == "sending", Notification.next_attempt_at <= clock.now() - older_than)
            .values(status="pending")
        )


@dataclass(frozen=True)
class DeliveryStatus:
    """Where a message to one person stands: a code for code, a label for people."""

    code: str  # unlinked | waiting | sent | failed
    label: str

    @property
    def settled(self) -> bool:
        return self.code != "waiting"


DELIVERY_LABELS = {
    "unlinked": "Telegram не привязан",
    "waiting": "Ожидает отправки",
    "sent": "Отправлено в Telegram",
    "failed": "Ошибка отправки",
}


def delivery_status(user_id: int, dedupe_key: str) -> DeliveryStatus:
    """What the session end page says about a message to this person."""
    with session_scope() as session:
        user = session.get(User, user_id)
        note = session.exec(select(Notification).where(Notification.dedupe_key == dedupe_key)).first()
    if user is None or user.telegram_chat_id is None or (note is not None and note.status == "skipped"):
        code = "unlinked"
    elif note is None or note.status in {"pending", "sending"}:
        code = "waiting"
    else:
        code = "sent" if note.status == "sent" else "failed"
    return DeliveryStatus(code, DELIVERY_LABELS[code])
