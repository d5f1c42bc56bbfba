"""Time-based rules, derived from the database on every tick.

Nothing is remembered in memory: each tick looks at what is due now, so a restart
loses nothing (overdue work is done on the first tick, in order) and a tick that
runs twice does no harm (every step is a conditional update with a dedupe key).
APScheduler fires the tick; a database lease lets one process run it at a time.
"""

from __future__ import annotations

import logging
from collections import Counter
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import update
from sqlmodel import select

from services import alerts, bookings, dumps, idle, queue
from services.core import clock, leases, outbox
from services.core.db import bump_board_version, session_scope
from services.core.models import Booking, QueueEntry, Slot, SlotSession, User
from services.core.plural import plural
from services.core.settings import get_settings
from services.rooms import base as rooms
from services.rooms.base import RoomUnavailable
from services.sessions import end_session

log = logging.getLogger(__name__)
LEASE = "scheduler"


def _stamp_once(session, column, row_id: int | None, now: datetime) -> bool:
    """Fill an empty "done at" column of one row; True only for the one run that did it, so a
    second scheduler (or a retried tick) never notifies twice."""
    model = column.class_
    result = session.exec(update(model).where(model.id == row_id, column.is_(None)).values({column.key: now}))
    return result.rowcount == 1


def _expire_no_shows(now: datetime, done: Counter) -> None:
    checkin = timedelta(minutes=get_settings().booking.checkin_minutes)
    with session_scope() as session:
        due = session.exec(
            select(Booking, Slot)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(Booking.status == "active", Booking.checked_in_session_id.is_(None), Booking.starts_at <= now)
        ).all()
        freed = []
        for booking, slot in due:
            # Someone who took the slot before the booking started has checked in by being there.
            running = session.exec(
                select(SlotSession.id).where(
                    SlotSession.slot_id == booking.slot_id,
                    SlotSession.user_id == booking.user_id,
                    SlotSession.ended_at.is_(None),
                )
            ).first()
            if running is not None:
                booking.checked_in_session_id = running
                session.add(booking)
                continue
            if booking.starts_at + checkin > now:
                continue
            assert booking.id is not None
            if bookings.finish_booking(session, booking.id, "expired"):
                done["no_show"] += 1
                freed.append(booking.slot_id)
                outbox.enqueue(
                    booking.user_id,
                    "no_show",
                    f"⌛ Бронь снята: вы не заняли слот в течение "
                    f"{plural(checkin.seconds // 60, 'минуты', 'минут', 'минут')}.\n"
                    f"Слот: {slot.service_name}\nВремя: {clock.hhmm(booking.starts_at)}–"
                    f"{clock.hhmm(booking.ends_at)}",
                    f"no_show:{booking.id}",
                    session=session,
                )
    for slot_id in freed:
        queue.offer_next(slot_id)


def _complete_bookings(now: datetime, done: Counter) -> None:
    with session_scope() as session:
        ids = session.exec(select(Booking.id).where(Booking.status == "active", Booking.ends_at <= now)).all()
        for booking_id in ids:
            if bookings.finish_booking(session, booking_id, "completed"):
                done["completed"] += 1


def _end_due_sessions(now: datetime, done: Counter) -> None:
    with session_scope() as session:
        due = session.exec(
            select(SlotSession).where(SlotSession.ended_at.is_(None), SlotSession.deadline_at <= now)
        ).all()
        reasons = {}
        for work in due:
            booked = bookings.current_booking(session, work.slot_id, now)
            reasons[work.id] = "booking" if booked and booked[1].id != work.user_id else "timeout"
    for session_id, reason in reasons.items():
        if end_session(session_id, reason):
            done[f"ended_{reason}"] += 1


def _warn_sessions(now: datetime, done: Counter) -> None:
    warn = timedelta(minutes=get_settings().booking.warn_minutes)
    with session_scope() as session:
        due = session.exec(
            select(SlotSession, Slot)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .where(
                SlotSession.ended_at.is_(None), SlotSession.warned_at.is_(None), SlotSession.deadline_at <= now + warn
            )
        ).all()
        for work, slot in due:
            if not _stamp_once(session, SlotSession.warned_at, work.id, now):
                continue
            assert work.deadline_at is not None
            done["warned"] += 1
            bump_board_version(session)  # the session page shows the warning live
            outbox.enqueue(
                work.user_id,
                "session_ending",
                f"⏳ Сессия скоро закончится\nСлот: {slot.service_name}\nКонец в {clock.hhmm(work.deadline_at)}."
                " Сохраните работу.",
                f"session_ending:{work.id}:{int(work.deadline_at.timestamp())}",
                session=session,
            )


# Someone seen this recently is surely there: the room is not asked (keeps room API calls rare).
_PROBE_AFTER = timedelta(minutes=1)


