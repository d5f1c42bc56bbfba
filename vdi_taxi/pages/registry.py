"""The one way to add a page: route, title and who may open it, declared together.

A page without a declared access level cannot be added, and every non-public page gets the
matching guard as the first event of its on_load, so forgetting the guard is impossible.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from typing import Any

import reflex as rx

from state.auth import AuthState


class Access(enum.Enum):
    # Reachable without logging in (login itself, 2FA enrolment which checks on its own).
    PUBLIC = "public"
    # Logged in, with 2FA enrolled where it is required.
    USER = "user"
    # As USER, and an administrator; others are sent back to the dashboard.
    ADMIN = "admin"


GUARDS: dict[Access, Any] = {
    Access.PUBLIC: None,
    Access.USER: AuthState.guard,
    Access.ADMIN: AuthState.guard_admin,
}

# Route -> access level of every page added through page(); the app's test reads it.
DECLARED: dict[str, Access] = {}


def page(
    app: rx.App,
    component: Callable[[], rx.Component],
    *,
    route: str,
    title: str,
    access: Access,
    on_load: Sequence[Any] = (),
) -> None:
    """Add a page; its guard (if any) runs before every other on_load event."""
    if not isinstance(access, Access):
        raise TypeError(f"page {route}: access must be an Access level, got {access!r}")
    guard = GUARDS[access]
    events = [guard, *on_load] if guard is not None else list(on_load)
    app.add_page(component, route=route, title=f"{title} — VDI Такси" if title else "VDI Такси", on_load=events)
    DECLARED[route] = access
