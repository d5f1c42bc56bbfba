"""The calendar's view of a day, and each person's .ics feed of their bookings."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlmodel import select

from services import dates
from services.core import audit, clock
from services.core.db import session_scope
from services.core.errors import DomainError
from services.core.models import Booking, Slot, SlotSession, User
from services.core.settings import get_settings


@dataclass(frozen=True)
class Bar:
    left: float  # percent of the day window
    width: float
    label: str
    kind: str  # booking | session | mine
    title: str
    booking_id: int = 0


@dataclass(frozen=True)
class CalendarRow:
    slot_id: str
    service_name: str
    accent: str
    bars: list[Bar] = field(default_factory=list)


def day_window(day: date) -> tuple[datetime, datetime]:
    b = get_settings().booking
    tz = get_settings().tz
    start = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=b.open_minute)
    end = datetime.combine(day, time(0), tzinfo=tz) + timedelta(minutes=b.close_minute)
    return start.astimezone(clock.now().tzinfo), end.astimezone(clock.now().tzinfo)


def _bar(start: datetime, end: datetime, window: tuple[datetime, datetime], **kw) -> Bar | None:
    w_start, w_end = window
    start, end = max(start, w_start), min(end, w_end)
    if end <= start:
        return None
    span = (w_end - w_start).total_seconds()
    left = (start - w_start).total_seconds() / span * 100
    width = (end - start).total_seconds() / span * 100
    return Bar(left=round(left, 3), width=round(width, 3), **kw)


Booked = list[tuple[Booking, User]]
Worked = list[tuple[SlotSession, User]]


def _load(start: datetime, end: datetime) -> tuple[list[Slot], Booked, Worked]:
    """Active slots, and the bookings and sessions that touch [start, end)."""
    with session_scope() as session:
        slot_rows = session.exec(select(Slot).where(Slot.is_active).order_by(Slot.sort_order, Slot.id)).all()
        booked = session.exec(
            select(Booking, User)
            .join(User, User.id == Booking.user_id)
            .where(Booking.status.in_(["active", "completed"]), Booking.starts_at < end, Booking.ends_at > start)
        ).all()
        worked = session.exec(
            select(SlotSession, User)
            .join(User, User.id == SlotSession.user_id)
            .where(
                SlotSession.started_at < end,
                (SlotSession.ended_at.is_(None)) | (SlotSession.ended_at > start),
            )
        ).all()
    return list(slot_rows), list(booked), list(worked)


def _place(
    booked: Booked,
    worked: Worked,
    window: tuple[datetime, datetime],
    viewer_id: int,
    slot_ids: set[str],
) -> dict[str, list[Bar]]:
    """Bookings and sessions as bars inside one day's window, by slot."""
    now = clock.now()
    bars: dict[str, list[Bar]] = {slot_id: [] for slot_id in slot_ids}
    for b, user in booked:
        if b.slot_id in bars:
            bar = _bar(
                b.starts_at,
                b.ends_at,
                window,
                booking_id=b.id if b.status == "active" else 0,
                label=user.name,
                kind="mine" if user.id == viewer_id else "booking",
                title=f"Бронь: {user.name}, {clock.hhmm(b.starts_at)}–{clock.hhmm(b.ends_at)}",
            )
            if bar:
                bars[b.slot_id].append(bar)
    for work, user in worked:
        if work.slot_id in bars:
            # A running session is drawn up to its planned end: that is when the slot frees up.
            end = work.ended_at or max(now, work.deadline_at or now)
            bar = _bar(
                work.started_at,
                end,
                window,
                label=user.name,
                kind="mine" if user.id == viewer_id else "session",
                title=f"Сессия: {user.name}, {clock.hhmm(work.started_at)}–"
                f"{clock.hhmm(work.ended_at) if work.ended_at else 'до ' + clock.hhmm(end)}",
            )
            if bar:
                bars[work.slot_id].append(bar)
    return bars


def calendar_day(day: date, viewer_id: int) -> list[CalendarRow]:
    window = day_window(day)
    slot_rows, booked, worked = _load(*window)
    bars = _place(booked, worked, window, viewer_id, {s.id for s in slot_rows})
    return [CalendarRow(s.id, s.service_name, s.category_accent, bars[s.id]) for s in slot_rows]


@dataclass(frozen=True)
class WeekDay:
    """One day of a slot's week: its bars (left/width read as top/height), what is past, the now line."""

    iso: str
    label: str  # Чт 26.11.2026
    numeric: str  # 26.11.2026
    spoken: str  # четверг, 26 ноября 2026
    weekday: str  # Чт
    number: str  # 26
    today: bool
    # Leading half-hour cells of the day that have begun: not bookable any more.
    past_cells: int
    # Where the now line is, in percent of the day window; -1 when now is not inside this day.
    now_pct: float
    bars: list[Bar] = field(default_factory=list)


