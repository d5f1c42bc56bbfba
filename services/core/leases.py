"""Database leases: one process at a time runs a periodic job, whatever the worker count."""

from __future__ import annotations

import os
import socket
from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError

from services.core import clock
from services.core.db import session_scope
from services.core.models import Lease

HOLDER = f"{socket.gethostname()}:{os.getpid()}"


def acquire(name: str, ttl: timedelta, holder: str = HOLDER) -> bool:
    """Take or renew the lease; True if this holder owns it until now + ttl."""
    now = clock.now()
    with session_scope() as session:
        result = session.exec(
            update(Lease)
            .where(Lease.name == name, or_(Lease.holder == holder, Lease.expires_at <= now))
            .values(holder=holder, expires_at=now + ttl)
        )
        if result.rowcount == 1:
            return True
    try:
        with session_scope() as session:
            session.add(Lease(name=name, holder=holder, expires_at=now + ttl))
        return True
    except IntegrityError:
        return False


def release(name: str, holder: str = HOLDER) -> None:
    with session_scope() as session:
        session.exec(update(Lease).where(Lease.name == name, Lease.holder == holder).values(expires_at=clock.now()))
