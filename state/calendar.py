"""The calendar page: a day of slots and time, kept fresh while it is open."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

import reflex as rx
from reflex_base.registry import RegistrationContext

from services import bookings, calendar
from services.calendar import CalendarRow
from services.core import clock, db
from services.core.errors import DomainError
from services.core.settings import get_settings
from state.auth import AuthState, UserInfo, quietly, signed_in
from state.board import notify_board_changed
from vdi_taxi import routes


def _parse_day(raw: str) -> date | None:
    try:
        return date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None


class CalendarState(AuthState):
    day: str = ""
    rows: list[CalendarRow] = []
    hours: list[str] = []
    cells: list[str] = []
    feed_url: str = ""
    version: int = -1
    watching: bool = False
    cancel_id: int = 0
    cancel_title: str = ""

    @rx.var
    def day_label(self) -> str:
        d = _parse_day(self.day)
        if d is None:
            return ""
        weekdays = ["понедельник", "вторник", "среда", "четверг", "пятница", "суббота", "воскресенье"]
        return f"{d:%d.%m.%Y}, {weekdays[d.weekday()]}"

    def _reload(self, user_id: int) -> None:
        d = _parse_day(self.day) or clock.local(clock.now()).date()
        self.day = d.isoformat()
        self.rows = calendar.calendar_day(d, user_id)
        self.hours = calendar.hour_labels()
        self.cells = _half_hours()
        self.version = db.board_version()

    @rx.event
    @signed_in
    def load(self, caller: UserInfo):
        if not self.day:
            self.day = clock.local(clock.now()).date().isoformat()
        self._reload(caller.id)
        self.feed_url = routes.calendar_feed(calendar.feed_token(caller.id))
        if not self.watching:
            return CalendarState.watch

    @rx.event
    @signed_in
    def shift(self, caller: UserInfo, days: int):
        d = _parse_day(self.day) or clock.local(clock.now()).date()
        self.day = (d + timedelta(days=max(-31, min(31, int(days))))).isoformat()
        self._reload(caller.id)

    @rx.event
    @signed_in
    def set_day(self, caller: UserInfo, value: str):
        if _parse_day(value) is not None:
            self.day = str(value)[:10]
            self._reload(caller.id)

    @rx.event
    @signed_in(otherwise=quietly)
    def ask_cancel(self, caller: UserInfo, booking_id: int, title: str):
        """A click on a booking bar: admins (or its owner) may cancel it, after confirming."""
        if not booking_id:
            return
        self.cancel_id, self.cancel_title = int(booking_id), str(title)[:200]

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
        self.day = clock.local(clock.now()).date().isoformat()
        self._reload(caller.id)

    @rx.event(background=True)
    @signed_in(otherwise=quietly)
    async def watch(self, caller: UserInfo):
        """While this tab shows the calendar, redraw it whenever the board changes."""
        async with self:
            if self.watching:
                return
            self.watching = True
            token = self.router.session.client_token
        manager = RegistrationContext.get().app.event_namespace._token_manager
        try:
            while await manager.is_token_connected(token):
                await asyncio.sleep(1)
                version = await asyncio.to_thread(db.board_version)
                async with self:
                    if self.router.url.path.rstrip("/") != routes.CALENDAR:
                        return
                    if version != self.version:
                        # Re-checked on every redraw: a revoked login stops the watch.
                        viewer = self._current_user()
                        if viewer is None:
                            return
                        self._reload(viewer.id)
        finally:
            async with self:
                self.watching = False


def _half_hours() -> list[str]:
    """Every half hour of the booking day: the clickable cells of a row."""
    b = get_settings().booking
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(b.open_minute, b.close_minute, 30)]
