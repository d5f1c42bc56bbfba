"""A Russian date picker's state, mixed into the states that pick one day (booking dialog, calendar)."""

from __future__ import annotations

from datetime import date

import reflex as rx

from services import dates
from services.core import clock
from services.dates import MonthView
from state.auth import UserInfo, quietly, signed_in


class DayPicker(rx.State, mixin=True):
    """The picked day (``day``, ISO) and the month the open picker shows.

    A state using it says which days may be picked (``_day_range``) and what picking does
    (``_day_picked``); every pick is checked against the range on the server.
    """

    day: str = ""
    picker_open: bool = False
    picker: MonthView = MonthView()

    @rx.var
    def day_text(self) -> str:
        """The picked day as dd.MM.yyyy."""
        d = dates.parse_iso(self.day)
        return dates.numeric(d) if d else ""

    def _day_range(self) -> tuple[date | None, date | None]:
        return None, None

    def _day_picked(self, caller: UserInfo, day: date):
        return None

    def _show_month(self, month: date) -> None:
        lo, hi = self._day_range()
        self.picker = dates.month_view(month, selected=dates.parse_iso(self.day), today=clock.today(), lo=lo, hi=hi)

    @rx.event
    @signed_in(otherwise=quietly)
    def set_picker_open(self, caller: UserInfo, value: bool):
        self.picker_open = bool(value)
        if self.picker_open:
            self._show_month(dates.parse_iso(self.day) or clock.today())

    @rx.event
    @signed_in(otherwise=quietly)
    def picker_shift(self, caller: UserInfo, months: int):
        try:
            months = max(-12, min(12, int(months)))
        except (TypeError, ValueError):
            return
        current = dates.parse_iso(self.picker.month) or clock.today()
        target = dates.shift_month(current, months)
        lo, hi = self._day_range()
        if (lo and target < lo.replace(day=1)) or (hi and target > hi):
            return
        self._show_month(target)

    @rx.event
    @signed_in(otherwise=quietly)
    def picker_pick(self, caller: UserInfo, iso: str):
        day = dates.parse_iso(iso)
        lo, hi = self._day_range()
        if day is None or (lo and day < lo) or (hi and day > hi):
            return None
        self.day, self.picker_open = day.isoformat(), False
        return self._day_picked(caller, day)
