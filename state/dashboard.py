"""Dashboard: favourites, taking a slot, admin force-release."""

from __future__ import annotations

import asyncio

import reflex as rx

from services import sessions, slots
from services.core import access
from services.core.errors import DomainError
from state.auth import AuthState
from state.board import notify_board_changed
from vdi_taxi import routes


class DashboardState(AuthState):
    favourites: list[str] = []
    taking: str = ""

    @rx.event
    def load(self):
        info = self._current_user()
        if info is None:
            return
        self.favourites = slots.favourites_of(info.id)

    @rx.event
    async def take(self, slot_id: str):
        info = self._current_user()
        if info is None:
            yield rx.redirect(routes.LOGIN)
            return
        if self.taking:
            return
        self.taking = str(slot_id)[:40]
        yield
        try:
            session = await asyncio.to_thread(sessions.take_slot, info.id, str(slot_id))
        except DomainError as exc:
            self.taking = ""
            yield rx.toast.error("Не удалось занять слот", description=exc.message)
            return
        self.taking = ""
        notify_board_changed()
        yield rx.redirect(routes.session_page(session.slot_id))

    @rx.event
    def toggle_favourite(self, slot_id: str):
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        try:
            now_fav = slots.toggle_favourite(info.id, str(slot_id))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        slot_id = access.validate_slot_id(str(slot_id))
        if now_fav and slot_id not in self.favourites:
            self.favourites = [*self.favourites, slot_id]
        elif not now_fav:
            self.favourites = [s for s in self.favourites if s != slot_id]

    @rx.event
    def force_release(self, slot_id: str):
        admin = self._current_admin()
        if admin is None:
            return rx.toast.error("Только администратор может принудительно освободить слот")
        try:
            ended = sessions.force_release(admin.id, str(slot_id), self._client_ip())
        except DomainError as exc:
            return rx.toast.error(exc.message)
        notify_board_changed()
        return rx.toast.success("Слот освобождён", description=f"{ended.service_name} принудительно освобождён")
