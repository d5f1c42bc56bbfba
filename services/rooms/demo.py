"""A room that needs no Docker: a page served by the app itself, labelled as a demo.

It keeps the production semantics that matter to users and tests: each session
gets its own one-time URL, and that URL stops working the moment the session ends.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import select

from services.core import clock, crypto
from services.core.db import session_scope
from services.core.models import RoomGrant, Slot, SlotSession, User
from services.rooms.base import Artifacts, RoomAccess, RoomHealth, RoomProvider
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
