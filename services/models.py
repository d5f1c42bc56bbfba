"""Database tables (SQLModel). The schema itself is created by Alembic migrations.

Invariants that must survive concurrent requests live here as constraints:
one active session per slot, and a per-user "seat" number that caps how many
slots one person can hold at once.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import Column, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from services import clock


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime passed to the database; use services.clock.now()")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def _dt(nullable: bool = False, index: bool = False) -> Column:
    return Column(UTCDateTime(), nullable=nullable, index=index)


ACTIVE = text("ended_at IS NULL")


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    name: str = Field(max_length=120)
    password_hash: str = Field(max_length=200)
    is_admin: bool = False
    is_active: bool = True
    # Secrets are Fernet-encrypted with the app key (services.crypto).
    totp_secret_enc: str | None = Field(default=None, max_length=400)
    totp_pending_enc: str | None = Field(default=None, max_length=400)
    # Last accepted TOTP time step: a code is never accepted twice.
    totp_last_step: int | None = None
    onboarded: bool = False
    created_at: datetime = Field(default_factory=clock.now, sa_column=_dt())


class AuthToken(SQLModel, table=True):
    """Every issued login token, so logout and deactivation revoke it at once."""

    __tablename__ = "auth_tokens"

    jti: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=False)
    )
    issued_at: datetime = Field(sa_column=_dt())
    expires_at: datetime = Field(sa_column=_dt())
    revoked_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    client_ip: str = Field(default="", max_length=64)


class LoginThrottle(SQLModel, table=True):
    """Failed-login counters per account and per IP address."""

    __tablename__ = "login_throttle"

    key: str = Field(primary_key=True, max_length=200)
    failures: int = 0
    locked_until: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    updated_at: datetime = Field(sa_column=_dt())


class Slot(SQLModel, table=True):
    __tablename__ = "slots"

    id: str = Field(primary_key=True, max_length=32)
    service_name: str = Field(max_length=120)
    tier: str | None = Field(default=None, max_length=40)
    category: str = Field(max_length=40)
    category_accent: str = Field(default="#3b82f6", max_length=9)
    monthly_cost: float = 0.0
    url: str | None = Field(default=None, max_length=500)
    is_active: bool = True
    sort_order: int = 0


class SlotSession(SQLModel, table=True):
    """One person working in one slot, from take to release."""

    __tablename__ = "sessions"
    __table_args__ = (
        # At most one running session per slot: the race for a free slot is decided here.
        Index("uq_sessions_active_slot", "slot_id", unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE),
        # Seats 1..N per user: the per-user limit is decided here.
        Index("uq_sessions_active_seat", "user_id", "seat", unique=True, sqlite_where=ACTIVE, postgresql_where=ACTIVE),
    )

    id: int | None = Field(default=None, primary_key=True)
    slot_id: str = Field(sa_column=Column(String(32), ForeignKey("slots.id"), nullable=False, index=True))
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id"), nullable=False, index=True))
    seat: int = 1
    via_template: bool = False
    started_at: datetime = Field(sa_column=_dt(index=True))
    ended_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    end_reason: str | None = Field(default=None, max_length=32)
    ended_by: int | None = Field(default=None, sa_column=Column(Integer, ForeignKey("users.id"), nullable=True))
    # The embeddable room URL carries a one-time credential: kept encrypted.
    access_url_enc: str | None = Field(default=None, max_length=2000)


class Favourite(SQLModel, table=True):
    __tablename__ = "favourites"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))
    slot_id: str = Field(sa_column=Column(String(32), ForeignKey("slots.id", ondelete="CASCADE"), primary_key=True))


class RoomGrant(SQLModel, table=True):
    """A one-time access credential to a demo room, valid while its session runs."""

    __tablename__ = "room_grants"

    id: int | None = Field(default=None, primary_key=True)
    slot_id: str = Field(max_length=32, index=True)
    session_id: int = Field(sa_column=Column(Integer, ForeignKey("sessions.id"), nullable=False, index=True))
    token_hash: str = Field(sa_column=Column(String(64), unique=True, nullable=False))
    created_at: datetime = Field(sa_column=_dt())
    revoked_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    # Neko rooms: the per-session member created for this grant (deleted on revoke).
    member_id: str | None = Field(default=None, max_length=64)
    member_name: str | None = Field(default=None, max_length=64)


class AuditEvent(SQLModel, table=True):
    """Security and admin events, newest last; read by the admin audit view."""

    __tablename__ = "audit_events"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_dt(index=True))
    kind: str = Field(max_length=40, index=True)
    actor_id: int | None = None
    subject: str = Field(default="", max_length=200)
    detail: str = Field(default="", max_length=1000)
    client_ip: str = Field(default="", max_length=64)


class BoardVersion(SQLModel, table=True):
    """A counter bumped by every change that the live dashboard shows.

    Each app process polls it, so a change made by another worker, the scheduler
    or the operator CLI still reaches every open tab.
    """

    __tablename__ = "board_version"

    id: int = Field(default=1, primary_key=True)
    version: int = 0


class Room(SQLModel, table=True):
    """The container behind a slot: its fixed ports, secrets and last known state."""

    __tablename__ = "rooms"

    slot_id: str = Field(sa_column=Column(String(32), ForeignKey("slots.id", ondelete="CASCADE"), primary_key=True))
    # Ports derive from the index, so a unique index means non-overlapping port ranges.
    room_index: int = Field(sa_column=Column(Integer, unique=True, nullable=False))
    state: str = Field(default="creating", max_length=16)
    detail: str = Field(default="", max_length=500)
    container_id: str | None = Field(default=None, max_length=80)
    api_token_enc: str | None = Field(default=None, max_length=400)
    restarts: int = 0
    backoff_until: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    updated_at: datetime = Field(sa_column=_dt())


class SystemStatus(SQLModel, table=True):
    """Health of shared dependencies (the Docker engine, ...), shown to admins."""

    __tablename__ = "system_status"

    key: str = Field(primary_key=True, max_length=40)
    state: str = Field(max_length=16)
    detail: str = Field(default="", max_length=500)
    updated_at: datetime = Field(sa_column=_dt())


class Lease(SQLModel, table=True):
    """Who runs a periodic job right now; taken with a conditional update, so only one process does."""

    __tablename__ = "leases"

    name: str = Field(primary_key=True, max_length=40)
    holder: str = Field(max_length=80)
    expires_at: datetime = Field(sa_column=_dt())
