"""The room provider interface: where a slot's remote browser lives.

Domain code only talks to this interface, so the demo provider and the Docker/Neko
provider are interchangeable by configuration (VDI_ROOM_PROVIDER). The interface
declares every operation a caller may use; a provider that cannot do one refuses
with a Russian message (RoomActionUnsupported), never an AttributeError.

Which provider runs is decided once, at the top (services.runtime installs a
factory); domain modules ask ``current()`` and never import an implementation.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path


class RoomUnavailable(Exception):
    """The room cannot serve a session right now (starting, broken, engine down)."""


class RoomActionUnsupported(RoomUnavailable):
    """This kind of room has no such operation (a demo room has no container to restart)."""


@dataclass(frozen=True)
class Presence:
    """Someone connected to a room's desktop, or who was and left."""

    member_name: str
    is_connected: bool
    connected_since: datetime | None
    not_connected_since: datetime | None


@dataclass(frozen=True)
class RoomAccess:
    """What the session page embeds: a URL only valid for this session."""

    url: str
    is_demo: bool


# A room's state as people read it (the admin health tab, the session page's errors).
STATE_LABELS = {
    "ready": "работает",
    "demo": "демо-комната",
    "creating": "создаётся",
    "starting": "запускается",
    "resetting": "очищается после сессии",
    "unhealthy": "не отвечает",
    "stopped": "остановлена",
    "error": "в ошибке",
    "unknown": "недоступна",
    "moving": "переносится на другой хост",
}


def state_label(state: str | None) -> str:
    """A room state as people read it; a state without a label (or no room) reads as unavailable."""
    return STATE_LABELS.get(state or "unknown", STATE_LABELS["unknown"])


@dataclass(frozen=True)
class RoomHealth:
    slot_id: str
    state: str  # creating | starting | ready | unhealthy | stopped | error | unknown
    detail: str = ""


@dataclass(frozen=True)
class HostInfo:
    """A Docker host as the health tab shows it; memory in bytes (0 when unknown)."""

    name: str
    answers: bool
    rooms: list[str]
    memory_total: int = 0
    memory_free: int = 0


@dataclass
class Artifacts:
    """What a session left in its room; `missing` says what could not be collected, and why."""

    visits: list = field(default_factory=list)  # services.rooms.chromium_history.Visit
    files: list[tuple[str, Path]] = field(default_factory=list)
    clipboard: str | None = None
    screenshot: bytes | None = None
    missing: list[str] = field(default_factory=list)
    # A private directory holding copies of the room's files; removed once the dump is packed.
    staging: Path | None = None


class RoomProvider(ABC):
    name: str = "abstract"
    is_demo: bool = False
    # How admins' messages name this kind of room.
    kind_label: str = "Комната"

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

    # Admin operations. A provider without containers refuses them in words an admin understands.

    def _unsupported(self) -> RoomActionUnsupported:
        return RoomActionUnsupported(f"{self.kind_label}: у неё нет контейнера, действие не нужно")

    def restart(self, slot_id: str, reason: str = "Перезапуск администратором") -> RoomHealth:
        """Restart the room's browser (the profile stays)."""
        raise self._unsupported()

    def recreate(self, slot_id: str) -> RoomHealth:
        """Remove and create the room again (new image or settings; the profile stays)."""
        raise self._unsupported()

    def kick(self, slot_id: str) -> int:
        """Disconnect everyone from the room's desktop; returns how many were connected."""
        raise self._unsupported()

    def screenshot(self, slot_id: str) -> bytes:
        """A JPEG of the room's desktop."""
        raise self._unsupported()

    def presence(self, slot_id: str) -> list[Presence]:
        """Who is connected to the room's desktop now, and since when."""
        return []

    def hosts(self) -> list[HostInfo]:
        """The Docker hosts rooms run on; none for rooms without containers."""
        return []

    def move(self, slot_id: str, host: str) -> RoomHealth:
        """Carry the room, profile included, to another host and keep it there."""
        raise self._unsupported()


_factory: Callable[[], RoomProvider] | None = None


def install(factory: Callable[[], RoomProvider]) -> None:
    """Called by the composition root (services.runtime) with what builds the configured provider."""
    global _factory
    _factory = factory


def current() -> RoomProvider:
    """The configured room provider."""
    if _factory is None:
        raise RuntimeError("No room provider installed: import services.runtime first")
    return _factory()
