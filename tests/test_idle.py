"""Idle release: an unattended slot is warned about, then freed; anyone still there keeps it."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient

from services import auth, board, health, idle, queue, runtime, scheduler, session_views, sessions, slots
from services.core import clock
from services.core.db import session_scope
from services.core.errors import DomainError, NotFound
from services.core.models import Dump, Notification, Slot, SlotSession, User
from services.core.settings import SettingsError, load_settings
from services.rooms.demo import demo_room_heartbeat
from vdi_taxi.http_routes import ROUTES

NOW = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)  # 10:05 Moscow
IDLE_REASON = "Слот простаивал: вас не было ни в комнате, ни на портале"


@pytest.fixture(autouse=True)
def _frozen():
    clock.freeze(NOW)
    yield


def _at(minutes: float) -> datetime:
    at = NOW + timedelta(minutes=minutes)
    clock.freeze(at)
    return at


def _notes(user_id: int, kind: str) -> list[Notification]:
    with session_scope() as session:
        return list(
            session.exec(select(Notification).where(Notification.user_id == user_id, Notification.kind == kind)).all()
        )


def _room_token(info) -> str:
    return parse_qs(urlparse(info.access_url).query)["token"][0]


def test_an_unattended_session_is_warned_then_released_as_idle_and_the_queue_moves_on(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    work = sessions.take_slot(anna.id, "ppx-1")
    queue.join_queue(boris.id, "ppx-1")
    assert scheduler.run_due(_at(14))["idle_warned"] == 0
    assert scheduler.run_due(_at(15))["idle_warned"] == 1
    # Warned once, by Telegram and on the session page, with the moment of release.
    assert scheduler.run_due(_at(15))["idle_warned"] == 0
    assert scheduler.run_due(_at(16))["idle_warned"] == 0
    [note] = _notes(anna.id, "idle_warning")
    assert note.text.startswith("💤 Слот простаивает") and "освободится в 10:25" in note.text
    card = board.cards()["ppx-1"]
    assert card.idle_release_ms == int((NOW + timedelta(minutes=20)).timestamp() * 1000)
    assert session_views.get_session(work.id).ended_at is None
    assert scheduler.run_due(_at(19.9))["ended_idle"] == 0
    done = scheduler.run_due(_at(20))
    assert done["ended_idle"] == 1
    ended = session_views.get_session(work.id)
    assert ended.end_reason == "idle" and ended.end_reason_label == IDLE_REASON
    # The dump is collected as for any ending, and its Telegram summary says why the session ended.
    with session_scope() as session:
        assert session.get(Dump, work.id).status == "ready"
    [summary] = _notes(anna.id, "dump")
    assert f"Причина: {IDLE_REASON}" in summary.text
    assert session_views.history_of(anna.id)[0].reason == IDLE_REASON
    # The queue moves on: the slot is offered to Boris, and nothing happens twice.
    assert board.cards()["ppx-1"].offered_to_name == "Boris"
    assert scheduler.run_due(_at(21))["ended_idle"] == 0
    assert len(_notes(anna.id, "idle_warning")) == 1


def test_opening_a_portal_tab_during_the_grace_period_cancels_the_release(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-2")
    assert scheduler.run_due(_at(15))["idle_warned"] == 1
    _at(17)
    assert idle.record_portal(anna.id)  # a portal tab reports in
    assert board.cards()["ppx-2"].idle_release_ms == 0  # the banner goes at once
    assert scheduler.run_due(_at(20))["ended_idle"] == 0
    assert scheduler.run_due(_at(25))["ended_idle"] == 0
    assert session_views.get_session(work.id).ended_at is None
    # Walking away again starts a new idle period, with a new warning.
    assert scheduler.run_due(_at(31))["idle_warned"] == 0
    assert scheduler.run_due(_at(32))["idle_warned"] == 1
    assert len(_notes(anna.id, "idle_warning")) == 2


def test_reconnecting_to_the_room_during_the_grace_period_cancels_the_release(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-3")
    assert scheduler.run_due(_at(15))["idle_warned"] == 1
    _at(18)
    assert demo_room_heartbeat("ppx-3", _room_token(work))  # the room page is open again
    assert scheduler.run_due(_at(18))["idle_cancelled"] == 1
    assert board.cards()["ppx-3"].idle_release_ms == 0
    assert scheduler.run_due(_at(20))["ended_idle"] == 0
    assert session_views.get_session(work.id).ended_at is None


def test_i_am_here_calls_off_the_release_and_only_the_holder_can_press_it(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    work = sessions.take_slot(anna.id, "nbp")
    scheduler.run_due(_at(15))
    with pytest.raises(NotFound):
        idle.still_here(boris.id, "nbp")
    with pytest.raises(DomainError):
        idle.still_here(anna.id, "../nbp")
    assert board.cards()["nbp"].idle_release_ms > 0
    idle.still_here(anna.id, "nbp")
    assert board.cards()["nbp"].idle_release_ms == 0
    assert scheduler.run_due(_at(20))["ended_idle"] == 0
    assert session_views.get_session(work.id).ended_at is None


def test_a_holder_in_the_room_without_a_portal_tab_is_never_released(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "gpt-1")
    token = _room_token(work)
    for minute in range(1, 61):
        _at(minute)
        assert demo_room_heartbeat("gpt-1", token)
        done = scheduler.run_due()
        assert done["idle_warned"] == 0 and done["ended_idle"] == 0
    assert session_views.get_session(work.id).ended_at is None
    assert _notes(anna.id, "idle_warning") == []


def test_a_holder_with_a_portal_tab_but_not_in_the_room_is_never_released(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "gpt-1")
    for minute in range(1, 61):
        _at(minute)
        idle.record_portal(anna.id)
        done = scheduler.run_due()
        assert done["idle_warned"] == 0 and done["ended_idle"] == 0
    assert session_views.get_session(work.id).ended_at is None


def test_a_closed_room_counts_as_idle_from_its_last_heartbeat(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    _at(10)
    demo_room_heartbeat("ppx-1", _room_token(work))  # last seen at 10:15, then the laptop closes
    assert scheduler.run_due(_at(24))["idle_warned"] == 0
    assert scheduler.run_due(_at(25))["idle_warned"] == 1


def test_a_slot_can_have_its_own_idle_limit_and_the_form_checks_it(make_user, demo_slots):
    admin, anna = make_user("boss", admin=True), make_user("anna")
    row = next(r for r in slots.slot_rows(admin.id) if r.id == "ppx-1")
    form = {
        "id": "ppx-1",
        "service_name": row.service_name,
        "category": row.category,
        "category_accent": row.accent,
        "monthly_cost": "200",
    }
    with pytest.raises(DomainError, match="Простой"):
        slots.save_slot(admin.id, {**form, "idle_minutes": "0"}, creating=False)
    with pytest.raises(DomainError, match="Простой"):
        slots.save_slot(admin.id, {**form, "idle_minutes": "пять"}, creating=False)
    assert slots.save_slot(admin.id, {**form, "idle_minutes": "5"}, creating=False).idle_minutes == 5
    sessions.take_slot(anna.id, "ppx-1")
    assert scheduler.run_due(_at(4))["idle_warned"] == 0
    assert scheduler.run_due(_at(5))["idle_warned"] == 1
    # Back to the default: blank.
    assert slots.save_slot(admin.id, {**form, "idle_minutes": ""}, creating=False).idle_minutes == 0
    with session_scope() as session:
        assert session.get(Slot, "ppx-1").idle_minutes is None


def test_idle_release_is_off_when_the_limit_is_zero(make_user, demo_slots, monkeypatch):
    monkeypatch.setenv("VDI_IDLE_MINUTES", "0")
    runtime.reset()
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    done = scheduler.run_due(_at(300))
    assert done["idle_warned"] == 0 and done["ended_idle"] == 0
    assert session_views.get_session(work.id).end_reason == "timeout"


def test_admins_see_how_long_each_session_has_been_unattended(make_user, demo_slots):
    admin, anna = make_user("boss", admin=True), make_user("anna")
    sessions.take_slot(anna.id, "ppx-1")
    rows = {r.slot_id: r for r in health.health(admin.id).rooms}
    assert rows["ppx-1"].idle == "активна" and rows["ppx-2"].idle == ""
    scheduler.run_due(_at(16))
    rows = {r.slot_id: r for r in health.health(admin.id).rooms}
    assert rows["ppx-1"].idle == "простой 16 мин · освобождение в 10:26"


def test_portal_heartbeats_need_a_login_and_are_written_at_most_every_few_seconds(make_user, demo_slots):
    anna = make_user("anna")
    token = auth.login("anna", "correct-horse").token
    client = TestClient(Starlette(routes=ROUTES))
    assert client.post("/api/presence").status_code == 403
    client.cookies.set("vdi_token", "forged")
    assert client.post("/api/presence").status_code == 403
    client.cookies.set("vdi_token", token)
    reply = client.post("/api/presence")
    assert reply.status_code == 200 and reply.json() == {"ok": True, "every": 60}

    def seen() -> datetime | None:
        with session_scope() as session:
            return session.get(User, anna.id).portal_seen_at

    assert seen() == NOW
    _at(0.1)
    assert idle.record_portal(anna.id) is False  # six seconds later: nothing written
    assert seen() == NOW
    _at(1)
    assert client.post("/api/presence").status_code == 200
    assert seen() == NOW + timedelta(minutes=1)


def test_a_demo_room_heartbeat_needs_the_rooms_own_live_token(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    token = _room_token(work)
    client = TestClient(Starlette(routes=ROUTES))
    assert client.post(f"/room/demo/ppx-2/presence?token={token}").status_code == 403
    assert client.post("/room/demo/ppx-1/presence?token=guess").status_code == 403
    assert client.post(f"/room/demo/ppx-1/presence?token={token}").json()["ok"] is True
    sessions.release_slot(anna.id, "ppx-1")
    assert client.post(f"/room/demo/ppx-1/presence?token={token}").status_code == 403


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_two_schedulers_running_at_once_warn_once_and_release_once(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")

    def both(at: float) -> Counter:
        _at(at)
        barrier = threading.Barrier(2)
        results: list[Counter] = []

        def beat() -> None:
            barrier.wait()
            results.append(scheduler.run_due())  # no lease: both really run

        threads = [threading.Thread(target=beat) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return sum(results, Counter())

    assert both(15)["idle_warned"] == 1
    assert both(20)["ended_idle"] == 1
    assert len(_notes(anna.id, "idle_warning")) == 1
    assert session_views.get_session(work.id).end_reason == "idle"
    assert len(_notes(anna.id, "dump")) == 1


def test_coming_back_just_before_the_release_runs_keeps_the_slot(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    scheduler.run_due(_at(15))
    _at(20)
    with session_scope() as session:
        warned_at = session.get(SlotSession, work.id).idle_warned_at
    idle.still_here(anna.id, "ppx-1")  # lands after the scheduler read the warning, before it ended the session
    assert not sessions.end_session(work.id, "idle", only_if=(SlotSession.idle_warned_at == warned_at,))
    assert session_views.get_session(work.id).ended_at is None


@pytest.mark.parametrize(
    ("name", "value"), [("IDLE_MINUTES", "-1"), ("IDLE_GRACE_MINUTES", "0"), ("PRESENCE_SECONDS", "1")]
)
def test_the_app_refuses_to_start_with_a_nonsensical_idle_setting(monkeypatch, name, value):
    monkeypatch.setenv(f"VDI_{name}", value)
    with pytest.raises(SettingsError, match=f"VDI_{name}"):
        load_settings()
