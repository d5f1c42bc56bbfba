"""Plain HTTP routes served beside the Reflex app (same port in production)."""

from __future__ import annotations

import asyncio
import html
import logging
from pathlib import Path
from string import Template

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from services import auth, calendar, dumps, idle
from services.core import db
from services.core.settings import get_settings
from services.rooms.demo import DEMO_ROOM_PATH, demo_room_heartbeat, open_demo_room
from vdi_taxi import routes

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
_DEMO_ROOM = Template((TEMPLATES / "demo_room.html").read_text(encoding="utf-8"))
_ROOM_CLOSED = (TEMPLATES / "room_closed.html").read_text(encoding="utf-8")


async def demo_room(request: Request) -> HTMLResponse:
    slot_id = request.path_params["slot_id"]
    token = request.query_params.get("token", "")
    view = await asyncio.to_thread(open_demo_room, slot_id, token)
    if view is None:
        return HTMLResponse(_ROOM_CLOSED, status_code=403)
    page = _DEMO_ROOM.substitute(
        name=html.escape(view.service_name),
        slot=html.escape(view.slot_id),
        url=html.escape(view.service_url or "about:blank"),
        user=html.escape(view.user_name),
        presence_ms=get_settings().booking.presence_seconds * 1000,
    )
    # The room URL is a credential: never cache it, never leak it onwards.
    return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


def _presence_reply(ok: bool) -> JSONResponse:
    # The page learns the interval from the server, so one setting drives every tab.
    every = get_settings().booking.presence_seconds
    return JSONResponse(
        {"ok": ok, "every": every}, status_code=200 if ok else 403, headers={"Cache-Control": "no-store"}
    )


def _portal_seen(token: str) -> bool:
    info = auth.resolve_token(token)
    if info is None:
        return False
    idle.record_portal(info.id)
    return True


def _login_cookie(request: Request) -> str:
    # Bounded like auth.token_from_cookies, the socket side's reading of the same cookie.
    return request.cookies.get(auth.SESSION_COOKIE, "")[:2000]


async def portal_presence(request: Request) -> JSONResponse:
    """Heartbeat of an open portal tab (assets/presence.js); the login cookie says whose."""
    token = _login_cookie(request)
    return _presence_reply(bool(token) and await asyncio.to_thread(_portal_seen, token))


async def demo_room_presence(request: Request) -> JSONResponse:
    """Heartbeat of an open demo room page, proven by its one-time token."""
    token = request.query_params.get("token", "")
    ok = await asyncio.to_thread(demo_room_heartbeat, request.path_params["slot_id"], token)
    return _presence_reply(ok)


async def ics_feed(request: Request) -> Response:
    text = await asyncio.to_thread(calendar.ics_feed, request.path_params["token"])
    if text is None:
        return Response("Not found", status_code=404, media_type="text/plain")
    return Response(
        text,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "no-store", "Content-Disposition": 'inline; filename="vdi-taxi.ics"'},
    )


async def dump_download(request: Request) -> Response:
    path = await asyncio.to_thread(dumps.path_for_download, request.path_params["name"])
    if path is None:
        return Response("Архив не найден или срок хранения истёк", status_code=404, media_type="text/plain")
    return FileResponse(
        path,
        media_type="application/zip",
        filename=path.name,
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def _cookie_options() -> dict:
    # HttpOnly: no page script can read it (nor an injected one); SameSite=Strict: another
    # site's page cannot make the browser send it; Secure once the app is served over https.
    return {
        "path": "/",
        "httponly": True,
        "samesite": "strict",
        "secure": get_settings().public_url.startswith("https://"),
    }


def _go(path: str) -> RedirectResponse:
    return RedirectResponse(path, status_code=303, headers={"Cache-Control": "no-store"})


async def sign_in(request: Request) -> Response:
    """Trade a login's one-time ticket for the HttpOnly login cookie.

    Back to the login page either way: logged in now, it sends the person on to 2FA enrolment,
    the guide or the board; with a spent or unknown ticket it asks again."""
    redeemed = await asyncio.to_thread(auth.redeem_ticket, request.query_params.get("ticket", ""))
    response = _go(routes.LOGIN)
    if redeemed is None:
        log.info("sign-in refused: the ticket is spent, stale or unknown; back to the login form")
    else:
        token, _user = redeemed
        ttl = get_settings().token_ttl_minutes * 60
        response.set_cookie(auth.SESSION_COOKIE, token, max_age=ttl, **_cookie_options())
    return response


async def sign_out(request: Request) -> Response:
    """Revoke the login the cookie names (if still live) and clear the cookie. To the board, whose
    guard shows the login page (a page path loaded in full would gain a trailing slash)."""
    await asyncio.to_thread(auth.logout, _login_cookie(request))
    response = _go(routes.DASHBOARD)
    response.delete_cookie(auth.SESSION_COOKIE, **_cookie_options())
    return response


async def health(_: Request) -> JSONResponse:
    try:
        version = await asyncio.to_thread(db.board_version)
    except Exception as exc:  # reported, not raised: this is what monitoring polls
        return JSONResponse({"status": "error", "database": str(exc)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "board_version": version, "rooms": get_settings().room_provider})


ROUTES = [
    Route(f"{DEMO_ROOM_PATH}/{{slot_id}}", demo_room),
    Route(f"{DEMO_ROOM_PATH}/{{slot_id}}/presence", demo_room_presence, methods=["POST"]),
    Route(routes.PRESENCE_API, portal_presence, methods=["POST"]),
    Route(routes.HEALTH_API, health),
    Route(routes.SIGN_IN, sign_in),
    Route(routes.SIGN_OUT, sign_out),
    Route(routes.CALENDAR_FEED, ics_feed),
    Route(routes.DUMP_DOWNLOAD, dump_download),
]
