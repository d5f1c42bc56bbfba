"""Admin pages. Every handler checks, on the server, that the caller is an admin."""

from __future__ import annotations

import asyncio
import base64

import reflex as rx

from services import health, journal, sessions, slots, users
from services.core.errors import DomainError
from services.health import HostRow, RoomRow
from services.journal import AuditRow, KindOption
from services.slots import SlotRow
from services.users import UserRow
from state.auth import AuthState, UserInfo, admin_only, to_dashboard
from state.board import notify_board_changed

# The journal filter's "every kind" choice: a code, since kinds are codes and the label is the page's business.
ALL_KINDS = "*"


class AdminState(AuthState):
    docker: str = ""
    scheduler: str = ""
    outbox_pending: int = 0
    outbox_failed: int = 0
    health_checked: str = ""
    rooms: list[RoomRow] = []
    hosts: list[HostRow] = []
    host_names: list[str] = []
    people: list[UserRow] = []
    audit: list[AuditRow] = []
    audit_kinds: list[KindOption] = []
    audit_filter: str = ""
    screenshot_slot: str = ""
    screenshot_src: str = ""
    busy: str = ""
    services: list[SlotRow] = []
    form_open: bool = False
    form_creating: bool = False
    form: dict[str, str] = {}
    form_error: str = ""
    creds_slot: str = ""
    creds_login: str = ""
    creds_password: str = ""
    confirm_disable_slot: str = ""
    confirm_disable_text: str = ""
    user_form_open: bool = False
    user_form_error: str = ""
    rename_username: str = ""
    rename_name: str = ""
    rename_error: str = ""
    # A password to hand over, shown once after creating or resetting.
    issued_for: str = ""
    issued_password: str = ""

    def _reload(self, admin_id: int) -> None:
        h = health.health(admin_id)
        self.docker, self.scheduler = h.docker, h.scheduler
        self.outbox_pending, self.outbox_failed, self.rooms = h.outbox_pending, h.outbox_failed, h.rooms
        self.health_checked = h.checked_at
        self.hosts, self.host_names = h.hosts, [host.name for host in h.hosts]
        self.people = users.user_rows(admin_id)
        self.audit = journal.audit_rows(admin_id, self.audit_filter)
        self.audit_kinds = journal.audit_kinds(admin_id)
        self.services = slots.slot_rows(admin_id)

    # ------------------------------------------------------------ services tab

    @rx.event
    @admin_only
    def new_service(self, caller: UserInfo):
        self.form = {"category_accent": "#3b82f6", "monthly_cost": "0"}
        self.form_creating, self.form_error, self.form_open = True, "", True

    @rx.event
    @admin_only
    def edit_service(self, caller: UserInfo, slot_id: str):
        row = next((r for r in slots.slot_rows(caller.id) if r.id == str(slot_id)), None)
        if row is None:
            return rx.toast.error("Слот не найден")
        self.form = {
            "id": row.id,
            "service_name": row.service_name,
            "tier": row.tier,
            "category": row.category,
            "category_accent": row.accent,
            "monthly_cost": f"{row.monthly_cost:g}",
            "url": row.url,
            "renewal_date": row.renewal,
            "max_session_minutes": str(row.max_minutes or ""),
            "idle_minutes": str(row.idle_minutes or ""),
        }
        self.form_creating, self.form_error, self.form_open = False, "", True

    @rx.event
    def set_form_open(self, value: bool):
        self.form_open = bool(value)

    @rx.event
    @admin_only
    def save_service(self, caller: UserInfo, form: dict):
        data = {k: str(v)[:500] for k, v in dict(form).items()}
        if not self.form_creating:
            data["id"] = self.form.get("id", "")
        try:
            row = slots.save_slot(caller.id, data, creating=self.form_creating, client_ip=self._client_ip())
        except DomainError as exc:
            self.form_error = exc.message
            return None
        self.form_open = False
        self._reload(caller.id)
        notify_board_changed()
        return rx.toast.success("Сервис добавлен" if self.form_creating else "Сохранено", description=row.service_name)

    @rx.event
    @admin_only
    def show_credentials(self, caller: UserInfo, slot_id: str):
        try:
            self.creds_login, self.creds_password = slots.reveal_credentials(caller.id, str(slot_id), self._client_ip())
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self.creds_slot = str(slot_id)
        return None

    @rx.event
    def hide_credentials(self, _open: bool = False):
        self.creds_slot, self.creds_login, self.creds_password = "", "", ""

    @rx.event
    @admin_only
    def toggle_service(self, caller: UserInfo, slot_id: str, active: bool):
        try:
            slots.set_slot_active(caller.id, str(slot_id), bool(active), client_ip=self._client_ip())
        except slots.SlotBusy as exc:
            self.confirm_disable_slot, self.confirm_disable_text = str(slot_id), exc.message
            return None
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._reload(caller.id)
        notify_board_changed()
        return None

    @rx.event
    @admin_only
    def confirm_disable(self, caller: UserInfo):
        slot_id, self.confirm_disable_slot = self.confirm_disable_slot, ""
        try:
            slots.set_slot_active(caller.id, slot_id, False, end_running=True, client_ip=self._client_ip())
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._reload(caller.id)
        notify_board_changed()
        return rx.toast.success("Сессия завершена, слот отключён")

    @rx.event
    def cancel_disable(self, _open: bool = False):
        self.confirm_disable_slot = ""

    @rx.event
    @admin_only(otherwise=to_dashboard)
    def load(self, caller: UserInfo):
        self._reload(caller.id)

    @rx.event
    @admin_only
    def refresh(self, caller: UserInfo):
        self._reload(caller.id)

    @rx.event
    @admin_only
    def open_tab(self, caller: UserInfo, _tab: str):
        """Each tab shows fresh data when opened (the journal most of all)."""
        self._reload(caller.id)
        return None

    @rx.event
    @admin_only
    def set_audit_filter(self, caller: UserInfo, kind: str):
        kind = str(kind)[:40]
        if kind != ALL_KINDS and kind not in {o.kind for o in journal.audit_kinds(caller.id)}:
            return rx.toast.error("Неизвестный тип события")
        self.audit_filter = "" if kind == ALL_KINDS else kind
        self.audit = journal.audit_rows(caller.id, self.audit_filter)
        return None

    async def _room_job(self, caller: UserInfo, busy: str, job, *args: str):
        """Run a slow room operation off the event loop, showing `busy` meanwhile, then say how it went."""
        self.busy = busy
        yield
        try:
            message = await asyncio.to_thread(job, caller.id, *args, self._client_ip())
        except DomainError as exc:
            message = exc.message
        self.busy = ""
        self._reload(caller.id)
        notify_board_changed()
        yield rx.toast(message)

    @rx.event
    @admin_only
    async def room_action(self, caller: UserInfo, slot_id: str, action: str):
        async for step in self._room_job(caller, f"{slot_id}:{action}", health.room_action, str(slot_id), str(action)):
            yield step

    @rx.event
    @admin_only
    async def move_room(self, caller: UserInfo, slot_id: str, host: str):
        """Carry the room, with its browser profile, to another Docker host (takes a while)."""
        async for step in self._room_job(caller, f"{slot_id}:move", health.move_room, str(slot_id), str(host)):
            yield step

    @rx.event
    @admin_only
    def force_release(self, caller: UserInfo, slot_id: str):
        try:
            ended = sessions.force_release(caller.id, str(slot_id), self._client_ip())
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._reload(caller.id)
        notify_board_changed()
        return rx.toast.success("Слот освобождён", description=f"{ended.service_name}: сессия {ended.user_name}")

    @rx.event
    @admin_only
    async def screenshot(self, caller: UserInfo, slot_id: str):
        image = await asyncio.to_thread(health.room_screenshot, caller.id, str(slot_id))
        if image is None:
            yield rx.toast.error("Скриншот недоступен", description="Демо-комната или комната не отвечает")
            return
        self.screenshot_slot = str(slot_id)
        self.screenshot_src = "data:image/jpeg;base64," + base64.b64encode(image).decode()

    @rx.event
    def close_screenshot(self, _open: bool = False):
        self.screenshot_src = ""

    @rx.event
    @admin_only
    def set_active(self, caller: UserInfo, username: str, active: bool):
        return self._user_change(
            caller,
            lambda admin_id: users.set_user_active(admin_id, str(username), bool(active)),
            "Пользователь включён" if active else "Пользователь отключён, его входы отозваны",
        )

    @rx.event
    @admin_only
    def reset_2fa(self, caller: UserInfo, username: str):
        return self._user_change(
            caller,
            lambda admin_id: users.reset_user_2fa(admin_id, str(username)),
            "2FA сброшена: пользователь подключит её при следующем входе",
        )

    @rx.event
    @admin_only
    def set_admin(self, caller: UserInfo, username: str, value: bool):
        return self._user_change(
            caller, lambda admin_id: users.set_user_admin(admin_id, str(username), bool(value)), "Права обновлены"
        )

    def _user_change(self, caller: UserInfo, change, message: str):
        try:
            change(caller.id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._reload(caller.id)
        return rx.toast.success(message)

    # ------------------------------------------------------------------ users tab

    @rx.event
    @admin_only
    def new_user(self, caller: UserInfo):
        self.user_form_error, self.user_form_open = "", True
        return None

    @rx.event
    def set_user_form_open(self, value: bool):
        self.user_form_open = bool(value)

    @rx.event
    @admin_only
    def create_user(self, caller: UserInfo, form: dict):
        data = {k: str(v)[:200] for k, v in dict(form).items() if k in {"username", "name", "password", "is_admin"}}
        try:
            row, password = users.create_account(caller.id, data)
        except DomainError as exc:
            self.user_form_error = exc.message
            return None
        self.user_form_open = False
        self._reload(caller.id)
        if not data.get("password"):
            self.issued_for, self.issued_password = row.username, password
        return rx.toast.success("Пользователь создан", description=f"{row.name} ({row.username})")

    @rx.event
    @admin_only
    def reset_password(self, caller: UserInfo, username: str):
        try:
            password = users.reset_user_password(caller.id, str(username)[:64])
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._reload(caller.id)
        self.issued_for, self.issued_password = str(username)[:64], password
        return None

    @rx.event
    def close_issued(self, _open: bool = False):
        self.issued_for, self.issued_password = "", ""

    @rx.event
    @admin_only
    def start_rename(self, caller: UserInfo, username: str):
        row = next((u for u in self.people if u.username == str(username)), None)
        if row is None:
            return rx.toast.error("Пользователь не найден")
        self.rename_username, self.rename_name, self.rename_error = row.username, row.name, ""
        return None

    @rx.event
    def cancel_rename(self, _open: bool = False):
        self.rename_username = ""

    @rx.event
    @admin_only
    def save_rename(self, caller: UserInfo, form: dict):
        try:
            users.rename_user(caller.id, self.rename_username, str(form.get("name", ""))[:200])
        except DomainError as exc:
            self.rename_error = exc.message
            return None
        self.rename_username = ""
        self._reload(caller.id)
        return rx.toast.success("Имя изменено")
