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

    def after_session(self, slot_id: str) -> None:  # noqa: B027  (optional hook)
        """Called once a session has ended and its access is revoked: prepare for the next person."""

    def reconcile(self, force: bool = False) -> object | None:
        """Periodic upkeep of all rooms; providers without containers have none."""
        return None


@lru_cache(maxsize=1)
def get_room_provider() -> RoomProvider:
    if get_settings().room_provider == "demo":
        from services.demo_room import DemoRoomProvider

        return DemoRoomProvider()
    from services.docker_rooms import DockerRoomProvider

    return DockerRoomProvider()
