"""The booking dialog (dashboard and calendar), my bookings, the queue buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import reflex as rx

from services import bookings, queue
from services.board import cards
from services.core import clock
from services.core.errors import DomainError
from services.core.settings import get_settings
from state.auth import AuthState, UserInfo, quietly, signed_in
from state.board import notify_board_changed


@dataclass(frozen=True)
class MyBooking:
    id: int
    service_name: str
    label: str
    duration: str


def _today() -> str:
    return clock.local(clock.now()).date().isoformat()


class BookingState(AuthState):
    dialog_open: bool = False
    slot_id: str = ""
    slot_name: str = ""
    day: str = ""
    start: str = "10:00"
    minutes: str = "60"
    error: str = ""
    saving: bool = False
    mine: list[MyBooking] = []

    @rx.var
    def start_options(self) -> list[str]:
        return bookings.start_times()

    @rx.var
    def duration_options(self) -> list[list[str]]:
        return [[str(m), bookings.duration_label(m)] for m in get_settings().booking.durations]

    @rx.var
    def min_day(self) -> str:
        return _today()

    @rx.var
    def max_day(self) -> str:
        return (clock.local(clock.now()) + timedelta(days=get_settings().booking.days_ahead)).date().isoformat()

    @rx.var
    def checkin_minutes(self) -> int:
        return get_settings().booking.checkin_minutes

    def _load_mine(self, user_id: int) -> None:
        self.mine = [
            MyBooking(b.id, b.service_name, b.label, bookings.duration_label(b.minutes))
            for b in bookings.my_bookings(user_id)
        ]

    @rx.event
    @signed_in(otherwise=quietly)
    def load_mine(self, caller: UserInfo):
        self._load_mine(caller.id)

    @rx.event
    @signed_in
    def open_booking(self, caller: UserInfo, slot_id: str):
        return self._open(slot_id, "", "")

    @rx.event
    @signed_in
    def open_booking_at(self, caller: UserInfo, slot_id: str, day: str, start: str):
        """From a free cell of the calendar: slot, day and time already chosen."""
        return self._open(slot_id, day, start)

    def _open(self, slot_id: str, day: str, start: str):
        card = cards().get(str(slot_id))
        if card is None:
            return rx.toast.error("Слот не найден")
        self.slot_id, self.slot_name = card.id, card.service_name
        self.day = str(day)[:10] or self.day or _today()
        if start and str(start) in bookings.start_times():
            self.start = str(start)
        self.error = ""
        self.dialog_open = True

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = bool(value)

    @rx.event
    def set_day(self, value: str):
        self.day = str(value)[:10]

    @rx.event
    def set_start(self, value: str):
        self.start = str(value)[:5]

    @rx.event
    def set_minutes(self, value: str):
        self.minutes = str(value)[:4]

    @rx.event
    @signed_in
    def submit(self, caller: UserInfo):
        try:
            minutes = int(self.minutes)
        except ValueError:
            self.error = "Выберите длительность"
            return None
        try:
            bookings.create_booking(caller.id, self.slot_id, self.day, self.start, minutes)
        except DomainError as exc:
            self.error = exc.message
            return None
        self.dialog_open = False
        self._load_mine(caller.id)
        notify_board_changed()
        return rx.toast.success("Бронь подтверждена", description="Напомним в Telegram за 5 мин")

    @rx.event
    @signed_in
    def cancel(self, caller: UserInfo, booking_id: int):
        try:
            bookings.cancel_booking(caller.id, int(booking_id), client_ip=self._client_ip())
        except (DomainError, ValueError, TypeError) as exc:
            return rx.toast.error(getattr(exc, "message", "Бронь не найдена"))
        self._load_mine(caller.id)
        notify_board_changed()
        return rx.toast.success("Бронь отменена")

    @rx.event
    @signed_in
    def join_queue(self, caller: UserInfo, slot_id: str):
        try:
            place = queue.join_queue(caller.id, str(slot_id))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        notify_board_changed()
        return rx.toast.success(
            "Вы в очереди",
            description=f"Позиция {place}. Когда подойдёт ваша очередь, слот будет "
            "закреплён за вами на несколько минут.",
        )

    @rx.event
    @signed_in
    def leave_queue(self, caller: UserInfo, slot_id: str):
        try:
            queue.leave_queue(caller.id, str(slot_id))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        notify_board_changed()
        return rx.toast("Вы покинули очередь")
