"""The app's background jobs in a process of their own, started exactly as an app worker starts
them (the lifespan tasks in vdi_taxi.lifespan), for tests that SIGKILL the process holding a lease."""

from __future__ import annotations

import asyncio
import logging

from services import runtime
from vdi_taxi import lifespan


async def main() -> None:
    runtime.configure()
    async with lifespan.run_scheduler():
        # Either task returns at once when it has nothing to do here (no bot token, demo rooms);
        # the process lives on like an app worker until it is stopped.
        await asyncio.gather(lifespan.run_telegram(), lifespan.keep_rooms_reconciled(), asyncio.Event().wait())


if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s")
    asyncio.run(main())
