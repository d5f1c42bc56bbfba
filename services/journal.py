"""The audit journal as admins read it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import select

from services.core.access import require_admin
from services.core.db import session_scope
from services.core.models import AuditEvent, User
from services.core.settings import get_settings

log = logging.getLogger(__name__)


# What each kind of event is called in the journal; an unknown kind shows as «другое: kind».
KIND_LABELS = {
    "login": "Вход",
    "login_failed": "Неудачный вход",
    "login_locked": "Вход заблокирован",
    "login_burst": "Серия неудачных входов",
    "2fa_enrolled": "2FA подключена",
    "2fa_reset": "2FA сброшена",
    "password_reset": "Пароль сброшен",
    "user_created": "Пользователь создан",
    "user_renamed": "Пользователь переименован",
    "user_activated": "Пользователь включён",
    "user_deactivated": "Пользователь отключён",
    "user_kicked": "Входы пользователя отозваны",
    "admin_granted": "Выданы права админа",
    "admin_revoked": "Сняты права админа",
    "slot_created": "Слот создан",
    "slot_updated": "Слот изменён",
    "slot_enabled": "Слот включён",
    "slot_disabled": "Слот отключён",
    "credentials_viewed": "Просмотр доступов",
    "force_release": "Принудительное освобождение",
    "booking_cancelled": "Бронь отменена",
    "template_created": "Шаблон создан",
    "template_updated": "Шаблон изменён",
    "template_deleted": "Шаблон удалён",
    "ics_rotated": "Ссылка календаря заменена",
    "dump_failed": "Ошибка дампа",
    "telegram_update_failed": "Ошибка сообщения Telegram",
    "room_restart": "Комната перезапущена",
    "room_recreate": "Комната пересоздана",
    "room_kick": "Все отключены от комнаты",
    "room_move": "Комната перенесена на другой хост",
}


def kind_label(kind: str) -> str:
    return KIND_LABELS.get(kind, f"другое: {kind}")


@dataclass(frozen=True)
class KindOption:
    kind: str
    label: str


@dataclass(frozen=True)
class AuditRow:
    at: str
    kind: str
    actor: str
    subject: str
    detail: str
    client_ip: str
    # The kind as admins read it («Неудачный вход», not login_failed).
    label: str = ""


def audit_rows(actor_id: int, kind: str = "", limit: int = 200) -> list[AuditRow]:
    require_admin(actor_id)
    tz = get_settings().tz
    with session_scope() as session:
        query = select(AuditEvent, User.username).join(User, User.id == AuditEvent.actor_id, isouter=True)
        if kind:
            query = query.where(AuditEvent.kind == kind[:40])
        rows = session.exec(query.order_by(AuditEvent.id.desc()).limit(limit)).all()
    return [
        AuditRow(
            f"{e.at.astimezone(tz):%d.%m.%Y %H:%M:%S}",
            e.kind,
            name or "—",
            e.subject,
            e.detail,
            e.client_ip,
            kind_label(e.kind),
        )
        for e, name in rows
    ]


def audit_kinds(actor_id: int) -> list[KindOption]:
    """The kinds of event in the journal, for its filter, in the order of their labels."""
    require_admin(actor_id)
    with session_scope() as session:
        kinds = session.exec(select(AuditEvent.kind).distinct()).all()
    return sorted((KindOption(k, kind_label(k)) for k in kinds), key=lambda o: o.label)
