"""A board tab without a browser: the Socket.IO traffic a Chromium tab sends, asyncio-based.

It connects the way Reflex's frontend does (the login cookie in the handshake's headers, the
hydrate event in the CONNECT packet), sends back the events the server hands it,
and merges every state delta into its own copy of the state, key by key, as the
frontend's reducers do. Hundreds of them run in one event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from typing import Any

import socketio

from services.auth import SESSION_COOKIE
from state.board import CARD_PREFIX, BoardFeed

NAMESPACE = "/_event"
ROOT_STATE = "reflex___state____state"
HYDRATE = f"{ROOT_STATE}.hydrate_and_load"
ON_LOAD = f"{ROOT_STATE}.reflex___state____on_load_internal_state.on_load_internal"
FEED = BoardFeed.get_full_name()


class Tab:
    def __init__(self, base_url: str, login_token: str, path: str = "/") -> None:
        self.base_url = base_url
        self.login_token = login_token
        self.path = path
        self.state: dict[str, dict[str, Any]] = {}
        # (time.time() of arrival, size in bytes of the JSON frame, the frame)
        self.frames: list[tuple[float, int, dict]] = []
        self.changed = asyncio.Event()
        self.sio = socketio.AsyncClient(reconnection=False)
        self.sio.on("event", self._on_event, namespace=NAMESPACE)

    def _router_data(self) -> dict:
        data: dict = {"pathname": self.path, "asPath": self.path}
        # Route parameters travel in the query, as React Router hands them to the frontend.
        if self.path.startswith("/session/"):
            data["query"] = {"slot": self.path.removeprefix("/session/")}
        return data

    async def open(self) -> None:
        boot = {"name": HYDRATE, "payload": {}, "router_data": self._router_data()}
        await self.sio.connect(
            f"{self.base_url}?token={uuid.uuid4()}",
            headers={"Cookie": f"{SESSION_COOKIE}={self.login_token}"},
            socketio_path="/_event",
            transports=["websocket"],
            namespaces=[NAMESPACE],
            auth={"event": boot},
            wait_timeout=30,
        )

    async def _on_event(self, update: dict) -> None:
        now = time.time()
        size = len(json.dumps(update, ensure_ascii=False).encode())
        self.frames.append((now, size, update))
        for substate, delta in (update.get("delta") or {}).items():
            self.state.setdefault(substate, {}).update(delta)
        for event in update.get("events") or []:
            # Backend events are chained on the server; the browser itself only acts on redirects.
            if event.get("name") == "_redirect":
                await self.navigate(event["payload"]["path"])
        self.changed.set()

    async def navigate(self, path: str) -> None:
        """A client-side navigation: the page's on_load events, as the frontend sends them."""
        self.path = path
        self.state.setdefault(ROOT_STATE, {})["is_hydrated_rx_state_"] = False
        await self.send(ON_LOAD, {})

    async def send(self, name: str, payload: dict) -> None:
        await self.sio.emit(
            "event", {"name": name, "payload": payload, "router_data": self._router_data()}, namespace=NAMESPACE
        )

    def card(self, slot_id: str) -> dict | None:
        return self.state.get(FEED, {}).get(CARD_PREFIX + slot_id)

    @property
    def has_board(self) -> bool:
        return bool(self.state.get(FEED, {}).get("layout"))

    async def wait(self, check, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not check():
            self.changed.clear()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"tab never saw the expected state; last frames: {self.frames[-2:]}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    async def close(self) -> None:
        await self.sio.disconnect()


SESSION_PAGE = "reflex___state____state.state___auth____auth_state.state___session____session_page_state"


def taker_process(base_url: str, login_token: str, take_event: str, slot_id: str, conn) -> None:
    """A person's own tab in a process of its own, as in a real browser: on "go" it takes
    the slot and reports (time sent, time the room URL arrived)."""
    asyncio.run(_taker_loop(base_url, login_token, take_event, slot_id, conn))


async def _taker_loop(base_url: str, login_token: str, take_event: str, slot_id: str, conn) -> None:
    while (command := await asyncio.to_thread(conn.recv)) != "stop":
        assert command == "open"
        tab = Tab(base_url, login_token)
        await tab.open()
        await tab.wait(lambda tab=tab: tab.has_board, 30)
        conn.send("ready")
        await asyncio.to_thread(conn.recv)
        sent = time.time()
        await tab.send(take_event, {"slot_id": slot_id})
        await tab.wait(lambda tab=tab: tab.state.get(SESSION_PAGE, {}).get("access_url_rx_state_"), 30)
        url_at = next(
            t
            for t, _, f in tab.frames
            if t >= sent and (f.get("delta") or {}).get(SESSION_PAGE, {}).get("access_url_rx_state_")
        )
        conn.send((sent, url_at))
        await tab.close()
