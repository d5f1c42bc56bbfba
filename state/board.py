"""The live slot board, fed to every open board tab as one small frame per change.

The board is Reflex state: the browser's copy of the ``BoardFeed`` substate. The
server keeps no per-tab copy of it. Instead one publisher task per app process
watches the database's board version, diffs the fresh board against the last
one it published, and emits the changed cards as ONE Reflex state-update frame
to a Socket.IO room that logged-in board tabs join. The frame is encoded once
and its delta carries one key per changed card (``c_<slot id>``), which the
frontend merges into the substate key by key; an unchanged board sends nothing.

Several workers: every worker runs its own publisher against the same database
version, and a room only holds that worker's own sockets, so each worker emits
to its tabs and no frame crosses workers. Handlers in this process wake the
publisher at once via ``notify_board_changed``. Every commit that bumps the
version, in any worker or process (handlers, scheduler, room upkeep), also rings
a bell on Redis pub/sub (``services.core.board_signal``) that wakes every
worker's publisher; the poll (``VDI_BOARD_POLL_MS``) stays as the safety net and
is all there is without Redis. The cost per change is one board read per worker
and one frame per tab, whatever the number of workers or tabs.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
import time
from typing import Any

import reflex as rx
from reflex.config import get_config
from reflex.istate.manager.memory import StateManagerMemory
from reflex.istate.manager.token import BaseStateToken
from reflex_base.utils.format import format_state_name
from reflex_base.vars.base import VarData

from services import auth
from services.board import CategoryGroup, SlotCard, load_board
from services.core import board_signal, db, memory
from services.core.settings import get_settings
from services.core.status import engine_problem
from state.auth import login_token

log = logging.getLogger(__name__)

ROOM = "vdi-board"
CARD_PREFIX = "c_"
# How often joined sockets' logins are re-checked (a revoked login stops receiving the board).
MEMBER_CHECK_SECONDS = 30.0
# Hand freed memory back to the system once this many tabs' states have expired.
TRIM_AFTER_FREED = 50
board_changed = asyncio.Event()


def notify_board_changed() -> None:
    board_changed.set()


class BoardFeed(rx.State):
    """The board as the browser holds it. No server-side vars on purpose.

    Keys of the browser's copy, written only by the publisher's frames:
    ``v`` (board version), ``layout`` (categories with their slot ids in order),
    ``ids`` (every slot id in order), ``problem`` (engine problem, for admins) and
    ``c_<slot id>`` (one card each). Since Reflex's own deltas for this substate
    are always empty, a rehydrate never wipes the board a tab already shows.
    """

    @rx.event
    async def join(self):
        """on_load of board pages: a logged-in tab joins the board room and gets the whole board.

        The login is the cookie of this socket's handshake: an anonymous socket never joins,
        whatever client token it names."""
        token = login_token(self)
        if auth.resolve_token(token) is None:
            return
        await hub.join(self.router.session.session_id, token)


@dataclasses.dataclass(frozen=True)
class LayoutGroup:
    """One category of the board as sent to the browser: its slots by id, in order."""

    category: str
    accent: str
    slots: list[str] = dataclasses.field(default_factory=list)


# Vars over the browser's copy of BoardFeed, for components. The keys may be missing
# until the tab's first board frame arrives, hence the defaults.
_FEED = format_state_name(BoardFeed.get_full_name())
_FEED_DATA = VarData.from_state(BoardFeed)


def _feed_var(js: str, typ: Any, *others: rx.Var) -> Any:
    data = VarData.merge(_FEED_DATA, *(o._get_all_var_data() for o in others))
    return rx.Var(_js_expr=js, _var_type=typ, _var_data=data).guess_type()


feed_version = _feed_var(f"({_FEED}.v ?? -1)", int)
feed_loaded = _feed_var(f"({_FEED}.v !== undefined)", bool)
feed_problem = _feed_var(f'({_FEED}.problem ?? "")', str)
feed_layout = _feed_var(f"({_FEED}.layout ?? [])", list[LayoutGroup])
feed_ids = _feed_var(f"({_FEED}.ids ?? [])", list[str])


def card(slot_id: rx.Var) -> Any:
    """The card of one slot, by its id (an empty card until the board arrives)."""
    return _feed_var(f'({_FEED}["{CARD_PREFIX}" + {slot_id}] ?? {{}})', SlotCard, slot_id)


def _card_dict(slot: SlotCard) -> dict[str, Any]:
    return dataclasses.asdict(slot)


def board_keys(groups: list[CategoryGroup], version: int, problem: str) -> dict[str, Any]:
    """The board as the keys of the browser's ``BoardFeed`` substate."""
    keys: dict[str, Any] = {
        "v": version,
        "problem": problem,
        "layout": [{"category": g.category, "accent": g.accent, "slots": [c.id for c in g.slots]} for g in groups],
        "ids": [c.id for g in groups for c in g.slots],
    }
    for group in groups:
        for slot in group.slots:
            keys[CARD_PREFIX + slot.id] = _card_dict(slot)
    return keys


