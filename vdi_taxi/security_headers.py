"""Security headers on every HTTP response: pages, static files, /api/*, rooms, feeds, dumps.

A plain ASGI wrapper around the whole app (installed through ``api_transformer``), so the
compiled frontend that Reflex mounts as static files gets the headers too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.core.settings import Settings, get_settings


def _origin_pattern(url_template: str) -> str:
    """A CSP source for where room URLs point; placeholders become wildcards."""
    parts = urlsplit(url_template.replace("{http_port}", "0").replace("{slot}", "slot"))
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        return ""
    raw_netloc = urlsplit(url_template).netloc
    host = parts.hostname
    if "{slot}" in raw_netloc.split(":")[0]:
        host = "*." + host.split(".", 1)[1] if "." in host else "*"
    port = ""
    if "{http_port}" in raw_netloc:
        port = ":*"
    elif parts.port:
        port = f":{parts.port}"
    return f"{parts.scheme}://{host}{port}"


def _websocket_origin(public_url: str) -> str:
    parts = urlsplit(public_url)
    scheme = {"https": "wss", "http": "ws"}.get(parts.scheme)
    return f"{scheme}://{parts.netloc}" if scheme and parts.netloc else ""


def content_security_policy(settings: Settings) -> str:
    frames = ["'self'"]  # demo rooms are served by the app itself
    if settings.room_provider == "docker":
        room_origin = _origin_pattern(settings.rooms.url_template)
        if room_origin:
            frames.append(room_origin)
    connect = ["'self'"]
    ws = _websocket_origin(settings.public_url)
    if ws:
        connect.append(ws)  # the Reflex event socket
    directives = {
        "default-src": ["'self'"],
        # The compiled Reflex pages hydrate with inline bootstrap scripts, and Reflex runs what
        # a handler returns (every server-side rx.toast, rx.call_script) through eval().
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        # Radix themes and Emotion inject styles at run time.
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "blob:"],  # the 2FA QR code is a data: URI
        "font-src": ["'self'", "data:"],
        "connect-src": connect,
        "frame-src": frames,
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


def security_headers(settings: Settings) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", content_security_policy(settings).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
    ]
    if settings.public_url.startswith("https://"):
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


def with_security_headers(app: ASGIApp) -> ASGIApp:
    """Wrap an ASGI app so each HTTP response carries the headers (set once, app values replaced)."""
    extra = security_headers(get_settings())
    names = {name for name, _ in extra}

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in names]
                message = {**message, "headers": kept + extra}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped
