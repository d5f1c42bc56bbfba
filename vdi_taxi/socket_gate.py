"""Only client tokens the Reflex frontend makes may open the event socket.

The socket's ``?token=`` names the tab's server-side state. The frontend makes UUID4s; a client
that names anything else (the fixed name of a shared state, a token the server uses for itself)
is turned away at the handshake, before Reflex links it to any state. state/tab_binding.py
refuses such tokens again for each event.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from reflex import constants
from starlette.types import ASGIApp, Receive, Scope, Send

from state.tab_binding import is_client_token

EVENT_PATH = str(constants.Endpoint.EVENT)


def _token_refused(scope: Scope) -> bool:
    path = scope.get("path", "")
    if path != EVENT_PATH and not path.startswith(EVENT_PATH + "/"):
        return False
    tokens = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("token", [])
    return len(tokens) != 1 or not is_client_token(tokens[0])


def with_socket_gate(app: ASGIApp) -> ASGIApp:
    async def gated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in {"http", "websocket"} and _token_refused(scope):
            if scope["type"] == "websocket":
                # Closing before accepting answers the handshake with 403.
                await send({"type": "websocket.close", "code": 1008})
            else:
                await send(
                    {"type": "http.response.start", "status": 403, "headers": [(b"content-type", b"text/plain")]}
                )
                await send({"type": "http.response.body", "body": b"Forbidden"})
            return
        await app(scope, receive, send)

    return gated
