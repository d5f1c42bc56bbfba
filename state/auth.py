"""Who is calling: every handler re-derives the user from the login cookie, on the server.

The login cookie is HttpOnly: page scripts never see it, and it reaches the server only in the
headers of the websocket's handshake, which Reflex keeps per connection and hands to every event
as ``self.router.headers``. A client can choose its client token and any event payload, but not
the headers of a connection it did not open with that cookie — so the caller is read from there,
never from a state var. The cookie is set and cleared by HTTP routes (vdi_taxi/http_routes.py):
the login hands the browser a one-time ticket to trade for it, and logout clears it.

Handlers say who may call them with @signed_in or @admin_only (under @rx.event). The guard resolves
the caller before the handler body runs and passes it as the `caller` argument; when there is none
it answers with the handler's refusal instead (by default: to the login page, or for admin handlers
the «Только для администраторов» toast). Admin handlers serve only an admin whose login passed 2FA.
The `caller` argument is hidden from the signature Reflex reads, so the event payload still maps
onto the handler's own arguments.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import json
from collections.abc import Callable
from typing import Any, TypeVar

import reflex as rx

from services import auth
from services.auth import UserInfo
from services.core import netaddr
from services.core.settings import get_settings
from vdi_taxi import routes


def login_token(state: rx.State) -> str:
    """The login cookie this socket's handshake carried ("" for an anonymous socket)."""
    return auth.token_from_cookies(state.router.headers.cookie)


def leave_for(path: str) -> Any:
    """A full page load of `path` (an HTTP route that sets or clears the login cookie); the new
    page opens a new socket, whose handshake carries the new cookie."""
    return rx.call_script(f"window.location.assign({json.dumps(path)})")


class AuthState(rx.State):
    user_id: int = 0
    user_name: str = ""
    username: str = ""
    is_admin: bool = False
    has_2fa: bool = False
    auth_ready: bool = False
    # The login this tab's state belongs to (see state.tab_binding); None until its first event.
    _bound_login: str | None = None

    def _login_token(self) -> str:
        return login_token(self)

    def _current_user(self) -> UserInfo | None:
        info = auth.resolve_token(self._login_token())
        if info is None:
            self._forget_user()
        else:
            self._apply_user(info)
        return info

    def _current_admin(self) -> UserInfo | None:
        info = self._current_user()
        return info if info is not None and info.acts_as_admin else None

    def _set_if_changed(self, **values: Any) -> None:
        # Assigning marks a var dirty even when equal: an unchanged caller sends no delta.
        for name, value in values.items():
            if getattr(self, name) != value:
                setattr(self, name, value)

    def _apply_user(self, info: UserInfo) -> None:
        self._set_if_changed(
            user_id=info.id,
            user_name=info.name,
            username=info.username,
            # Admin controls show only for an admin whose login passed 2FA (the handlers agree).
            is_admin=info.acts_as_admin,
            has_2fa=info.has_2fa,
        )

    def _forget_user(self) -> None:
        self._set_if_changed(user_id=0, auth_ready=False)

    def _client_ip(self) -> str:
        # Reflex gives the socket's direct peer (trusted_proxy_hops is left at 0) and the
        # handshake headers; the forwarded header counts only from a configured proxy.
        return netaddr.client_address(
            self.router.session.client_ip or "",
            self.router.headers.raw_headers,
            get_settings().trusted_proxies,
        )

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
        self._set_if_changed(auth_ready=True)

    @rx.event
    def guard_admin(self):
        """on_load of admin pages: as guard, and only administrators; others go to the dashboard."""
        info = self._current_user()
        if info is None:
            return rx.redirect(routes.LOGIN)
        if info.must_enrol_2fa:
            return rx.redirect(routes.ENROL_2FA)
        if not info.acts_as_admin:
            return rx.redirect(routes.DASHBOARD)
        self._set_if_changed(auth_ready=True)
        return None

    @rx.event
    def logout(self):
        """Revoke the login at once (every tab and worker refuses it from now on), then let the
        sign-out route clear the cookie; the page it leads to starts with a fresh tab state."""
        auth.logout(self._login_token())
        self._forget_user()
        return leave_for(routes.SIGN_OUT)


