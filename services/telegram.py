"""Telegram: linking a chat to an account, bot commands, and delivery of the outbox.

Every message (notifications and command replies alike) is a row in `notifications`
first; a single worker (database lease) polls updates and sends due rows with
retries and back-off. Telegram being down only delays messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import telegram
from sqlalchemy import update
from sqlmodel import select
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from services import bookings, clock, crypto, leases, notify, queue, slots
from services.db import session_scope
from services.errors import DomainError
from services.models import Notification, Room, SystemStatus, TelegramLinkCode, User
from services.settings import get_settings

log = logging.getLogger(__name__)
LEASE = "telegram"
MAX_ATTEMPTS = 12
COMMANDS = [
    ("start", "Привязать аккаунт"),
    ("status", "Мой статус"),
    ("help", "Список команд"),
    ("unlink", "Отвязать Telegram"),
    ("health", "Здоровье системы (админ)"),
    ("stats", "Статистика за неделю (админ)"),
]


def configured() -> bool:
    return get_settings().telegram.configured


def make_bot() -> telegram.Bot:
    cfg = get_settings().telegram
    return telegram.Bot(cfg.token, base_url=cfg.api_url, base_file_url=cfg.file_url)


# ---------------------------------------------------------------- linking


@dataclass(frozen=True)
class LinkCode:
    code: str
    expires_at_label: str

    def deep_link(self, bot_username: str) -> str:
        return f"https://t.me/{bot_username}?start={self.code}" if bot_username else ""


def create_link_code(user_id: int) -> LinkCode:
    """A fresh one-time code; older unused codes of the person stop working."""
    code = secrets.token_hex(4).upper()
    expires = clock.now() + timedelta(minutes=get_settings().telegram.link_code_minutes)
    with session_scope() as session:
        session.exec(
            update(TelegramLinkCode)
            .where(TelegramLinkCode.user_id == user_id, TelegramLinkCode.used_at.is_(None))
            .values(used_at=clock.now())
        )
        session.add(TelegramLinkCode(code_hash=crypto.token_digest(code), user_id=user_id, expires_at=expires))
    return LinkCode(code, bookings.hhmm(expires))


def link_chat(code: str, chat_id: int) -> User:
    code = (code or "").strip().upper()
    now = clock.now()
    with session_scope() as session:
        row = session.get(TelegramLinkCode, crypto.token_digest(code)) if code else None
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise DomainError("Код не подошёл или устарел. Получите новый в профиле VDI Такси.")
        claimed = session.exec(
            update(TelegramLinkCode)
            .where(TelegramLinkCode.code_hash == row.code_hash, TelegramLinkCode.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:
            raise DomainError("Код уже использован.")
        # A chat controls one account: linking here moves it away from any other.
        session.exec(update(User).where(User.telegram_chat_id == chat_id).values(telegram_chat_id=None))
        session.flush()
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise DomainError("Учётная запись отключена.")
        user.telegram_chat_id, user.telegram_linked_at, user.telegram_error = chat_id, now, ""
        session.add(user)
        return user


def unlink(user_id: int) -> None:
    with session_scope() as session:
        session.exec(update(User).where(User.id == user_id).values(telegram_chat_id=None, telegram_linked_at=None))


def user_for_chat(chat_id: int) -> User | None:
    with session_scope() as session:
        return session.exec(select(User).where(User.telegram_chat_id == chat_id, User.is_active)).first()


# ---------------------------------------------------------------- commands

HELP_USER = (
    "📖 Команды VDI Такси:\n"
    "/start <код> — привязать аккаунт (код — в профиле на портале)\n"
    "/status — активная сессия, брони, очереди\n"
    "/unlink — отвязать этот чат\n"
    "/help — эта справка"
)
HELP_ADMIN = (
    "\n\n🔑 Админ-команды:\n"
    "/health — комнаты и их состояние\n"
    "/kick <логин> — отключить пользователя от его слотов\n"
    "/release <слот> — освободить слот\n"
    "/restart <слот> — перезапустить комнату слота\n"
    "/stats — статистика за неделю"
)


def _status_text(user: User) -> str:
    assert user.id is not None
    lines = []
    for work in slots.active_sessions_of(user.id):
        lines.append(f"🟢 Активная сессия\nСлот: {work.service_name}\nВремя: {work.duration_minutes} мин")
    mine = bookings.my_bookings(user.id)
    if mine:
        lines.append("📅 Брони:\n" + "\n".join(f"• {b.service_name}, {b.label}" for b in mine))
    with session_scope() as session:
        lines_by_slot = queue.queue_sizes(session)
    places = [(slot_id, line.index(user.id) + 1) for slot_id, line in lines_by_slot.items() if user.id in line]
    if places:
        lines.append("⏳ Очереди:\n" + "\n".join(f"• {s}: позиция {p}" for s, p in sorted(places)))
    return "\n\n".join(lines) or "😴 Нет активных сессий.\nОткройте дашборд, чтобы занять слот."


def _health_text() -> str:
    with session_scope() as session:
        rooms = session.exec(select(Room).order_by(Room.slot_id)).all()
        docker = session.get(SystemStatus, "docker")
    head = "🏥 Здоровье системы"
    if docker is not None and docker.state != "ok":
        head += f"\n🔴 {docker.detail or 'Docker недоступен'}"
    busy = {c.id: c for g in slots.load_board() for c in g.slots}
    if not rooms:
        return (
            head
            + "\n📟 Комнаты: демо-режим (без Docker)\n💾 Слотов занято: "
            + str(sum(1 for c in busy.values() if c.busy))
        )
    lines = [head]
    for room in rooms:
        mark = "🟢" if room.state == "ready" else "🔴"
        card = busy.get(room.slot_id)
        who = f" ({card.occupant_name})" if card and card.busy else ""
        lines.append(f"{mark} {room.slot_id}: {room.state}{who}")
    return "\n".join(lines)


def _stats_text() -> str:
    """The admin panel's weekly utilisation, as a message."""
    from services import analytics

    report = analytics.compute("week", clock.now())
    lines = [
        "📊 Статистика за неделю",
        f"Всего сессий: {sum(s.sessions for s in report.slots)}",
        f"Общее время: {report.total_hours:.1f} ч",
        f"Среднее/день: {report.total_hours / 7:.1f} ч",
    ]
    used = sorted((s for s in report.slots if s.sessions), key=lambda s: -s.hours_used)
    if used:
        lines.append("📈 По слотам:")
        lines += [f"{s.slot_id}: {s.sessions} сессий, {s.hours_used:.1f} ч, {s.work_pct:.0f}%" for s in used]
    if report.recommendations:
        lines.append("💡 Рекомендации:")
        lines += [f"• {line}" for line in report.recommendations]
    return "\n".join(lines)


