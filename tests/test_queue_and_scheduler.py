"""The fair queue and the scheduler that enforces time, with frozen time."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import select

from services import board, bookings, queue, scheduler, session_views, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.errors import Conflict, DomainError
from services.core.models import Booking, Notification

NOW = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)  # 10:05 Moscow
TODAY = "2026-11-25"


@pytest.fixture(autouse=True)
def _frozen():
    clock.freeze(NOW)
    yield


def _at(minutes: float) -> datetime:
    at = NOW + timedelta(minutes=minutes)
    clock.freeze(at)
    return at


def _card(slot_id: str):
    return board.cards()[slot_id]


def _notes(user_id: int, kind: str) -> list[Notification]:
    with session_scope() as session:
        return list(
            session.exec(select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)).all()
        )


def test_queue_positions_are_kept_and_joining_twice_keeps_your_place(make_user, demo_slots):
    anna, boris, vera, gleb = (make_user(n) for n in ("anna", "boris", "vera", "gleb"))
    sessions.take_slot(anna.id, "ppx-1")
    assert queue.join_queue(boris.id, "ppx-1") == 1
    assert queue.join_queue(vera.id, "ppx-1") == 2
    assert queue.join_queue(boris.id, "ppx-1") == 1
    assert queue.join_queue(gleb.id, "ppx-1") == 3
    queue.leave_queue(boris.id, "ppx-1")
    card = _card("ppx-1")
    assert card.queue_size == 2 and card.queue_positions == {str(vera.id): 1, str(gleb.id): 2}
    with pytest.raises(DomainError, match="Вы уже работаете в этом слоте"):
        queue.join_queue(anna.id, "ppx-1")
    with pytest.raises(DomainError, match="Слот свободен"):
        queue.join_queue(boris.id, "ppx-2")


def test_release_offers_the_slot_to_the_first_in_line_only(make_user, demo_slots):
    anna, boris, vera = make_user("anna"), make_user("boris"), make_user("vera")
    sessions.take_slot(anna.id, "ppx-1")
    queue.join_queue(boris.id, "ppx-1")
    queue.join_queue(vera.id, "ppx-1")
    sessions.release_slot(anna.id, "ppx-1")
    card = _card("ppx-1")
    assert card.offered_to_name == "Boris" and card.offer_expires_ms == int(
        (NOW + timedelta(minutes=5)).timestamp() * 1000
    )
    with pytest.raises(Conflict, match="Слот предложен следующему в очереди"):
        sessions.take_slot(vera.id, "ppx-1")
    assert _notes(boris.id, "queue_offer")[0].text.startswith("🟢 Слот освободился!")
    sessions.take_slot(boris.id, "ppx-1")
    assert _card("ppx-1").queue_positions == {str(vera.id): 1}


def test_an_unclaimed_offer_passes_to_the_next_then_to_everyone(make_user, demo_slots):
    anna, boris, vera, gleb = (make_user(n) for n in ("anna", "boris", "vera", "gleb"))
    sessions.take_slot(anna.id, "ppx-1")
    queue.join_queue(boris.id, "ppx-1")
    queue.join_queue(vera.id, "ppx-1")
    sessions.release_slot(anna.id, "ppx-1")
    scheduler.run_due(_at(5.1))
    assert _card("ppx-1").offered_to_name == "Vera"
    scheduler.run_due(_at(10.2))
    card = _card("ppx-1")
    assert card.offered_to_id == 0 and card.queue_size == 0
    assert sessions.take_slot(gleb.id, "ppx-1").user_id == gleb.id


def test_no_show_releases_the_booking_after_the_check_in_window(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    b = bookings.create_booking(anna.id, "nbp", TODAY, "10:30", 60)
    scheduler.run_due(_at(25 + 14))  # 10:44: still Anna's
    with pytest.raises(Conflict, match="забронирован"):
        sessions.take_slot(boris.id, "nbp")
    done = scheduler.run_due(_at(25 + 15))  # 10:45
    assert done["no_show"] == 1
    with session_scope() as session:
        assert session.get(Booking, b.id).status == "expired"
    assert _notes(anna.id, "no_show")
    assert sessions.take_slot(boris.id, "nbp").user_id == boris.id


def test_a_no_show_goes_to_the_queue_first(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    bookings.create_booking(anna.id, "nbp", TODAY, "10:30", 30)
    _at(26)
    queue.join_queue(boris.id, "nbp")  # booked now, so queueing is allowed
    scheduler.run_due(_at(40))
    assert _card("nbp").offered_to_name == "Boris"


def test_the_holder_taking_the_slot_checks_in_and_the_booking_completes(make_user, demo_slots):
    anna = make_user("anna")
    b = bookings.create_booking(anna.id, "nbp", TODAY, "10:30", 30)
    _at(27)
    sessions.take_slot(anna.id, "nbp")
    assert scheduler.run_due(_at(45))["no_show"] == 0
    assert scheduler.run_due(_at(56))["completed"] == 1
    with session_scope() as session:
        assert session.get(Booking, b.id).status == "completed"


def test_session_limit_warns_then_ends_with_timeout(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-3")
    assert scheduler.run_due(_at(174))["warned"] == 0
    assert scheduler.run_due(_at(175))["warned"] == 1
    assert scheduler.run_due(_at(176))["warned"] == 0  # once
    assert _notes(anna.id, "session_ending")[0].text.startswith("⏳ Сессия скоро закончится")
    assert scheduler.run_due(_at(180))["ended_timeout"] == 1
    assert session_views.get_session(work.id).end_reason == "timeout"


def test_a_session_in_the_way_of_a_booking_ends_when_the_booking_starts(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    work = sessions.take_slot(anna.id, "gpt-1")
    bookings.create_booking(boris.id, "gpt-1", TODAY, "11:00", 60)
    assert scheduler.run_due(_at(50))["warned"] == 1  # 10:55
    assert scheduler.run_due(_at(55))["ended_booking"] == 1  # 11:00
    assert session_views.get_session(work.id).end_reason == "booking"
    assert sessions.take_slot(boris.id, "gpt-1").user_id == boris.id


def test_extension_once_only_when_nobody_waits(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    work = sessions.take_slot(anna.id, "ppx-3")
    extended = sessions.extend_session(anna.id, "ppx-3")
    assert extended.deadline_at == work.deadline_at + timedelta(hours=3)
    with pytest.raises(DomainError, match="только один раз"):
        sessions.extend_session(anna.id, "ppx-3")
    work2 = sessions.take_slot(boris.id, "ppx-2")
    queue.join_queue(anna.id, "ppx-2")
    with pytest.raises(DomainError, match="ждут в очереди"):
        sessions.extend_session(boris.id, "ppx-2")
    assert session_views.get_session(work2.id).extended is False


def test_reminder_five_minutes_before_a_booking_is_sent_once(make_user, demo_slots):
    anna = make_user("anna")
    bookings.create_booking(anna.id, "nbp", TODAY, "11:00", 30)
    assert scheduler.run_due(_at(49))["reminded"] == 0
    assert scheduler.run_due(_at(50))["reminded"] == 1
    assert scheduler.run_due(_at(51))["reminded"] == 0
    assert "⏰ Напоминание о бронировании" in _notes(anna.id, "booking_reminder")[0].text


def test_work_due_while_the_app_was_down_is_done_on_start_in_order(make_user, demo_slots):
    anna, boris, vera = make_user("anna"), make_user("boris"), make_user("vera")
    bookings.create_booking(anna.id, "nbp", TODAY, "10:30", 30)  # will be a no-show
    work = sessions.take_slot(boris.id, "ppx-1")  # will time out
    queue.join_queue(vera.id, "ppx-1")
    # The app is "down" for five hours; the first tick after start catches up.
    done = scheduler.run_due(_at(300))
    assert done["no_show"] == 1 and done["ended_timeout"] == 1
    assert session_views.get_session(work.id).end_reason == "timeout"
    assert _card("ppx-1").offered_to_name == "Vera"
    assert scheduler.run_due(_at(300)) == {}  # nothing left to do, nothing done twice


def test_two_schedulers_do_each_job_once(make_user, demo_slots):
    anna = make_user("anna")
    for hour in ("11:00", "11:30"):
        bookings.create_booking(anna.id, "nbp" if hour == "11:00" else "gpt-1", TODAY, hour, 30)
    _at(52)
    results: list = []
    barrier = threading.Barrier(2)

    def beat(name: str) -> None:
        barrier.wait()
        results.append(scheduler.tick(holder=name))

    threads = [threading.Thread(target=beat, args=(n,)) for n in ("worker-a", "worker-b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(r is None for r in results) == [False, True]  # exactly one ran
    assert len(_notes(anna.id, "booking_reminder")) == 1
    # Even without the lease, a second run does no harm.
    scheduler.run_due()
    assert len(_notes(anna.id, "booking_reminder")) == 1
