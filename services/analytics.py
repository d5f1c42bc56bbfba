"""Utilisation of the slots over a period: hours used, share of working hours, queue waits,
no-shows, cost per used hour, a weekday x hour heat map and what to do about it."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_
from sqlmodel import select

from services.core import clock
from services.core.access import require_admin
from services.core.db import session_scope
from services.core.errors import DomainError
from services.core.models import Booking, QueueEntry, Slot, SlotSession
from services.core.plural import plural
from services.core.settings import get_settings
from services.dates import WEEKDAYS_SHORT

PERIODS = {"day": "Сегодня", "week": "7 дней", "month": "30 дней"}
BUSY_PCT = 70.0
IDLE_PCT = 10.0
# From here the dashboard's «Загрузка сегодня» shows a category in amber (v4's threshold).
MID_PCT = 30.0
# A queue is "long" when people waited this long on average, at least this many times.
LONG_WAIT_MINUTES = 15.0
LONG_WAIT_MIN_COUNT = 3
# A slot is judged on at least this many working days of records (in the period, since it was added).
MIN_HISTORY_DAYS = 3
# Below this much use the cost per used hour is not shown.
MIN_COST_HOURS = 1.0


@dataclass(frozen=True)
class SlotUsage:
    slot_id: str
    service_name: str
    sessions: int
    hours_used: float
    # Busy time inside working hours, as a share of the period's working hours.
    work_pct: float
    queue_waits: int
    avg_wait_minutes: float
    no_shows: int
    monthly_cost: float
    # The period's share of the monthly cost divided by the hours used; None: under an hour of use.
    cost_per_hour: float | None
    verdict: str  # "busy" | "idle" | "ok" | "unknown" (not enough history to judge)


@dataclass(frozen=True)
class Utilisation:
    period: str
    start: datetime
    end: datetime
    work_hours: float
    slots: list[SlotUsage]
    # heat[weekday][hour]: share (0..100) of the slot-hours that were busy.
    heat: list[list[float]]
    recommendations: list[str]
    # Why some slots (or all) are not judged yet; empty when all are.
    history_note: str = ""

    @property
    def total_hours(self) -> float:
        return sum(s.hours_used for s in self.slots)


def period_bounds(period: str, now: datetime) -> tuple[datetime, datetime]:
    if period not in PERIODS:
        raise DomainError("Период: день, неделя или месяц")
    tz = get_settings().tz
    if period == "day":
        local = now.astimezone(tz)
        return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC), now
    return now - timedelta(days=7 if period == "week" else 30), now


def _working_windows(start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """Working-hour intervals (configured days, booking open..close) inside [start, end)."""
    s = get_settings()
    tz, b = s.tz, s.booking
    windows = []
    day = start.astimezone(tz).date()
    while day <= end.astimezone(tz).date():
        if day.isoweekday() in b.work_days:
            midnight = datetime(day.year, day.month, day.day, tzinfo=tz)
            lo = max(start, (midnight + timedelta(minutes=b.open_minute)).astimezone(UTC))
            hi = min(end, (midnight + timedelta(minutes=b.close_minute)).astimezone(UTC))
            if hi > lo:
                windows.append((lo, hi))
        day += timedelta(days=1)
    return windows


def _overlap(a0: datetime, a1: datetime, windows: list[tuple[datetime, datetime]]) -> float:
    total = 0.0
    for w0, w1 in windows:
        if w0 >= a1:
            break
        lo, hi = max(a0, w0), min(a1, w1)
        if hi > lo:
            total += (hi - lo).total_seconds()
    return total


def _spread_by_hour(a0: datetime, a1: datetime, into: list[list[float]]) -> None:
    """Add the seconds of [a0, a1) to the local weekday x hour cells they fall into."""
    tz = get_settings().tz
    cursor = a0
    while cursor < a1:
        local = cursor.astimezone(tz)
        next_hour = (local.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)).astimezone(UTC)
        stop = min(a1, next_hour)
        into[local.weekday()][local.hour] += (stop - cursor).total_seconds()
        cursor = stop


@dataclass(frozen=True)
class CategoryLoad:
    """«Загрузка сегодня» of one category on the dashboard."""

    category: str
    accent: str
    pct: int
    level: str  # "low" | "mid" | "high"


def today_by_category(now: datetime) -> list[CategoryLoad]:
    """For every category: the share of today's booking hours so far that its slots were busy.

    Shown to everyone, so it says nothing about who worked."""
    b, tz = get_settings().booking, get_settings().tz
    midnight = now.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
    opened = (midnight + timedelta(minutes=b.open_minute)).astimezone(UTC)
    until = min(now, (midnight + timedelta(minutes=b.close_minute)).astimezone(UTC))
    if until <= opened:
        return []
    with session_scope() as session:
        slots = session.exec(select(Slot).where(Slot.is_active).order_by(Slot.sort_order, Slot.id)).all()
        works = session.exec(
            select(SlotSession.slot_id, SlotSession.started_at, SlotSession.ended_at).where(
                SlotSession.started_at < until, or_(SlotSession.ended_at.is_(None), SlotSession.ended_at > opened)
            )
        ).all()
    busy: dict[str, float] = defaultdict(float)
    for slot_id, started, ended in works:
        busy[slot_id] += max(0.0, (min(ended or until, until) - max(started, opened)).total_seconds())
    elapsed = (until - opened).total_seconds()
    groups: dict[str, list[Slot]] = {}
    for slot in slots:
        groups.setdefault(slot.category, []).append(slot)
    out = []
    for category, members in groups.items():
        pct = round(100 * sum(busy[s.id] for s in members) / (elapsed * len(members)))
        level = "high" if pct > BUSY_PCT else ("mid" if pct >= MID_PCT else "low")
        out.append(CategoryLoad(category, members[0].category_accent, pct, level))
    return out


def utilisation(actor_id: int, period: str) -> Utilisation:
    require_admin(actor_id)
    return compute(period, clock.now())


def _history_start(session) -> datetime | None:
    """When the records begin: the first session ever started here."""
    return session.exec(select(SlotSession.started_at).order_by(SlotSession.started_at).limit(1)).first()


def _judged_from(start: datetime, history: datetime | None, slot: Slot) -> datetime | None:
    """Where a slot's judged time begins inside the period: not before the records, nor before the slot was added."""
    if history is None:
        return None
    return max(start, history, slot.created_at or history)


