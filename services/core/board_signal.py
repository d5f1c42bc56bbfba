"""Redis pub/sub as the "the board changed" bell between app workers.

The database's board version stays the truth; this only tells every worker to look at it now
instead of at its next poll. A commit that bumped the version rings the bell once (the message
carries nothing but the new wake-up), and each worker's board publisher, subscribed to the
channel, re-reads the board and pushes the changed cards to the tabs it serves. Without
``REFLEX_REDIS_URL`` (one process) nothing is rung and the in-process event does the job.

A lost message costs latency, not correctness: the publishers keep polling the version.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable

import redis
import redis.asyncio as aioredis

from services.core.settings import get_settings

log = logging.getLogger(__name__)

CHANNEL = "vdi-taxi:{db}:board-changed"
# A Redis that does not answer is not retried on every commit for this long.
BACKOFF_SECONDS = 5.0
TIMEOUT_SECONDS = 0.5

_client: redis.Redis | None = None
_client_url = ""
_failed_at = 0.0
_lock = threading.Lock()


def channel(url: str) -> str:
    """Pub/sub ignores Redis database numbers; the channel names it, so two installations
    sharing one Redis on different databases do not wake each other."""
    return CHANNEL.format(db=redis.connection.parse_url(url).get("db", 0))


def _publisher(url: str) -> redis.Redis:
    global _client, _client_url
    with _lock:
        if _client is None or _client_url != url:
            _client = redis.Redis.from_url(url, socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS)
            _client_url = url
        return _client


def ring() -> None:
    """Tell every worker the board changed (best effort; never raises)."""
    global _failed_at
    url = get_settings().redis_url
    if not url or time.monotonic() - _failed_at < BACKOFF_SECONDS:
        return
    try:
        _publisher(url).publish(channel(url), b"1")
    except redis.RedisError as exc:
        _failed_at = time.monotonic()
        log.warning("could not announce a board change on Redis (workers fall back to polling): %s", exc)


async def listen(on_ring: Callable[[], None]) -> None:
    """Call `on_ring` for every bell, for as long as the task runs; reconnects after Redis drops.

    Returns at once without Redis."""
    url = get_settings().redis_url
    if not url:
        return
    while True:
        client = aioredis.Redis.from_url(url, socket_connect_timeout=TIMEOUT_SECONDS)
        try:
            async with client.pubsub(ignore_subscribe_messages=True) as pubsub:
                await pubsub.subscribe(channel(url))
                # Changes made while we were not subscribed are caught by this first look.
                on_ring()
                async for _message in pubsub.listen():
                    on_ring()
        except asyncio.CancelledError:
            raise
        except (redis.RedisError, OSError) as exc:
            log.warning("board bell on Redis lost (%s); resubscribing in %s s", exc, BACKOFF_SECONDS)
            await asyncio.sleep(BACKOFF_SECONDS)
        finally:
            await client.aclose()
