"""A tab's server-side state belongs to the login it was first used with, and to nobody else.

Reflex keeps each tab's state under the tab's client token, a UUID the frontend makes up and
sends as ``?token=`` when its socket connects. Anyone who learns a closed tab's token (a log,
a proxy, a shared machine) can connect with it. Identity does not come from that state (see
state/auth.py: the login cookie of the socket's handshake), but the state still holds what the
previous login loaded — history, admin lists, profile — and a hydrate would send it all.

So before any event is processed, the login of the socket (the token id of its cookie, "" for
none) is compared with the one the state is bound to. On a mismatch every var of the tab is
reset to its default first; a fresh state is reset on its first event too, since its token may
have been used before the process that holds it now (a Redis state from an older release). On
every other event nothing is written, so ordinary events cost one signature check and no delta.

Client tokens that the Reflex frontend cannot have made (it makes UUID4s) are refused here and,
earlier, at the socket's handshake (vdi_taxi/socket_gate.py): no client can open the state of a
token the server uses itself.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

import reflex as rx
from reflex.middleware import Middleware
from reflex.state import BaseState, StateUpdate

from services import auth
from state.auth import AuthState, login_token

if TYPE_CHECKING:
    from reflex.app import App
    from reflex_base.event import Event

log = logging.getLogger(__name__)

# What reflex's frontend makes (generateUUID: version 4, variant nibble 8-f) and its server
# hands out for a duplicated tab (uuid.uuid4()).
CLIENT_TOKEN_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89a-f][0-9a-f]{3}-[0-9a-f]{12}$")


def is_client_token(value: str) -> bool:
    return bool(CLIENT_TOKEN_RE.match(value or ""))


def _every_state_class(root: type[BaseState]) -> list[type[BaseState]]:
    found, todo = [], [root]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.get_substates())
    return found


async def _reset_tab(root: BaseState) -> None:
    # A state manager may load substates lazily (Redis does): fetch all, so none keeps old data.
    for cls in _every_state_class(type(root)):
        await root.get_state(cls)
    for substate in root.substates.values():
        substate.reset()


class TabBinding(Middleware):
    """Reflex middleware: runs under the tab's state lock before each event's handler."""

    async def preprocess(self, app: App, state: BaseState, event: Event) -> StateUpdate | None:
        root = state._get_root_state()
        if not is_client_token(root.router.session.client_token):
            log.warning("refused an event from a client token the frontend cannot have made")
            return StateUpdate()  # nothing runs, nothing is sent
        login = auth.login_id(login_token(root))
        auth_state = await root.get_state(AuthState)
        if auth_state._bound_login == login:
            return None
        await _reset_tab(root)
        auth_state._bound_login = login
        return None


def install(app: rx.App) -> None:
    app.add_middleware(TabBinding(), index=0)