def _admin_command(admin: User, command: str, arg: str) -> str:
    from services.rooms import RoomUnavailable, get_room_provider

    assert admin.id is not None
    if command == "health":
        return _health_text()
    if command == "stats":
        return _stats_text()
    if not arg:
        return f"Использование: /{command} <{'логин' if command == 'kick' else 'слот'}>"
    try:
        if command == "kick":
            with session_scope() as session:
                target = session.exec(select(User).where(User.username == arg.lower())).first()
            if target is None:
                return f"❌ Пользователь '{arg}' не найден."
            assert target.id is not None
            running = slots.active_sessions_of(target.id)
            if not running:
                return f"ℹ️ У {arg} нет активных сессий."
            for work in running:
                slots.end_session(work.id, "kicked", ended_by=admin.id)
            return f"✅ Пользователь {arg} отключён от: {', '.join(w.slot_id for w in running)}."
        if command == "release":
            ended = slots.force_release(admin.id, arg)
            return f"✅ Слот {ended.slot_id} освобождён (был у {ended.user_name})."
        if command == "restart":
            health = get_room_provider().restart(slots.validate_slot_id(arg), "Перезапуск из Telegram")
            return f"✅ Комната {arg}: {health.state}."
    except (DomainError, RoomUnavailable) as exc:
        return f"❌ Ошибка: {exc}"
    return "Неизвестная команда. /help"


def reply_to(chat_id: int, text: str, update_id: int) -> str:
    """Answer one incoming message. The answer goes through the outbox like everything else."""
    text = (text or "").strip()
    command, _, arg = text.partition(" ")
    command = command.split("@", 1)[0].lstrip("/").lower()
    arg = arg.strip()[:64]
    user = user_for_chat(chat_id)
    if command == "start":
        if not arg:
            answer = (
                "👋 Привет! Чтобы привязать аккаунт VDI Такси, откройте профиль на портале, "
                "получите код и отправьте:\n/start <код>"
            )
        else:
            try:
                linked = link_chat(arg, chat_id)
                answer = (
                    f"✅ Аккаунт привязан!\nИмя: {linked.name}\n\nТеперь вы будете получать дампы сессий и уведомления."
                )
            except DomainError as exc:
                answer = f"❌ {exc}"
    elif command == "help":
        answer = HELP_USER + (HELP_ADMIN if user is not None and user.is_admin else "")
    elif user is None:
        answer = "❓ Аккаунт не привязан. Отправьте /start <код> — код есть в профиле на портале."
    elif command == "status":
        answer = _status_text(user)
    elif command == "unlink":
        assert user.id is not None
        unlink(user.id)
        answer = "🔕 Чат отвязан. Уведомления больше не придут."
    elif command in {"health", "stats", "kick", "release", "restart"}:
        answer = _admin_command(user, command, arg) if user.is_admin else "⛔ Только для администраторов."
    else:
        answer = "Не понимаю. /help — список команд."
    notify.enqueue_chat(chat_id, "reply", answer, f"reply:{update_id}")
    return answer


