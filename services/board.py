"""The live board: every active slot as a card, the same for every viewer, in a few queries."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import select

from services import bookings, idle, queue, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.models import Room, Slot, SlotSession, User
from services.rooms.base import state_label

log = logging.getLogger(__name__)


def room_label(state: str) -> str:
    """What a card says of a room that is not ready («Комната запускается»); nothing when it is."""
    return "" if state == "ready" else f"Комната {state_label(state)}"


@dataclass(frozen=True)
class SlotCard:
    """One card of the dashboard, the same for every viewer."""

    id: str
    service_name: str
    tier: str
    category: str
    accent: str
    busy: bool = False
    occupant_id: int = 0
    occupant_name: str = ""
    session_id: int = 0
    started_at_ms: int = 0
    room_state: str = "ready"
    room_label: str = ""
    deadline_ms: int = 0
    # Inside the warning window before the deadline: the session page warns and offers «Продлить».
    ending_soon: bool = False
    # While ending soon: why «Продлить» would be refused (shown instead of the button), "" if allowed.
    extend_refusal: str = ""
    # Set while the holder is warned of an idle release: when the slot will be released.
    idle_release_ms: int = 0
    booked_by_id: int = 0
    booked_by_name: str = ""
    booked_until: str = ""
    next_booking: str = ""
    offered_to_id: int = 0
    offered_to_name: str = ""
    offer_expires_ms: int = 0
    queue_size: int = 0
    # str(user id) -> 1-based place in line, so each viewer finds their own position.
    queue_positions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class CategoryGroup:
    category: str
    accent: str
    slots: list[SlotCard] = field(default_factory=list)


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def load_board() -> list[CategoryGroup]:
    """Active slots grouped by category in their configured order."""
    with session_scope() as session:
        slots = session.exec(select(Slot).where(Slot.is_active).order_by(Slot.sort_order, Slot.id)).all()
        running = session.exec(
            select(SlotSession, User).join(User, User.id == SlotSession.user_id).where(SlotSession.ended_at.is_(None))
        ).all()
        rooms = {r.slot_id: r for r in session.exec(select(Room)).all()}
        now = clock.now()
        day_end = clock.local(now).replace(hour=23, minute=59, second=59).astimezone(now.tzinfo)
        # A few queries for the whole board, however many slots there are.
        booked_now, upcoming = bookings.board_bookings(session, now, day_end)
        offers = queue.current_offers(session, now)
        queues = queue.queue_sizes(session)
        # Only sessions about to end are asked whether they may be extended (a few at a time).
        refusals = {
            work.id: sessions.extend_refusal(session, work, now)
            for work, _ in running
            if sessions.ending_soon(work, now)
        }
    by_slot = {work.slot_id: (work, user) for work, user in running}
    groups: dict[str, CategoryGroup] = {}
    for slot in slots:
        group = groups.setdefault(slot.category, CategoryGroup(category=slot.category, accent=slot.category_accent))
        work_user = by_slot.get(slot.id)
        room = rooms.get(slot.id)
        card = SlotCard(
            id=slot.id,
            service_name=slot.service_name,
            tier=slot.tier or "",
            category=slot.category,
            accent=slot.category_accent,
            room_state=room.state if room else "ready",
            room_label=room_label(room.state) if room else "",
        )
        extra: dict = {}
        if work_user:
            work, user = work_user
            assert work.id is not None and user.id is not None
            extra.update(
                busy=True,
                occupant_id=user.id,
                occupant_name=user.name,
                session_id=work.id,
                started_at_ms=_ms(work.started_at),
                deadline_ms=_ms(work.deadline_at) if work.deadline_at else 0,
                ending_soon=work.id in refusals,
                extend_refusal=refusals.get(work.id, ""),
                idle_release_ms=_ms(work.idle_warned_at + idle.grace()) if work.idle_warned_at else 0,
            )
        if (booked := booked_now.get(slot.id)) is not None:
            extra.update(
                booked_by_id=booked[1].id, booked_by_name=booked[1].name, booked_until=clock.hhmm(booked[0].ends_at)
            )
        if (nxt := upcoming.get(slot.id)) is not None:
            extra["next_booking"] = f"Бронь с {clock.hhmm(nxt.starts_at)}"
        if (offer := offers.get(slot.id)) is not None:
            extra.update(
                offered_to_id=offer.user_id, offered_to_name=offer.user_name, offer_expires_ms=_ms(offer.expires_at)
            )
        if line := queues.get(slot.id):
            extra.update(queue_size=len(line), queue_positions={str(uid): i + 1 for i, uid in enumerate(line)})
        if extra:
            card = SlotCard(**{**card.__dict__, **extra})
        group.slots.append(card)
    return list(groups.values())


def cards() -> dict[str, SlotCard]:
    """Every card of the board by slot id."""
    return {card.id: card for group in load_board() for card in group.slots}
