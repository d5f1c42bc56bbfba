"""Dashboard: favourites, taking and releasing one's own slot, admin force-release."""

from __future__ import annotations

import asyncio

import reflex as rx

from services import analytics, sessions, slots
from services.analytics import CategoryLoad
from services.core import access, clock
from services.core.errors import DomainError
from state.auth import AuthState, UserInfo, admin_only, quietly, signed_in
from state.board import notify_board_changed
from vdi_taxi import routes


class DashboardState(AuthState):
    favourites: list[str] = []
    taking: str = ""
    today_load: list[CategoryLoad] = []

    @rx.event
    @signed_in(otherwise=quietly)
    def load(self, caller: UserInfo):
        self.favourites = slots.favourites_of(caller.id)
        self.today_load = analytics.today_by_category(clock.now())

    @rx.event
    @signed_in
    async def take(self, caller: UserInfo, slot_id: str):
        if self.taking:
            return
        self.taking = str(slot_id)[:40]
        yield
        try:
            session = await asyncio.to_thread(sessions.take_slot, caller.id, str(slot_id))
        except DomainError as exc:
            self.taking = ""
            yield rx.toast.error("Не удалось занять слот", description=exc.message)
            return
        self.taking = ""
        notify_board_changed()
        yield rx.redirect(routes.session_page(session.slot_id))

    @rx.event
    @signed_in
    def toggle_favourite(self, caller: UserInfo, slot_id: str):
        try:
            now_fav = slots.toggle_favourite(caller.id, str(slot_id))
        except DomainError as exc:
            return rx.toast.error(exc.message)
        slot_id = access.validate_slot_id(str(slot_id))
        if now_fav and slot_id not in self.favourites:
            self.favourites = [*self.favourites, slot_id]
        elif not now_fav:
            self.favourites = [s for s in self.favourites if s != slot_id]

    @rx.event
    @signed_in
    async def release_mine(self, caller: UserInfo, slot_id: str):
        """«Освободить» on the person's own card: a phone user ends the session from the board."""
        try:
            ended = await asyncio.to_thread(sessions.release_slot, caller.id, access.validate_slot_id(str(slot_id)))
        except DomainError as exc:
            yield rx.toast.error("Не удалось освободить слот", description=exc.message)
            return
        notify_board_changed()
        yield rx.redirect(routes.session_end_page(ended.id))

    @rx.event
    @admin_only(otherwise=lambda: rx.toast.error("Только администратор может принудительно освободить слот"))
    def force_release(self, caller: UserInfo, slot_id: str):
        try:
            ended = sessions.force_release(caller.id, str(slot_id), self._client_ip())
        except DomainError as exc:
            return rx.toast.error(exc.message)
        notify_board_changed()
        return rx.toast.success("Слот освобождён", description=f"{ended.service_name} принудительно освобождён")
