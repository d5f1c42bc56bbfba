"""Notifications to people, written to the outbox table first.

Callers say what happened; delivery (Telegram) reads the outbox and retries.
A dedupe key per event makes repeated scheduler runs notify once.
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from services.core import clock
from services.core.db import session_scope
from services.core.models import Notification, User


def enqueue(
    user_id: int,
    kind: str,
    text: str,
    dedupe_key: str,
    session: Session | None = None,
    document: tuple[str, str] | None = None,
) -> bool:
    """Store a message (and optionally a file: path, name) for delivery; False if already queued."""
    row = Notification(
        user_id=user_id,
        kind=kind,
        text=text[:4000],
        dedupe_key=dedupe_key[:200],
        created_at=clock.now(),
        next_attempt_at=clock.now(),
        document_path=document[0] if document else None,
        document_name=document[1] if document else None,
    )
    if session is not None:
        # Inside the caller's transaction: checked first, so a duplicate does not abort it.
        if session.exec(select(Notification.id).where(Notification.dedupe_key == row.dedupe_key)).first():
            return False
        session.add(row)
        return True
    try:
        with session_scope() as own:
            own.add(row)
        return True
    except IntegrityError:
        return False


def enqueue_for_admins(kind: str, text: str, dedupe_key: str) -> int:
    """Queue a message for every active admin; the dedupe key makes repeats harmless."""
    with session_scope() as session:
        admins = session.exec(select(User.id).where(User.is_admin, User.is_active)).all()
    return sum(enqueue(admin_id, kind, text, f"{dedupe_key}:{admin_id}") for admin_id in admins)


def enqueue_chat(chat_id: int, kind: str, text: str, dedupe_key: str) -> bool:
    """A reply to a chat (which may not be linked to anyone yet)."""
    row = Notification(
        chat_id=chat_id,
        kind=kind,
        text=text[:4000],
        dedupe_key=dedupe_key[:200],
        created_at=clock.now(),
        next_attempt_at=clock.now(),
    )
    try:
        with session_scope() as session:
            session.add(row)
        return True
    except IntegrityError:
        return False


def pending_for(user_id: int) -> list[Notification]:
    with session_scope() as session:
        return list(
            session.exec(
                select(Notification).where(Notification.user_id == user_id).order_by(Notification.created_at)
            ).all()
        )
