"""Database leases: one process at a time runs a periodic job, whatever the worker count."""

from __future__ import annotations

import logging
import os
import socket
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from services.core import clock
from services.core.db import session_scope
from services.core.models import Lease
from services.core.settings import get_settings

log = logging.getLogger(__name__)
# (lease, holder) pairs this process holds, so the log tells when a job moves, not every renewal.
_held: set[tuple[str, str]] = set()


def this_process() -> str:
    """The holder name of the calling process. Read at call time, not import time: the app's
    workers are forked from a supervisor that imported this module, and a name fixed at import
    would be the same in every worker, letting all of them "hold" one lease at once."""
    return f"{socket.gethostname()}:{os.getpid()}"


def period() -> timedelta:
    """How long a job's holder keeps its lease without renewing it (VDI_LEASE_SECONDS). A holder
    renews on every beat; when it dies, another process takes over once the period has run out."""
    return timedelta(seconds=get_settings().lease_seconds)


def _dead_here(holder: str) -> bool:
    """A holder on this very host whose process is gone (killed, crashed): its lease is free now,
    not when it times out, so a restarted app picks up overdue work at once."""
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return False


def acquire(name: str, ttl: timedelta, holder: str | None = None) -> bool:
    """Take or renew the lease; True if this holder owns it until now + ttl."""
    holder = holder or this_process()
    held = _acquire(name, ttl, holder)
    key = (name, holder)
    if held and key not in _held:
        _held.add(key)
        log.info("%s runs %s now", holder, name)
    elif not held and key in _held:
        _held.discard(key)
        log.warning("%s no longer runs %s: another process holds it", holder, name)
    return held


def _acquire(name: str, ttl: timedelta, holder: str) -> bool:
    now = clock.now()
    with session_scope() as session:
        result = session.exec(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
            .values(holder=holder, expires_at=now + ttl)
        )
        if result.rowcount == 1:
            return True
        current = session.get(Lease, name)
        if current is not None and current.holder != holder and _dead_here(current.holder):
            result = session.exec(
                update(Lease)
                .where(Lease.name == name, Lease.holder == current.holder)
                .values(holder=holder, expires_at=now + ttl)
            )
            if result.rowcount == 1:
                return True
        if current is not None:
            return False
    try:
        with session_scope() as session:
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False


def release(name: str, holder: str | None = None) -> None:
    holder = holder or this_process()
    _held.discard((name, holder))
    with session_scope() as session:
        session.exec(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=clock.now()))
