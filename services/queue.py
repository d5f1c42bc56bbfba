"""The queue for a busy slot: people wait in order; when the slot frees up, the first
in line gets an exclusive offer for a claim window, then the next, then everyone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services import bookings
from services.core import clock, outbox
from services.core.access import validate_slot_id
from services.core.db import bump_board_version, session_scope
from services.core.errors import DomainError, NotFound
from services.core.models import QueueEntry, Slot, SlotSession, User
from services.core.settings import get_settings

OPEN = ("waiting", "offered")


@dataclass(frozen=True)
class Offer:
    slot_id: str
    user_id: int
    user_name: str
    expires_at: datetime


def position(session: Session, slot_id: str, user_id: int) -> int:
    """1-based place in line, 0 if not queued."""
    mine = session.exec(
        select(QueueEntry).where(
            QueueEntry.slot_id == slot_id, QueueEntry.user_id == user_id, QueueEntry.status.in_(OPEN)
        )
    ).first()
    if mine is None:
        return 0
    ahead = session.exec(
        select(func.count())
        .select_from(QueueEntry)
        .where(QueueEntry.slot_id == slot_id, QueueEntry.status.in_(OPEN), QueueEntry.id < mine.id)
    ).one()
    return int(ahead) + 1


def join_queue(user_id: int, slot_id: str) -> int:
    """Join (or stay in) the line for a busy slot; returns the position."""
    slot_id = validate_slot_id(slot_id)
    now = clock.now()
    with session_scope() as session:
        slot = session.get(Slot, slot_id)
        if slot is None or not slot.is_active:
            raise NotFound("Слот не найден")
        holder = session.exec(
            select(SlotSession.user_id).where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None))
        ).first()
        if holder == user_id:
            raise DomainError("Вы уже работаете в этом слоте")
        if (place := position(session, slot_id, user_id)) > 0:
            return place
        booked = bookings.current_booking(session, slot_id, now)
        offered = current_offer(session, slot_id, now)
        if holder is None and booked is None and offered is None:
            raise DomainError("Слот свободен — можно занять напрямую")
    try:
        with session_scope() as session:
            session.add(QueueEntry(slot_id=slot_id, user_id=user_id, joined_at=now))
            bump_board_version(session)
    except IntegrityError:
        pass  # a concurrent join of the same person: one entry, one place
    with session_scope() as session:
        return position(session, slot_id, user_id)


def leave_queue(user_id: int, slot_id: str) -> None:
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        entry = session.exec(
            select(QueueEntry).where(
                QueueEntry.slot_id == slot_id, QueueEntry.user_id == user_id, QueueEntry.status.in_(OPEN)
            )
        ).first()
        if entry is None:
            raise NotFound("Вы не в очереди")
        was_offered = entry.status == "offered"
        entry.status, entry.ended_at = "left", clock.now()
        session.add(entry)
        bump_board_version(session)
    if was_offered:
        offer_next(slot_id)


def current_offer(session: Session, slot_id: str, now: datetime) -> Offer | None:
    row = session.exec(
        select(QueueEntry, User)
        .join(User, User.id == QueueEntry.user_id)
        .where(QueueEntry.slot_id == slot_id, QueueEntry.status == "offered", QueueEntry.offer_expires_at > now)
    ).first()
    if row is None:
        return None
    entry, user = row
    assert entry.offer_expires_at is not None and user.id is not None
    return Offer(slot_id, user.id, user.name, entry.offer_expires_at)


def current_offers(session: Session, now: datetime) -> dict[str, Offer]:
    """Every slot's live offer, in one query (for the board)."""
    rows = session.exec(
        select(QueueEntry, User)
        .join(User, User.id == QueueEntry.user_id)
        .where(QueueEntry.status == "offered", QueueEntry.offer_expires_at > now)
    ).all()
    out = {}
    for entry, user in rows:
        assert entry.offer_expires_at is not None and user.id is not None
        out[entry.slot_id] = Offer(entry.slot_id, user.id, user.name, entry.offer_expires_at)
    return out


def claim(session: Session, slot_id: str, user_id: int) -> None:
    """The offered person took the slot: their turn is used."""
    session.exec(
        update(QueueEntry)
        .where(QueueEntry.slot_id == slot_id, QueueEntry.user_id == user_id, QueueEntry.status.in_(OPEN))
        .values(status="claimed", ended_at=clock.now())
    )


def offer_next(slot_id: str) -> Offer | None:
    """If the slot is free (no session, no booking now, no live offer), offer it to the first in line."""
    now = clock.now()
    window = timedelta(minutes=get_settings().booking.offer_minutes)
    try:
        with session_scope() as session:
            busy = session.exec(
                select(SlotSession.id).where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None))
            ).first()
            if busy or bookings.current_booking(session, slot_id, now) or current_offer(session, slot_id, now):
                return None
            row = session.exec(
                select(QueueEntry, User, Slot)
                .join(User, User.id == QueueEntry.user_id)
                .join(Slot, Slot.id == QueueEntry.slot_id)
                .where(QueueEntry.slot_id == slot_id, QueueEntry.status == "waiting")
                .order_by(QueueEntry.id)
            ).first()
            if row is None:
                return None
            entry, user, slot = row
            entry.status, entry.offered_at, entry.offer_expires_at = "offered", now, now + window
            session.add(entry)
            session.flush()
            assert user.id is not None and entry.id is not None
            outbox.enqueue(
                user.id,
                "queue_offer",
                f"🟢 Слот освободился!\nСлот: {slot.service_name}\nОн ваш до {clock.hhmm(now + window)} — "
                "откройте дашборд и нажмите «Занять».",
                f"queue_offer:{entry.id}",
                session=session,
            )
            bump_board_version(session)
            return Offer(slot_id, user.id, user.name, now + window)
    except IntegrityError:
        return None  # another process made the offer at the same moment


def expire_offers(now: datetime) -> list[str]:
    """Offers whose window passed go to the next in line. Returns the slots affected."""
    with session_scope() as session:
        expired = session.exec(
            select(QueueEntry).where(QueueEntry.status == "offered", QueueEntry.offer_expires_at <= now)
        ).all()
        slots = []
        for entry in expired:
            result = session.exec(
                update(QueueEntry)
                .where(QueueEntry.id == entry.id, QueueEntry.status == "offered")
                .values(status="expired", ended_at=now)
            )
            if result.rowcount:
                slots.append(entry.slot_id)
        if slots:
            bump_board_version(session)
    for slot_id in slots:
        offer_next(slot_id)
    return slots


def queue_sizes(session: Session) -> dict[str, list[int]]:
    """Open queue per slot: user ids in order."""
    out: dict[str, list[int]] = {}
    for entry in session.exec(select(QueueEntry).where(QueueEntry.status.in_(OPEN)).order_by(QueueEntry.id)).all():
        out.setdefault(entry.slot_id, []).append(entry.user_id)
    return out


def has_waiting(session: Session, slot_id: str) -> bool:
    return (
        session.exec(select(QueueEntry.id).where(QueueEntry.slot_id == slot_id, QueueEntry.status == "waiting")).first()
        is not None
    )