def board_diff(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """Keys that changed; a card that left the board becomes null. The version alone is no change."""
    changed = {k: v for k, v in new.items() if k != "v" and old.get(k) != v}
    changed.update({k: None for k in old if k.startswith(CARD_PREFIX) and k not in new})
    if changed:
        changed["v"] = new["v"]
    return changed


class BoardHub:
    """This process's view of the board and the sockets it feeds."""

    def __init__(self) -> None:
        self.app: Any = None
        self.keys: dict[str, Any] = {}
        # sid -> login token it joined with, re-checked every MEMBER_CHECK_SECONDS.
        self.members: dict[str, str] = {}
        self.frames_sent = 0
        self._refreshing = asyncio.Lock()
        # Most tab states held since memory was last handed back.
        self.peak_states = 0

    @property
    def namespace(self) -> str:
        return self.app.event_namespace.namespace

    def frame(self, keys: dict[str, Any]) -> dict[str, Any]:
        """A Reflex StateUpdate as the frontend expects it: a delta for one substate."""
        return {"delta": {BoardFeed.get_full_name(): keys}}

    async def join(self, sid: str, token: str) -> None:
        if self.app is None or not sid:
            return
        if not self.keys:
            await self.refresh()
        # Entering the room and taking the snapshot happen without a suspension point, and
        # the publisher swaps the snapshot and starts its room emit without one too, so a
        # tab gets either the change inside its snapshot or the change's frame after it.
        self.app.sio.manager.basic_enter_room(sid, self.namespace, ROOM)
        self.members[sid] = token
        await self.app.sio.emit("event", self.frame(self.keys), to=sid, namespace=self.namespace)

    async def refresh(self) -> None:
        """Load the board from the database and emit what changed to every joined tab."""
        # One at a time: an older load finishing last must not replace a newer board.
        async with self._refreshing:
            await self._refresh()

    async def _refresh(self) -> None:
        version = await asyncio.to_thread(db.board_version)
        groups = await asyncio.to_thread(load_board)
        problem = await asyncio.to_thread(engine_problem)
        new = board_keys(groups, version, problem)
        changed = board_diff(self.keys, new)
        self.keys = new
        if changed and self.app is not None:
            self.frames_sent += 1
            await self.app.sio.emit("event", self.frame(changed), to=ROOM, namespace=self.namespace)

    async def check_members(self) -> None:
        """Forget closed sockets; drop sockets whose login was revoked or expired."""
        manager = self.app.sio.manager
        present = {sid for sid, _eio in manager.get_participants(self.namespace, ROOM)}
        self.members = {sid: tok for sid, tok in self.members.items() if sid in present}
        tokens = set(self.members.values())
        revoked = {tok for tok in tokens if await asyncio.to_thread(auth.resolve_token, tok) is None}
        for sid, tok in list(self.members.items()):
            if tok in revoked:
                manager.basic_leave_room(sid, self.namespace, ROOM)
                del self.members[sid]

    async def keep_live_tabs(self) -> None:
        """Touch the in-memory state of every tab with an open socket, so only closed tabs expire.

        Once many closed tabs' states have expired, the freed memory is handed back to the
        system, so the process shrinks back after a busy hour instead of keeping its peak.
        """
        manager = self.app.state_manager
        if not isinstance(manager, StateManagerMemory):
            return
        for token in list(self.app.event_namespace.token_to_sid):
            if token in manager.states:
                # get_state of an existing token only renews its expiry.
                await manager.get_state(BaseStateToken(ident=token, cls=rx.State))
        count = len(manager.states)
        if count + TRIM_AFTER_FREED <= self.peak_states:
            log.info("%d closed tabs' state expired; %d tabs held", self.peak_states - count, count)
            gc.collect()
            memory.trim()
            self.peak_states = count
        self.peak_states = max(self.peak_states, count)


hub = BoardHub()


async def publish_board(app) -> None:
    """Lifespan task: keep every joined tab's board equal to the database."""
    hub.app = app
    interval = get_settings().board_poll_seconds
    keepalive_every = max(5.0, app_token_expiry() / 4)
    # Several workers on Redis: a change committed by any of them wakes this one at once.
    bell = asyncio.create_task(board_signal.listen(notify_board_changed))
    try:
        await _publish_loop(interval, keepalive_every)
    finally:
        bell.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bell


async def _publish_loop(interval: float, keepalive_every: float) -> None:
    last_version: int | None = None
    last_check = time.monotonic()
    last_keepalive = time.monotonic()
    while True:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(board_changed.wait(), timeout=interval)
        board_changed.clear()
        try:
            version = await asyncio.to_thread(db.board_version)
            if version != last_version:
                await hub.refresh()
                last_version = hub.keys.get("v", version)
            now = time.monotonic()
            if now - last_check >= MEMBER_CHECK_SECONDS:
                last_check = now
                await hub.check_members()
            if now - last_keepalive >= keepalive_every:
                last_keepalive = now
                await hub.keep_live_tabs()
        except asyncio.CancelledError:
            raise
        except Exception:
            # Database briefly unavailable: keep the last board, try again next tick.
            log.exception("publishing the slot board failed")


def app_token_expiry() -> float:
    return float(get_config().redis_token_expiration)