# ---------------------------------------------------------------- delivery


@dataclass
class DeliveryReport:
    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 3600))


def _claim_due(limit: int) -> list[tuple[Notification, int | None]]:
    now = clock.now()
    with session_scope() as session:
        due = session.exec(
            select(Notification, User.telegram_chat_id)
            .join(User, User.id == Notification.user_id, isouter=True)
            .where(Notification.status == "pending", Notification.next_attempt_at <= now)
            .order_by(Notification.id)
            .limit(limit)
        ).all()
        claimed = []
        for note, chat in due:
            # Claim: a second worker (or a restarted one) cannot send the same row.
            result = session.exec(
                update(Notification)
                .where(Notification.id == note.id, Notification.status == "pending")
                .values(status="sending", attempts=Notification.attempts + 1, next_attempt_at=now)
            )
            if result.rowcount == 1:
                # The ORM already applied the UPDATE to `note` (attempts, status) in memory.
                claimed.append((note, note.chat_id or chat))
        return claimed


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
        link = f"{get_settings().public_url}/dumps/{path.name}"
        await bot.send_message(chat_id, note.text + f"\n\n📦 Архив больше 50 МБ — скачайте на портале: {link}")
        return
    await bot.send_message(chat_id, note.text)


async def deliver_due(bot: telegram.Bot, limit: int = 20) -> DeliveryReport:
    report = DeliveryReport()
    for note, chat_id in await asyncio.to_thread(_claim_due, limit):
        assert note.id is not None
        if chat_id is None:
            await asyncio.to_thread(_finish, note.id, status="skipped", last_error="Telegram не привязан")
            report.skipped += 1
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
            wait = timedelta(seconds=exc.retry_after) if isinstance(exc, RetryAfter) else _backoff(note.attempts)
            final = note.attempts >= MAX_ATTEMPTS
            await asyncio.to_thread(
                _finish,
                note.id,
                status="failed" if final else "pending",
                last_error=str(exc)[:500],
                next_attempt_at=clock.now() + (wait if isinstance(wait, timedelta) else timedelta(seconds=wait)),
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


# ---------------------------------------------------------------- polling


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


async def poll_once(bot: telegram.Bot) -> int:
    """Read new messages, answer them (into the outbox), remember how far we read."""
    offset = await asyncio.to_thread(_offset)
    updates = await bot.get_updates(offset=offset or None, timeout=0, allowed_updates=["message"])
    for upd in updates:
        msg = upd.message
        if msg is not None and msg.text and msg.chat.type == "private":
            await asyncio.to_thread(reply_to, msg.chat.id, msg.text, upd.update_id)
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
                    await bot.set_my_commands([telegram.BotCommand(c, d) for c, d in COMMANDS])
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


def delivery_status(user_id: int, dedupe_key: str) -> str:
    """What the session end page says about a message to this person."""
    with session_scope() as session:
        user = session.get(User, user_id)
        note = session.exec(select(Notification).where(Notification.dedupe_key == dedupe_key)).first()
    if user is None or user.telegram_chat_id is None:
        return "Telegram не привязан"
    if note is None or note.status in {"pending", "sending"}:
        return "Ожидает отправки"
    if note.status == "sent":
        return "Отправлено в Telegram"
    if note.status == "skipped":
        return "Telegram не привязан"
    return "Ошибка отправки"


@dataclass(frozen=True)
class TelegramLink:
    configured: bool
    linked: bool
    since: str
    error: str


def link_state(user_id: int) -> TelegramLink:
    with session_scope() as session:
        user = session.get(User, user_id)
    if user is None:
        return TelegramLink(configured(), False, "", "")
    since = f"{bookings.local(user.telegram_linked_at):%d.%m.%Y %H:%M}" if user.telegram_linked_at else ""
    return TelegramLink(configured(), user.telegram_chat_id is not None, since, user.telegram_error)
