"""Append-only log of security and admin events."""

from __future__ import annotations

import logging

from sqlmodel import Session

from services.core import clock
from services.core.models import AuditEvent

log = logging.getLogger(__name__)


def record(
    session: Session,
    kind: str,
    *,
    actor_id: int | None = None,
    subject: str = "",
    detail: str = "",
    client_ip: str = "",
) -> None:
    # The operator's copy in the app log: kinds and names only, never details (they may carry text
    # someone typed). Logged when recorded; a rolled-back transaction still shows the attempt.
    log.info("%s %s%s", kind, subject[:200] or "-", f" from {client_ip[:64]}" if client_ip else "")
    session.add(
        AuditEvent(
            at=clock.now(),
            kind=kind,
            actor_id=actor_id,
            subject=subject[:200],
            detail=detail[:1000],
            client_ip=client_ip[:64],
        )
    )