# ------------------------------------------------------------------ handler guards

REFUSED = "Только для администраторов"
# Set on every guarded handler ("user" or "admin"), so a test can list the ones without a guard.
GUARD_MARKER = "_vdi_guard"

Refusal = Callable[[], Any]
Handler = TypeVar("Handler", bound=Callable[..., Any])


def to_login() -> Any:
    return rx.redirect(routes.LOGIN)


def to_dashboard() -> Any:
    return rx.redirect(routes.DASHBOARD)


def admins_only() -> Any:
    return rx.toast.error(REFUSED)


def quietly() -> None:
    """For handlers that run on page load: the page guard already sends a stranger away."""
    return None


def signed_in(fn: Handler | None = None, *, otherwise: Refusal = to_login) -> Any:
    """The handler runs only for a logged-in caller, who is passed as its `caller` argument."""
    return _guard(lambda state: state._current_user(), otherwise, fn, "user")


def admin_only(fn: Handler | None = None, *, otherwise: Refusal = admins_only) -> Any:
    """As signed_in, and only for administrators whose login passed 2FA."""
    return _guard(lambda state: state._current_admin(), otherwise, fn, "admin")


def _guard(resolve: Callable[[AuthState], UserInfo | None], otherwise: Refusal, fn: Handler | None, level: str) -> Any:
    if fn is None:
        return lambda f: _wrap(f, resolve, otherwise, level)
    return _wrap(fn, resolve, otherwise, level)


def _is_background(wrapper: Callable[..., Any]) -> bool:
    # Read at call time: @rx.event(background=True) marks the wrapper after this decorator ran.
    return bool(getattr(wrapper, rx.event.BACKGROUND_TASK_MARKER, False))


def _wrap(fn: Handler, resolve: Callable[[AuthState], UserInfo | None], otherwise: Refusal, level: str) -> Handler:
    signature = inspect.signature(fn)
    params = list(signature.parameters.values())
    if len(params) < 2 or params[1].name != "caller":
        raise TypeError(f"{fn.__qualname__}: a guarded handler takes `caller` right after `self`")

    async def resolve_async(state: AuthState) -> UserInfo | None:
        # A background task holds no lock on its state: resolving writes user fields, so take it.
        if _is_background(wrapper):
            async with state:
                return resolve(state)
        return resolve(state)

    wrapper: Any
    if inspect.isasyncgenfunction(fn):

        async def wrapper(self: AuthState, *args: Any, **kwargs: Any) -> Any:
            caller = await resolve_async(self)
            if caller is None:
                refusal = otherwise()
                if refusal is not None:
                    yield refusal
                return
            async with contextlib.aclosing(fn(self, caller, *args, **kwargs)) as events:
                async for event in events:
                    yield event

    elif inspect.iscoroutinefunction(fn):

        async def wrapper(self: AuthState, *args: Any, **kwargs: Any) -> Any:
            caller = await resolve_async(self)
            if caller is None:
                return otherwise()
            return await fn(self, caller, *args, **kwargs)

    else:
        # Plain handlers and generators: Reflex iterates whatever generator the call returns.
        def wrapper(self: AuthState, *args: Any, **kwargs: Any) -> Any:
            caller = resolve(self)
            if caller is None:
                return otherwise()
            return fn(self, caller, *args, **kwargs)

    functools.update_wrapper(wrapper, fn)
    # What Reflex sees: the handler's own arguments (payload names and types), without `caller`.
    wrapper.__signature__ = signature.replace(parameters=[params[0], *params[2:]])
    wrapper.__annotations__ = {k: v for k, v in fn.__annotations__.items() if k != "caller"}
    setattr(wrapper, GUARD_MARKER, level)
    return wrapper
