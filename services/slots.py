"""Taking and releasing slots, the live board, favourites.

The race for a slot is decided by the database: a partial unique index allows
one running session per slot, another caps the seats a user holds. Code here
only turns the loser's IntegrityError into a clear Russian refusal.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services import audit, bookings, clock, crypto, dumps, queue
from services.db import bump_board_version, session_scope
from services.errors import Conflict, DomainError, Forbidden, NotFound
from services.models import Favourite, Room, Slot, SlotSession, User
from services.rooms import RoomProvider, RoomUnavailable, get_room_provider
from services.settings import get_settings

log = logging.getLogger(__name__)

SLOT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")
END_REASONS = {
    "manual": "Завершено",
    "admin_force": "Освобождён администратором",
    "kicked": "Отключён",
    "timeout": "Время истекло",
    "room_error": "Ошибка комнаты",
    "booking": "Началась чужая бронь",
    "deactivated": "Учётная запись отключена",
}


ROOM_STATE_LABELS = {
    "ready": "",
    "creating": "Комната создаётся",
    "starting": "Комната запускается",
    "resetting": "Комната очищается",
    "unhealthy": "Комната не отвечает",
    "stopped": "Комната остановлена",
    "error": "Ошибка комнаты",
    "unknown": "Комната недоступна",
}


@dataclass(frozen=True)
class SlotCard:
    """One card of the dashboard, the same for every viewer."""

    id: str
    service_name: str
    tier: str
    category: str
    accent: str
    busy: bool = False
    occupant_id: int = 0
    occupant_name: str = ""
    session_id: int = 0
    started_at_ms: int = 0
    room_state: str = "ready"
    room_label: str = ""
    deadline_ms: int = 0
    ending_soon: bool = False
    booked_by_id: int = 0
    booked_by_name: str = ""
    booked_until: str = ""
    next_booking: str = ""
    offered_to_id: int = 0
    offered_to_name: str = ""
    offer_expires_ms: int = 0
    queue_size: int = 0
    # str(user id) -> 1-based place in line, so each viewer finds their own position.
    queue_positions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CategoryGroup:
    category: str
    accent: str
    slots: list[SlotCard] = field(default_factory=list)


@dataclass(frozen=True)
class SessionInfo:
    id: int
    slot_id: str
    service_name: str
    user_id: int
    user_name: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    access_url: str = ""
    is_demo_room: bool = False
    deadline_at: datetime | None = None
    extended: bool = False

    @property
    def duration_minutes(self) -> int:
        end = self.ended_at or clock.now()
        return max(0, int((end - self.started_at).total_seconds() // 60))

    @property
    def duration_label(self) -> str:
        minutes = self.duration_minutes
        if minutes < 1:
            return "меньше минуты"
        hours, mins = divmod(minutes, 60)
        return f"{hours} ч {mins} мин" if hours else f"{mins} мин"

    @property
    def end_reason_label(self) -> str:
        return END_REASONS.get(self.end_reason or "", self.end_reason or "")


def validate_slot_id(slot_id: str) -> str:
    slot_id = (slot_id or "").strip()
    if not SLOT_ID_RE.match(slot_id):
        raise NotFound("Слот не найден")
    return slot_id


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


# ---------------------------------------------------------------- board


def load_board() -> list[CategoryGroup]:
    """Active slots grouped by category in their configured order."""
    with session_scope() as session:
        slots = session.exec(select(Slot).where(Slot.is_active).order_by(Slot.sort_order, Slot.id)).all()
        running = session.exec(
            select(SlotSession, User).join(User, User.id == SlotSession.user_id).where(SlotSession.ended_at.is_(None))
        ).all()
        rooms = {r.slot_id: r for r in session.exec(select(Room)).all()}
        now = clock.now()
        day_end = bookings.local(now).replace(hour=23, minute=59, second=59).astimezone(now.tzinfo)
        # A few queries for the whole board, however many slots there are.
        booked_now, upcoming = bookings.board_bookings(session, now, day_end)
        offers = queue.current_offers(session, now)
        queues = queue.queue_sizes(session)
    by_slot = {work.slot_id: (work, user) for work, user in running}
    groups: dict[str, CategoryGroup] = {}
    for slot in slots:
        group = groups.setdefault(slot.category, CategoryGroup(category=slot.category, accent=slot.category_accent))
        work_user = by_slot.get(slot.id)
        room = rooms.get(slot.id)
        card = SlotCard(
            id=slot.id,
            service_name=slot.service_name,
            tier=slot.tier or "",
            category=slot.category,
            accent=slot.category_accent,
            room_state=room.state if room else "ready",
            room_label=ROOM_STATE_LABELS.get(room.state, room.state) if room else "",
        )
        extra: dict = {}
        if work_user:
            work, user = work_user
            assert work.id is not None and user.id is not None
            extra.update(
                busy=True,
                occupant_id=user.id,
                occupant_name=user.name,
                session_id=work.id,
                started_at_ms=_ms(work.started_at),
                deadline_ms=_ms(work.deadline_at) if work.deadline_at else 0,
            )
        if (booked := booked_now.get(slot.id)) is not None:
            extra.update(
                booked_by_id=booked[1].id, booked_by_name=booked[1].name, booked_until=bookings.hhmm(booked[0].ends_at)
            )
        if (nxt := upcoming.get(slot.id)) is not None:
            extra["next_booking"] = f"Бронь с {bookings.hhmm(nxt.starts_at)}"
        if (offer := offers.get(slot.id)) is not None:
            extra.update(
                offered_to_id=offer.user_id, offered_to_name=offer.user_name, offer_expires_ms=_ms(offer.expires_at)
            )
        if line := queues.get(slot.id):
            extra.update(queue_size=len(line), queue_positions={str(uid): i + 1 for i, uid in enumerate(line)})
        if extra:
            card = SlotCard(**{**card.__dict__, **extra})
        group.slots.append(card)
    return list(groups.values())


# ---------------------------------------------------------------- sessions


def _info(work: SlotSession, slot: Slot, user: User, with_url: bool = False) -> SessionInfo:
    assert work.id is not None and user.id is not None
    url = crypto.decrypt(work.access_url_enc) if with_url and work.access_url_enc else ""
    return SessionInfo(
        id=work.id,
        slot_id=slot.id,
        service_name=slot.service_name,
        user_id=user.id,
        user_name=user.name,
        started_at=work.started_at,
        ended_at=work.ended_at,
        end_reason=work.end_reason,
        access_url=url,
        is_demo_room=get_room_provider().is_demo,
        deadline_at=work.deadline_at,
        extended=work.extended,
    )


def _active_on_slot(session: Session, slot_id: str) -> tuple[SlotSession, User] | None:
    row = session.exec(
        select(SlotSession, User)
        .join(User, User.id == SlotSession.user_id)
        .where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None))
    ).first()
    return (row[0], row[1]) if row else None


class Occupied(Conflict):
    """Someone else has the slot now (working, booked or offered): one can queue for it."""


def _busy_error(occupant: User) -> Conflict:
    return Occupied(f"Слот уже занят пользователем {occupant.name}")


def _limit_error(session: Session, user_id: int, limit: int) -> Conflict:
    held = session.exec(
        select(Slot.service_name)
        .join(SlotSession, SlotSession.slot_id == Slot.id)
        .where(SlotSession.user_id == user_id, SlotSession.ended_at.is_(None))
    ).all()
    names = ", ".join(held) or "—"
    if limit == 1:
        return Conflict(f"Вы уже занимаете слот: {names}. Освободите его, чтобы занять другой.")
    return Conflict(f"Можно занимать не больше {limit} слотов одновременно. Сейчас заняты: {names}.")


def take_slot(
    user_id: int, slot_id: str, *, via_template: bool = False, provider: RoomProvider | None = None
) -> SessionInfo:
    """Start a session in a free slot. Exactly one of many concurrent takers wins."""
    slot_id = validate_slot_id(slot_id)
    provider = provider or get_room_provider()
    settings = get_settings()
    limit = settings.max_template_slots if via_template else settings.max_direct_slots
    with session_scope() as session:
        slot, user = bookings.usable_slot(session, slot_id, user_id)
        existing = _active_on_slot(session, slot_id)
        if existing:
            work, occupant = existing
            if occupant.id == user_id:
                return _info(work, slot, user, with_url=True)
            raise _busy_error(occupant)
        now = clock.now()
        booked = bookings.current_booking(session, slot_id, now)
        if booked and booked[1].id != user_id:
            raise Occupied(f"Слот забронирован: {booked[1].name} до {bookings.hhmm(booked[0].ends_at)}")
        offer = queue.current_offer(session, slot_id, now)
        if offer and offer.user_id != user_id:
            raise Occupied("Слот предложен следующему в очереди")
        deadline = session_deadline(session, slot, user_id, now)
    work = _insert_session(user_id, slot_id, via_template, limit, deadline)
    assert work.id is not None
    try:
        access = provider.grant(slot_id, work.id)
    except RoomUnavailable as exc:
        end_session(work.id, "room_error", provider=provider)
        raise DomainError(f"Комната слота не готова: {exc}. Попробуйте через минуту.") from exc
    with session_scope() as session:
        session.exec(
            update(SlotSession).where(SlotSession.id == work.id).values(access_url_enc=crypto.encrypt(access.url))
        )
        work = session.get(SlotSession, work.id)
        assert work is not None
        return _info(work, session.get(Slot, slot_id), session.get(User, user_id), with_url=True)


def session_deadline(session: Session, slot: Slot, user_id: int, now: datetime) -> datetime:
    """When a session started now must end: the length limit, or someone else's booking if sooner."""
    deadline = now + _session_length(slot)
    upcoming = bookings.next_booking(session, slot.id, now, exclude_user=user_id)
    if upcoming is not None and upcoming.starts_at < deadline:
        deadline = upcoming.starts_at
    return deadline


