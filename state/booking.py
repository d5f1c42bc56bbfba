"""The booking dialog (dashboard and calendar), my bookings, the queue buttons."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import reflex as rx

from services import bookings, dates, queue
from services.board import cards
from services.core.errors import DomainError
from services.core.settings import get_settings
from state.auth import AuthState, UserInfo, quietly, signed_in
from state.board import notify_board_changed
from state.day_picker import DayPicker


@dataclass(frozen=True)
class MyBooking:
    id: int
    service_name: str
    label: str
    duration: str


class BookingState(DayPicker, AuthState):
    dialog_open: bool = False
    slot_id: str = ""
    slot_name: str = ""
    start: str = ""
    start_options: list[str] = []
    minutes: str = "60"
    error: str = ""
    saving: bool = False
    mine: list[MyBooking] = []

    @rx.var
    def duration_options(self) -> list[list[str]]:
        return [[str(m), bookings.duration_label(m)] for m in get_settings().booking.durations]

    @rx.var
    def checkin_minutes(self) -> int:
        return get_settings().booking.checkin_minutes

    def _day_range(self) -> tuple[date | None, date | None]:
        return bookings.bookable_days()

    def _day_picked(self, caller: UserInfo, day: date):
        self._offer_times(day, self.start)

    def _offer_times(self, day: date, start: str) -> None:
        """The day's start times from now on; the wanted one if it is among them, else the first."""
        self.start_options = bookings.start_times(day)
        self.start = start if start in self.start_options else (self.start_options[0] if self.start_options else "")

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
        return self._open(caller, slot_id, "", "")

    @rx.event
    @signed_in
    def open_booking_at(self, caller: UserInfo, slot_id: str, day: str, start: str):
        """From a free cell of the calendar: slot, day and time already chosen."""
        return self._open(caller, slot_id, day, start)

    def _open(self, caller: UserInfo, slot_id: str, day: str, start: str):
        card = cards().get(str(slot_id))
        if card is None:
            return rx.toast.error("Слот не найден")
        self.slot_id, self.slot_name = card.id, card.service_name
        first, last = bookings.bookable_days()
        wanted = dates.parse_iso(day)
        if wanted is not None and first <= wanted <= last and str(start) in bookings.start_times(wanted):
            chosen, start = wanted, str(start)
        else:
            # Proposed: the first half hour from now that is free for this slot and this person.
            chosen, start = bookings.next_free_start(card.id, caller.id) or (first, "")
        self.day = chosen.isoformat()
        self._offer_times(chosen, start)
        self.error = ""
        self.picker_open = False
        self.dialog_open = True
        return None

    @rx.event
    def set_dialog_open(self, value: bool):
        self.dialog_open = bool(value)

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
        if not self.start:
            self.error = "На этот день свободного времени больше нет — выберите другой день"
            return None
        try:
            bookings.create_booking(caller.id, self.slot_id, self.day, self.start, minutes)
        except DomainError as exc:
            self.error = exc.message
            return None
        self.dialog_open = False
        self._load_mine(caller.id)
        notify_board_changed()
        ahead = get_settings().booking.warn_minutes
        return rx.toast.success("Бронь подтверждена", description=f"Напомним в Telegram за {ahead} мин")

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
