"""Dates as people here read them: dd.MM.yyyy, Russian month and weekday names, a month grid for the picker."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

MONTHS = (
    "Январь",
    "Февраль",
    "Март",
    "Апрель",
    "Май",
    "Июнь",
    "Июль",
    "Август",
    "Сентябрь",
    "Октябрь",
    "Ноябрь",
    "Декабрь",
)
# "26 ноября": the month in the genitive, as a date is said.
MONTHS_OF = (
    "января",
    "февраля",
    "марта",
    "апреля",
    "мая",
    "июня",
    "июля",
    "августа",
    "сентября",
    "октября",
    "ноября",
    "декабря",
)
WEEKDAYS = ("понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье")
WEEKDAYS_SHORT = ("Пн", "Вт", "Ср", "Чт", "Пт", "Сб", "Вс")


def numeric(d: date) -> str:
    """26.11.2026"""
    return f"{d:%d.%m.%Y}"


def spoken(d: date) -> str:
    """четверг, 26 ноября 2026 — for screen readers and headings."""
    return f"{WEEKDAYS[d.weekday()]}, {d.day} {MONTHS_OF[d.month - 1]} {d.year}"


def short(d: date) -> str:
    """Чт 26.11.2026 — the head of a week grid's column: a date is never shown without its year."""
    return f"{WEEKDAYS_SHORT[d.weekday()]} {numeric(d)}"


def with_weekday(d: date) -> str:
    """чт 26.11.2026"""
    return f"{WEEKDAYS_SHORT[d.weekday()].lower()} {numeric(d)}"


def parse_iso(raw: object) -> date | None:
    """A YYYY-MM-DD string from the browser, or None when it is anything else."""
    text = str(raw or "")[:10]
    try:
        return date.fromisoformat(text) if len(text) == 10 else None
    except ValueError:
        return None


def parse_numeric(raw: object) -> date | None:
    """A dd.MM.yyyy date typed by a person, or None when it is anything else."""
    parts = str(raw or "").strip()[:10].split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[2]) != 4:
        return None
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0]))
    except ValueError:
        return None


def week_start(d: date) -> date:
    """The Monday of d's week."""
    return d - timedelta(days=d.weekday())


@dataclass(frozen=True)
class DayCell:
    iso: str = ""
    label: str = ""
    # Spoken name of the day, the button's accessible name.
    aria: str = ""
    in_month: bool = False
    enabled: bool = False
    selected: bool = False
    today: bool = False


@dataclass(frozen=True)
class MonthView:
    """One month of the picker: its title and whole weeks of cells, Monday first."""

    title: str = ""
    month: str = ""  # ISO date of the month's first day
    cells: list[DayCell] = field(default_factory=list)
    can_prev: bool = False
    can_next: bool = False


def month_view(month: date, *, selected: date | None, today: date, lo: date | None, hi: date | None) -> MonthView:
    """The month containing `month`; days outside [lo, hi] cannot be picked."""
    first = month.replace(day=1)
    next_month = (first + timedelta(days=32)).replace(day=1)
    cells = []
    day = week_start(first)
    while day < next_month or day.weekday() != 0:
        in_month = first <= day < next_month
        cells.append(
            DayCell(
                iso=day.isoformat(),
                label=str(day.day),
                aria=spoken(day),
                in_month=in_month,
                enabled=in_month and (lo is None or day >= lo) and (hi is None or day <= hi),
                selected=day == selected,
                today=day == today,
            )
        )
        day += timedelta(days=1)
    return MonthView(
        title=f"{MONTHS[first.month - 1]} {first.year}",
        month=first.isoformat(),
        cells=cells,
        can_prev=lo is None or lo < first,
        can_next=hi is None or hi >= next_month,
    )


def shift_month(month: date, months: int) -> date:
    """The first day of the month `months` away."""
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)
