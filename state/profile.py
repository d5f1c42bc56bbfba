"""The profile: for now, linking Telegram with a one-time code."""

from __future__ import annotations

import asyncio

import reflex as rx

from services import calendar, session_views, users
from services.core.errors import DomainError
from services.session_views import HistoryItem
from services.telegram import linking
from state.auth import AuthState, UserInfo, quietly, signed_in
from vdi_taxi import routes


class ProfileState(AuthState):
    tg_configured: bool = False
    tg_linked: bool = False
    tg_since: str = ""
    tg_error: str = ""
    tg_bot: str = ""
    code: str = ""
    code_expires: str = ""
    waiting: bool = False
    history: list[HistoryItem] = []
    ics_rotated: bool = False

    def _refresh(self, user_id: int) -> None:
        link = linking.link_state(user_id)
        self.tg_configured, self.tg_linked = link.configured, link.linked
        self.tg_since, self.tg_error, self.tg_bot = link.since, link.error, link.bot
        if link.linked:
            self.code = ""

    @rx.var
    def bot_link(self) -> str:
        """t.me link to the bot; with a code shown, one that sends /start <code> when opened."""
        return linking.bot_url(self.tg_bot, self.code)

    @rx.event
    @signed_in
    def load(self, caller: UserInfo):
        self._refresh(caller.id)
        self.history = session_views.history_of(caller.id)

    @rx.event
    @signed_in
    def new_code(self, caller: UserInfo):
        link = linking.create_link_code(caller.id)
        self.code, self.code_expires = link.code, link.expires_at_label
        if not self.waiting:
            return ProfileState.wait_for_link

    @rx.event
    @signed_in
    def rotate_ics(self, caller: UserInfo):
        """A new calendar feed link; whoever copied the old one loses access."""
        try:
            calendar.rotate_feed_token(caller.id, self._client_ip())
        except DomainError as exc:
            return rx.toast.error(str(exc))
        self.ics_rotated = True
        return rx.toast.success("Ссылка календаря заменена. Старая больше не работает — подпишитесь заново.")

    @rx.event
    @signed_in
    def unlink(self, caller: UserInfo):
        linking.unlink(caller.id)
        self._refresh(caller.id)
        return rx.toast("Telegram отвязан")

    @rx.event(background=True)
    @signed_in(otherwise=quietly)
    async def wait_for_link(self, caller: UserInfo):
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
                    # Re-checked on every poll: a revoked login stops the wait.
                    viewer = self._current_user()
                    if viewer is None:
                        return
                    self._refresh(viewer.id)
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
    @signed_in
    def load_onboarding(self, caller: UserInfo):
        self._refresh(caller.id)
        self.step = 0 if not caller.has_2fa else (1 if not self.tg_linked else 2)

    @rx.event
    def go(self, step: int):
        self.step = max(0, min(3, int(step)))

    @rx.event
    @signed_in
    def finish(self, caller: UserInfo):
        users.mark_onboarded(caller.id)
        return rx.redirect(routes.DASHBOARD)
