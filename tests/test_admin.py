"""Admin operations refuse non-admins in the service layer too, and leave an audit trail."""

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlmodel import select

from services import auth, board, health, journal, session_views, sessions, slots, users
from services.core import clock, leases
from services.core.db import session_scope
from services.core.errors import Conflict, DomainError, Forbidden
from services.core.models import AuditEvent, Slot


def test_every_admin_operation_refuses_a_regular_user(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    sessions.take_slot(boris.id, "ppx-1")
    calls = [
        lambda: health.health(anna.id),
        lambda: users.user_rows(anna.id),
        lambda: journal.audit_rows(anna.id),
        lambda: users.set_user_active(anna.id, "boris", False),
        lambda: users.reset_user_2fa(anna.id, "boris"),
        lambda: users.set_user_admin(anna.id, "anna", True),
        lambda: health.room_action(anna.id, "ppx-1", "restart"),
        lambda: health.room_screenshot(anna.id, "ppx-1"),
        lambda: slots.slot_rows(anna.id),
        lambda: slots.save_slot(anna.id, {"id": "x-1", "service_name": "X"}, creating=True),
        lambda: slots.reveal_credentials(anna.id, "ppx-1"),
        lambda: slots.set_slot_active(anna.id, "ppx-1", False),
        lambda: users.create_account(anna.id, {"username": "evil", "name": "Evil", "is_admin": "on"}),
        lambda: users.reset_user_password(anna.id, "boris", "taken-over-1"),
        lambda: users.rename_user(anna.id, "boris", "Not Boris"),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert auth.login("boris", "correct-horse").user.is_admin is False
    assert session_views.my_session_on_slot(boris.id, "ppx-1").ended_at is None


def test_admin_sees_rooms_users_and_can_deactivate_with_an_audit_entry(make_user, demo_slots):
    boss, anna = make_user("boss", admin=True), make_user("anna")
    sessions.take_slot(anna.id, "nbp")
    overview = health.health(boss.id)
    row = next(r for r in overview.rooms if r.slot_id == "nbp")
    assert row.occupant == "Anna" and row.state == "demo"
    people = {u.username: u for u in users.user_rows(boss.id)}
    assert people["anna"].sessions_week == 1 and people["boss"].is_admin
    token = auth.login("anna", "correct-horse").token
    users.set_user_active(boss.id, "anna", False)
    assert auth.resolve_token(token) is None
    with pytest.raises(Forbidden, match="самого себя"):
        users.set_user_active(boss.id, "boss", False)
    with session_scope() as session:
        kinds = {e.kind for e in session.exec(select(AuditEvent)).all()}
    assert "user_deactivated" in kinds
    assert [(a.kind, a.label) for a in journal.audit_rows(boss.id, "user_deactivated")] == [
        ("user_deactivated", "Пользователь отключён")
    ]


def _form(**overrides) -> dict:
    base = {
        "id": "cl-1",
        "service_name": "Claude Max",
        "tier": "Max",
        "category": "Reasoning",
        "category_accent": "#8b5cf6",
        "monthly_cost": "200",
        "url": "https://claude.ai/",
        "login": "team@example.com",
        "password": "s3cret-subscription-pass",
        "renewal_date": "",
        "max_session_minutes": "120",
    }
    return {**base, **overrides}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"service_name": ""}, "Введите название"),
        ({"url": "ftp://x"}, "URL должен начинаться с http:// или https://"),
        ({"monthly_cost": "много"}, "Введите стоимость"),
        ({"id": "Bad ID!"}, "Введите ID слота"),
        ({"category_accent": "blue"}, "Цвет категории"),
        ({"max_session_minutes": "2"}, "от 5 до 1440"),
        ({"renewal_date": "2026-12-31"}, "Дата продления"),
        ({"renewal_date": "31.02.2026"}, "Дата продления"),
    ],
)
def test_slot_form_validation_speaks_russian(make_user, demo_slots, overrides, message):
    boss = make_user("boss", admin=True)
    with pytest.raises(DomainError, match=message):
        slots.save_slot(boss.id, _form(**overrides), creating=True)


def test_renewal_date_is_typed_and_shown_as_people_write_it(make_user, demo_slots):
    boss = make_user("boss", admin=True)
    row = slots.save_slot(boss.id, _form(renewal_date="31.12.2026"), creating=True)
    assert row.renewal == "31.12.2026"
    with session_scope() as session:
        assert session.get(Slot, "cl-1").renewal_date == date(2026, 12, 31)


