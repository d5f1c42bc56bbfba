"""The one Telegram worker: read the bot's updates, answer them, deliver the outbox, repeat.

Telegram being down only delays messages. Each update is handled on its own: one
that fails is recorded, reported to the admins once and skipped, so it can never
stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

import telegram

from services import alerts
from services.core import audit, clock, leases, outbox
from services.core.db import session_scope
from services.core.models import SystemStatus
from services.telegram import bot as commands
from services.telegram.delivery import deliver_due, make_bot
from services.telegram.linking import configured

log = logging.getLogger(__name__)
LEASE = "telegram"


def _offset() -> int:
    with session_scope() as session:
        row = session.get(SystemStatus, "telegram_offset")
        return int(row.detail) if row and row.detail.isdigit() else 0


def _save_offset(offset: int) -> None:
    with session_scope() as session:
        row = session.get(SystemStatus, "telegram_offset") or SystemStatus(
            key="telegram_offset", state="ok", updated_at=clock.now()
        )
        row.detail, row.updated_at = str(offset), clock.now()
        session.add(row)


def _handle(update: telegram.Update) -> None:
    msg = update.message
    if msg is not None and msg.text and msg.chat.type == "private":
        commands.reply_to(msg.chat.id, msg.text, update.update_id)


def _record_failure(update: telegram.Update, exc: Exception) -> None:
    """A message the bot could not handle: kept in the journal, the admins told once, the sender answered."""
    log.exception("telegram update %s failed", update.update_id)
    what = f"{exc.__class__.__name__}: {exc}"[:300]
    with session_scope() as session:
        audit.record(session, "telegram_update_failed", subject=str(update.update_id), detail=what)
    alerts.alert_admins(
        "telegram_update_failed",
        f"🚨 Алерт\nБот не смог обработать сообщение №{update.update_id}: {what}. Остальные обрабатываются.",
        f"telegram_update_failed:{update.update_id}",
    )
    msg = update.message
    if msg is not None and msg.chat is not None:
        outbox.enqueue_chat(
            msg.chat.id,
            "reply",
            "⚠️ Не получилось выполнить команду. Администраторы уже знают, попробуйте позже.",
            f"reply:{update.update_id}",
        )


async def poll_once(bot: telegram.Bot) -> int:
    """Read new messages, answer each on its own (into the outbox), remember how far we read.

    The offset moves past every update, handled or not: a message that makes the bot fail
    is recorded and skipped instead of being read (and failing) again on every cycle."""
    offset = await asyncio.to_thread(_offset)
    updates = await bot.get_updates(offset=offset or None, timeout=0, allowed_updates=["message"])
    for upd in updates:
        try:
            await asyncio.to_thread(_handle, upd)
        except Exception as exc:
            await asyncio.to_thread(_record_failure, upd, exc)
        await asyncio.to_thread(_save_offset, upd.update_id + 1)
    return len(updates)


async def run_worker(interval: float = 1.0, stop: asyncio.Event | None = None) -> None:
    """The one Telegram worker: poll, deliver, repeat. Other processes wait on the lease."""
    if not configured():
        log.info("Telegram is not configured (VDI_TELEGRAM_TOKEN is empty); notifications stay in the outbox")
        return
    stop = stop or asyncio.Event()
    bot = make_bot()
    initialised = False
    while not stop.is_set():
        try:
            if await asyncio.to_thread(leases.acquire, LEASE, timedelta(seconds=max(30, interval * 10))):
                if not initialised:
                    await bot.initialize()
                    await bot.delete_webhook()
                    await bot.set_my_commands([telegram.BotCommand(c, d) for c, d in commands.COMMANDS])
                    initialised = True
                await poll_once(bot)
                await deliver_due(bot)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Telegram unreachable: nothing is lost, try again shortly
            log.warning("telegram worker: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
    if initialised:
        await bot.shutdown()
