"""Room health for admins: what every room and shared dependency is doing, and the actions on a room."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import select

from services import idle
from services.core import audit, clock
from services.core.access import require_admin, validate_slot_id
from services.core.db import session_scope
from services.core.errors import Forbidden
from services.core.models import Lease, Notification, Room, Slot, SlotSession, SystemStatus, User
from services.rooms import base as rooms
from services.rooms.base import RoomActionUnsupported, RoomHealth, RoomUnavailable

ROOM_ACTIONS = {"restart": "перезапущена", "recreate": "пересоздана", "kick": "все отключены"}


@dataclass(frozen=True)
class RoomRow:
    slot_id: str
    service_name: str
    state: str
    detail: str
    occupant: str
    since: str
    restarts: int
    # Unattended time of the running session («простой 12 мин»), empty when the slot is free.
    idle: str = ""


@dataclass(frozen=True)
class Health:
    docker: str
    scheduler: str
    outbox_pending: int
    outbox_failed: int
    rooms: list[RoomRow]
    # When these figures were read (HH:MM:SS, local time), shown as «Обновлено …».
    checked_at: str = ""


def health(actor_id: int) -> Health:
    require_admin(actor_id)
    now = clock.now()
    with session_scope() as session:
        docker = session.get(SystemStatus, "docker")
        lease = session.get(Lease, "scheduler")
        pending = session.exec(
            select(func.count()).select_from(Notification).where(Notification.status.in_(["pending", "sending"]))
        ).one()
        failed = session.exec(
            select(func.count()).select_from(Notification).where(Notification.status == "failed")
        ).one()
        slots = session.exec(select(Slot).where(Slot.is_active).order_by(Slot.sort_order, Slot.id)).all()
        rooms = {r.slot_id: r for r in session.exec(select(Room)).all()}
        running = {
            w.slot_id: (w, u)
            for w, u in session.exec(
                select(SlotSession, User)
                .join(User, User.id == SlotSession.user_id)
                .where(SlotSession.ended_at.is_(None))
            ).all()
        }
    rows = []
    for slot in slots:
        room = rooms.get(slot.id)
        work_user = running.get(slot.id)
        rows.append(
            RoomRow(
                slot.id,
                slot.service_name,
                room.state if room else "demo",
                room.detail if room else "Демо-комната (без Docker)",
                work_user[1].name if work_user else "",
                f"с {clock.hhmm(work_user[0].started_at)}" if work_user else "",
                room.restarts if room else 0,
                idle.idle_state(*work_user, now).label if work_user else "",
            )
        )
    docker_label = (
        "не используется (демо-комнаты)"
        if docker is None
        else ("работает" if docker.state == "ok" else docker.detail or "недоступен")
    )
    scheduler_label = (
        f"работает ({lease.holder})"
        if lease and lease.expires_at > now
        else "не отвечает — проверьте процесс приложения"
    )
    return Health(docker_label, scheduler_label, int(pending), int(failed), rows, f"{clock.local(now):%H:%M:%S}")


def room_action(actor_id: int, slot_id: str, action: str, client_ip: str = "") -> str:
    """Restart, recreate or kick everyone out of a slot's room; returns what happened, in Russian.

    The web panel and the bot both come here, so both leave the same audit entry."""
    require_admin(actor_id)
    slot_id = validate_slot_id(slot_id)
    if action not in ROOM_ACTIONS:
        raise Forbidden("Неизвестное действие")
    provider = rooms.current()
    try:
        if action == "kick":
            result: object = provider.kick(slot_id)
        elif action == "restart":
            result = provider.restart(slot_id)
        else:
            result = provider.recreate(slot_id)
    except RoomActionUnsupported as exc:
        return str(exc)
    except RoomUnavailable as exc:
        return f"Не удалось: {exc}"
    with session_scope() as session:
        audit.record(session, f"room_{action}", actor_id=actor_id, subject=slot_id, client_ip=client_ip)
    state = result.state if isinstance(result, RoomHealth) else None
    return f"Комната {slot_id}: {ROOM_ACTIONS[action]}" + (f" (состояние: {state})" if state else "")


def room_screenshot(actor_id: int, slot_id: str) -> bytes | None:
    """The room's desktop as a JPEG, or None when the room cannot show one now."""
    require_admin(actor_id)
    try:
        return rooms.current().screenshot(validate_slot_id(slot_id))
    except RoomUnavailable:
        return None