def _insert_session(user_id: int, slot_id: str, via_template: bool, limit: int, deadline: datetime) -> SlotSession:
    """Insert the running session, trying each free seat; the unique indexes referee."""
    for seat in range(1, limit + 1):
        try:
            with session_scope() as session:
                now = clock.now()
                work = SlotSession(
                    slot_id=slot_id,
                    user_id=user_id,
                    seat=seat,
                    via_template=via_template,
                    started_at=now,
                    deadline_at=deadline,
                )
                session.add(work)
                session.flush()
                # Taking the slot is the booking's check-in and uses up a queue offer.
                booked = bookings.current_booking(session, slot_id, now)
                if booked and booked[1].id == user_id:
                    booked[0].checked_in_session_id = work.id
                    session.add(booked[0])
                queue.claim(session, slot_id, user_id)
                bump_board_version(session)
                return work
        except IntegrityError:
            with session_scope() as session:
                existing = _active_on_slot(session, slot_id)
                if existing and existing[1].id != user_id:
                    raise _busy_error(existing[1]) from None
                if existing:
                    # Our own concurrent request won the slot: treat as success.
                    return existing[0]
            continue
    with session_scope() as session:
        raise _limit_error(session, user_id, limit)


def end_session(
    session_id: int, reason: str, *, ended_by: int | None = None, provider: RoomProvider | None = None
) -> bool:
    """End a running session once; returns False if it had already ended."""
    provider = provider or get_room_provider()
    with session_scope() as session:
        result = session.exec(
            update(SlotSession)
            .where(SlotSession.id == session_id, SlotSession.ended_at.is_(None))
            .values(ended_at=clock.now(), end_reason=reason, ended_by=ended_by)
        )
        if result.rowcount != 1:
            return False
        bump_board_version(session)
        work = session.get(SlotSession, session_id)
    assert work is not None
    try:
        provider.revoke(work.slot_id, session_id)
    except Exception:  # the session is over either way; a later reconcile retries revocation
        log.exception("revoking room access of session %s failed", session_id)
    # The dump is taken from the room first, then the room is reset, all in the background.
    dumps.start_after_session(session_id, work.slot_id, provider)
    queue.offer_next(work.slot_id)
    return True


