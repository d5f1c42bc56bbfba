"""A Socket.IO client speaking Reflex's event protocol, with no browser and no UI.

Tests use it to send events by hand, as an attacker could; benchmarks use it to
watch what the server pushes without a browser's rendering in the way.
"""

from __future__ import annotations

import json
import re
import threading
import time
import uuid

import socketio

from state.auth import AuthState

NAMESPACE = "/_event"
UPDATE_VARS = "reflex___state____state.reflex___state____update_vars_internal_state.update_vars_internal"


class RawClient:
    """A Socket.IO client speaking Reflex's event protocol, with no browser and no UI."""

    def __init__(self, base_url: str, headers: dict[str, str] | None = None, token: str | None = None) -> None:
        """`token` is the tab's identity (its state); a tab reconnecting passes the same one."""
        self.received: list[str] = []
        # (time.time() of arrival, message) for latency measurements.
        self.arrivals: list[tuple[float, str]] = []
        self._got = threading.Condition()
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)
        self.token = token or str(uuid.uuid4())
        self.sio.connect(
            f"{base_url}?token={self.token}",
            headers=headers or {},
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
            self.arrivals.append((time.time(), text))
            self._got.notify_all()

    def send(self, name: str, payload: dict) -> None:
        self.sio.emit(
            "event",
            {"name": name, "payload": payload, "router_data": {"pathname": "/", "asPath": "/"}},
            namespace=NAMESPACE,
        )

    def wait_for(self, text: str, timeout: float = 10, since: int = 0) -> str:
        """The first message containing text, among those from index `since` on."""
        with self._got:
            ok = self._got.wait_for(lambda: any(text in m for m in self.received[since:]), timeout=timeout)
        assert ok, f"no server message containing {text!r}; got {self.received[-3:]}"
        return next(m for m in self.received[since:] if text in m)

    def wait_for_any(self, texts: tuple[str, ...], timeout: float = 10) -> str:
        """The first server message containing any of `texts` (e.g. a success or a refusal)."""
        with self._got:
            ok = self._got.wait_for(lambda: any(t in m for m in self.received for t in texts), timeout=timeout)
        assert ok, f"no server message containing any of {texts!r}; got {self.received[-3:]}"
        return next(m for m in self.received if any(t in m for t in texts))

    def log_in(self, token: str) -> None:
        """What the browser does with the login cookie: hand it to the auth state."""
        key = f"{AuthState.get_full_name()}.auth_token_rx_state_"
        self.send(UPDATE_VARS, {"vars": {key: token}})

    @property
    def local_port(self) -> int:
        """The client end of the websocket: which app worker serves it is read from the server side."""
        return self.sio.eio.ws.sock.getsockname()[1]

    def close(self) -> None:
        self.sio.disconnect()
