"""Who may touch what: slot ids from the outside, usable slots, the admin check (2FA included).

Shared by every domain module, so it sits in the bottom layer and imports nothing above it.
"""

from __future__ import annotations

import re

from sqlmodel import Session

from services.core.db import session_scope
from services.core.errors import DomainError, Forbidden, NotFound
from services.core.models import Slot, User

SLOT_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,31}$")


def validate_slot_id(slot_id: str) -> str:
    """A slot id as sent by a client: anything that cannot be one is simply not found."""
    slot_id = (slot_id or "").strip()
    if not SLOT_ID_RE.match(slot_id):
        raise NotFound("Слот не найден")
    return slot_id


def usable_slot(session: Session, slot_id: str, user_id: int) -> tuple[Slot, User]:
    """The slot and the person, if this person may book or take it at all (active both)."""
    slot, user = session.get(Slot, slot_id), session.get(User, user_id)
    if user is None or not user.is_active:
        raise Forbidden("Учётная запись отключена")
    if slot is None:
        raise NotFound("Слот не найден")
    if not slot.is_active:
        raise DomainError("Слот отключён администратором")
    return slot, user


def acts_as_admin(user: User | None) -> bool:
    """An active administrator with a second factor enrolled. Whose logins count at all is
    services.auth.resolve_token's business: an enrolled admin's login that skipped 2FA does not."""
    return user is not None and user.is_active and user.is_admin and user.totp_secret_enc is not None


def require_admin(actor_id: int) -> User:
    """Every admin operation starts here, from the web and from Telegram alike."""
    with session_scope() as session:
        actor = session.get(User, actor_id)
    if actor is None or not actor.is_active or not actor.is_admin:
        raise Forbidden("Только для администраторов")
    if not acts_as_admin(actor):
        raise Forbidden("Администратору нужно сначала подключить 2FA")
    return actor


# An address people open: only the web's schemes, never javascript: or file:.
URL_RE = re.compile(r"^https?://.+")
