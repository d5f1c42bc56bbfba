"""The live slot board, one copy shared by every open tab.

A single publisher task per process watches the database's board version and
pushes a fresh snapshot into the shared state; Reflex fans it out to every
linked client. Handlers in this process wake it at once via ``board_changed``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import reflex as rx
from reflex.istate.manager.token import BaseStateToken

from services import auth
from services.board import CategoryGroup, SlotCard, load_board
from services.core import db
from services.core.settings import get_settings
from services.core.status import engine_problem
from state.auth import AuthState

log = logging.getLogger(__name__)

BOARD_TOKEN = "slotboard"
board_changed = asyncio.Event()


class _BoardTokenIsNotAClient(logging.Filter):
    """The shared board's token has no socket of its own; Reflex warns on every push."""

    def filter(self, record: logging.LogRecord) -> bool:
        return f"disconnected client '{BOARD_TOKEN}'" not in record.getMessage()


logging.getLogger("reflex.app").addFilter(_BoardTokenIsNotAClient())


def notify_board_changed() -> None:
    board_changed.set()


class SlotBoard(rx.SharedState):
    groups: list[CategoryGroup] = []
    version: int = -1
    # Non-empty when the Docker engine is unreachable; shown to admins.
    engine_problem: str = ""

    @rx.var
    def all_slots(self) -> list[SlotCard]:
        return [card for group in self.groups for card in group.slots]

    @rx.var
    def session_by_slot(self) -> dict[str, int]:
        return {card.id: card.session_id for group in self.groups for card in group.slots}

    @rx.var
    def deadline_by_slot(self) -> dict[str, int]:
        return {card.id: card.deadline_ms for group in self.groups for card in group.slots}

    @rx.var
    def ending_soon_by_slot(self) -> dict[str, bool]:
        return {card.id: card.ending_soon for group in self.groups for card in group.slots}

    @rx.var
    def idle_release_by_slot(self) -> dict[str, int]:
        return {card.id: card.idle_release_ms for group in self.groups for card in group.slots}

    @rx.var
    def loaded(self) -> bool:
        return self.version >= 0

    @rx.event
    async def join(self):
        """on_load: link this tab to the shared board (logged-in users only)."""
        auth_state = await self.get_state(AuthState)
        if auth.resolve_token(auth_state.auth_token) is None:
            return
        board = await self._link_to(BOARD_TOKEN)
        if board.version < 0:
            # First tab since the process started: fill the board now.
            board.groups = load_board()
            board.version = db.board_version()


async def publish_board(app) -> None:
    """Lifespan task: keep the shared board equal to the database."""
    interval = get_settings().board_poll_seconds
    last_version: int | None = None
    while True:
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(board_changed.wait(), timeout=interval)
        board_changed.clear()
        try:
            version = await asyncio.to_thread(db.board_version)
            if version == last_version:
                continue
            groups = await asyncio.to_thread(load_board)
            problem = await asyncio.to_thread(engine_problem)
            async with app.modify_state(BaseStateToken(ident=BOARD_TOKEN, cls=SlotBoard)) as root:
                board = await root.get_state(SlotBoard)
                board.groups = groups
                board.engine_problem = problem
                board.version = version
            last_version = version
        except asyncio.CancelledError:
            raise
        except Exception:
            # Database briefly unavailable: keep the last board, try again next tick.
            log.exception("publishing the slot board failed")
