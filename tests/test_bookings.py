"""Booking rules with frozen time (Europe/Moscow, UTC+3), and the overlap race."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from services import board, bookings, session_views, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.errors import Conflict, DomainError
from services.core.models import Booking, UserBookingCell
from services.core.settings import get_settings
from tests.test_slots import _race

# Wednesday 2026-11-25, 10:05 in Moscow.
NOW = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)
TODAY, TOMORROW = "2026-11-25", "2026-11-26"


@pytest.fixture(autouse=True)
def _frozen():
    clock.freeze(NOW)
    yield


def test_a_valid_booking_is_stored_in_utc_and_shown_in_local_time(make_user, demo_slots):
    anna = make_user("anna")
    b = bookings.create_booking(anna.id, "ppx-1", TOMORROW, "14:30", 60)
    assert b.starts_at == datetime(2026, 11, 26, 11, 30, tzinfo=UTC)
    assert b.ends_at - b.starts_at == timedelta(hours=1)
    assert b.label == "26.11.2026 14:30–15:30"
    assert [x.id for x in bookings.my_bookings(anna.id)] == [b.id]


@pytest.mark.parametrize(
    ("day", "start", "minutes", "message"),
    [
        (TODAY, "09:00", 60, "уже прошло"),
        (TOMORROW, "14:15", 60, "Неверный формат|только в :00 или :30"),
        (TOMORROW, "14:45", 60, "только в :00 или :30"),
        (TOMORROW, "25:99", 60, "Неверный формат времени"),
        (TOMORROW, "08:30", 60, "с 09:00 до 21:00"),
        (TOMORROW, "20:30", 60, "с 09:00 до 21:00"),
        (TOMORROW, "14:00", 45, "Длительность брони: 30 мин, 1 час, 2 часа"),
        (TOMORROW, "14:00", 0, "Длительность брони"),
        ("2026-13-01", "14:00", 60, "Неверная дата"),
        ("", "14:00", 60, "Выберите дату"),
        ("2026-12-31", "14:00", 60, "не дальше чем на 14 дней"),
    ],
)
def test_bad_bookings_are_refused_with_a_clear_reason(make_user, demo_slots, day, start, minutes, message):
    anna = make_user("anna")
    with pytest.raises(DomainError, match=message):
        bookings.create_booking(anna.id, "ppx-1", day, start, minutes)
    assert bookings.my_bookings(anna.id) == []


def test_overlap_is_refused_and_names_the_other_booking(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    bookings.create_booking(anna.id, "ppx-1", TOMORROW, "14:00", 120)
    with pytest.raises(Conflict, match=r"Конфликт с бронью 14:00–16:00 \(Anna\)"):
        bookings.create_booking(boris.id, "ppx-1", TOMORROW, "15:30", 60)
    # Touching ends are fine, and other slots are independent.
    bookings.create_booking(boris.id, "ppx-1", TOMORROW, "16:00", 30)
    bookings.create_booking(boris.id, "ppx-2", TOMORROW, "15:00", 30)


def test_cancelled_time_can_be_booked_again_and_cancel_is_own_or_admin(make_user, demo_slots):
    anna, boris, boss = make_user("anna"), make_user("boris"), make_user("boss", admin=True)
    b = bookings.create_booking(anna.id, "ppx-1", TOMORROW, "14:00", 60)
    with pytest.raises(DomainError, match="Бронь не найдена"):
        bookings.cancel_booking(boris.id, b.id)
    assert bookings.cancel_booking(anna.id, b.id).status == "cancelled"
    with pytest.raises(DomainError, match="уже не активна"):
        bookings.cancel_booking(anna.id, b.id)
    b2 = bookings.create_booking(boris.id, "ppx-1", TOMORROW, "14:00", 60)
    assert bookings.cancel_booking(boss.id, b2.id).status == "cancelled"


def test_a_user_holds_at_most_n_future_bookings(make_user, demo_slots):
    anna = make_user("anna")
    for hour in ("10:00", "11:00", "12:00"):
        bookings.create_booking(anna.id, "ppx-1", TOMORROW, hour, 30)
    with pytest.raises(Conflict, match="не больше 3 будущих броней"):
        bookings.create_booking(anna.id, "ppx-2", TOMORROW, "15:00", 30)


def test_during_a_booking_only_its_holder_can_take_the_slot(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    bookings.create_booking(anna.id, "nbp", TODAY, "11:00", 60)
    clock.freeze(NOW + timedelta(minutes=57))  # 11:02
    card = board.cards()["nbp"]
    assert card.booked_by_name == "Anna" and card.booked_until == "12:00"
    with pytest.raises(Conflict, match="Слот забронирован: Anna до 12:00"):
        sessions.take_slot(boris.id, "nbp")
    work = sessions.take_slot(anna.id, "nbp")
    assert work.user_id == anna.id


def test_a_session_ends_where_someone_elses_booking_begins(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    bookings.create_booking(boris.id, "gpt-1", TODAY, "11:00", 60)
    work = sessions.take_slot(anna.id, "gpt-1")
    assert work.deadline_at == datetime(2026, 11, 25, 8, 0, tzinfo=UTC)
    card = board.cards()["gpt-1"]
    assert card.next_booking == "Бронь с 11:00"


def test_the_board_shows_the_current_and_the_nearest_booking_of_today_only(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    bookings.create_booking(anna.id, "ppx-3", TODAY, "14:00", 30)
    bookings.create_booking(boris.id, "ppx-3", TODAY, "12:00", 60)
    bookings.create_booking(anna.id, "lov-1", TOMORROW, "10:00", 30)
    cards = board.cards()
    assert cards["ppx-3"].next_booking == "Бронь с 12:00" and cards["ppx-3"].booked_by_name == ""
    assert cards["lov-1"].next_booking == ""
    clock.freeze(NOW + timedelta(hours=2, minutes=5))  # 12:05
    cards = board.cards()
    assert cards["ppx-3"].booked_by_name == "Boris" and cards["ppx-3"].next_booking == "Бронь с 14:00"


def test_a_booking_made_during_a_session_shortens_it(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    work = sessions.take_slot(anna.id, "gpt-1")
    assert work.deadline_at == NOW + timedelta(hours=3)
    bookings.create_booking(boris.id, "gpt-1", TODAY, "12:00", 60)
    assert session_views.get_session(work.id).deadline_at == datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def test_concurrent_overlapping_bookings_yield_one_booking_and_clear_refusals(make_user, demo_slots, database):
    people = [make_user(f"booker{i}") for i in range(12)]
    starts = ["14:00", "14:30", "15:00", "14:00", "13:30", "14:30"] * 2
    wins, errors = _race(12, lambda i: bookings.create_booking(people[i].id, "hf-1", TOMORROW, starts[i], 60))
    # Every attempt overlaps 14:30–15:00 or its neighbours; the cells decide, with no double booking.
    booked = sorted((b.starts_at, b.ends_at) for b in wins)
    for (_, first_end), (second_start, _) in itertools.pairwise(booked):
        assert first_end <= second_start
    assert len(wins) + len(errors) == 12 and len(wins) >= 1
    assert all(isinstance(e, Conflict) and "Конфликт с бронью" in str(e) for e in errors)


def test_two_requests_for_the_same_time_give_one_booking(make_user, demo_slots, database):
    a, b = make_user("anna"), make_user("boris")
    people = [a, b]
    wins, errors = _race(2, lambda i: bookings.create_booking(people[i].id, "lov-1", TOMORROW, "10:00", 60))
    assert len(wins) == 1 and len(errors) == 1 and isinstance(errors[0], Conflict)


def test_one_person_cannot_book_two_slots_for_the_same_half_hour(make_user, demo_slots):
    anna = make_user("anna")
    first = bookings.create_booking(anna.id, "ppx-1", TOMORROW, "14:00", 60)
    with pytest.raises(
        Conflict, match=r"У вас уже есть бронь на это время: Perplexity Max #1 14:00–15:00\. Одновременно"
    ):
        bookings.create_booking(anna.id, "nbp", TOMORROW, "14:30", 60)
    # Touching ends do not overlap; a cancelled booking frees its time for another slot.
    bookings.create_booking(anna.id, "nbp", TOMORROW, "15:00", 30)
    bookings.cancel_booking(anna.id, first.id)
    assert bookings.create_booking(anna.id, "nbp", TOMORROW, "14:00", 60).slot_id == "nbp"


def test_with_two_seats_two_overlapping_bookings_are_allowed_and_a_third_is_not(make_user, demo_slots, monkeypatch):
    monkeypatch.setenv("VDI_MAX_DIRECT_SLOTS", "2")
    get_settings.cache_clear()
    anna = make_user("anna")
    bookings.create_booking(anna.id, "ppx-1", TOMORROW, "14:00", 120)
    bookings.create_booking(anna.id, "ppx-2", TOMORROW, "15:00", 60)
    with pytest.raises(Conflict, match="На это время у вас уже 2 брони: Perplexity Max #1 14:00–16:00, Perplexity"):
        bookings.create_booking(anna.id, "nbp", TOMORROW, "15:30", 30)
    # 14:00–15:00 has one lane left, whichever lane the earlier bookings took.
    bookings.create_booking(anna.id, "nbp", TOMORROW, "14:30", 30)


def test_a_finished_booking_frees_its_holders_time(make_user, demo_slots):
    anna = make_user("anna")
    bookings.create_booking(anna.id, "ppx-1", TODAY, "11:00", 60)
    clock.freeze(NOW + timedelta(hours=2))  # 12:05: the scheduler completes it
    with session_scope() as session:
        (booking,) = session.exec(select(Booking)).all()
        assert bookings.finish_booking(session, booking.id, "completed")
        assert session.exec(select(UserBookingCell)).all() == []


def test_concurrent_bookings_of_one_person_for_the_same_time_yield_one(make_user, demo_slots, database):
    anna = make_user("anna")
    slots = ["ppx-1", "ppx-2", "ppx-3", "nbp", "gpt-1", "hf-1"]
    wins, errors = _race(6, lambda i: bookings.create_booking(anna.id, slots[i], TOMORROW, "14:00", 60))
    assert len(wins) == 1 and len(errors) == 5
    assert all(isinstance(e, Conflict) and "У вас уже есть бронь на это время" in str(e) for e in errors)
    assert [b.slot_id for b in bookings.my_bookings(anna.id)] == [wins[0].slot_id]


def test_the_database_alone_refuses_the_overlap_when_the_check_is_skipped(make_user, demo_slots, database, monkeypatch):
    """As if every request read the lanes before any of them wrote: only the primary key decides."""
    monkeypatch.setattr(bookings, "_own_overlap", lambda session, user_id, cells, limit: [1] * len(cells))
    anna = make_user("anna")
    slots = ["ppx-1", "ppx-2", "ppx-3", "nbp"]
    wins, errors = _race(4, lambda i: bookings.create_booking(anna.id, slots[i], TOMORROW, "14:00", 60))
    assert len(wins) == 1 and len(errors) == 3
    assert all(isinstance(e, Conflict) for e in errors)
    with session_scope() as session:
        active = session.exec(select(Booking).where(Booking.status == "active")).all()
    assert [b.slot_id for b in active] == [wins[0].slot_id]
