"""Bookings: a slot reserved for a time range, in the configured timezone, stored in UTC.

Overlap is refused by the database: every active booking holds one row per half
hour in booking_cells, whose primary key (slot, half hour) cannot be taken twice.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services import dates
from services.core import audit, clock
from services.core.access import acts_as_admin, usable_slot, validate_slot_id
from services.core.clock import hhmm, local
from services.core.db import bump_board_version, session_scope
from services.core.errors import Conflict, DomainError, NotFound
from services.core.models import Booking, BookingCell, Slot, SlotSession, User, UserBookingCell
from services.core.plural import plural
from services.core.settings import get_settings

CELL = timedelta(minutes=30)
TIME_RE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


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
        return f"{start:%d.%m.%Y} {start:%H:%M}–{end:%H:%M}"

    @property
    def minutes(self) -> int:
        return int((self.ends_at - self.starts_at).total_seconds() // 60)


def duration_label(minutes: int) -> str:
    """30 мин, 1 час, 1,5 часа, 2 часа, 5 часов, 2 ч 15 мин."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{minutes} мин"
    if not rest:
        return plural(hours, "час", "часа", "часов")
    if rest == 30:
        return f"{hours},5 часа"
    return f"{hours} ч {rest} мин"


def start_times(day: date | None = None) -> list[str]:
    """Start times offered for a day: the booking hours on the 30-minute grid, none already past."""
    b = get_settings().booking
    last = b.close_minute - min(b.durations)
    times = [_clock(m) for m in range(b.open_minute, last + 1, 30)]
    if day is None:
        return times
    now = clock.now()
    return [t for t in times if parse_start(day.isoformat(), t) > now]


def bookable_days() -> tuple[date, date]:
    """The first and last day a booking may start on."""
    today = clock.today()
    return today, today + timedelta(days=get_settings().booking.days_ahead)


def next_free_start(slot_id: str, user_id: int) -> tuple[date, str] | None:
    """The first half hour from now on that the slot is free and the person has a lane free:
    what the booking dialog proposes. None when nothing is free within the booking horizon."""
    slot_id = validate_slot_id(slot_id)
    shortest = timedelta(minutes=min(get_settings().booking.durations))
    first, last = bookable_days()
    with session_scope() as session:
        now = clock.now()
        horizon = (now, now + timedelta(days=get_settings().booking.days_ahead + 1))
        slot_taken = set(
            session.exec(
                select(BookingCell.cell_start).where(
                    BookingCell.slot_id == slot_id, BookingCell.cell_start.between(*horizon)
                )
            ).all()
        )
        own = Counter(
            session.exec(
                select(UserBookingCell.cell_start).where(
                    UserBookingCell.user_id == user_id, UserBookingCell.cell_start.between(*horizon)
                )
            ).all()
        )
    lanes = get_settings().max_direct_slots
    own_full = {c for c, n in own.items() if n >= lanes}
    day = first
    while day <= last:
        for start in start_times(day):
            starts_at = parse_start(day.isoformat(), start)
            if not any(c in slot_taken or c in own_full for c in _cells(starts_at, starts_at + shortest)):
                return day, start
        day += timedelta(days=1)
    return None


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
        raise DomainError(f"Бронировать можно не дальше чем на {plural(b.days_ahead, 'день', 'дня', 'дней')} вперёд")
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


def _own_overlap(session: Session, user_id: int, cells: list[datetime], limit: int) -> Conflict | list[int]:
    """A free lane for each cell of the new booking, or why the person cannot have it.

    Read in the inserting transaction; a concurrent booking taking the same lane loses on the
    primary key of user_booking_cells, so the read only picks lanes and never decides alone."""
    rows = session.exec(
        select(UserBookingCell.cell_start, UserBookingCell.lane).where(
            UserBookingCell.user_id == user_id, UserBookingCell.cell_start.in_(cells)
        )
    ).all()
    taken: dict[datetime, set[int]] = {}
    for cell_start, lane in rows:
        taken.setdefault(cell_start, set()).add(lane)
    lanes = []
    for cell in cells:
        free = [n for n in range(1, limit + 1) if n not in taken.get(cell, set())]
        if not free:
            return _overlap_error(session, user_id, cells, limit)
        lanes.append(free[0])
    return lanes


def _overlap_error(session: Session, user_id: int, cells: list[datetime], limit: int) -> Conflict:
    held = session.exec(
        select(Booking, Slot)
        .join(Slot, Slot.id == Booking.slot_id)
        .where(
            Booking.user_id == user_id,
            Booking.status == "active",
            Booking.starts_at < cells[-1] + CELL,
            Booking.ends_at > cells[0],
        )
        .order_by(Booking.starts_at)
    ).all()
    names = ", ".join(f"{slot.service_name} {hhmm(b.starts_at)}–{hhmm(b.ends_at)}" for b, slot in held) or "—"
    if limit == 1:
        return Conflict(f"У вас уже есть бронь на это время: {names}. Одновременно можно держать один слот.")
    return Conflict(
        f"На это время у вас уже {plural(limit, 'бронь', 'брони', 'броней')}: {names}. "
        f"Одновременно можно держать не больше {plural(limit, 'слота', 'слотов', 'слотов')}."
    )