def compute(period: str, now: datetime) -> Utilisation:
    start, end = period_bounds(period, now)
    windows = _working_windows(start, end)
    work_seconds = sum((hi - lo).total_seconds() for lo, hi in windows)
    with session_scope() as session:
        slots = session.exec(select(Slot).where(Slot.is_active).order_by(Slot.sort_order, Slot.id)).all()
        history = _history_start(session)
        works = session.exec(
            select(SlotSession.slot_id, SlotSession.started_at, SlotSession.ended_at).where(
                SlotSession.started_at < end, or_(SlotSession.ended_at.is_(None), SlotSession.ended_at > start)
            )
        ).all()
        waits = session.exec(
            select(QueueEntry.slot_id, QueueEntry.joined_at, QueueEntry.offered_at, QueueEntry.ended_at).where(
                QueueEntry.joined_at >= start, QueueEntry.joined_at < end
            )
        ).all()
        no_shows = session.exec(
            select(Booking.slot_id).where(
                Booking.status == "expired", Booking.starts_at >= start, Booking.starts_at < end
            )
        ).all()

    busy: dict[str, float] = defaultdict(float)
    busy_work: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    heat_seconds = [[0.0] * 24 for _ in WEEKDAYS_SHORT]
    for slot_id, started, ended in works:
        a0, a1 = max(started, start), min(ended or end, end)
        if a1 <= a0:
            continue
        busy[slot_id] += (a1 - a0).total_seconds()
        busy_work[slot_id] += _overlap(a0, a1, windows)
        count[slot_id] += 1
        _spread_by_hour(a0, a1, heat_seconds)

    wait_total: dict[str, float] = defaultdict(float)
    wait_count: dict[str, int] = defaultdict(int)
    for slot_id, joined, offered, ended in waits:
        # Waiting ends with the offer; one who left before any offer waited until leaving.
        stop = offered or ended or end
        wait_total[slot_id] += max(0.0, (stop - joined).total_seconds())
        wait_count[slot_id] += 1
    missed: dict[str, int] = defaultdict(int)
    for slot_id in no_shows:
        missed[slot_id] += 1

    days = max((end - start).total_seconds() / 86400, 1 / 24)
    needed = _needed_work_seconds()
    rows: list[SlotUsage] = []
    for slot in slots:
        hours = busy[slot.id] / 3600
        judged_from = _judged_from(start, history, slot)
        # The share of the working time the slot could have been used: since the records began and it existed.
        judged_work = (
            sum((hi - lo).total_seconds() for lo, hi in _working_windows(judged_from, end)) if judged_from else 0.0
        )
        pct = min(100.0, 100 * busy_work[slot.id] / judged_work) if judged_work else 0.0
        waited = wait_count[slot.id]
        avg_wait = wait_total[slot.id] / waited / 60 if waited else 0.0
        cost_share = slot.monthly_cost * min(days, 30) / 30
        # Under an hour of use, a price per hour says more about chance than about the slot.
        per_hour = cost_share / hours if hours >= MIN_COST_HOURS else None
        long_queue = waited >= LONG_WAIT_MIN_COUNT and avg_wait >= LONG_WAIT_MINUTES
        if judged_work < needed:
            verdict = "unknown"
        else:
            verdict = "busy" if pct > BUSY_PCT or long_queue else ("idle" if pct < IDLE_PCT else "ok")
        rows.append(
            SlotUsage(
                slot.id,
                slot.service_name,
                count[slot.id],
                round(hours, 1),
                round(pct, 1),
                waited,
                round(avg_wait, 1),
                missed[slot.id],
                slot.monthly_cost,
                round(per_hour, 2) if per_hour is not None else None,
                verdict,
            )
        )
    capacity = _hour_capacity(start, end)
    heat = [
        [
            round(100 * heat_seconds[d][h] / (capacity[d][h] * len(slots)), 1) if capacity[d][h] and slots else 0.0
            for h in range(24)
        ]
        for d in range(7)
    ]
    return Utilisation(
        period,
        start,
        end,
        round(work_seconds / 3600, 1),
        rows,
        heat,
        _advice(rows),
        _history_note(rows, history, needed),
    )


