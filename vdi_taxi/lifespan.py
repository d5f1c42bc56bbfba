"""Background work that lives as long as the app process."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from services import scheduler
from services.core.settings import get_settings
from services.rooms import base as rooms
from services.telegram import worker
from state.board import notify_board_changed

log = logging.getLogger(__name__)


async def keep_rooms_reconciled() -> None:
    """Create, start and heal slot rooms at start-up and then periodically.

    A database lease inside reconcile() makes sure only one process does it.
    """
    provider = rooms.current()
    if provider.is_demo:
        return
    interval = get_settings().rooms.reconcile_seconds
    while True:
        try:
            await asyncio.to_thread(provider.reconcile)
            notify_board_changed()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("room reconcile failed; retrying in %s s", interval)
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def run_scheduler():
    """The booking/queue/session-limit beat, for as long as the app runs."""
    beat = scheduler.start()
    try:
        yield
    finally:
        beat.shutdown(wait=False)


async def run_telegram() -> None:
    """Poll the bot and deliver the outbox (one process at a time, by lease)."""
    await worker.run_worker(interval=1.0)
