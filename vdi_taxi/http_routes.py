"""Plain HTTP routes served beside the Reflex app (same port in production)."""

from __future__ import annotations

import asyncio
import html

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from services import db
from services.demo_room import DEMO_ROOM_PATH, open_demo_room
from services.settings import get_settings

_DEMO_ROOM_HTML = """<!doctype html>
<html lang="ru"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Демо-комната — {name}</title>
<style>
body{{margin:0;font-family:system-ui,sans-serif;background:#e5e7eb;color:#111827;height:100vh;display:flex;flex-direction:column}}
.chrome{{background:#f3f4f6;border-bottom:1px solid #d1d5db;padding:8px 12px;display:flex;gap:10px;align-items:center}}
.dots span{{display:inline-block;width:11px;height:11px;border-radius:50%;margin-right:5px}}
.url{{flex:1;background:#fff;border:1px solid #d1d5db;border-radius:16px;padding:5px 14px;font-size:14px;color:#374151}}
.demo{{background:#fef3c7;color:#92400e;padding:8px 14px;font-size:14px;border-bottom:1px solid #fcd34d}}
main{{flex:1;display:flex;align-items:center;justify-content:center;padding:24px}}
.card{{background:#fff;border-radius:14px;padding:28px 32px;max-width:560px;box-shadow:0 10px 30px rgba(0,0,0,.08)}}
h1{{margin:0 0 8px;font-size:26px}} p{{color:#4b5563;line-height:1.5}}
textarea{{width:100%;min-height:90px;border:1px solid #d1d5db;border-radius:8px;padding:8px;font:inherit;box-sizing:border-box}}
</style></head>
<body data-room-slot="{slot}">
<div class="chrome"><div class="dots"><span style="background:#ef4444"></span><span style="background:#f59e0b"></span><span style="background:#22c55e"></span></div>
<div class="url">{url}</div></div>
<div class="demo">Демо-комната: настоящий удалённый браузер (Neko) подключается, когда включён Docker-провайдер комнат.</div>
<main><div class="card">
<h1 id="room-title">{name}</h1>
<p>Сессия пользователя <b>{user}</b>. Здесь был бы браузер, уже вошедший в подписку.
Ссылка на эту комнату одноразовая: после «Освободить» она перестаёт работать.</p>
<label for="notes">Черновик (демо):</label>
<textarea id="notes" placeholder="Например, запрос для нейросети…"></textarea>
</div></main></body></html>"""

_REVOKED_HTML = """<!doctype html><html lang="ru"><head><meta charset="utf-8"><title>Доступ закрыт</title></head>
<body style="font-family:system-ui;background:#0b1220;color:#e5e7eb;display:flex;align-items:center;justify-content:center;height:100vh;margin:0">
<div style="text-align:center"><h1>Доступ к комнате закрыт</h1><p>Сессия завершена или ссылка недействительна.</p></div>
</body></html>"""


async def demo_room(request: Request) -> HTMLResponse:
    slot_id = request.path_params["slot_id"]
    token = request.query_params.get("token", "")
    view = await asyncio.to_thread(open_demo_room, slot_id, token)
    if view is None:
        return HTMLResponse(_REVOKED_HTML, status_code=403)
    page = _DEMO_ROOM_HTML.format(
        name=html.escape(view.service_name),
        slot=html.escape(view.slot_id),
        url=html.escape(view.service_url or "about:blank"),
        user=html.escape(view.user_name),
    )
    # The room URL is a credential: never cache it, never leak it onwards.
    return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})


async def health(_: Request) -> JSONResponse:
    try:
        version = await asyncio.to_thread(db.board_version)
    except Exception as exc:  # reported, not raised: this is what monitoring polls
        return JSONResponse({"status": "error", "database": str(exc)[:200]}, status_code=503)
    return JSONResponse({"status": "ok", "board_version": version, "rooms": get_settings().room_provider})


ROUTES = [
    Route(f"{DEMO_ROOM_PATH}/{{slot_id}}", demo_room),
    Route("/api/health", health),
]
