"""Events sent by hand over the websocket, bypassing the UI, are checked on the server."""

from __future__ import annotations

import json
import re
import threading
import uuid

import socketio

from services import auth, slots
from state.auth import AuthState
from state.dashboard import DashboardState

NAMESPACE = "/_event"
UPDATE_VARS = "reflex___state____state.reflex___state____update_vars_internal_state.update_vars_internal"


class RawClient:
    """A Socket.IO client speaking Reflex's event protocol, with no browser and no UI."""

    def __init__(self, base_url: str) -> None:
        self.received: list[str] = []
        self._got = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)
        token = str(uuid.uuid4())
        self.sio.connect(
            f"{base_url}?token={token}",
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NAMESPACE],
            wait_timeout=10,
        )

    def _on_event(self, data) -> None:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        # Toast texts arrive inside JavaScript string literals, \\uXXXX-escaped.
        text = re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
        with self._got:
            self.received.append(text)
            self._got.notify_all()

    def send(self, name: str, payload: dict) -> None:
        self.sio.emit(
            "event",
            {"name": name, "payload": payload, "router_data": {"pathname": "/", "asPath": "/"}},
            namespace=NAMESPACE,
        )

    def wait_for(self, text: str, timeout: float = 10) -> str:
        with self._got:
            ok = self._got.wait_for(lambda: any(text in m for m in self.received), timeout=timeout)
        assert ok, f"no server message containing {text!r}; got {self.received[-3:]}"
        return next(m for m in self.received if text in m)

    def close(self) -> None:
        self.sio.disconnect()


def _set_token(client: RawClient, token: str) -> None:
    key = f"{AuthState.get_full_name()}.auth_token_rx_state_"
    client.send(UPDATE_VARS, {"vars": {key: token}})


def test_forged_admin_force_release_from_a_regular_user_is_refused(live_app, account):
    holder, mallory = account("Олег"), account("Мэллори")
    holder_id = auth.login(holder.username, holder.password).user.id
    slots.take_slot(holder_id, "gem-dt")
    client = RawClient(live_app.url)
    try:
        _set_token(client, auth.login(mallory.username, mallory.password).token)
        client.send(f"{DashboardState.get_full_name()}.force_release", {"slot_id": "gem-dt"})
        client.wait_for("Только администратор может принудительно освободить слот")
    finally:
        client.close()
    still = slots.my_session_on_slot(holder_id, "gem-dt")
    assert still.ended_at is None
    slots.release_slot(holder_id, "gem-dt")


def test_events_without_a_valid_login_change_nothing(live_app, account):
    client = RawClient(live_app.url)
    try:
        _set_token(client, "not-a-real-token")
        client.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "ppx-3"})
        client.wait_for("/login")
    finally:
        client.close()
    board = {c.id: c for g in slots.load_board() for c in g.slots}
    assert not board["ppx-3"].busy