def _my_running(session: Session, user_id: int, slot_id: str) -> SlotSession:
    work = session.exec(
        select(SlotSession).where(
            SlotSession.slot_id == slot_id, SlotSession.user_id == user_id, SlotSession.ended_at.is_(None)
        )
    ).first()
    if work is None:
        raise NotFound("Нет активной сессии для этого слота")
    return work


def _session_length(slot: Slot) -> timedelta:
    return timedelta(minutes=slot.max_session_minutes or get_settings().booking.session_max_minutes)


def extend_session(user_id: int, slot_id: str) -> SessionInfo:
    """One extension by the default length, if nobody waits and no booking is in the way."""
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        work = _my_running(session, user_id, slot_id)
        if work.extended:
            raise DomainError("Сессию можно продлить только один раз")
        if queue.has_waiting(session, slot_id):
            raise DomainError("Продлить нельзя: слот ждут в очереди")
        slot = session.get(Slot, slot_id)
        assert slot is not None and work.deadline_at is not None
        length = _session_length(slot)
        upcoming = bookings.next_booking(session, slot_id, clock.now(), exclude_user=user_id)
        new_deadline = work.deadline_at + length
        if upcoming is not None and upcoming.starts_at <= work.deadline_at:
            raise DomainError(f"Продлить нельзя: в {bookings.hhmm(upcoming.starts_at)} начинается бронь")
        if upcoming is not None and upcoming.starts_at < new_deadline:
            new_deadline = upcoming.starts_at
        result = session.exec(
            update(SlotSession)
            .where(SlotSession.id == work.id, SlotSession.extended.is_(False), SlotSession.ended_at.is_(None))
            .values(deadline_at=new_deadline, extended=True, warned_at=None)
        )
        if result.rowcount != 1:
            raise DomainError("Сессию можно продлить только один раз")
        bump_board_version(session)
        session_id = work.id
    assert session_id is not None
    return get_session(session_id)


def release_slot(user_id: int, slot_id: str) -> SessionInfo:
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        session_id = _my_running(session, user_id, slot_id).id
    assert session_id is not None
    end_session(session_id, "manual", ended_by=user_id)
    return get_session(session_id)