def _needed_work_seconds() -> float:
    """Enough history to judge a slot: MIN_HISTORY_DAYS working days' worth of working hours."""
    b = get_settings().booking
    return MIN_HISTORY_DAYS * (b.close_minute - b.open_minute) * 60


def _advice(rows: list[SlotUsage]) -> list[str]:
    """What to do, for the slots with enough history only."""
    advice: list[str] = []
    for r in rows:
        if r.verdict != "busy":
            continue
        if r.work_pct > BUSY_PCT:
            advice.append(f"{r.service_name}: занят {r.work_pct:.0f}% рабочего времени — рассмотрите добавление слота")
        else:
            advice.append(
                f"{r.service_name}: в очереди ждали в среднем {r.avg_wait_minutes:.0f} мин "
                f"({plural(r.queue_waits, 'раз', 'раза', 'раз')}) — рассмотрите добавление слота"
            )
    idle = [r for r in rows if r.verdict == "idle"]
    judged = [r for r in rows if r.verdict != "unknown"]
    if idle and len(idle) == len(judged) and len(judged) > 1:
        # Every subscription idle says more about the portal than about the subscriptions.
        advice.append(
            f"Все подписки заняты меньше {IDLE_PCT:.0f}% рабочего времени. Прежде чем отказываться от них, "
            "проверьте, что сотрудники знают о портале и пользуются им."
        )
    elif idle:
        # One line for all idle slots, with what cancelling them would save.
        names = ", ".join(f"{r.service_name} ({r.work_pct:.0f}%)" for r in idle)
        saving = sum(r.monthly_cost for r in idle)
        advice.append(
            f"Заняты меньше {IDLE_PCT:.0f}% рабочего времени: {names} — рассмотрите отказ"
            + (f", экономия до ${saving:g}/мес" if saving else "")
        )
    return advice


