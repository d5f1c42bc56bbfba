"""The calendar page: a day of every slot, or a week of one slot, kept fresh while it is open."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import date, timedelta

import reflex as rx
from reflex_base.registry import RegistrationContext

from services import bookings, calendar, dates
from services.board import cards
from services.calendar import CalendarRow, WeekDay
from services.core import clock, db
from services.core.errors import DomainError
from services.core.settings import get_settings
from state.auth import AuthState, UserInfo, quietly, signed_in
from state.board import notify_board_changed
from state.day_picker import DayPicker
from vdi_taxi import routes

MODES = ("day", "week")
# The now line and the past cells move with the clock even when nothing is booked.
REDRAW_SECONDS = 60
SHOW_NOW = (
    "setTimeout(() => document.querySelector('[data-testid=calendar-day-view] [data-testid=now-line]')"
    "?.scrollIntoView({inline: 'center', block: 'nearest'}), 300)"
)
# How far the calendar may be moved from today.
REACH = timedelta(days=366)


@dataclass(frozen=True)
class SlotOption:
    id: str
    name: str


class CalendarState(DayPicker, AuthState):
    mode: str = "day"
    rows: list[CalendarRow] = []
    hours: list[str] = []
    cells: list[str] = []
    # The time axis of the week view: the hour at each whole hour's cell, blank at half hours.
    axis: list[str] = []
    # Day view: how many leading cells of the day have begun, and where the now line is (-1: not today).
    past_cells: int = 0
    now_pct: float = -1
    # Week view: the slot shown, its seven days, and the day a phone shows.
    week_slot: str = ""
    slot_options: list[SlotOption] = []
    week: list[WeekDay] = []
    phone_day: int = 0
    feed_url: str = ""
    version: int = -1
    watching: bool = False
    cancel_id: int = 0
    cancel_title: str = ""

    @rx.var
    def day_label(self) -> str:
        d = dates.parse_iso(self.day)
        return f"{dates.numeric(d)}, {dates.WEEKDAYS[d.weekday()]}" if d else ""

    @rx.var
    def week_label(self) -> str:
        d = dates.parse_iso(self.day)
        if d is None:
            return ""
        monday = dates.week_start(d)
        return f"{dates.numeric(monday)} – {dates.numeric(monday + timedelta(days=6))}"

    @rx.var
    def week_slot_name(self) -> str:
        return next((o.name for o in self.slot_options if o.id == self.week_slot), "")

    def _day_range(self) -> tuple[date | None, date | None]:
        return clock.today() - REACH, clock.today() + REACH

    def _day_picked(self, caller: UserInfo, day: date):
        self._reload(caller.id)

    def _reload(self, user_id: int) -> None:
        d = dates.parse_iso(self.day) or clock.today()
        self.day = d.isoformat()
        self.version = db.board_version()
        self.hours = calendar.hour_labels()
        self.cells = _half_hours()
        self.axis = [t if t.endswith(":00") else "" for t in self.cells]
        if self.mode == "week":
            options = [SlotOption(c.id, c.service_name) for c in cards().values()]
            self.slot_options = options
            if self.week_slot not in {o.id for o in options}:
                self.week_slot = options[0].id if options else ""
            self.week = calendar.calendar_week(self.week_slot, dates.week_start(d), user_id) if self.week_slot else []
            self.phone_day = d.weekday()
        else:
            self.rows = calendar.calendar_day(d, user_id)
            self.past_cells = calendar.past_cells(d)
            self.now_pct = calendar.now_position(d)

    @rx.event
    @signed_in
    def load(self, caller: UserInfo):
        if not self.day:
            self.day = clock.today().isoformat()
        self._reload(caller.id)
        self.feed_url = routes.calendar_feed(calendar.feed_token(caller.id))
        # A phone shows a few hours of the day at a time: bring the current one into view.
        events = [rx.call_script(SHOW_NOW)]
        if not self.watching:
            events.append(CalendarState.watch)
        return events

    @rx.event
    @signed_in
    def set_mode(self, caller: UserInfo, mode: str | list[str]):
        mode = str(mode[0] if isinstance(mode, list) and mode else mode)
        if mode in MODES:
            self.mode = mode
            self._reload(caller.id)

    @rx.event
    @signed_in
    def set_week_slot(self, caller: UserInfo, slot_id: str):
        if str(slot_id) in {o.id for o in self.slot_options}:
            self.week_slot = str(slot_id)
            self._reload(caller.id)

    @rx.event
    @signed_in(otherwise=quietly)
    def show_phone_day(self, caller: UserInfo, index: int):
        """A phone shows one day of the week at a time."""
        try:
            index = int(index)
        except (TypeError, ValueError):
            return
        if 0 <= index < len(self.week):
            self.phone_day = index
            self.day = self.week[index].iso

    @rx.event
    @signed_in
    def shift(self, caller: UserInfo, days: int):
        try:
            days = max(-31, min(31, int(days)))
        except (TypeError, ValueError):
            return
        d = (dates.parse_iso(self.day) or clock.today()) + timedelta(days=days)
        if abs(d - clock.today()) <= REACH:
            self.day = d.isoformat()
            self._reload(caller.id)

    @rx.event
    @signed_in(otherwise=quietly)
    def ask_cancel(self, caller: UserInfo, booking_id: int):
        """A click on a booking: admins (or its owner) may cancel it, after a confirmation naming slot and time."""
        try:
            self.cancel_title = bookings.cancel_preview(caller.id, int(booking_id))
        except (DomainError, TypeError, ValueError):
            return
        self.cancel_id = int(booking_id)

    @rx.event
    def close_cancel(self, _open: bool = False):
        self.cancel_id = 0

    @rx.event
    @signed_in
    def confirm_cancel(self, caller: UserInfo):
        booking_id, self.cancel_id = self.cancel_id, 0
        try:
            bookings.cancel_booking(caller.id, booking_id, client_ip=self._client_ip())
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._reload(caller.id)
        notify_board_changed()
        return rx.toast.success("Бронь отменена")

    @rx.event
    @signed_in(otherwise=quietly)
    def today(self, caller: UserInfo):
        self.day = clock.today().isoformat()
        self._reload(caller.id)

    @rx.event(background=True)
    @signed_in(otherwise=quietly)
    async def watch(self, caller: UserInfo):
        """While this tab shows the calendar, redraw it whenever the board changes, and every minute
        for the now line."""
        async with self:
            if self.watching:
                return
            self.watching = True
            token = self.router.session.client_token
        manager = RegistrationContext.get().app.event_namespace._token_manager
        drawn = time.monotonic()
        try:
            while await manager.is_token_connected(token):
                await asyncio.sleep(1)
                version = await asyncio.to_thread(db.board_version)
                async with self:
                    if self.router.url.path.rstrip("/") != routes.CALENDAR:
                        return
                    if version != self.version or time.monotonic() - drawn >= REDRAW_SECONDS:
                        # Re-checked on every redraw: a revoked login stops the watch.
                        viewer = self._current_user()
                        if viewer is None:
                            return
                        self._reload(viewer.id)
                        drawn = time.monotonic()
        finally:
            async with self:
                self.watching = False


def _half_hours() -> list[str]:
    """Every half hour of the booking day: the clickable cells of a row."""
    b = get_settings().booking
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(b.open_minute, b.close_minute, 30)]
