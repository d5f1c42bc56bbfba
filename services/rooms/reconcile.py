"""Room upkeep: bring containers in line with the slots, at start-up and every VDI_RECONCILE_SECONDS.

Creates missing rooms, starts stopped ones, restarts rooms that stopped answering
(with back-off and an alert), removes rooms of deleted slots, stops rooms of disabled
ones, and retries revocations that failed while a room was unreachable. A database
lease lets one process do it at a time. Every Docker host is checked in its own thread: a host
that does not answer marks only its own rooms `unknown`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta

from docker.errors import APIError
from docker.models.containers import Container
from sqlmodel import select

from services import alerts
from services.core import clock, leases
from services.core.db import session_scope
from services.core.models import Room, RoomGrant, Slot, SlotSession
from services.rooms import hosts as room_hosts
from services.rooms.containers import ENGINE_ERRORS, RoomContainers

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=10)
# A move that has not finished in this long was interrupted (the process died): reconcile takes over.
MOVE_GRACE = timedelta(minutes=15)


@dataclass(frozen=True)
class ReconcileReport:
    ran: bool
    engine_ok: bool
    states: dict[str, str]
    removed: list[str]
    seconds: float
    # Whether each Docker host answered during the pass.
    hosts: dict[str, bool] = field(default_factory=dict)


def reconcile(ctl: RoomContainers, revoke: Callable[[str, int], None], force: bool = False) -> ReconcileReport:
    """Bring containers in line with the slots; safe to run from several processes."""
    began = time.monotonic()
    ttl = timedelta(seconds=max(ctl.cfg.reconcile_seconds * 2, ctl.cfg.ready_timeout_seconds + 30))
    if not force and not leases.acquire("reconcile-rooms", ttl):
        return ReconcileReport(False, True, {}, [], 0.0)
    try:
        with session_scope() as session:
            all_slots = {s.id: s for s in session.exec(select(Slot)).all()}
            placed = {r.slot_id for r in session.exec(select(Room)).all()}
        # New rooms are placed one after another, so each placement sees the ones before it.
        for slot in all_slots.values():
            if slot.is_active and slot.id not in placed:
                ctl.room_row(slot.id)
        with session_scope() as session:
            host_of = {r.slot_id: r.host or ctl.default_host for r in session.exec(select(Room)).all()}
        names = list(ctl.host_urls)
        with ThreadPoolExecutor(max_workers=len(names), thread_name_prefix="reconcile") as pool:
            results = list(pool.map(lambda name: _reconcile_host(ctl, name, all_slots, host_of), names))
        _retry_revocations(revoke)
        with session_scope() as session:
            states = {r.slot_id: r.state for r in session.exec(select(Room)).all()}
        removed = [slot_id for _, gone in results for slot_id in gone]
        answered = {name: ok for name, (ok, _) in zip(names, results, strict=True)}
        return ReconcileReport(True, all(answered.values()), states, removed, time.monotonic() - began, answered)
    finally:
        if not force:
            leases.release("reconcile-rooms")


def _reconcile_host(
    ctl: RoomContainers, host: str, all_slots: dict[str, Slot], host_of: dict[str, str]
) -> tuple[bool, list[str]]:
    """One host's pass; (whether the engine answered, the rooms removed there)."""
    try:
        ctl.client(host).ping()
        ours = ctl.our_containers(host)
    except ENGINE_ERRORS as exc:
        ctl.engine_down(exc, host)
        return False, []
    ctl.engine_ok(host)
    try:
        # A container of a room placed elsewhere (moved away) is a stray here.
        here = {slot_id: slot for slot_id, slot in all_slots.items() if host_of.get(slot_id, host) == host}
        removed = _remove_strays(ctl, ours, here)
        room_hosts.remove_stale_helpers(ctl.client(host), ctl.cfg.instance, MOVE_GRACE, clock.now())
        waiting = _start_missing(ctl, ours, [s for s in here.values() if s.is_active])
        if waiting:
            for slot_id, ok in ctl.wait_ready(waiting, ctl.cfg.ready_timeout_seconds).items():
                if not ok:
                    _mark_unhealthy(ctl, slot_id, "Не ответила вовремя после запуска")
        return True, removed
    except ENGINE_ERRORS as exc:
        # A conflict with a concurrent change (container removed meanwhile) is retried next pass.
        if isinstance(exc, APIError):
            log.warning("reconcile pass on %s stopped early: %s", host, exc)
            return True, []
        ctl.engine_down(exc, host)
        return False, []


