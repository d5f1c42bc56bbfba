"""Append-only log of security and admin events."""

from __future__ import annotations

from sqlmodel import Session

from services.core import clock
from services.core.models import AuditEvent


def record(
    session: Session,
    kind: str,
    *,
    actor_id: int | None = None,
    subject: str = "",
    detail: str = "",
    client_ip: str = "",
) -> None:
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