def force_release(admin_id: int, slot_id: str, client_ip: str = "") -> SessionInfo:
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        admin = session.get(User, admin_id)
        if admin is None or not admin.is_active or not admin.is_admin:
            raise Forbidden("Только администратор может принудительно освободить слот")
        running = _active_on_slot(session, slot_id)
        if running is None:
            raise NotFound("Нет активной сессии для этого слота")
        work, occupant = running
        audit.record(
            session, "force_release", actor_id=admin_id, subject=slot_id, detail=occupant.username, client_ip=client_ip
        )
    assert work.id is not None
    end_session(work.id, "admin_force", ended_by=admin_id)
    return get_session(work.id)


def get_session(session_id: int) -> SessionInfo:
    with session_scope() as session:
        row = session.exec(
            select(SlotSession, Slot, User)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .where(SlotSession.id == session_id)
        ).first()
        if row is None:
            raise NotFound("Сессия не найдена")
        return _info(*row)


def session_for_viewer(session_id: int, viewer_id: int, viewer_is_admin: bool) -> SessionInfo:
    info = get_session(session_id)
    if info.user_id != viewer_id and not viewer_is_admin:
        raise Forbidden("Нет доступа к этой сессии")
    return info


def my_session_on_slot(user_id: int, slot_id: str) -> SessionInfo:
    """The caller's running session on a slot, with the room URL to embed."""
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        row = session.exec(
            select(SlotSession, Slot, User)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None))
        ).first()
        if row is None:
            raise NotFound("Сессия в этом слоте не запущена")
        if row[2].id != user_id:
            raise Forbidden(f"Слот занят пользователем {row[2].name}")
        return _info(*row, with_url=True)


def ensure_access(info: SessionInfo, provider: RoomProvider | None = None) -> SessionInfo:
    """Re-grant a running session whose room forgot it (restarted after a crash)."""
    provider = provider or get_room_provider()
    if info.ended_at is not None or provider.access_valid(info.slot_id, info.id):
        return info
    try:
        access = provider.grant(info.slot_id, info.id)
    except RoomUnavailable:
        return info  # the page shows the room's state; the next visit tries again
    with session_scope() as session:
        session.exec(
            update(SlotSession).where(SlotSession.id == info.id).values(access_url_enc=crypto.encrypt(access.url))
        )
    return my_session_on_slot(info.user_id, info.slot_id)


def active_sessions_of(user_id: int) -> list[SessionInfo]:
    with session_scope() as session:
        rows = session.exec(
            select(SlotSession, Slot, User)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .where(SlotSession.user_id == user_id, SlotSession.ended_at.is_(None))
            .order_by(SlotSession.started_at)
        ).all()
        return [_info(*row) for row in rows]


# ---------------------------------------------------------------- favourites


@dataclass(frozen=True)
class HistoryItem:
    session_id: int
    service_name: str
    when: str
    duration: str
    reason: str
    dump_url: str


def history_of(user_id: int, limit: int = 20) -> list[HistoryItem]:
    """The person's finished sessions, newest first, with their dump links while kept."""
    from services.models import Dump

    tz = get_settings().tz
    with session_scope() as session:
        rows = session.exec(
            select(SlotSession, Slot, User, Dump)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .join(Dump, Dump.session_id == SlotSession.id, isouter=True)
            .where(SlotSession.user_id == user_id, SlotSession.ended_at.is_not(None))
            .order_by(SlotSession.started_at.desc())
            .limit(limit)
        ).all()
    items = []
    for work, slot, user, dump in rows:
        info = _info(work, slot, user)
        url = f"/dumps/{dump.path.rsplit('/', 1)[-1]}" if dump and dump.status == "ready" and dump.path else ""
        items.append(
            HistoryItem(
                info.id,
                info.service_name,
                f"{info.started_at.astimezone(tz):%d.%m %H:%M}",
                info.duration_label,
                info.end_reason_label,
                url,
            )
        )
    return items


def engine_problem() -> str:
    """What admins should know about shared dependencies right now ('' when all is well)."""
    from services.models import SystemStatus

    with session_scope() as session:
        row = session.get(SystemStatus, "docker")
    return row.detail if row is not None and row.state != "ok" else ""


def favourites_of(user_id: int) -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(Favourite.slot_id).where(Favourite.user_id == user_id)).all())


def toggle_favourite(user_id: int, slot_id: str) -> bool:
    """Flip a star; returns whether the slot is now a favourite."""
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        slot = session.get(Slot, slot_id)
        if slot is None or not slot.is_active:
            raise NotFound("Слот не найден")
        removed = session.exec(delete(Favourite).where(Favourite.user_id == user_id, Favourite.slot_id == slot_id))
        if removed.rowcount:
            return False
        session.add(Favourite(user_id=user_id, slot_id=slot_id))
    return True
