"""A room that needs no Docker: a page served by the app itself, labelled as a demo.

It keeps the production semantics that matter to users and tests: each session
gets its own one-time URL, and that URL stops working the moment the session ends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import select

from services.core import clock, crypto
from services.core.db import session_scope
from services.core.models import RoomGrant, Slot, SlotSession, User
from services.core.settings import get_settings
from services.rooms.base import Artifacts, Presence, RoomAccess, RoomHealth, RoomProvider
from services.rooms.chromium_history import Visit

DEMO_ROOM_PATH = "/room/demo"


@dataclass(frozen=True)
class DemoRoomView:
    slot_id: str
    service_name: str
    service_url: str
    user_name: str
    started_at: datetime


class DemoRoomProvider(RoomProvider):
    name = "demo"
    is_demo = True
    kind_label = "Демо-комната"

    def ensure_ready(self, slot_id: str) -> RoomHealth:
        return RoomHealth(slot_id=slot_id, state="ready", detail="Демо-комната")

    def health(self, slot_id: str) -> RoomHealth:
        return self.ensure_ready(slot_id)

    def grant(self, slot_id: str, session_id: int) -> RoomAccess:
        token = secrets.token_urlsafe(24)
        with session_scope() as session:
            session.add(
                RoomGrant(
                    slot_id=slot_id,
                    session_id=session_id,
                    token_hash=crypto.token_digest(token),
                    created_at=clock.now(),
                )
            )
        return RoomAccess(url=f"{DEMO_ROOM_PATH}/{quote(slot_id)}?token={token}", is_demo=True)

    def collect(self, slot_id: str, started_at: datetime, ended_at: datetime) -> Artifacts:
        """The demo room has no browser: the dump says which page the session opened."""
        with session_scope() as session:
            slot = session.get(Slot, slot_id)
        visits = [Visit(slot.url, slot.service_name, started_at)] if slot and slot.url else []
        return Artifacts(visits=visits, missing=["буфер обмена (демо-комната)", "скриншот (демо-комната)"])

    def presence(self, slot_id: str) -> list[Presence]:
        """The room page reports in while it is open (demo_room_heartbeat); silence means it was closed."""
        now = clock.now()
        # Two missed heartbeats and a margin: a throttled background tab still counts as open.
        window = timedelta(seconds=2.5 * get_settings().booking.presence_seconds)
        with session_scope() as session:
            grants = session.exec(
                select(RoomGrant).where(
                    RoomGrant.slot_id == slot_id, RoomGrant.revoked_at.is_(None), RoomGrant.seen_at.is_not(None)
                )
            ).all()
        return [
            Presence("demo", g.seen_at >= now - window, g.seen_at, None if g.seen_at >= now - window else g.seen_at)
            for g in grants
            if g.seen_at is not None
        ]

    def revoke(self, slot_id: str, session_id: int) -> None:
        with session_scope() as session:
            session.exec(
                update(RoomGrant)
                .where(RoomGrant.session_id == session_id, RoomGrant.revoked_at.is_(None))
                .values(revoked_at=clock.now())
            )


def open_demo_room(slot_id: str, token: str) -> DemoRoomView | None:
    """The room behind a URL, or None if the URL is unknown, for another slot, or revoked."""
    if not token or len(token) > 200:
        return None
    with session_scope() as session:
        row = session.exec(
            select(RoomGrant, SlotSession, Slot, User)
            .join(SlotSession, SlotSession.id == RoomGrant.session_id)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .where(RoomGrant.token_hash == crypto.token_digest(token))
        ).first()
        if row is None:
            return None
        grant, work, slot, user = row
        if grant.revoked_at is not None or work.ended_at is not None or grant.slot_id != slot_id:
            return None
        return DemoRoomView(
            slot_id=slot.id,
            service_name=slot.service_name,
            service_url=slot.url or "",
            user_name=user.name,
            started_at=work.started_at,
        )


def demo_room_heartbeat(slot_id: str, token: str) -> bool:
    """The demo room page with this one-time token is still open; False if the token no longer opens it."""
    if not token or len(token) > 200 or len(slot_id) > 40:
        return False
    with session_scope() as session:
        result = session.exec(
            update(RoomGrant)
            .where(
                RoomGrant.token_hash == crypto.token_digest(token),
                RoomGrant.slot_id == slot_id,
                RoomGrant.revoked_at.is_(None),
            )
            .values(seen_at=clock.now())
        )
        return result.rowcount == 1
