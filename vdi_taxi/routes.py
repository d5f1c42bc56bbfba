"""Every path of the app, so pages, redirects, links, HTTP routes and tests agree on them.

Nothing else spells a path: tests/test_routes.py fails on a route literal anywhere else in the UI code.
The builders accept plain values on the server and Reflex string Vars in components alike.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, unquote

from services.core.files import DUMP_DOWNLOAD_PATH

LOGIN = "/login"
ENROL_2FA = "/2fa"
DASHBOARD = "/"
# Reflex serves the page added at this route for any unknown address.
NOT_FOUND = "404"
SESSION = "/session/[slot]"
SESSION_END = "/session-end/[session_id]"
CALENDAR = "/calendar"
PROFILE = "/profile"
ADMIN = "/admin"
ONBOARDING = "/onboarding"

# HTTP routes served next to the pages (Starlette path syntax).
CALENDAR_FEED = "/calendar/feed/{token}.ics"
HEALTH_API = "/api/health"
# Heartbeat of open portal tabs (assets/presence.js posts here).
PRESENCE_API = "/api/presence"
DUMP_DOWNLOAD = DUMP_DOWNLOAD_PATH
# The login cookie is HttpOnly, so only these set and clear it (full page loads, not pages).
SIGN_IN = "/auth/sign-in"
SIGN_OUT = "/auth/sign-out"

_SESSION_PREFIX = "/session/"
_SESSION_END_PREFIX = "/session-end/"


def session_page(slot_id: Any, template_id: Any = None) -> Any:
    """The room page of a slot; with a template, the room opens at the template's address."""
    path = _SESSION_PREFIX + slot_id
    return path if template_id is None else path + "?template=" + template_id


def enrol_2fa_page(from_profile: bool = False) -> str:
    """The 2FA enrolment page; opened from the profile, it leads back there when done."""
    return ENROL_2FA + ("?from=profile" if from_profile else "")


def session_end_page(session_id: Any) -> Any:
    """The summary of a session; takes an int on the server, a string Var in components."""
    return _SESSION_END_PREFIX + (str(session_id) if isinstance(session_id, int) else session_id)


def is_session_end_page(path: str) -> bool:
    return path.startswith(_SESSION_END_PREFIX)


def _arg_after(prefix: str, path: str) -> str:
    if not path.startswith(prefix):
        return ""
    return unquote(path.removeprefix(prefix).split("/", 1)[0])


def slot_of_session_page(path: str) -> str:
    """The slot id in a room page's path ("" on any other page)."""
    return _arg_after(_SESSION_PREFIX, path)


def session_id_of_end_page(path: str) -> str:
    """The session id in a summary page's path ("" on any other page)."""
    return _arg_after(_SESSION_END_PREFIX, path)


def calendar_feed(token: str) -> str:
    return CALENDAR_FEED.format(token=token)


def sign_in(ticket: str) -> str:
    """Where the browser trades its one-time login ticket for the login cookie."""
    return f"{SIGN_IN}?ticket={quote(ticket, safe='')}"
