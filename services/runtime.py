"""The composition root of the services: which implementation stands behind each interface.

Everything that starts the system (the app, the operator CLI, tests, benchmarks) calls
``configure()`` once; domain code only sees the interfaces (``services.rooms.base.current()``).
"""

from __future__ import annotations

from functools import lru_cache

from services.core import db, settings
from services.rooms import base as rooms
from services.rooms.base import RoomProvider
from services.rooms.demo import DemoRoomProvider
from services.rooms.docker import DockerRoomProvider


@lru_cache(maxsize=1)
def room_provider() -> RoomProvider:
    """The provider VDI_ROOM_PROVIDER names, built once per process."""
    if settings.get_settings().room_provider == "docker":
        return DockerRoomProvider()
    return DemoRoomProvider()


def configure() -> None:
    """Put the configured implementations behind the interfaces (idempotent)."""
    rooms.install(room_provider)


def reset() -> None:
    """Forget settings, engines and providers, so the next call reads the environment again (tests)."""
    settings.get_settings.cache_clear()
    room_provider.cache_clear()
    db.dispose_engines()
    configure()
