"""The profile: for now, linking Telegram with a one-time code."""

from __future__ import annotations

import asyncio

import reflex as rx

from services import session_views, users
from services.session_views import HistoryItem
from services.telegram import linking
from state.auth import AuthState
from vdi_taxi import routes


class ProfileState(AuthState):
    tg_configured: bool = False
    tg_linked: bool = False
    tg_since: str = ""
    tg_error: str = ""
    code: str = ""
    code_expires: str = ""
    waiting: bool = False
    history: list[HistoryItem] = []

    def _refresh(self, user_id: int) -> None:
        link = linking.link_state(user_id)
        self.tg_configured, self.tg_linked = link.configured, link.linked
        self.tg_since, self.tg_error = link.since, link.error
        if link.linked:
            self.code = ""

    @rx.event
    def load(self):
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        self._refresh(info.id)
        self.history = session_views.history_of(info.id)

    @rx.event
    def new_code(self):
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        link = linking.create_link_code(info.id)
        self.code, self.code_expires = link.code, link.expires_at_label
        if not self.waiting:
            return ProfileState.wait_for_link

    @rx.event
    def unlink(self):
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        linking.unlink(info.id)
        self._refresh(info.id)
        return rx.toast("Telegram отвязан")

    @rx.event(background=True)
    async def wait_for_link(self):
        """While a code is shown, notice the moment the bot links the chat."""
        async with self:
            if self.waiting:
                return
            self.waiting = True
        try:
            for _ in range(15 * 30):
                await asyncio.sleep(2)
                async with self:
                    if not self.code or self.router.url.path.rstrip("/") not in (routes.PROFILE, routes.ONBOARDING):
                        return
                    info = self._current_user()
                    if info is None:
                        return
                    self._refresh(info.id)
                    if self.tg_linked:
                        yield rx.toast.success("Telegram привязан")
                        return
        finally:
            async with self:
                self.waiting = False


class OnboardingState(ProfileState):
    """First-run guide. Progress comes from what is already set up, so it resumes where it stopped."""

    step: int = 0

    @rx.event
    def load_onboarding(self):
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        self._refresh(info.id)
        self.step = 0 if not info.has_2fa else (1 if not self.tg_linked else 2)

    @rx.event
    def go(self, step: int):
        self.step = max(0, min(3, int(step)))

    @rx.event
    def finish(self):
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        users.mark_onboarded(info.id)
        return rx.redirect(routes.DASHBOARD)
