"""Admin operations refuse non-admins in the service layer too, and leave an audit trail."""

import pytest
from sqlmodel import select

from services import admin, auth, slots
from services.db import session_scope
from services.errors import Forbidden
from services.models import AuditEvent


def test_every_admin_operation_refuses_a_regular_user(make_user, demo_slots):
    anna, boris = make_user("anna"), make_user("boris")
    slots.take_slot(boris.id, "ppx-1")
    calls = [
        lambda: admin.health(anna.id),
        lambda: admin.user_rows(anna.id),
        lambda: admin.audit_rows(anna.id),
        lambda: admin.set_user_active(anna.id, "boris", False),
        lambda: admin.reset_user_2fa(anna.id, "boris"),
        lambda: admin.set_user_admin(anna.id, "anna", True),
        lambda: admin.room_action(anna.id, "ppx-1", "restart"),
        lambda: admin.room_screenshot(anna.id, "ppx-1"),
    ]
    for call in calls:
        with pytest.raises(Forbidden):
            call()
    assert auth.login("boris", "correct-horse").user.is_admin is False
    assert slots.my_session_on_slot(boris.id, "ppx-1").ended_at is None


def test_admin_sees_rooms_users_and_can_deactivate_with_an_audit_entry(make_user, demo_slots):
    boss, anna = make_user("boss", admin=True), make_user("anna")
    slots.take_slot(anna.id, "nbp")
    health = admin.health(boss.id)
    row = next(r for r in health.rooms if r.slot_id == "nbp")
    assert row.occupant == "Anna" and row.state == "demo"
    people = {u.username: u for u in admin.user_rows(boss.id)}
    assert people["anna"].sessions_week == 1 and people["boss"].is_admin
    token = auth.login("anna", "correct-horse").token
    admin.set_user_active(boss.id, "anna", False)
    assert auth.resolve_token(token) is None
    with pytest.raises(Forbidden, match="самого себя"):
        admin.set_user_active(boss.id, "boss", False)
    with session_scope() as session:
        kinds = {e.kind for e in session.exec(select(AuditEvent)).all()}
    assert "user_deactivated" in kinds
    assert [a.kind for a in admin.audit_rows(boss.id, "user_deactivated")] == ["user_deactivated"]
