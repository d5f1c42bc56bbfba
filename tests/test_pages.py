"""The app's pages: every page not declared public runs the login guard first; admin pages the admin guard."""

from __future__ import annotations

import importlib

from reflex_base.event import EventHandler, EventSpec

from state.auth import AuthState
from vdi_taxi import routes
from vdi_taxi.pages.registry import DECLARED, Access


def _app():
    # Imported here, after the isolated test settings are in place: the module configures the runtime.
    return importlib.import_module("vdi_taxi.vdi_taxi").app


def _key(route: str) -> str:
    """A route as Reflex keys its pages ('/' is 'index', no slashes around)."""
    return route.strip("/") or "index"


def _first_handler(on_load) -> EventHandler | None:
    events = list(on_load) if isinstance(on_load, list | tuple) else [on_load] if on_load else []
    if not events:
        return None
    first = events[0]
    return first.handler if isinstance(first, EventSpec) else first


def test_every_page_of_the_app_was_added_with_a_declared_access_level():
    app = _app()
    assert {_key(r) for r in DECLARED} == set(app._unevaluated_pages)


def test_only_the_login_2fa_enrolment_and_not_found_pages_are_public():
    _app()
    public = {r for r, a in DECLARED.items() if a is Access.PUBLIC}
    assert public == {routes.LOGIN, routes.ENROL_2FA, routes.NOT_FOUND}


def test_every_non_public_page_runs_the_login_guard_first_and_admin_pages_the_admin_guard():
    app = _app()
    public = {_key(r) for r, a in DECLARED.items() if a is Access.PUBLIC}
    admin = {_key(r) for r, a in DECLARED.items() if a is Access.ADMIN}
    assert _key(routes.ADMIN) in admin
    guarded = 0
    for key, unevaluated in app._unevaluated_pages.items():
        if key in public:
            continue
        first = _first_handler(unevaluated.on_load)
        expected = AuthState.guard_admin if key in admin else AuthState.guard
        assert first is not None and first.fn is expected.fn, f"/{key} does not start its on_load with its guard"
        guarded += 1
    assert guarded == len(app._unevaluated_pages) - len(public)