def _remove_strays(ctl: RoomContainers, ours: dict[str, Container], slots: dict[str, Slot]) -> list[str]:
    removed = []
    for slot_id, container in ours.items():
        if slot_id not in slots:
            container.remove(force=True)
            removed.append(slot_id)
        elif not slots[slot_id].is_active and container.status == "running":
            container.stop(timeout=10)
            ctl.set_state(slot_id, "stopped", "Слот отключён")
    return removed


def _start_missing(ctl: RoomContainers, ours: dict[str, Container], active: list[Slot]) -> list[Room]:
    waiting = []
    now = clock.now()
    for slot in active:
        try:
            _reconcile_room(ctl, slot, ours.get(slot.id), now, waiting)
        except APIError as exc:
            # One room's problem (e.g. its name taken by a foreign container) must not stall the rest.
            ctl.set_state(slot.id, "error", f"Docker: {exc.explanation or exc}"[:500])
    return waiting


def _reconcile_room(ctl: RoomContainers, slot: Slot, container: Container | None, now, waiting: list[Room]) -> None:
    room = ctl.room_row(slot.id)
    assert room is not None
    if room.backoff_until and room.backoff_until > now and room.state == "unhealthy":
        return
    if room.state == "moving" and now - room.updated_at < MOVE_GRACE:
        return
    if container is None:
        ctl.create_container(slot, room)
        waiting.append(room)
    elif container.status != "running":
        ctl.start_container(slot.id, container)
        waiting.append(room)
    elif room.state != "resetting":
        health = (container.attrs.get("State", {}).get("Health") or {}).get("Status")
        if ctl.answers(room):
            ctl.set_state(slot.id, "ready", "", backoff_until=None)
        elif health == "unhealthy" or room.state in {"ready", "unknown", "unhealthy"}:
            _restart_with_backoff(ctl, slot.id, room, container)
            waiting.append(room)
        else:
            waiting.append(room)


def _restart_with_backoff(ctl: RoomContainers, slot_id: str, room: Room, container: Container) -> None:
    attempt = room.restarts + 1
    alerts.alert_admins(
        "room_unhealthy",
        f"🚨 Алерт\nКомната {slot_id} не отвечала — перезапуск №{attempt}.",
        f"room_restart:{slot_id}:{attempt}:{room.updated_at.isoformat()}",
    )
    container.restart(timeout=10)
    ctl.set_state(
        slot_id,
        "starting",
        f"Не отвечала — перезапуск №{attempt}",
        restarts=attempt,
    )


def _mark_unhealthy(ctl: RoomContainers, slot_id: str, reason: str) -> None:
    room = ctl.room_row(slot_id, create=False)
    if room is None:
        return
    delay = min(timedelta(seconds=30 * 2 ** min(room.restarts, 10)), MAX_BACKOFF)
    ctl.set_state(slot_id, "unhealthy", reason, backoff_until=clock.now() + delay)


def _retry_revocations(revoke: Callable[[str, int], None]) -> None:
    with session_scope() as session:
        pending = session.exec(
            select(RoomGrant.slot_id, RoomGrant.session_id)
            .join(SlotSession, SlotSession.id == RoomGrant.session_id)
            .where(RoomGrant.revoked_at.is_(None), SlotSession.ended_at.is_not(None))
            .distinct()
        ).all()
    for slot_id, session_id in pending:
        revoke(slot_id, session_id)
