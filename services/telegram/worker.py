"""The one Telegram worker: read the bot's updates, answer them, deliver the outbox, repeat.

Telegram being down only delays messages. Each update is handled on its own: one
that fails is recorded, reported to the admins once and skipped, so it can never
stop the others.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import warnings
from datetime import timedelta
from typing import TYPE_CHECKING

from services import alerts
from services.core import audit, clock, leases, outbox
from services.core.db import session_scope
from services.core.models import SystemStatus
from services.telegram import bot as commands
from services.telegram.delivery import deliver_due, make_bot, release_stuck_claims
from services.telegram.linking import configured, remember_bot

if TYPE_CHECKING:
    import telegram  # imported by run_worker, and only when Telegram is configured (see delivery)

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


def _handle(bot: telegram.Bot, raw: dict) -> None:
    import telegram

    update = telegram.Update.de_json(raw, bot)
    msg = update.message
    if msg is not None and msg.text and msg.chat.type == "private":
        commands.reply_to(msg.chat.id, msg.text, update.update_id)


def _record_failure(raw: dict, exc: Exception) -> None:
    """An update the bot could not handle: kept in the journal, the admins told once, the sender answered."""
    update_id = raw.get("update_id")
    log.error("telegram update %s failed: %r", update_id, exc)
    what = f"{exc.__class__.__name__}: {exc}"[:300]
    with session_scope() as session:
        audit.record(session, "telegram_update_failed", subject=str(update_id), detail=what)
    alerts.alert_admins(
        "telegram_update_failed",
        f"🚨 Алерт\nБот не смог обработать сообщение №{update_id}: {what}. Остальные обрабатываются.",
        f"telegram_update_failed:{update_id}",
    )
    message = raw.get("message")
    chat = message.get("chat") if isinstance(message, dict) else None
    if isinstance(chat, dict) and isinstance(chat.get("id"), int) and chat.get("type") == "private":
        outbox.enqueue_chat(
            chat["id"],
            "reply",
            "⚠️ Не получилось выполнить команду. Администраторы уже знают, попробуйте позже.",
            f"reply:{update_id}",
        )


async def poll_once(bot: telegram.Bot) -> int:
    """Read new updates, answer each on its own (into the outbox), remember how far we read.

    Updates are fetched raw and parsed one by one, and the offset moves past every update,
    handled or not: one that the bot cannot parse or answer is recorded and skipped instead
    of failing the whole batch again on every cycle."""
    offset = await asyncio.to_thread(_offset)
    params: dict = {"timeout": 0, "allowed_updates": ["message"]}
    if offset:
        params["offset"] = offset
    from telegram.warnings import PTBUserWarning

    with warnings.catch_warnings():
        # get_updates() would parse the whole batch at once, and one malformed update would fail it all.
        warnings.filterwarnings("ignore", message=".*getUpdates.*", category=PTBUserWarning)
        raw_updates = await bot.do_api_request("getUpdates", api_kwargs=params)
    for raw in raw_updates or []:
        update_id = raw.get("update_id") if isinstance(raw, dict) else None
        if not isinstance(update_id, int):
            log.error("telegram sent an update without an id: %r", raw)
            continue
        try:
            await asyncio.to_thread(_handle, bot, raw)
        except Exception as exc:
            await asyncio.to_thread(_record_failure, raw, exc)
        await asyncio.to_thread(_save_offset, update_id + 1)
    return len(raw_updates or [])


async def run_worker(interval: float = 1.0, stop: asyncio.Event | None = None) -> None:
    """The one Telegram worker: poll, deliver, repeat. Other processes wait on the lease."""
    if not configured():
        log.info("Telegram is not configured (VDI_TELEGRAM_TOKEN is empty); notifications stay in the outbox")
        return
    import telegram

    stop = stop or asyncio.Event()
    bot = make_bot()
    initialised = False
    while not stop.is_set():
        try:
            if await asyncio.to_thread(leases.acquire, LEASE, leases.period()):
                if not initialised:
                    await bot.initialize()
                    # getMe ran in initialize(): the profile names the bot from here on.
                    await asyncio.to_thread(remember_bot, bot.username)
                    await bot.delete_webhook()
                    await bot.set_my_commands([telegram.BotCommand(c, d) for c, d in commands.COMMANDS])
                    initialised = True
                    # This process just became the one sender: a message the previous sender
                    # (killed mid-send) had claimed is sent again now rather than in five minutes.
                    await asyncio.to_thread(release_stuck_claims, timedelta(0))
                # Messages a killed holder had claimed but not sent go back to the queue (after a margin,
                # so one still being sent is not sent twice); one left claimed would hold its chat forever.
                await asyncio.to_thread(release_stuck_claims)
                # Reading and delivering fail on their own: a broken read never holds up the outbox.
                try:
                    await poll_once(bot)
                except Exception as exc:
                    log.warning("telegram worker: reading updates failed: %s", exc)
                await deliver_due(bot)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # Telegram unreachable: nothing is lost, try again shortly
            log.warning("telegram worker: %s", exc)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
    if initialised:
        await bot.shutdown()
