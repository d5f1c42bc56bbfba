"""Login and second-factor enrolment."""

from __future__ import annotations

import asyncio

import reflex as rx

from services import auth
from services.core.errors import DomainError
from state.auth import AuthState, UserInfo, leave_for, signed_in
from vdi_taxi import routes


def _after_login(info: auth.UserInfo) -> str:
    if info.must_enrol_2fa:
        return routes.ENROL_2FA
    return routes.DASHBOARD if info.onboarded else routes.ONBOARDING


class LoginState(AuthState):
    error: str = ""
    pending: bool = False

    @rx.event
    def redirect_if_logged_in(self):
        info = self._current_user()
        if info is not None:
            return rx.redirect(_after_login(info))
        self.error = ""

    @rx.event
    async def submit(self, form: dict):
        if self.pending:
            return
        username = str(form.get("username", ""))[:200]
        password = str(form.get("password", ""))[:200]
        code = str(form.get("totp_code", ""))[:20]
        self.pending = True
        self.error = ""
        yield
        try:
            # bcrypt takes ~0.2 s: keep it off the event loop.
            result = await asyncio.to_thread(auth.login, username, password, code, self._client_ip())
            ticket = await asyncio.to_thread(auth.issue_ticket, result.token)
        except DomainError as exc:
            self.error = exc.message
            self.pending = False
            return
        # The token itself never reaches the page: the browser trades the ticket for an HttpOnly
        # cookie at an HTTP route, which sends it back here; this page, now logged in, sends it on.
        yield leave_for(routes.sign_in(ticket))


class EnrolState(AuthState):
    qr_data_uri: str = ""
    secret: str = ""
    error: str = ""
    may_skip: bool = False
    # Opened from the profile (someone who skipped 2FA at first turns it on later): go back there.
    from_profile: bool = False

    def _done_page(self, info: UserInfo) -> str:
        if self.from_profile:
            return routes.PROFILE
        return routes.DASHBOARD if info.onboarded else routes.ONBOARDING

    @rx.event
    @signed_in
    def load(self, caller: UserInfo):
        self.from_profile = str(self.router.url.query_parameters.get("from", "")) == "profile"
        if caller.has_2fa:
            return rx.redirect(self._done_page(caller))
        enrolment = auth.begin_enrolment(caller.id)
        self.qr_data_uri = enrolment.qr_data_uri
        self.secret = enrolment.secret
        self.may_skip = not caller.is_admin
        self.error = ""
        self.auth_ready = True

    @rx.event
    @signed_in
    def confirm(self, caller: UserInfo, form: dict):
        try:
            updated = auth.confirm_enrolment(
                caller.id, str(form.get("code", ""))[:20], self._client_ip(), self._login_token()
            )
        except DomainError as exc:
            self.error = exc.message
            return
        self._apply_user(updated)
        self.secret = ""
        self.qr_data_uri = ""
        return [rx.redirect(self._done_page(updated)), rx.toast.success("Двухфакторная защита включена")]

    @rx.event
    @signed_in
    def skip(self, caller: UserInfo):
        if caller.must_enrol_2fa:
            self.error = "Администратору нужно подключить 2FA — пропустить нельзя."
            return
        return rx.redirect(self._done_page(caller))