def _history_note(rows: list[SlotUsage], history: datetime | None, needed: float) -> str:
    """Why some or all slots are not judged; empty when every slot is."""
    waiting = [r.service_name for r in rows if r.verdict == "unknown"]
    if not waiting:
        return ""
    days = plural(MIN_HISTORY_DAYS, "рабочего дня", "рабочих дней", "рабочих дней")
    if history is None:
        return f"Рекомендаций пока нет: сессий ещё не было. Оценка появится после {days} использования."
    if len(waiting) == len(rows):
        since = f"{history.astimezone(get_settings().tz):%d.%m.%Y}"
        return (
            f"Рекомендаций пока нет: для оценки нужно не меньше {days} истории в выбранном периоде "
            f"({needed / 3600:g} рабочих часов), а записи начинаются {since}."
        )
    return f"Пока без оценки (меньше {days} истории в периоде): " + ", ".join(waiting) + "."


def _hour_capacity(start: datetime, end: datetime) -> list[list[float]]:
    """Seconds each local weekday x hour cell exists within [start, end) (one slot's capacity)."""
    cells = [[0.0] * 24 for _ in WEEKDAYS_SHORT]
    _spread_by_hour(start, end, cells)
    return cells


CSV_HEADER = (
    "slot_id",
    "Сервис",
    "Сессий",
    "Часов",
    "% рабочего времени",
    "Ожиданий в очереди",
    "Среднее ожидание, мин",
    "Неявки",
    "$/мес",
    "$ за час",
)


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Text that a spreadsheet would read as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _SafeWriter:
    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: list[object]) -> None:
        self._writer.writerow([_cell(v) for v in row])


def to_csv(data: Utilisation) -> str:
    out = io.StringIO()
    writer = _SafeWriter(out)
    tz = get_settings().tz
    writer.writerow([f"Период: {data.start.astimezone(tz):%d.%m.%Y %H:%M} – {data.end.astimezone(tz):%d.%m.%Y %H:%M}"])
    writer.writerow(CSV_HEADER)
    for s in data.slots:
        writer.writerow(
            [
                s.slot_id,
                s.service_name,
                s.sessions,
                f"{s.hours_used:.1f}",
                f"{s.work_pct:.1f}",
                s.queue_waits,
                f"{s.avg_wait_minutes:.1f}",
                s.no_shows,
                f"{s.monthly_cost:g}",
                "" if s.cost_per_hour is None else f"{s.cost_per_hour:.2f}",
            ]
        )
    return out.getvalue()


def weekly_text() -> str:
    """The admin panel's weekly utilisation, as a message."""
    report = compute("week", clock.now())
    lines = [
        "📊 Статистика за неделю",
        f"Всего сессий: {sum(s.sessions for s in report.slots)}",
        f"Общее время: {report.total_hours:.1f} ч",
        f"Среднее/день: {report.total_hours / 7:.1f} ч",
    ]
    used = sorted((s for s in report.slots if s.sessions), key=lambda s: -s.hours_used)
    if used:
        lines.append("📈 По слотам:")
        lines += [
            f"{s.slot_id}: {plural(s.sessions, 'сессия', 'сессии', 'сессий')}, {s.hours_used:.1f} ч, {s.work_pct:.0f}%"
            for s in used
        ]
    if report.recommendations:
        lines.append("💡 Рекомендации:")
        lines += [f"• {line}" for line in report.recommendations]
    if report.history_note:
        lines.append(f"ℹ️ {report.history_note}")
    return "\n".join(lines)
