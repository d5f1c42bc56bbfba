"""Bookings: a slot reserved for a time range, in the configured timezone, stored in UTC.

Overlap is refused by the database: every active booking holds one row per half
hour in booking_cells, whose primary key (slot, half hour) cannot be taken twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.core import audit, clock
from services.core.access import usable_slot, validate_slot_id
from services.core.clock import hhmm, local
from services.core.db import bump_board_version, session_scope
from services.core.errors import Conflict, DomainError, NotFound
from services.core.models import Booking, BookingCell, Slot, SlotSession, User
from services.core.settings import get_settings

CELL = timedelta(minutes=30)
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DURATION_LABELS = {30: "30 мин", 60: "1 час", 90: "1,5 часа", 120: "2 часа", 180: "3 часа", 240: "4 часа"}


@dataclass(frozen=True)
class BookingView:
    id: int
    slot_id: str
    service_name: str
    user_id: int
    user_name: str
    starts_at: datetime
    ends_at: datetime
    status: str

    @property
    def label(self) -> str:
        tz = get_settings().tz
        start, end = self.starts_at.astimezone(tz), self.ends_at.astimezone(tz)
        return f"{start:%d.%m} {start:%H:%M}–{end:%H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


def duration_label(minutes: int) -> str:
    return DURATION_LABELS.get(minutes, f"{minutes} мин")


def start_times() -> list[str]:
    """Start times offered in the dialog: the booking hours on the 30-minute grid."""
    b = get_settings().booking
    last = b.close_minute - min(b.durations)
    return [_clock(m) for m in range(b.open_minute, last + 1, 30)]


def parse_start(day: str, start: str) -> datetime:
    """A local date and HH:MM as an aware UTC datetime, with clear Russian errors."""
    day, start = (day or "").strip(), (start or "").strip()
    if not DATE_RE.match(day):
        raise DomainError("Выберите дату")
    try:
        d = date.fromisoformat(day)
    except ValueError as exc:
        raise DomainError("Неверная дата") from exc
    m = TIME_RE.match(start)
    if not m:
        raise DomainError("Неверный формат времени (нужно ЧЧ:ММ)")
    local_start = datetime.combine(d, time(int(m.group(1)), int(m.group(2))), tzinfo=get_settings().tz)
    return local_start.astimezone(clock.now().tzinfo)


def _clock(minute_of_day: int) -> str:
    return f"{minute_of_day // 60:02d}:{minute_of_day % 60:02d}"


def _validate(starts_at: datetime, minutes: int) -> datetime:
    b = get_settings().booking
    now = clock.now()
    if minutes not in b.durations:
        allowed = ", ".join(duration_label(m) for m in b.durations)
        raise DomainError(f"Длительность брони: {allowed}")
    if minutes > b.max_minutes:
        raise DomainError(f"Бронь не длиннее {duration_label(b.max_minutes)}")
    start_local = local(starts_at)
    if start_local.minute % 30 or start_local.second or start_local.microsecond:
        raise DomainError("Начало брони — только в :00 или :30")
    if starts_at <= now:
        raise DomainError("Время брони уже прошло")
    if starts_at > now + timedelta(days=b.days_ahead):
        raise DomainError(f"Бронировать можно не дальше чем на {b.days_ahead} дней вперёд")
    ends_at = starts_at + timedelta(minutes=minutes)
    open_min, close_min = b.open_minute, b.close_minute
    start_min = start_local.hour * 60 + start_local.minute
    end_local = local(ends_at)
    end_min = (end_local.date() - start_local.date()).days * 1440 + end_local.hour * 60 + end_local.minute
    if start_min < open_min or end_min > close_min:
        raise DomainError(f"Бронировать можно с {_clock(open_min)} до {_clock(close_min)}")
    return ends_at


def _cells(starts_at: datetime, ends_at: datetime) -> list[datetime]:
    out, t = [], starts_at
    while t < ends_at:
        out.append(t)
        t += CELL
    return out


def _view(b: Booking, slot: Slot, user: User) -> BookingView:
    assert b.id is not None and user.id is not None
    return BookingView(b.id, slot.id, slot.service_name, user.id, user.name, b.starts_at, b.ends_at, b.status)


def _conflict(session: Session, slot_id: str, starts_at: datetime, ends_at: datetime) -> Conflict | None:
    row = session.exec(
        select(Booking, User)
        .join(BookingCell, BookingCell.booking_id == Booking.id)
        .join(User, User.id == Booking.user_id)
        .where(BookingCell.slot_id == slot_id, BookingCell.cell_start >= starts_at, BookingCell.cell_start < ends_at)
    ).first()
    if row is None:
        return None
    other, user = row
    return Conflict(f"Конфликт с бронью {hhmm(other.starts_at)}–{hhmm(other.ends_at)} ({user.name})")


def create_booking(user_id: int, slot_id: str, day: str, start: str, minutes: int) -> BookingView:
    slot_id = validate_slot_id(slot_id)
    try:
        minutes = int(minutes)
    except (TypeError, ValueError) as exc:
        raise DomainError("Неверная длительность") from exc
    starts_at = parse_start(day, start)
    ends_at = _validate(starts_at, minutes)
    limit = get_settings().booking.max_future
    with session_scope() as session:
        usable_slot(session, slot_id, user_id)
        if (conflict := _conflict(session, slot_id, starts_at, ends_at)) is not None:
            raise conflict
    for seat in range(1, limit + 1):
        try:
            with session_scope() as session:
                booking = Booking(
                    slot_id=slot_id,
                    user_id=user_id,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    seat=seat,
                    created_at=clock.now(),
                )
                session.add(booking)
                session.flush()
                assert booking.id is not None
                session.add_all(
                    BookingCell(slot_id=slot_id, cell_start=c, booking_id=booking.id)
                    for c in _cells(starts_at, ends_at)
                )
                session.flush()
                # Someone else working in the slot must be done when the booking starts.
                session.exec(
                    update(SlotSession)
                    .where(
                        SlotSession.slot_id == slot_id,
                        SlotSession.ended_at.is_(None),
                        SlotSession.user_id != user_id,
                        or_(SlotSession.deadline_at.is_(None), SlotSession.deadline_at > starts_at),
                    )
                    .values(deadline_at=starts_at, warned_at=None)
                )
                bump_board_version(session)
                return _view(booking, session.get(Slot, slot_id), session.get(User, user_id))
        except IntegrityError:
            with session_scope() as session:
                if (conflict := _conflict(session, slot_id, starts_at, ends_at)) is not None:
                    raise conflict from None
    raise Conflict(f"Можно держать не больше {limit} будущих броней. Отмените одну из них.")


def _free_cells(session: Session, booking_id: int) -> None:
    session.exec(delete(BookingCell).where(BookingCell.booking_id == booking_id))


def finish_booking(session: Session, booking_id: int, status: str) -> bool:
    """Move an active booking to a final status once, freeing its cells."""
    result = session.exec(
        update(Booking).where(Booking.id == booking_id, Booking.status == "active").values(status=status)
    )
    if result.rowcount != 1:
        return False
    _free_cells(session, booking_id)
    bump_board_version(session)
    return True


def cancel_booking(actor_id: int, booking_id: int, *, client_ip: str = "") -> BookingView:
    with session_scope() as session:
        actor = session.get(User, actor_id)
        row = session.exec(
            select(Booking, Slot, User)
            .join(Slot, Slot.id == Booking.slot_id)
            .join(User, User.id == Booking.user_id)
            .where(Booking.id == booking_id)
        ).first()
        if row is None or actor is None:
            raise NotFound("Бронь не найдена")
        booking, slot, owner = row
        if owner.id != actor_id and not actor.is_admin:
            raise NotFound("Бронь не найдена")
        if booking.status != "active":
            raise DomainError("Эта бронь уже не активна")
        finish_booking(session, booking_id, "cancelled")
        session.exec(update(Booking).where(Booking.id == booking_id).values(cancelled_by=actor_id))
        if owner.id != actor_id:
            audit.record(
                session,
                "booking_cancelled",
                actor_id=actor_id,
                subject=slot.id,
                detail=f"{owner.username} {booking.starts_at.isoformat()}",
                client_ip=client_ip,
            )
        booking.status = "cancelled"
        return _view(booking, slot, owner)


def my_bookings(user_id: int) -> list[BookingView]:
    now = clock.now()
    with session_scope() as session:
        rows = session.exec(
            select(Booking, Slot, User)
            .join(Slot, Slot.id == Booking.slot_id)
            .join(User, User.id == Booking.user_id)
            .where(Booking.user_id == user_id, Booking.status == "active", Booking.ends_at > now)
            .order_by(Booking.starts_at)
        ).all()
        return [_view(*r) for r in rows]


def bookings_between(start: datetime, end: datetime) -> list[BookingView]:
    with session_scope() as session:
        rows = session.exec(
            select(Booking, Slot, User)
            .join(Slot, Slot.id == Booking.slot_id)
            .join(User, User.id == Booking.user_id)
            .where(Booking.status.in_(["active", "completed"]), Booking.starts_at < end, Booking.ends_at > start)
            .order_by(Booking.starts_at)
        ).all()
        return [_view(*r) for r in rows]


def current_booking(session: Session, slot_id: str, now: datetime) -> tuple[Booking, User] | None:
    """The active booking covering this moment, if any."""
    row = session.exec(
        select(Booking, User)
        .join(User, User.id == Booking.user_id)
        .where(Booking.slot_id == slot_id, Booking.status == "active", Booking.starts_at <= now, Booking.ends_at > now)
    ).first()
    return (row[0], row[1]) if row else None


def board_bookings(
    session: Session, now: datetime, until: datetime
) -> tuple[dict[str, tuple[Booking, User]], dict[str, Booking]]:
    """For every slot at once: the booking covering now, and the next one starting by `until`."""
    rows = session.exec(
        select(Booking, User)
        .join(User, User.id == Booking.user_id)
        .where(Booking.status == "active", Booking.ends_at > now, Booking.starts_at <= until)
        .order_by(Booking.starts_at)
    ).all()
    current: dict[str, tuple[Booking, User]] = {}
    upcoming: dict[str, Booking] = {}
    for booking, user in rows:
        if booking.starts_at <= now:
            current.setdefault(booking.slot_id, (booking, user))
        else:
            upcoming.setdefault(booking.slot_id, booking)
    return current, upcoming


def next_booking(session: Session, slot_id: str, after: datetime, exclude_user: int | None = None) -> Booking | None:
    query = select(Booking).where(Booking.slot_id == slot_id, Booking.status == "active", Booking.starts_at > after)
    if exclude_user is not None:
        query = query.where(Booking.user_id != exclude_user)
    return session.exec(query.order_by(Booking.starts_at)).first()