def test_the_journal_and_the_health_tab_speak_russian(make_user, demo_slots):
    boss = make_user("boss", admin=True)
    with pytest.raises(DomainError):
        auth.login("boss", "wrong-password")
    assert journal.audit_rows(boss.id, "login_failed")[0].label == "Неудачный вход"
    assert [o.label for o in journal.audit_kinds(boss.id) if o.kind == "login_failed"] == ["Неудачный вход"]
    assert leases.acquire("scheduler", timedelta(seconds=60), holder="vm:10337")
    overview = health.health(boss.id)
    assert {r.state_label for r in overview.rooms} == {"демо-комната"}
    assert overview.scheduler == "работает"  # not where it runs: admins need to know it works


def test_subscription_credentials_are_encrypted_at_rest_and_viewing_is_audited(make_user, demo_slots):
    from services.core.settings import get_settings

    boss = make_user("boss", admin=True)
    row = slots.save_slot(boss.id, _form(), creating=True)
    assert row.category == "REASONING"  # joins the existing group instead of making a new one
    assert row.has_credentials and row.max_minutes == 120
    db_file = get_settings().data_dir / "vdi_taxi.db"
    raw = b"".join(p.read_bytes() for p in db_file.parent.glob("vdi_taxi.db*"))
    assert b"s3cret-subscription-pass" not in raw and b"team@example.com" not in raw
    assert slots.reveal_credentials(boss.id, "cl-1") == ("team@example.com", "s3cret-subscription-pass")
    with session_scope() as session:
        assert session.exec(select(AuditEvent).where(AuditEvent.kind == "credentials_viewed")).first()
    with pytest.raises(Conflict, match="Слот с ID 'cl-1' уже существует"):
        slots.save_slot(boss.id, _form(), creating=True)
    # Editing with blank credentials keeps them.
    slots.save_slot(boss.id, _form(login="", password="", service_name="Claude Max Team"), creating=False)
    assert slots.reveal_credentials(boss.id, "cl-1")[1] == "s3cret-subscription-pass"


def test_disabling_a_slot_in_use_asks_first_then_ends_the_session(make_user, demo_slots):
    boss, anna = make_user("boss", admin=True), make_user("anna")
    work = sessions.take_slot(anna.id, "nbp")
    with pytest.raises(slots.SlotBusy, match="В слоте идёт сессия: Anna"):
        slots.set_slot_active(boss.id, "nbp", False)
    assert session_views.get_session(work.id).ended_at is None
    slots.set_slot_active(boss.id, "nbp", False, end_running=True)
    assert session_views.get_session(work.id).end_reason == "admin_force"
    assert "nbp" not in board.cards()


def test_admin_creates_a_user_with_a_generated_password_and_resets_it(make_user, database):
    boss = make_user("boss", admin=True)
    row, password = users.create_account(boss.id, {"username": " Vera.K ", "name": " Вера  Котова ", "password": ""})
    assert (row.username, row.name, row.is_admin, row.is_active) == ("vera.k", "Вера Котова", False, True)
    assert len(password) >= 12
    token = auth.login("vera.k", password).token
    new_password = users.reset_user_password(boss.id, "vera.k")
    assert new_password != password
    assert auth.resolve_token(token) is None  # signed out everywhere
    assert auth.login("vera.k", new_password).user.name == "Вера Котова"
    users.reset_user_password(boss.id, "vera.k", "chosen-by-admin")
    assert auth.login("vera.k", "chosen-by-admin").user.username == "vera.k"
    users.rename_user(boss.id, "vera.k", "Вера Петрова")
    assert {u.username: u.name for u in users.user_rows(boss.id)}["vera.k"] == "Вера Петрова"
    with session_scope() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.subject == "vera.k")).all()
    kinds = [e.kind for e in events if e.kind != "login"]
    assert kinds == ["user_created", "password_reset", "password_reset", "user_renamed"]
    assert all(password not in e.detail and new_password not in e.detail for e in events)


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"username": "x", "name": "Икс"}, "Логин"),
        ({"username": "ok-name", "name": ""}, "Введите имя"),
        ({"username": "ok-name", "name": "Имя", "password": "short"}, "не короче 8"),
        ({"username": "boss", "name": "Второй"}, "уже существует"),
    ],
)
def test_invalid_new_users_are_refused(make_user, database, form, message):
    boss = make_user("boss", admin=True)
    with pytest.raises(DomainError, match=message):
        users.create_account(boss.id, form)
    assert [u.username for u in users.user_rows(boss.id)] == ["boss"]


def test_the_health_tab_says_when_its_figures_were_read(make_user, demo_slots):
    boss = make_user("boss", admin=True)
    clock.freeze(datetime(2026, 11, 25, 13, 4, 5, tzinfo=UTC))
    assert health.health(boss.id).checked_at == "16:04:05"  # Moscow time
