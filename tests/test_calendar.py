"""The calendar's day view and the personal .ics feed."""

from datetime import UTC, date, datetime

import pytest
from sqlmodel import select

from services import auth, bookings, calendar, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.errors import NotFound
from services.core.models import AuditEvent, Slot
from state.calendar import CalendarState
from tests.conftest import with_login
from tests.test_handler_guards import _call

NOW = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)  # 10:05 Moscow


@pytest.fixture(autouse=True)
def _frozen():
    clock.freeze(NOW)
    yield


def test_day_view_places_bookings_and_sessions_as_bars(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    bookings.create_booking(anna.id, "nbp", "2026-11-25", "15:00", 120)
    sessions.take_slot(boris.id, "ppx-1")
    rows = {r.slot_id: r for r in calendar.calendar_day(date(2026, 11, 25), viewer_id=anna.id)}
    assert len(rows) == 10
    (bar,) = rows["nbp"].bars
    # 09:00–21:00 is the window: 15:00 is half way, two hours are a sixth.
    assert (bar.left, bar.width, bar.kind, bar.label) == (50.0, pytest.approx(16.667, abs=0.01), "mine", "Anna")
    (session_bar,) = rows["ppx-1"].bars
    # A running session is drawn until its planned end (3 hours by default).
    assert session_bar.kind == "session" and session_bar.left == pytest.approx(9.028, abs=0.01)
    assert session_bar.width == pytest.approx(25.0, abs=0.01)
    other_day = calendar.calendar_day(date(2026, 11, 26), viewer_id=anna.id)
    assert all(not r.bars for r in other_day)


def test_ics_feed_lists_ones_own_bookings_in_utc(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    bookings.create_booking(anna.id, "nbp", "2026-11-26", "14:00", 60)
    bookings.create_booking(boris.id, "gpt-1", "2026-11-26", "14:00", 60)
    token = calendar.feed_token(anna.id)
    assert calendar.feed_token(anna.id) == token  # stable
    text = calendar.ics_feed(token)
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.endswith("END:VCALENDAR\r\n")
    assert "DTSTART:20261126T110000Z" in text and "DTEND:20261126T120000Z" in text
    assert "SUMMARY:Бронь: Nano Banana Pro" in text and "ChatGPT" not in text
    assert calendar.ics_feed("wrong-token") is None


def test_ics_lines_are_folded_at_75_octets_and_line_breaks_in_names_are_escaped(make_user, demo_slots):
    with session_scope() as session:
        slot = session.get(Slot, "nbp")
        # As long as the admin form allows (120, the column's length, which PostgreSQL enforces).
        name = "Очень длинное название подписки;с запятой, и\r\nBEGIN:VEVENT\rи обратной \\ чертой "
        slot.service_name = (name * 2)[:120]
        session.add(slot)
    anna = make_user("anna")
    bookings.create_booking(anna.id, "nbp", "2026-11-26", "14:00", 60)
    raw = calendar.ics_feed(calendar.feed_token(anna.id)).encode()
    lines = raw.split(b"\r\n")
    assert all(len(line) <= 75 for line in lines)
    for line in lines:
        line.decode()  # never split inside a character
    assert b"\r" not in raw.replace(b"\r\n", b"")
    unfolded = raw.replace(b"\r\n ", b"").decode()
    assert unfolded.split("\r\n").count("BEGIN:VEVENT") == 1
    summary = next(line for line in unfolded.split("\r\n") if line.startswith("SUMMARY:"))
    assert "подписки\\;с запятой\\, и\\nBEGIN:VEVENT\\nи обратной \\\\ чертой" in summary


def test_rotating_the_feed_link_retires_the_old_url_and_is_audited(make_user):
    anna = make_user("anna")
    old = calendar.feed_token(anna.id)
    new = calendar.rotate_feed_token(anna.id, client_ip="10.0.0.4")
    assert new != old and calendar.feed_token(anna.id) == new
    assert calendar.ics_feed(old) is None
    assert calendar.ics_feed(new).startswith("BEGIN:VCALENDAR")
    with session_scope() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.kind == "ics_rotated")).all()
    assert [(e.actor_id, e.client_ip) for e in events] == [(anna.id, "10.0.0.4")]