def _free_seat(session: Session, user_id: int, limit: int) -> int | None:
    used = set(session.exec(select(Booking.seat).where(Booking.user_id == user_id, Booking.status == "active")).all())
    return next((n for n in range(1, limit + 1) if n not in used), None)


def create_booking(user_id: int, slot_id: str, day: str, start: str, minutes: int) -> BookingView:
    """Book a slot. The database decides every race: the slot's cells (no two bookings of a slot
    overlap), the person's lanes (no more overlapping bookings than slots one may hold at once)
    and seats (no more future bookings than allowed)."""
    slot_id = validate_slot_id(slot_id)
    try:
        minutes = int(minutes)
    except (TypeError, ValueError) as exc:
        raise DomainError("Неверная длительность") from exc
    starts_at = parse_start(day, start)
    ends_at = _validate(starts_at, minutes)
    cells = _cells(starts_at, ends_at)
    settings = get_settings()
    limit, parallel = settings.booking.max_future, settings.max_direct_slots
    with session_scope() as session:
        usable_slot(session, slot_id, user_id)
    # Each lost race re-reads and tries again; a request that keeps losing gives up clearly.
    for _attempt in range(limit + parallel + 3):
        with session_scope() as session:
            if (conflict := _conflict(session, slot_id, starts_at, ends_at)) is not None:
                raise conflict
            lanes = _own_overlap(session, user_id, cells, parallel)
            if isinstance(lanes, Conflict):
                raise lanes
            seat = _free_seat(session, user_id, limit)
            if seat is None:
                raise Conflict(
                    f"Можно держать не больше {plural(limit, 'будущей брони', 'будущих броней', 'будущих броней')}. "
                    "Отмените одну из них."
                )
        try:
            with session_scope() as session:
                return _insert(
                    session, user_id, slot_id, starts_at, ends_at, seat, list(zip(cells, lanes, strict=True))
                )
        except IntegrityError:
            continue
    raise Conflict("Слишком много одновременных запросов на это время. Попробуйте ещё раз.")


def _insert(
    session: Session,
    user_id: int,
    slot_id: str,
    starts_at: datetime,
    ends_at: datetime,
    seat: int,
    lanes: list[tuple[datetime, int]],
) -> BookingView:
    booking = Booking(
        slot_id=slot_id, user_id=user_id, starts_at=starts_at, ends_at=ends_at, seat=seat, created_at=clock.now()
    )
    session.add(booking)
    session.flush()
    assert booking.id is not None
    session.add_all(BookingCell(slot_id=slot_id, cell_start=c, booking_id=booking.id) for c, _ in lanes)
    session.add_all(
        UserBookingCell(user_id=user_id, cell_start=c, lane=lane, booking_id=booking.id) for c, lane in lanes
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


def _free_cells(session: Session, booking_id: int) -> None:
    session.exec(delete(BookingCell).where(BookingCell.booking_id == booking_id))
    session.exec(delete(UserBookingCell).where(UserBookingCell.booking_id == booking_id))


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


def _cancellable(session: Session, actor_id: int, booking_id: int) -> tuple[Booking, Slot, User]:
    """A booking the actor may cancel (their own, or any for an admin), with its slot and owner;
    to anyone else it does not exist."""
    actor = session.get(User, actor_id)
    row = session.exec(
        select(Booking, Slot, User)
        .join(Slot, Slot.id == Booking.slot_id)
        .join(User, User.id == Booking.user_id)
        .where(Booking.id == booking_id)
    ).first()
    if row is None or actor is None or (row[2].id != actor_id and not acts_as_admin(actor)):
        raise NotFound("Бронь не найдена")
    return row[0], row[1], row[2]


def cancel_booking(actor_id: int, booking_id: int, *, client_ip: str = "") -> BookingView:
    with session_scope() as session:
        booking, slot, owner = _cancellable(session, actor_id, booking_id)
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


def cancel_preview(actor_id: int, booking_id: int) -> str:
    """What a cancel confirmation names: slot, day and time, and whose booking it is.
    Only for a booking the actor may cancel (their own, or any for an admin)."""
    with session_scope() as session:
        booking, slot, owner = _cancellable(session, actor_id, booking_id)
        if booking.status != "active":
            raise DomainError("Эта бронь уже не активна")
    day = dates.with_weekday(local(booking.starts_at).date())
    return f"{slot.service_name}, {day}, {hhmm(booking.starts_at)}–{hhmm(booking.ends_at)} ({owner.name})"


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
