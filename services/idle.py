"""Idle sessions: who is still there, judged by the room and by the holder's portal tabs.

A session is idle when nobody has been connected to its room and no portal tab of
the holder has reported in for the slot's idle limit. Presence is kept as "last
seen" stamps in the database, so every worker and the scheduler see the same thing:
- ``users.portal_seen_at``: the heartbeat of any open portal tab (throttled to one
  write per person per ``_WRITE_EVERY``, so 200 open tabs cost a few writes a second);
- ``sessions.room_seen_at``: the last time the room's provider reported someone connected.
The scheduler (services.scheduler) warns, then releases; coming back clears the warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlmodel import select

from services.core import clock
from services.core.access import validate_slot_id
from services.core.db import bump_board_version, session_scope
from services.core.errors import NotFound
from services.core.models import Slot, SlotSession, User
from services.core.settings import get_settings
from services.rooms.base import Presence

# A heartbeat closer than this to the last recorded one is not written again.
_WRITE_EVERY = timedelta(seconds=15)


def idle_limit(slot: Slot) -> timedelta | None:
    """How long a session in this slot may stay unattended; None: never released for idling."""
    minutes = slot.idle_minutes if slot.idle_minutes is not None else get_settings().booking.idle_minutes
    return timedelta(minutes=minutes) if minutes > 0 else None


def grace() -> timedelta:
    return timedelta(minutes=get_settings().booking.idle_grace_minutes)


def last_active(work: SlotSession, holder: User) -> datetime:
    """The last moment the session was attended: its start, the room, or any portal tab of the holder."""
    return max(t for t in (work.started_at, work.room_seen_at, holder.portal_seen_at) if t is not None)


def room_seen(presence: list[Presence], now: datetime) -> datetime | None:
    """When someone was last connected to the room, from the provider's report."""
    if any(p.is_connected for p in presence):
        return now
    left = [p.not_connected_since for p in presence if p.not_connected_since is not None]
    return min(max(left), now) if left else None


def _cancel_warnings(session, user_id: int) -> int:
    result = session.exec(
        update(SlotSession)
        .where(SlotSession.user_id == user_id, SlotSession.ended_at.is_(None), SlotSession.idle_warned_at.is_not(None))
        .values(idle_warned_at=None)
    )
    if result.rowcount:
        bump_board_version(session)  # the banner disappears from the session page
    return result.rowcount


def record_portal(user_id: int, *, force: bool = False) -> bool:
    """A portal tab of this person is open: remember it (cheaply) and call off any idle warning.

    Returns True if anything was written."""
    now = clock.now()
    with session_scope() as session:
        if not force:
            # Most beats find a fresh stamp: a read answers them without taking a write lock.
            seen = session.exec(select(User.portal_seen_at).where(User.id == user_id)).first()
            if seen is not None and seen >= now - _WRITE_EVERY:
                return False
        stamp = update(User).where(User.id == user_id, User.is_active)
        if not force:
            stamp = stamp.where(or_(User.portal_seen_at.is_(None), User.portal_seen_at < now - _WRITE_EVERY))
        if session.exec(stamp.values(portal_seen_at=now)).rowcount != 1:
            return False
        _cancel_warnings(session, user_id)
    return True


def still_here(user_id: int, slot_id: str) -> None:
    """«Я здесь» on the session page: the holder confirms they are back."""
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        running = session.exec(
            select(SlotSession.id).where(
                SlotSession.slot_id == slot_id, SlotSession.user_id == user_id, SlotSession.ended_at.is_(None)
            )
        ).first()
    if running is None:
        raise NotFound("Нет активной сессии для этого слота")
    record_portal(user_id, force=True)


def note_room_seen(session, session_id: int, seen: datetime) -> bool:
    """Move the session's room stamp forward (never back); True if it moved."""
    result = session.exec(
        update(SlotSession)
        .where(
            SlotSession.id == session_id,
            or_(SlotSession.room_seen_at.is_(None), SlotSession.room_seen_at < seen),
        )
        .values(room_seen_at=seen)
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class IdleState:
    idle_minutes: int
    warned_at: datetime | None
    release_at: datetime | None

    @property
    def label(self) -> str:
        text = "активна" if self.idle_minutes < 1 else f"простой {self.idle_minutes} мин"
        if self.release_at is not None:
            text += f" · освобождение в {clock.hhmm(self.release_at)}"
        return text


def idle_state(work: SlotSession, holder: User, now: datetime) -> IdleState:
    idle = max(0, int((now - last_active(work, holder)).total_seconds() // 60))
    release = work.idle_warned_at + grace() if work.idle_warned_at is not None else None
    return IdleState(idle, work.idle_warned_at, release)
