"""Room health for admins: what every room and shared dependency is doing, and the actions on a room."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func
from sqlmodel import select

from services import idle
from services.core import audit, clock
from services.core.access import require_admin, validate_slot_id
from services.core.db import session_scope
from services.core.errors import Forbidden
from services.core.models import Lease, Notification, Room, Slot, SlotSession, SystemStatus, User
from services.core.plural import plural
from services.rooms import base as rooms
from services.rooms.base import HostInfo, RoomActionUnsupported, RoomHealth, RoomUnavailable, state_label

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
    # The Docker host the room runs on (empty for demo rooms), «закреплена» when an admin chose it.
    host: str = ""
    pinned: bool = False
    # The state as admins read it («работает», «демо-комната»); `state` stays the code the page colours by.
    state_label: str = ""


@dataclass(frozen=True)
class HostRow:
    """One Docker host in «Здоровье»: its state, memory and rooms, in words."""

    name: str
    state: str
    memory: str
    rooms: str
    answers: bool


@dataclass(frozen=True)
class Health:
    docker: str
    scheduler: str
    outbox_pending: int
    outbox_failed: int
    rooms: list[RoomRow]
    # When these figures were read (HH:MM:SS, local time), shown as «Обновлено …».
    checked_at: str = ""
    hosts: list[HostRow] = field(default_factory=list)


def health(actor_id: int) -> Health:
    require_admin(actor_id)
    now = clock.now()
    hosts = [_host_row(h) for h in rooms.current().hosts()]
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
        room_rows = {r.slot_id: r for r in session.exec(select(Room)).all()}
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
        room = room_rows.get(slot.id)
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
                (room.host or "") if room else "",
                bool(room and room.host_pinned),
                state_label(room.state if room else "demo"),
            )
        )
    docker_label = (
        "не используется (демо-комнаты)"
        if docker is None
        else ("работает" if docker.state == "ok" else docker.detail or "недоступен")
    )
    scheduler_label = "работает" if lease and lease.expires_at > now else "не отвечает — проверьте процесс приложения"
    return Health(
        docker_label,
        scheduler_label,
        int(pending),
        int(failed),
        rows,
        f"{clock.local(now):%H:%M:%S}",
        hosts,
    )


def _gb(value: int) -> str:
    return f"{value / 1024**3:.1f}".replace(".", ",")


def _host_row(info: HostInfo) -> HostRow:
    count = len(info.rooms)
    rooms_text = plural(count, "комната", "комнаты", "комнат") + (": " + ", ".join(info.rooms) if info.rooms else "")
    memory = f"свободно {_gb(info.memory_free)} из {_gb(info.memory_total)} ГБ" if info.answers else "—"
    state = "работает" if info.answers else "не отвечает — комнаты недоступны"
    return HostRow(info.name, state, memory, rooms_text, info.answers)


def move_room(actor_id: int, slot_id: str, host: str, client_ip: str = "") -> str:
    """Carry a slot's room, browser profile included, to another Docker host and pin it there."""
    require_admin(actor_id)
    slot_id = validate_slot_id(slot_id)
    host = str(host).strip()[:32]
    provider = rooms.current()
    known = {h.name for h in provider.hosts()}
    if not known:
        return f"{provider.kind_label}: у неё нет контейнера, переносить нечего"
    if host not in known:
        raise Forbidden("Неизвестный хост")
    with session_scope() as session:
        if session.get(Slot, slot_id) is None:
            raise Forbidden("Слот не найден")
        busy = session.exec(
            select(SlotSession.id).where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None))
        ).first()
        room = session.get(Room, slot_id)
    if busy is not None:
        return "Слот занят: перенесите комнату, когда сессия закончится"
    source = (room.host if room else None) or ""
    try:
        result = provider.move(slot_id, host)
    except RoomUnavailable as exc:
        return f"Не удалось: {exc}"
    with session_scope() as session:
        audit.record(
            session,
            "room_move",
            actor_id=actor_id,
            subject=slot_id,
            detail=f"Перенос комнаты на хост {host}" + (f" (с хоста {source})" if source and source != host else ""),
            client_ip=client_ip,
        )
    return f"Комната {slot_id}: на хосте {host} ({state_label(result.state)})"


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
    state = state_label(result.state) if isinstance(result, RoomHealth) else None
    return f"Комната {slot_id}: {ROOM_ACTIONS[action]}" + (f" ({state})" if state else "")


def room_screenshot(actor_id: int, slot_id: str) -> bytes | None:
    """The room's desktop as a JPEG, or None when the room cannot show one now."""
    require_admin(actor_id)
    try:
        return rooms.current().screenshot(validate_slot_id(slot_id))
    except RoomUnavailable:
        return None
