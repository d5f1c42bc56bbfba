"""Who is calling: every handler re-derives the user from the token, on the server."""

from __future__ import annotations

import reflex as rx

from services import auth
from services.auth import UserInfo
from services.core.settings import get_settings
from vdi_taxi import routes


class AuthState(rx.State):
    # A signed, server-revocable token; the cookie is only a carrier.
    auth_token: str = rx.Cookie("", name="vdi_token", same_site="strict", max_age=get_settings().token_ttl_minutes * 60)
    user_id: int = 0
    user_name: str = ""
    username: str = ""
    is_admin: bool = False
    has_2fa: bool = False
    auth_ready: bool = False

    def _current_user(self) -> UserInfo | None:
        info = auth.resolve_token(self.auth_token)
        if info is None:
            self.user_id = 0
            self.auth_ready = False
        else:
            self._apply_user(info)
        return info

    def _current_admin(self) -> UserInfo | None:
        info = self._current_user()
        return info if info is not None and info.is_admin else None

    def _apply_user(self, info: UserInfo) -> None:
        self.user_id = info.id
        self.user_name = info.name
        self.username = info.username
        self.is_admin = info.is_admin
        self.has_2fa = info.has_2fa

    def _client_ip(self) -> str:
        return self.router.session.client_ip or ""

    @rx.var
    def initial(self) -> str:
        return (self.user_name[:1] or "?").upper()

    @rx.event
    def guard(self):
        """on_load of every protected page: logged in, and 2FA enrolled where required."""
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        if info.must_enrol_2fa:
            return rx.redirect(routes.ENROL_2FA)
        self.auth_ready = True

    @rx.event
    def guard_admin(self):
        """on_load of admin pages: as guard, and only administrators; others go to the dashboard."""
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        if info.must_enrol_2fa:
            return rx.redirect(routes.ENROL_2FA)
        if not info.is_admin:
            return rx.redirect(routes.DASHBOARD)
        self.auth_ready = True
        return None

    @rx.event
    def logout(self):
        auth.logout(self.auth_token)
        self.auth_token = ""
        self.user_id = 0
        self.auth_ready = False
        return rx.redirect(routes.LOGIN)
