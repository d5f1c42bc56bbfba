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

import httpx
import socketio

from services.auth import SESSION_COOKIE
from state.board import BoardFeed
from tests.live_server import LiveApp, serving_pid
from vdi_taxi import routes

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate"
# What the frontend sends first on every (re)connect: the state snapshot and the page's on_load.
HYDRATE_AND_LOAD = f"{ROOT_STATE}.hydrate_and_load"
UPDATE_VARS = f"{ROOT_STATE}.reflex___state____update_vars_internal_state.update_vars_internal"


def board_frames(messages: list[str]) -> list[dict]:
    """The board feed's deltas among received messages."""
    feed = BoardFeed.get_full_name()
    frames = [json.loads(m) for m in messages]
    return [f["delta"][feed] for f in frames if feed in (f.get("delta") or {})]


class RawClient:
    """A Socket.IO client speaking Reflex's event protocol, with no browser and no UI."""

    def __init__(
        self,
        base_url: str,
        headers: dict[str, str] | None = None,
        token: str | None = None,
        *,
        login: str | None = None,
    ) -> None:
        """`token` is the tab's identity (its state); a tab reconnecting passes the same one.
        `login` is the login cookie its socket's handshake carries (none: an anonymous socket)."""
        self.base_url = base_url
        self.headers = dict(headers or {})
        self.received: list[str] = []
        # (time.time() of arrival, message) for latency measurements.
        self.arrivals: list[tuple[float, str]] = []
        self._got = threading.Condition()
        self.token = token or str(uuid.uuid4())
        self._connect(login)

    def _connect(self, login: str | None) -> None:
        headers = dict(self.headers)
        if login is not None:
            headers["Cookie"] = f"{SESSION_COOKIE}={login}"
        self.sio = socketio.Client(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)
        # The server hands out a new token when the old one is still linked to another socket.
        self.sio.on("new_token", self._on_new_token, namespace=NAMESPACE)
        self._pongs = 0
        # Reflex answers a "ping" event with a "ping" event carrying "pong".
        self.sio.on("ping", self._on_pong, namespace=NAMESPACE)
        self.sio.connect(
            f"{self.base_url}?token={self.token}",
            headers=headers,
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NAMESPACE],
            wait_timeout=10,
        )

    def _on_new_token(self, token: str) -> None:
        self.token = token

    def _on_pong(self, _data=None) -> None:
        with self._got:
            self._pongs += 1
            self._got.notify_all()

    def round_trip(self, timeout: float = 10) -> None:
        """Ping the server and wait for its answer: whatever it sent before has arrived by then."""
        with self._got:
            expected = self._pongs + 1
        self.sio.emit("ping", namespace=NAMESPACE)
        with self._got:
            assert self._got.wait_for(lambda: self._pongs >= expected, timeout=timeout), "no pong"

    def _on_event(self, data) -> None:
        text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
        # Toast texts arrive inside JavaScript string literals, \\uXXXX-escaped.
        text = re.sub(r"\\+u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
        with self._got:
            self.received.append(text)
            self.arrivals.append((time.time(), text))
            self._got.notify_all()

    def send(self, name: str, payload: dict, path: str = "/", query: dict[str, str] | None = None) -> None:
        """`query`: the route's parameters, as the frontend sends them (e.g. {"slot": "ppx-1"})."""
        router_data: dict = {"pathname": path, "asPath": path}
        if query:
            router_data["query"] = query
        self.sio.emit("event", {"name": name, "payload": payload, "router_data": router_data}, namespace=NAMESPACE)

    def hydrate(self, path: str = "/") -> str:
        """Ask for the whole state, as a page does when its socket connects; the snapshot sent."""
        mark = len(self.received)
        self.send(HYDRATE, {}, path)
        return self.wait_for("is_hydrated", since=mark)

    def wait_for(self, text: str, timeout: float = 10, since: int = 0) -> str:
        """The first message containing text, among those from index `since` on."""
        with self._got:
            ok = self._got.wait_for(lambda: any(text in m for m in self.received[since:]), timeout=timeout)
        assert ok, f"no server message containing {text!r}; got {self.received[-3:]}"
        return next(m for m in self.received[since:] if text in m)

    def wait_for_any(self, texts: tuple[str, ...], timeout: float = 10, since: int = 0) -> str:
        """The first server message (from index `since` on) containing any of `texts` (e.g. a
        success or a refusal)."""
        with self._got:
            ok = self._got.wait_for(lambda: any(t in m for m in self.received[since:] for t in texts), timeout=timeout)
        assert ok, f"no server message containing any of {texts!r}; got {self.received[-3:]}"
        return next(m for m in self.received[since:] if any(t in m for t in texts))

    def log_in(self, token: str) -> None:
        """What a browser does once it holds the login cookie: the next page load opens a new
        socket (same tab, same client token) whose handshake carries the cookie, and hydrates."""
        self.sio.disconnect()
        self._connect(token)
        self.hydrate()

    def sign_in_path(self, since: int = 0) -> str:
        """The sign-in route (with its one-time ticket) a successful login sends the page to."""
        message = self.wait_for(routes.SIGN_IN, since=since)
        path = re.search(re.escape(routes.SIGN_IN) + r"\?ticket=[A-Za-z0-9_%-]+", message)
        assert path, message
        return path.group(0)

    def follow_sign_in(self, since: int = 0) -> str:
        """What the browser does with a successful login's answer: load the sign-in route it
        names, which trades the one-time ticket for the login cookie. Returns the cookie."""
        reply = httpx.get(self.base_url + self.sign_in_path(since), follow_redirects=False)
        assert reply.status_code == 303, reply
        return reply.cookies[SESSION_COOKIE]

    @property
    def local_port(self) -> int:
        """The client end of the websocket: which app worker serves it is read from the server side."""
        return self.sio.eio.ws.sock.getsockname()[1]

    def close(self) -> None:
        self.sio.disconnect()


def connect_on(
    app: LiveApp, on: int | None = None, avoid: int | None = None, token: str | None = None, login: str | None = None
) -> RawClient:
    """A client served by app worker `on` (or by any worker but `avoid`): connect until the kernel
    hands the connection to such a worker. `login`: the login cookie its handshake carries."""
    # Which worker accepts a connection is the kernel's choice, and a busy worker loses most races:
    # try up to a bounded number of connections, each closed at once when it landed elsewhere.
    for _ in range(300):
        client = RawClient(app.url, token=token, login=login)
        pid = serving_pid(app, client.local_port)
        if pid is not None and (on is None or pid == on) and pid != avoid:
            client.worker = pid  # type: ignore[attr-defined]
            return client
        client.close()
    raise AssertionError(f"no connection landed on worker {on} (avoiding {avoid})")


def worker_pids(app: LiveApp, expected: int) -> list[int]:
    """The app's worker processes, found by connecting until `expected` different ones answered."""
    seen: set[int] = set()
    clients = []
    try:
        for _ in range(100):
            clients.append(connect_on(app))
            seen.add(clients[-1].worker)
            if len(seen) == expected:
                return sorted(seen)
    finally:
        for client in clients:
            client.close()
    raise AssertionError(f"only workers {seen} answered; expected {expected}")
