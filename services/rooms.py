"""The room provider interface: where a slot's remote browser lives.

State and pages only talk to this interface, so the demo provider and the
Docker/Neko provider are interchangeable by configuration (VDI_ROOM_PROVIDER).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from functools import lru_cache

from services.settings import get_settings


class RoomUnavailable(Exception):
    """The room cannot serve a session right now (starting, broken, engine down)."""


@dataclass(frozen=True)
class RoomAccess:
    """What the session page embeds: a URL only valid for this session."""

    url: str
    is_demo: bool


@dataclass(frozen=True)
class RoomHealth:
    slot_id: str
    state: str  # creating | starting | ready | unhealthy | stopped | error | unknown
    detail: str = ""


class RoomProvider(ABC):
    name: str = "abstract"
    is_demo: bool = False

    @abstractmethod
    def ensure_ready(self, slot_id: str) -> RoomHealth:
        """Create or start the slot's room if needed; report its state."""

    @abstractmethod
    def grant(self, slot_id: str, session_id: int) -> RoomAccess:
        """Give one session access to the room; raise RoomUnavailable if it cannot."""

    @abstractmethod
    def revoke(self, slot_id: str, session_id: int) -> None:
        """Make every credential of that session worthless. Must be idempotent."""

    @abstractmethod
    def health(self, slot_id: str) -> RoomHealth:
        """The room's current state, without changing it."""


@lru_cache(maxsize=1)
def get_room_provider() -> RoomProvider:
    kind = get_settings().room_provider
    if kind == "demo":
        from services.demo_room import DemoRoomProvider

        return DemoRoomProvider()
    raise RoomUnavailable(f"room provider {kind!r} is not available in this build")
