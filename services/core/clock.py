"""The one source of "now" (so tests can move time without patching datetime), and local-time display."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.core.settings import get_settings

_frozen: datetime | None = None


def now() -> datetime:
    """Current time, timezone-aware UTC."""
    return _frozen if _frozen is not None else datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Pin (or with None, release) the clock; for tests and benchmarks only."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("freeze() needs an aware datetime")
    _frozen = at.astimezone(UTC) if at is not None else None


def local(dt: datetime) -> datetime:
    """The moment in the configured timezone (times are stored in UTC, shown locally)."""
    return dt.astimezone(get_settings().tz)


def today() -> date:
    """Today's date where the people are (the configured timezone)."""
    return local(now()).date()


def hhmm(dt: datetime) -> str:
    return f"{local(dt):%H:%M}"
