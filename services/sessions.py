"""Taking and releasing slots: the session's whole life, from take to the end and what follows.

The race for a slot is decided by the database: a partial unique index allows
one running session per slot, another caps the seats a user holds. Code here
only turns the loser's IntegrityError into a clear Russian refusal.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services import bookings, dumps, queue
from services.core import audit, clock, crypto
from services.core.access import acts_as_admin, require_admin, usable_slot, validate_slot_id
from services.core.db import bump_board_version, session_scope
from services.core.errors import Conflict, DomainError, Forbidden, NotFound
from services.core.models import Slot, SlotSession, User
from services.core.plural import plural
from services.core.settings import get_settings
from services.rooms import base as rooms
from services.rooms.base import RoomProvider, RoomUnavailable
from services.session_views import SessionInfo, get_session, my_session_on_slot, session_info

log = logging.getLogger(__name__)


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
        .order_by(SlotSession.started_at, SlotSession.id)
    ).all()
    names = ", ".join(held) or "—"
    if limit == 1 and len(held) <= 1:
        return Conflict(f"Вы уже занимаете слот {names}. Освободите его, чтобы занять другой.")
    if limit == 1:
        return Conflict(f"Вы уже занимаете слоты: {names}. Освободите их, чтобы занять другой.")
    most = plural(limit, "слота", "слотов", "слотов")
    return Conflict(f"Можно занимать не больше {most} одновременно. Сейчас заняты: {names}.")


def take_slot(
    user_id: int, slot_id: str, *, via_template: bool = False, provider: RoomProvider | None = None
) -> SessionInfo:
    """Start a session in a free slot. Exactly one of many concurrent takers wins."""
    slot_id = validate_slot_id(slot_id)
    provider = provider or rooms.current()
    settings = get_settings()
    limit = settings.max_template_slots if via_template else settings.max_direct_slots
    with session_scope() as session:
        slot, user = usable_slot(session, slot_id, user_id)
        existing = _active_on_slot(session, slot_id)
        if existing:
            work, occupant = existing
            if occupant.id == user_id:
                return session_info(work, slot, user, with_url=True)
            raise _busy_error(occupant)
        now = clock.now()
        booked = bookings.current_booking(session, slot_id, now)
        if booked and booked[1].id != user_id:
            raise Occupied(f"Слот забронирован: {booked[1].name} до {clock.hhmm(booked[0].ends_at)}")
        offer = queue.current_offer(session, slot_id, now)
        if offer and offer.user_id != user_id:
            raise Occupied("Слот предложен следующему в очереди")
        deadline = session_deadline(session, slot, user_id, now)
    work = _insert_session(user_id, slot_id, via_template, limit, deadline)
    assert work.id is not None
    log.info("session %s on %s started by user %s", work.id, slot_id, user_id)
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
        return session_info(work, session.get(Slot, slot_id), session.get(User, user_id), with_url=True)


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
    session_id: int,
    reason: str,
    *,
    ended_by: int | None = None,
    provider: RoomProvider | None = None,
    only_if: tuple = (),
) -> bool:
    """End a running session once; returns False if it had already ended (or `only_if` no longer holds)."""
    provider = provider or rooms.current()
    with session_scope() as session:
        result = session.exec(
            update(SlotSession)
            .where(SlotSession.id == session_id, SlotSession.ended_at.is_(None), *only_if)
            .values(ended_at=clock.now(), end_reason=reason, ended_by=ended_by)
        )
        if result.rowcount != 1:
            return False
        bump_board_version(session)
        work = session.get(SlotSession, session_id)
    assert work is not None
    log.info("session %s on %s ended: %s", session_id, work.slot_id, reason)
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


def warn_window() -> timedelta:
    """How long before its deadline a session warns its holder (and may be extended)."""
    return timedelta(minutes=get_settings().booking.warn_minutes)


def ending_soon(work: SlotSession, now: datetime) -> bool:
    """The running session is inside its warning window (or the scheduler has already warned)."""
    if work.ended_at is not None or work.deadline_at is None:
        return False
    return work.warned_at is not None or work.deadline_at <= now + warn_window()


def _extension(session: Session, work: SlotSession, now: datetime) -> tuple[str, datetime | None]:
    """Why the running session cannot be extended ("" if it can), and its deadline after an extension."""
    if work.extended:
        return "Сессию можно продлить только один раз", None
    if queue.has_waiting(session, work.slot_id):
        return "Продлить нельзя: слот ждут в очереди", None
    slot = session.get(Slot, work.slot_id)
    assert slot is not None and work.deadline_at is not None
    upcoming = bookings.next_booking(session, work.slot_id, now, exclude_user=work.user_id)
    if upcoming is not None and upcoming.starts_at <= work.deadline_at:
        return f"Продлить нельзя: в {clock.hhmm(upcoming.starts_at)} начинается бронь", None
    new_deadline = work.deadline_at + _session_length(slot)
    if upcoming is not None and upcoming.starts_at < new_deadline:
        new_deadline = upcoming.starts_at
    return "", new_deadline


def extend_refusal(session: Session, work: SlotSession, now: datetime) -> str:
    """What the session page shows instead of «Продлить» when an extension would be refused."""
    return _extension(session, work, now)[0]


def extend_session(user_id: int, slot_id: str) -> SessionInfo:
    """One extension by the default length, if nobody waits and no booking is in the way."""
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        work = _my_running(session, user_id, slot_id)
        refusal, new_deadline = _extension(session, work, clock.now())
        if refusal:
            raise DomainError(refusal)
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
        if not acts_as_admin(session.get(User, admin_id)):
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


def ensure_access(info: SessionInfo, provider: RoomProvider | None = None) -> SessionInfo:
    """Re-grant a running session whose room forgot it (restarted after a crash)."""
    provider = provider or rooms.current()
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


def kick_user(admin_id: int, username: str, client_ip: str = "") -> list[str]:
    """End every running session of one person (bot /kick); returns the slots they held."""
    require_admin(admin_id)
    with session_scope() as session:
        target = session.exec(select(User).where(User.username == (username or "").strip().lower()[:64])).first()
        if target is None:
            raise NotFound(f"Пользователь '{username}' не найден")
        running = session.exec(
            select(SlotSession).where(SlotSession.user_id == target.id, SlotSession.ended_at.is_(None))
        ).all()
        if running:
            audit.record(
                session,
                "user_kicked",
                actor_id=admin_id,
                subject=target.username,
                detail=", ".join(w.slot_id for w in running),
                client_ip=client_ip,
            )
    for work in running:
        assert work.id is not None
        end_session(work.id, "kicked", ended_by=admin_id)
    return [w.slot_id for w in running]