def _release_idle(now: datetime, done: Counter) -> None:
    """Warn the holder of an unattended session, then release it after the grace period.

    Claims are conditional updates (warn once, cancel once); ending is end_session's own
    once-only update, so two schedulers never warn or release twice."""
    provider = rooms.current()
    grace = idle.grace()
    with session_scope() as session:
        running = session.exec(
            select(SlotSession, Slot, User)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .where(SlotSession.ended_at.is_(None))
        ).all()
    release: list[tuple[int, datetime]] = []
    for work, slot, holder in running:
        limit = idle.idle_limit(slot)
        if limit is None:
            continue
        last = idle.last_active(work, holder)
        if now - last < _PROBE_AFTER:
            if work.idle_warned_at is None or last < work.idle_warned_at:
                continue
        else:
            try:
                seen = idle.room_seen(provider.presence(slot.id), now)
            except RoomUnavailable:
                continue  # presence unknown (engine down): never release on a guess
            if seen is not None and seen > last:
                with session_scope() as session:
                    idle.note_room_seen(session, work.id, seen)
                last = seen
        with session_scope() as session:
            if work.idle_warned_at is not None:
                if last >= work.idle_warned_at:
                    cancelled = session.exec(
                        update(SlotSession)
                        .where(SlotSession.id == work.id, SlotSession.idle_warned_at == work.idle_warned_at)
                        .values(idle_warned_at=None)
                    )
                    if cancelled.rowcount == 1:
                        done["idle_cancelled"] += 1
                        bump_board_version(session)
                elif now >= work.idle_warned_at + grace:
                    release.append((work.id, work.idle_warned_at))
                continue
            if now - last < limit or not _stamp_once(session, SlotSession.idle_warned_at, work.id, now):
                continue
            done["idle_warned"] += 1
            bump_board_version(session)  # the session page shows the banner live
            outbox.enqueue(
                work.user_id,
                "idle_warning",
                f"💤 Слот простаивает\nСлот: {slot.service_name}\n"
                f"Вас нет ни в комнате, ни на портале {int((now - last).total_seconds() // 60)} мин. "
                f"Слот освободится в {clock.hhmm(now + grace)}, если вы не вернётесь: "
                "откройте портал или нажмите «Я здесь» на странице сессии.",
                f"idle_warning:{work.id}:{int(now.timestamp())}",
                session=session,
            )
    for session_id, warned_at in release:
        # Only if still warned: «Я здесь» or a portal tab opened since this read clears the warning.
        if end_session(session_id, "idle", only_if=(SlotSession.idle_warned_at == warned_at,)):
            done["ended_idle"] += 1


def _offer_free_slots(now: datetime, done: Counter) -> None:
    queue.expire_offers(now)
    with session_scope() as session:
        waiting = session.exec(select(QueueEntry.slot_id).where(QueueEntry.status == "waiting").distinct()).all()
    for slot_id in waiting:
        if queue.offer_next(slot_id) is not None:
            done["offered"] += 1


def _send_reminders(now: datetime, done: Counter) -> None:
    ahead = timedelta(minutes=get_settings().booking.warn_minutes)
    with session_scope() as session:
        due = session.exec(
            select(Booking, Slot)
            .join(Slot, Slot.id == Booking.slot_id)
            .where(
                Booking.status == "active",
                Booking.reminder_sent_at.is_(None),
                Booking.starts_at <= now + ahead,
                Booking.starts_at > now,
            )
        ).all()
        for booking, slot in due:
            if not _stamp_once(session, Booking.reminder_sent_at, booking.id, now):
                continue
            done["reminded"] += 1
            outbox.enqueue(
                booking.user_id,
                "booking_reminder",
                f"⏰ Напоминание о бронировании\nСлот: {slot.service_name}\n"
                f"Время: {clock.hhmm(booking.starts_at)}–{clock.hhmm(booking.ends_at)}\n"
                f"Бронь через {max(1, int((booking.starts_at - now).total_seconds() // 60))} мин!",
                f"booking_reminder:{booking.id}",
                session=session,
            )


def _dumps(now: datetime, done: Counter) -> None:
    if collected := dumps.catch_up(now):
        done["dumps"] += collected


def _admin_reports(now: datetime, done: Counter) -> None:
    if sent := alerts.renewal_reminders(now) + alerts.weekly_report(now):
        done["admin_alerts"] += sent


STEPS = (
    _expire_no_shows,
    _complete_bookings,
    _end_due_sessions,
    _warn_sessions,
    _release_idle,
    _offer_free_slots,
    _send_reminders,
    _dumps,
    _admin_reports,
)


def run_due(now: datetime | None = None) -> Counter:
    """Do everything that is due at `now`, in order. Safe to call again at any time."""
    now = now or clock.now()
    done: Counter = Counter()
    for step in STEPS:
        try:
            step(now, done)
        except Exception:  # one failing step must not starve the others; it retries next tick
            log.exception("scheduler step %s failed", step.__name__)
    return done


def tick(holder: str | None = None) -> Counter | None:
    """One scheduler beat: run the due work if this process holds the lease."""
    if not leases.acquire(LEASE, leases.period(), holder=holder):
        return None
    return run_due()


def start() -> BackgroundScheduler:
    """Start the beat in a background thread; the first tick runs immediately (catch-up).

    Changes reach open tabs through the board version the steps bump in the database.
    """
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        tick,
        "interval",
        seconds=get_settings().booking.tick_seconds,
        id="tick",
        next_run_time=datetime.now().astimezone(),
        max_instances=1,
        coalesce=True,
    )
    scheduler.start()
    return scheduler
