"""The room provider interface: where a slot's remote browser lives.

State and pages only talk to this interface, so the demo provider and the
Docker/Neko provider are interchangeable by configuration (VDI_ROOM_PROVIDER).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path

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


@dataclass
class Artifacts:
    """What a session left in its room; `missing` says what could not be collected, and why."""

    visits: list = field(default_factory=list)  # services.chromium_history.Visit
    files: list[tuple[str, Path]] = field(default_factory=list)
    clipboard: str | None = None
    screenshot: bytes | None = None
    missing: list[str] = field(default_factory=list)


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

    def access_valid(self, slot_id: str, session_id: int) -> bool:
        """Whether the session's URL still opens the room (a restarted room forgets its members)."""
        return True

    def collect(self, slot_id: str, started_at: datetime, ended_at: datetime) -> Artifacts:
        """Gather the session's work from the room, before it is reset."""
        return Artifacts(missing=["данные комнаты (провайдер не умеет собирать)"])

    def clear_downloads(self, slot_id: str, names: list[str]) -> None:  # noqa: B027  (optional hook)
        """Remove packed downloads, so the next person does not get them."""

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