def test_week_view_puts_a_slots_bookings_on_their_days_with_past_cells_and_the_now_line(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    bookings.create_booking(anna.id, "nbp", "2026-11-26", "15:00", 120)
    bookings.create_booking(boris.id, "nbp", "2026-11-25", "12:00", 60)
    bookings.create_booking(boris.id, "gpt-1", "2026-11-27", "12:00", 60)
    week = calendar.calendar_week("nbp", date(2026, 11, 23), viewer_id=anna.id)
    assert [d.label for d in week] == [
        "Пн 23.11.2026",
        "Вт 24.11.2026",
        "Ср 25.11.2026",
        "Чт 26.11.2026",
        "Пт 27.11.2026",
        "Сб 28.11.2026",
        "Вс 29.11.2026",
    ]
    wednesday, thursday, friday = week[2], week[3], week[4]
    assert thursday.numeric == "26.11.2026"
    assert wednesday.today and wednesday.spoken == "среда, 25 ноября 2026"
    # 10:05: the 09:00, 09:30 and 10:00 cells have begun; the now line is 65 of 720 minutes down.
    assert (week[1].past_cells, wednesday.past_cells, thursday.past_cells) == (24, 3, 0)
    assert wednesday.now_pct == pytest.approx(9.028, abs=0.01) and thursday.now_pct == -1
    (mine,) = thursday.bars
    assert (mine.left, mine.kind, mine.label) == (50.0, "mine", "Anna")
    assert [b.kind for b in wednesday.bars] == ["booking"] and friday.bars == []
    assert calendar.calendar_week("no-such-slot", date(2026, 11, 23), viewer_id=anna.id) == []


def test_the_cancel_confirmation_names_the_slot_the_day_and_the_time(make_user, demo_slots):
    anna, boris, boss = make_user("anna"), make_user("boris"), make_user("boss", admin=True)
    b = bookings.create_booking(anna.id, "nbp", "2026-11-26", "15:00", 120)
    assert bookings.cancel_preview(anna.id, b.id) == "Nano Banana Pro, чт 26.11.2026, 15:00–17:00 (Anna)"
    assert bookings.cancel_preview(boss.id, b.id).startswith("Nano Banana Pro, чт 26.11.2026")
    with pytest.raises(NotFound):
        bookings.cancel_preview(boris.id, b.id)


def _calendar_of(user) -> CalendarState:
    return with_login(CalendarState(_reflex_internal_init=True), auth.login(user.username, "correct-horse").token)


def test_hostile_calendar_events_change_nothing(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    b = bookings.create_booking(anna.id, "nbp", "2026-11-26", "15:00", 120)
    state = _calendar_of(boris)
    _call(CalendarState, "ask_cancel", state, booking_id=b.id)  # someone else's booking
    _call(CalendarState, "ask_cancel", state, booking_id="1 OR 1=1")
    assert state.cancel_id == 0 and state.cancel_title == ""
    state.cancel_id = b.id  # even a forged confirmation cannot cancel it
    (refused,) = _call(CalendarState, "confirm_cancel", state)
    assert "Бронь не найдена" in repr(refused)
    assert bookings.my_bookings(anna.id)[0].status == "active"
    for mode in ("year", ["x"], ""):
        _call(CalendarState, "set_mode", state, mode=mode)
    assert state.mode == "day"
    _call(CalendarState, "set_mode", state, mode=["week"])
    assert state.mode == "week" and state.week_slot == "ppx-1" and len(state.week) == 7
    _call(CalendarState, "set_week_slot", state, slot_id="../../etc")
    _call(CalendarState, "show_phone_day", state, index=9)
    _call(CalendarState, "shift", state, days="soon")
    _call(CalendarState, "picker_pick", state, iso="1999-01-01")
    assert (state.week_slot, state.phone_day, state.day) == ("ppx-1", 2, "2026-11-25")
    _call(CalendarState, "set_week_slot", state, slot_id="nbp")
    _call(CalendarState, "show_phone_day", state, index=3)
    assert state.week[3].bars[0].kind == "booking" and state.day == "2026-11-26"
