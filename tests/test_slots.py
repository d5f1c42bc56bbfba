"""Taking and releasing slots: the rules and the races, decided by the database."""

from __future__ import annotations

import threading

import pytest

from services import board, runtime, session_views, sessions, slots
from services.core.db import session_scope
from services.core.errors import Conflict, DomainError, Forbidden, NotFound
from services.core.models import Slot
from services.rooms.demo import open_demo_room


def _token(url: str) -> str:
    return url.split("token=", 1)[1]


def test_taking_a_free_slot_starts_a_session_with_a_room_url(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    assert work.slot_id == "ppx-1" and work.ended_at is None
    assert work.access_url.startswith("/room/demo/ppx-1?token=")
    card = board.cards()["ppx-1"]
    assert card.busy and card.occupant_name == "Anna"


def test_second_taker_of_a_busy_slot_is_refused_with_the_occupants_name(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    sessions.take_slot(anna.id, "ppx-1")
    with pytest.raises(Conflict, match="Слот уже занят пользователем Anna"):
        sessions.take_slot(boris.id, "ppx-1")


def test_taking_your_own_slot_again_returns_the_same_session(make_user, demo_slots):
    anna = make_user("anna")
    first = sessions.take_slot(anna.id, "ppx-1")
    assert sessions.take_slot(anna.id, "ppx-1").id == first.id


def test_a_user_holds_one_slot_at_a_time_by_default(make_user, demo_slots):
    anna = make_user("anna")
    sessions.take_slot(anna.id, "ppx-1")
    with pytest.raises(Conflict, match=r"Вы уже занимаете слот Perplexity Max #1\. Освободите его"):
        sessions.take_slot(anna.id, "ppx-2")


def test_the_per_user_limit_is_configurable(make_user, demo_slots, monkeypatch):
    monkeypatch.setenv("VDI_MAX_DIRECT_SLOTS", "2")
    runtime.reset()
    anna = make_user("anna")
    sessions.take_slot(anna.id, "ppx-1")
    sessions.take_slot(anna.id, "ppx-2")
    with pytest.raises(Conflict, match="не больше 2 слотов"):
        sessions.take_slot(anna.id, "ppx-3")


def test_inactive_unknown_and_malformed_slots_are_refused(make_user, demo_slots):
    anna = make_user("anna")
    with session_scope() as session:
        slot = session.get(Slot, "lov-1")
        slot.is_active = False
        session.add(slot)
    with pytest.raises(DomainError, match="отключён"):
        sessions.take_slot(anna.id, "lov-1")
    with pytest.raises(NotFound):
        sessions.take_slot(anna.id, "no-such-slot")
    with pytest.raises(NotFound):
        sessions.take_slot(anna.id, "../../etc/passwd")


def test_release_ends_the_session_frees_the_slot_and_kills_the_room_url(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    work = sessions.take_slot(anna.id, "ppx-1")
    assert open_demo_room("ppx-1", _token(work.access_url)) is not None
    ended = sessions.release_slot(anna.id, "ppx-1")
    assert ended.end_reason == "manual" and ended.ended_at is not None
    assert open_demo_room("ppx-1", _token(work.access_url)) is None
    assert sessions.take_slot(boris.id, "ppx-1").user_id == boris.id


def test_only_the_holder_can_release(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    sessions.take_slot(anna.id, "ppx-1")
    with pytest.raises(NotFound, match="Нет активной сессии"):
        sessions.release_slot(boris.id, "ppx-1")


def test_admin_force_release_ends_someone_elses_session(make_user, demo_slots):
    anna, boss = make_user("anna"), make_user("boss", admin=True)
    work = sessions.take_slot(anna.id, "ppx-1")
    ended = sessions.force_release(boss.id, "ppx-1")
    assert ended.id == work.id and ended.end_reason == "admin_force"
    assert open_demo_room("ppx-1", _token(work.access_url)) is None


def test_regular_user_cannot_force_release(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    sessions.take_slot(anna.id, "ppx-1")
    with pytest.raises(Forbidden, match="Только администратор"):
        sessions.force_release(boris.id, "ppx-1")
    assert session_views.my_session_on_slot(anna.id, "ppx-1").ended_at is None


def test_room_url_of_one_slot_does_not_open_another(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    assert open_demo_room("ppx-2", _token(work.access_url)) is None


def test_session_summary_is_visible_to_owner_and_admins_only(make_user, demo_slots):
    anna, boris, boss = make_user("anna"), make_user("boris"), make_user("boss", admin=True)
    work = sessions.take_slot(anna.id, "ppx-1")
    sessions.release_slot(anna.id, "ppx-1")
    assert session_views.session_for_viewer(work.id, anna.id, False).id == work.id
    assert session_views.session_for_viewer(work.id, boss.id, True).id == work.id
    with pytest.raises(Forbidden):
        session_views.session_for_viewer(work.id, boris.id, False)


def test_favourites_toggle_and_persist(make_user, demo_slots):
    anna = make_user("anna")
    assert slots.toggle_favourite(anna.id, "nbp") is True
    assert slots.favourites_of(anna.id) == ["nbp"]
    assert slots.toggle_favourite(anna.id, "nbp") is False
    assert slots.favourites_of(anna.id) == []
    with pytest.raises(NotFound):
        slots.toggle_favourite(anna.id, "nope")


def _race(n: int, target) -> tuple[list, list[Exception]]:
    barrier = threading.Barrier(n)
    wins, errors, lock = [], [], threading.Lock()

    def run(i: int) -> None:
        barrier.wait()
        try:
            result = target(i)
        except Exception as exc:  # collected and asserted below
            with lock:
                errors.append(exc)
        else:
            with lock:
                wins.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return wins, errors


def test_twenty_concurrent_takers_of_one_slot_yield_one_winner(make_user, demo_slots, database):
    people = [make_user(f"racer{i}") for i in range(20)]
    wins, errors = _race(20, lambda i: sessions.take_slot(people[i].id, "gpt-1"))
    assert len(wins) == 1
    assert len(errors) == 19
    winner = wins[0].user_name
    assert all(isinstance(e, Conflict) and str(e) == f"Слот уже занят пользователем {winner}" for e in errors)
    cards = board.cards()
    assert cards["gpt-1"].occupant_name == winner


def test_one_user_racing_for_many_slots_gets_only_one(make_user, demo_slots, database):
    anna = make_user("anna")
    wins, errors = _race(10, lambda i: sessions.take_slot(anna.id, demo_slots[i]))
    assert len(wins) == 1 and len(errors) == 9
    assert all(isinstance(e, Conflict) and "Вы уже занимаете слот" in str(e) for e in errors)
    assert len(session_views.active_sessions_of(anna.id)) == 1
