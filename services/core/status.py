"""Health of shared dependencies (the Docker engine, ...), kept in the database for every process."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from services.core import clock
from services.core.db import bump_board_version, session_scope
from services.core.models import SystemStatus


def set_status(key: str, state: str, detail: str = "") -> bool:
    """Record the state; True when it changed (the moment to tell someone)."""
    try:
        return _set_status(key, state, detail)
    except IntegrityError:  # another thread or process wrote the first row meanwhile
        return _set_status(key, state, detail)


def _set_status(key: str, state: str, detail: str) -> bool:
    with session_scope() as session:
        row = session.get(SystemStatus, key)
        changed = row is None or row.state != state
        if row is None:
            row = SystemStatus(key=key, state=state, detail=detail[:500], updated_at=clock.now())
        row.state, row.detail, row.updated_at = state, detail[:500], clock.now()
        session.add(row)
        if changed:
            bump_board_version(session)
    return changed


def engine_problem() -> str:
    """What admins should know about shared dependencies right now ('' when all is well)."""
    with session_scope() as session:
        row = session.get(SystemStatus, "docker")
    return row.detail if row is not None and row.state != "ok" else ""
