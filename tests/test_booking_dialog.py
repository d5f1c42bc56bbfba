"""The booking dialog proposes the next free half hour, never a past one, and picks days in Russian."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from services import auth, bookings, dates
from services.core import clock
from state.booking import BookingState
from tests.conftest import with_login
from tests.test_handler_guards import _call

# Wednesday 2026-11-25, 16:35 in Moscow.
NOW = datetime(2026, 11, 25, 13, 35, tzinfo=UTC)
TODAY, TOMORROW = date(2026, 11, 25), date(2026, 11, 26)


@pytest.fixture(autouse=True)
def _frozen():
    clock.freeze(NOW)
    yield


def test_only_start_times_still_ahead_are_offered_today():
    assert bookings.start_times(TODAY)[:2] == ["17:00", "17:30"]
    assert bookings.start_times(TODAY)[-1] == "20:30"
    assert bookings.start_times(TOMORROW)[0] == "09:00"
    clock.freeze(NOW + timedelta(hours=4))  # 20:35: nothing is left today
    assert bookings.start_times(TODAY) == []


def test_the_next_free_half_hour_skips_the_slots_bookings_and_the_persons_own(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    assert bookings.next_free_start("ppx-1", anna.id) == (TODAY, "17:00")
    bookings.create_booking(boris.id, "ppx-1", TODAY.isoformat(), "17:00", 60)
    assert bookings.next_free_start("ppx-1", anna.id) == (TODAY, "18:00")
    # Anna's own booking of another slot at 18:00 leaves her no lane then.
    bookings.create_booking(anna.id, "nbp", TODAY.isoformat(), "18:00", 30)
    assert bookings.next_free_start("ppx-1", anna.id) == (TODAY, "18:30")
    clock.freeze(NOW + timedelta(hours=4))
    assert bookings.next_free_start("ppx-1", anna.id) == (TOMORROW, "09:00")


def test_the_month_grid_is_russian_whole_weeks_and_only_bookable_days_can_be_picked():
    view = dates.month_view(TODAY, selected=TOMORROW, today=TODAY, lo=TODAY, hi=TODAY + timedelta(days=14))
    assert view.title == "Ноябрь 2026" and len(view.cells) % 7 == 0
    first = view.cells[0]
    assert first.iso == "2026-10-26" and not first.in_month  # the Monday before 1 November
    by_day = {c.iso: c for c in view.cells}
    assert not by_day["2026-11-24"].enabled and by_day["2026-11-25"].today and by_day["2026-11-25"].enabled
    assert by_day["2026-11-26"].selected and by_day["2026-11-26"].aria == "четверг, 26 ноября 2026"
    assert not view.can_prev and view.can_next
    december = dates.month_view(
        dates.shift_month(TODAY, 1), selected=None, today=TODAY, lo=TODAY, hi=TODAY + timedelta(days=14)
    )
    assert december.title == "Декабрь 2026" and december.can_prev and not december.can_next
    assert [c.iso for c in december.cells if c.enabled] == [f"2026-12-0{d}" for d in range(1, 10)]
    assert dates.numeric(TOMORROW) == "26.11.2026" and dates.shift_month(date(2026, 12, 5), 1) == date(2027, 1, 1)


def _dialog(user) -> BookingState:
    return with_login(BookingState(_reflex_internal_init=True), auth.login(user.username, "correct-horse").token)


def test_the_dialog_opens_on_the_next_free_half_hour_in_dd_mm_yyyy(make_user, demo_slots):
    anna = make_user("anna")
    state = _dialog(anna)
    _call(BookingState, "open_booking", state, slot_id="ppx-1")
    assert (state.day, state.start, state.day_text) == ("2026-11-25", "17:00", "25.11.2026")
    assert state.start_options[0] == "17:00" and "10:00" not in state.start_options
    # Another day keeps the chosen time; today again cannot keep a time already past.
    state.start = "10:00"
    _call(BookingState, "set_picker_open", state, value=True)
    _call(BookingState, "picker_pick", state, iso="2026-11-26")
    assert (state.day, state.start, state.picker_open) == ("2026-11-26", "10:00", False)
    _call(BookingState, "picker_pick", state, iso="2026-11-25")
    assert state.start == "17:00"


def test_a_hostile_client_cannot_pick_a_past_or_distant_day_or_break_the_picker(make_user, demo_slots):
    anna = make_user("anna")
    state = _dialog(anna)
    _call(BookingState, "open_booking", state, slot_id="ppx-1")
    for iso in ("2026-11-24", "2027-01-01", "garbage", "", "2026-02-30"):
        _call(BookingState, "picker_pick", state, iso=iso)
        assert state.day == "2026-11-25"
    _call(BookingState, "set_picker_open", state, value=True)
    for months in ("x", -1, 40):
        _call(BookingState, "picker_shift", state, months=months)
        assert state.picker.title == "Ноябрь 2026"
    # A calendar cell in the past opens on the next free time instead.
    _call(BookingState, "open_booking_at", state, slot_id="ppx-1", day="2026-11-25", start="10:00")
    assert (state.day, state.start) == ("2026-11-25", "17:00")
    # And the server refuses a past start whatever the dialog held.
    state.start, state.minutes = "10:00", "60"
    _call(BookingState, "submit", state)
    assert state.error == "Время брони уже прошло" and bookings.my_bookings(anna.id) == []
