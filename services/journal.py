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


@dataclass(frozen=True)
class AuditRow:
    at: str
    kind: str
    actor: str
    subject: str
    detail: str
    client_ip: str


def audit_rows(actor_id: int, kind: str = "", limit: int = 200) -> list[AuditRow]:
    require_admin(actor_id)
    tz = get_settings().tz
    with session_scope() as session:
        query = select(AuditEvent, User.username).join(User, User.id == AuditEvent.actor_id, isouter=True)
        if kind:
            query = query.where(AuditEvent.kind == kind[:40])
        rows = session.exec(query.order_by(AuditEvent.id.desc()).limit(limit)).all()
    return [
        AuditRow(f"{e.at.astimezone(tz):%d.%m %H:%M:%S}", e.kind, name or "—", e.subject, e.detail, e.client_ip)
        for e, name in rows
    ]


def audit_kinds(actor_id: int) -> list[str]:
    require_admin(actor_id)
    with session_scope() as session:
        return sorted(session.exec(select(AuditEvent.kind).distinct()).all())


ROOM_ACTIONS = {"restart": "перезапущена", "recreate": "пересоздана", "kick": "все отключены"}