def calendar_week(slot_id: str, monday: date, viewer_id: int) -> list[WeekDay]:
    """Seven days of one slot from `monday`, for the week view."""
    days = [monday + timedelta(days=i) for i in range(7)]
    windows = [day_window(d) for d in days]
    slot_rows, booked, worked = _load(windows[0][0], windows[-1][1])
    if slot_id not in {s.id for s in slot_rows}:
        return []
    today = clock.today()
    week = []
    for d, window in zip(days, windows, strict=True):
        bars = _place(booked, worked, window, viewer_id, {slot_id})[slot_id]
        week.append(
            WeekDay(
                iso=d.isoformat(),
                label=dates.short(d),
                numeric=dates.numeric(d),
                spoken=dates.spoken(d),
                weekday=dates.WEEKDAYS_SHORT[d.weekday()],
                number=str(d.day),
                today=d == today,
                past_cells=past_cells(d),
                now_pct=now_position(d),
                bars=bars,
            )
        )
    return week


def past_cells(day: date) -> int:
    """How many half-hour cells of the day's booking hours have begun (all for a past day)."""
    w_start, w_end = day_window(day)
    total = int((w_end - w_start).total_seconds() // 1800)
    now = clock.now()
    if now <= w_start:
        return 0
    if now >= w_end:
        return total
    return int((now - w_start).total_seconds() // 1800) + 1


def now_position(day: date) -> float:
    """The now line's place in the day's window, in percent; -1 outside it."""
    w_start, w_end = day_window(day)
    now = clock.now()
    if not w_start <= now < w_end:
        return -1.0
    return round((now - w_start).total_seconds() / (w_end - w_start).total_seconds() * 100, 3)


def hour_labels() -> list[str]:
    b = get_settings().booking
    return [f"{m // 60:02d}:00" for m in range(b.open_minute - b.open_minute % 60, b.close_minute, 60)]


# ---------------------------------------------------------------- .ics feed


def feed_token(user_id: int) -> str:
    """The secret part of a person's feed URL, made on first use."""
    with session_scope() as session:
        user = session.get(User, user_id)
        assert user is not None
        if not user.ics_token:
            user.ics_token = secrets.token_urlsafe(24)
            session.add(user)
        return user.ics_token


def rotate_feed_token(user_id: int, client_ip: str = "") -> str:
    """A new secret for the feed URL; the old URL stops working at once."""
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise DomainError("Учётная запись недоступна")
        user.ics_token = secrets.token_urlsafe(24)
        session.add(user)
        audit.record(session, "ics_rotated", actor_id=user_id, subject=user.username, client_ip=client_ip)
        return user.ics_token


def _ics_escape(text: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11); a bare CR would otherwise end the line."""
    text = text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return text.replace("\r\n", "\\n").replace("\r", "\\n").replace("\n", "\\n")


def _ics_fold(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    parts: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        width = len(ch.encode())
        if size + width > limit:
            parts.append(current)
            # Continuation lines start with a space, which counts towards their 75 octets.
            current, size, limit = "", 0, 74
        current += ch
        size += width
    parts.append(current)
    return "\r\n ".join(parts)


def _ics_time(dt: datetime) -> str:
    return dt.astimezone(clock.now().tzinfo).strftime("%Y%m%dT%H%M%SZ")


def ics_feed(token: str) -> str | None:
    """The person's active and recent bookings as iCalendar text; None for an unknown token."""
    if not token or len(token) > 100:
        return None
    since = clock.now() - timedelta(days=30)
    with session_scope() as session:
        user = session.exec(select(User).where(User.ics_token == token, User.is_active)).first()
        if user is None:
            return None
        rows = session.exec(
            select(Booking, Slot)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(Booking.user_id == user.id, Booking.ends_at > since, Booking.status.in_(["active", "completed"]))
            .order_by(Booking.starts_at)
        ).all()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//VDI Taxi//Bookings//RU",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{_ics_escape('VDI Такси — ' + user.name)}",
    ]
    stamp = _ics_time(clock.now())
    for booking, slot in rows:
        lines += [
            "BEGIN:VEVENT",
            f"UID:booking-{booking.id}@vdi-taxi",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_ics_time(booking.starts_at)}",
            f"DTEND:{_ics_time(booking.ends_at)}",
            f"SUMMARY:{_ics_escape('Бронь: ' + slot.service_name)}",
            "STATUS:CONFIRMED",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_ics_fold(line) for line in lines) + "\r\n"
