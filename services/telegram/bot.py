"""Bot commands: what the bot answers to each message. Answers go through the outbox like everything else.

Admin commands call the same services as their twins in the web panel, so they are
checked and audited the same way.
"""

from __future__ import annotations

from sqlmodel import select

from services import analytics, board, bookings, health, queue, session_views, sessions
from services.core import outbox
from services.core.access import acts_as_admin
from services.core.db import session_scope
from services.core.errors import DomainError
from services.core.models import Room, SystemStatus, User
from services.rooms.base import RoomUnavailable, state_label
from services.telegram import linking

# Where a command comes from, in the audit journal's address column.
AUDIT_SOURCE = "telegram"
COMMANDS = [
    ("start", "Привязать аккаунт"),
    ("status", "Мой статус"),
    ("help", "Список команд"),
    ("unlink", "Отвязать Telegram"),
    ("health", "Здоровье системы (админ)"),
    ("stats", "Статистика за неделю (админ)"),
]
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
    for work in session_views.active_sessions_of(user.id):
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
    busy = board.cards()
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
        lines.append(f"{mark} {room.slot_id}: {state_label(room.state)}{who}")
    return "\n".join(lines)


def _admin_command(admin: User, command: str, arg: str) -> str:
    assert admin.id is not None
    if command == "health":
        return _health_text()
    if command == "stats":
        return analytics.weekly_text()
    if not arg:
        return f"Использование: /{command} <{'логин' if command == 'kick' else 'слот'}>"
    try:
        if command == "kick":
            ended = sessions.kick_user(admin.id, arg, client_ip=AUDIT_SOURCE)
            if not ended:
                return f"ℹ️ У {arg} нет активных сессий."
            return f"✅ Пользователь {arg} отключён от: {', '.join(ended)}."
        if command == "release":
            released = sessions.force_release(admin.id, arg, client_ip=AUDIT_SOURCE)
            return f"✅ Слот {released.slot_id} освобождён (был у {released.user_name})."
        if command == "restart":
            return "✅ " + health.room_action(admin.id, arg, "restart", client_ip=AUDIT_SOURCE)
    except (DomainError, RoomUnavailable) as exc:
        return f"❌ Ошибка: {exc}"
    return "Неизвестная команда. /help"


def reply_to(chat_id: int, text: str, update_id: int) -> str:
    """Answer one incoming message. The answer goes through the outbox like everything else."""
    text = (text or "").strip()
    command, _, arg = text.partition(" ")
    command = command.split("@", 1)[0].lstrip("/").lower()
    arg = arg.strip()[:64]
    user = linking.user_for_chat(chat_id)
    if command == "start":
        if not arg:
            answer = (
                "👋 Привет! Чтобы привязать аккаунт VDI Такси, откройте профиль на портале, "
                "получите код и отправьте:\n/start <код>"
            )
        else:
            try:
                linked = linking.link_chat(arg, chat_id)
                answer = (
                    f"✅ Аккаунт привязан!\nИмя: {linked.name}\n\nТеперь вы будете получать дампы сессий и уведомления."
                )
            except DomainError as exc:
                answer = f"❌ {exc}"
    elif command == "help":
        answer = HELP_USER + (HELP_ADMIN if acts_as_admin(user) else "")
    elif user is None:
        answer = "❓ Аккаунт не привязан. Отправьте /start <код> — код есть в профиле на портале."
    elif command == "status":
        answer = _status_text(user)
    elif command == "unlink":
        assert user.id is not None
        linking.unlink(user.id)
        answer = "🔕 Чат отвязан. Уведомления больше не придут."
    elif command in {"health", "stats", "kick", "release", "restart"}:
        if acts_as_admin(user):
            answer = _admin_command(user, command, arg)
        elif user.is_admin:
            answer = "⛔ Сначала подключите двухфакторную защиту (2FA) на портале."
        else:
            answer = "⛔ Только для администраторов."
    else:
        answer = "Не понимаю. /help — список команд."
    outbox.enqueue_chat(chat_id, "reply", answer, f"reply:{update_id}")
    return answer
