"""Events sent by hand over the websocket, bypassing the UI, are checked on the server."""

from __future__ import annotations

from services import auth, board, session_views, sessions
from state.dashboard import DashboardState
from tests.reflex_client import RawClient


def test_forged_admin_force_release_from_a_regular_user_is_refused(live_app, account):
    holder, mallory = account("Олег"), account("Мэллори")
    holder_id = auth.login(holder.username, holder.password).user.id
    sessions.take_slot(holder_id, "gem-dt")
    client = RawClient(live_app.url)
    try:
        client.log_in(auth.login(mallory.username, mallory.password).token)
        client.send(f"{DashboardState.get_full_name()}.force_release", {"slot_id": "gem-dt"})
        client.wait_for("Только администратор может принудительно освободить слот")
    finally:
        client.close()
    still = session_views.my_session_on_slot(holder_id, "gem-dt")
    assert still.ended_at is None
    sessions.release_slot(holder_id, "gem-dt")


def test_events_without_a_valid_login_change_nothing(live_app, account):
    client = RawClient(live_app.url)
    try:
        client.log_in("not-a-real-token")
        client.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "ppx-3"})
        client.wait_for("/login")
    finally:
        client.close()
    cards = board.cards()
    assert not cards["ppx-3"].busy


def test_forged_admin_panel_events_from_a_regular_user_change_nothing(live_app, account):
    from services import auth as auth_service
    from state.admin import AdminState

    victim, mallory = account("Жертва"), account("Мэллори")
    victim_token = auth_service.login(victim.username, victim.password).token
    client = RawClient(live_app.url)
    try:
        client.log_in(auth_service.login(mallory.username, mallory.password).token)
        name = AdminState.get_full_name()
        client.send(f"{name}.set_active", {"username": victim.username, "active": False})
        client.send(f"{name}.set_admin", {"username": mallory.username, "value": True})
        client.send(f"{name}.reset_2fa", {"username": victim.username})
        client.send(f"{name}.force_release", {"slot_id": "ppx-1"})
        client.send(
            f"{name}.save_service",
            {"form": {"id": "evil-1", "service_name": "Evil", "category": "X", "monthly_cost": "1"}},
        )
        client.send(f"{name}.toggle_service", {"slot_id": "ppx-2", "active": False})
        client.wait_for("Только для администраторов")
    finally:
        client.close()
    assert auth_service.resolve_token(victim_token) is not None  # not deactivated
    assert auth_service.login(mallory.username, mallory.password).user.is_admin is False
    cards = board.cards()
    assert "evil-1" not in cards and "ppx-2" in cards


def test_forged_template_users_and_report_events_from_a_regular_user_change_nothing(live_app, account):
    from services import templates, users
    from state.admin import AdminState
    from state.templates import TemplatesState
    from state.usage import UsageState

    victim, mallory = account("Жертва"), account("Мэллори")
    mallory_id = auth.login(mallory.username, mallory.password).user.id
    demo = templates.list_templates(mallory_id)[0]
    client = RawClient(live_app.url)
    try:
        client.log_in(auth.login(mallory.username, mallory.password).token)
        t, a, u = TemplatesState.get_full_name(), AdminState.get_full_name(), UsageState.get_full_name()
        client.send(f"{t}.delete_template", {"template_id": demo.id})
        client.send(f"{t}.new_template", {})
        client.send(f"{a}.create_user", {"form": {"username": "backdoor", "name": "B", "is_admin": "on"}})
        client.send(f"{a}.reset_password", {"username": victim.username})
        client.send(f"{a}.save_rename", {"form": {"name": "Взломан"}})
        client.send(f"{u}.export_csv", {})
        client.wait_for("Только для администраторов")
        # Launching a template that does not exist is refused with a clear message too.
        client.send(f"{t}.launch", {"template_id": "999999"})
        client.wait_for("Шаблон не найден")
    finally:
        client.close()
    assert demo.id in {x.id for x in templates.list_templates(mallory_id)}
    assert all(x.username != "backdoor" for x in users.list_users())
    assert auth.login(victim.username, victim.password).user.name == "Жертва"
