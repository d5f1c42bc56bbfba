"""Database tables (SQLModel), and nothing else: its one job. The schema itself is created by Alembic migrations.

Invariants that must survive concurrent requests live here as constraints:
one active session per slot, and a per-user "seat" number that caps how many
slots one person can hold at once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, String, text
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel

from services.core import clock


class UTCDateTime(TypeDecorator):
    """Stores naive UTC, hands back aware UTC, on SQLite and PostgreSQL alike."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime passed to the database; use services.core.clock.now()")
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
    # Secrets are Fernet-encrypted with the app key (services.core.crypto).
    totp_secret_enc: str | None = Field(default=None, max_length=400)
    totp_pending_enc: str | None = Field(default=None, max_length=400)
    # Last accepted TOTP time step: a code is never accepted twice.
    totp_last_step: int | None = None
    onboarded: bool = False
    created_at: datetime = Field(default_factory=clock.now, sa_column=_dt())
    # Secret part of the personal calendar feed URL.
    ics_token: str | None = Field(default=None, sa_column=Column(String(64), unique=True, nullable=True))
    # The Telegram chat that proved it belongs to this person with a one-time code.
    telegram_chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, unique=True, nullable=True))
    telegram_linked_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    telegram_error: str = Field(default="", max_length=300)
    # Last heartbeat of any open portal tab of this person (throttled; see services.idle).
    portal_seen_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


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
    # The login passed a second factor (a TOTP code at login, or enrolment confirmed in it).
    mfa: bool = False
    # A one-time ticket the browser trades for the HttpOnly login cookie (its digest; see
    # services.auth.issue_ticket): single use, cleared when redeemed.
    ticket_digest: str | None = Field(default=None, sa_column=Column(String(64), unique=True, nullable=True))
    ticket_expires_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


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
    # None: the configured default (VDI_SESSION_MAX_MINUTES).
    max_session_minutes: int | None = None
    # None: the configured default (VDI_IDLE_MINUTES).
    idle_minutes: int | None = None
    # When the slot was added (None: before this was recorded); usage advice judges a slot only
    # on the time it has existed.
    created_at: datetime | None = Field(default_factory=clock.now, sa_column=_dt(nullable=True))
    # When the subscription renews: admins are reminded three days ahead.
    renewal_date: date | None = None
    # The subscription's own login, Fernet-encrypted; shown to admins on demand only.
    login_enc: str | None = Field(default=None, max_length=600)
    password_enc: str | None = Field(default=None, max_length=600)


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
    # When the scheduler ends it (length limit or someone's booking); None: no limit.
    deadline_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True, index=True))
    extended: bool = False
    warned_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    # Last moment someone was seen connected to the room (from the provider's presence).
    room_seen_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    # Set when the holder was warned of an idle release; cleared when they come back.
    idle_warned_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


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
    # Demo rooms: the last heartbeat of the room page opened with this grant.
    seen_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


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
    # Which Docker host (a name from VDI_DOCKER_HOSTS) runs the room; None: the first one.
    host: str | None = Field(default=None, max_length=32)
    # Placed by an admin: kept there, never re-placed automatically.
    host_pinned: bool = False


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


BOOKING_ACTIVE = text("status = 'active'")
QUEUE_OPEN = text("status IN ('waiting', 'offered')")
QUEUE_OFFERED = text("status = 'offered'")


class Booking(SQLModel, table=True):
    """A slot reserved for one person over a time range (stored in UTC)."""

    __tablename__ = "bookings"
    __table_args__ = (
        # Seats 1..N of active bookings per user: the per-user limit is decided here.
        Index(
            "uq_bookings_active_seat",
            "user_id",
            "seat",
            unique=True,
            sqlite_where=BOOKING_ACTIVE,
            postgresql_where=BOOKING_ACTIVE,
        ),
        Index("ix_bookings_slot_start", "slot_id", "starts_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    slot_id: str = Field(sa_column=Column(String(32), ForeignKey("slots.id", ondelete="CASCADE"), nullable=False))
    user_id: int = Field(
        sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    starts_at: datetime = Field(sa_column=_dt(index=True))
    ends_at: datetime = Field(sa_column=_dt(index=True))
    status: str = Field(default="active", max_length=16, index=True)  # active|cancelled|expired|completed
    seat: int = 1
    created_at: datetime = Field(sa_column=_dt())
    cancelled_by: int | None = None
    checked_in_session_id: int | None = None
    reminder_sent_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class BookingCell(SQLModel, table=True):
    """Each half hour an active booking holds. The primary key forbids two bookings in one cell,
    which makes overlap impossible on SQLite and PostgreSQL alike, whatever the concurrency."""

    __tablename__ = "booking_cells"

    slot_id: str = Field(sa_column=Column(String(32), ForeignKey("slots.id", ondelete="CASCADE"), primary_key=True))
    cell_start: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    booking_id: int = Field(
        sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True)
    )


class UserBookingCell(SQLModel, table=True):
    """Each half hour an active booking holds for its person, in one of their lanes.

    Lanes are 1..N, N being how many slots one person may hold at once (VDI_MAX_DIRECT_SLOTS):
    the primary key forbids a person a second booking in a lane they already use, so nobody
    holds more overlapping bookings than their limit, however many requests race."""

    __tablename__ = "user_booking_cells"

    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True))
    cell_start: datetime = Field(sa_column=Column(UTCDateTime(), primary_key=True))
    lane: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    booking_id: int = Field(
        sa_column=Column(Integer, ForeignKey("bookings.id", ondelete="CASCADE"), nullable=False, index=True)
    )


class QueueEntry(SQLModel, table=True):
    """A person waiting for a busy slot; the first in line gets an exclusive, timed offer."""

    __tablename__ = "queue_entries"
    __table_args__ = (
        Index(
            "uq_queue_open_member",
            "slot_id",
            "user_id",
            unique=True,
            sqlite_where=QUEUE_OPEN,
            postgresql_where=QUEUE_OPEN,
        ),
        Index("uq_queue_one_offer", "slot_id", unique=True, sqlite_where=QUEUE_OFFERED, postgresql_where=QUEUE_OFFERED),
    )

    id: int | None = Field(default=None, primary_key=True)
    slot_id: str = Field(
        sa_column=Column(String(32), ForeignKey("slots.id", ondelete="CASCADE"), nullable=False, index=True)
    )
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False))
    joined_at: datetime = Field(sa_column=_dt())
    status: str = Field(default="waiting", max_length=16)  # waiting|offered|claimed|expired|left
    offered_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    offer_expires_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    ended_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class Notification(SQLModel, table=True):
    """Outbox of messages to people (Telegram and others). Stored first, delivered later:
    a delivery channel being down delays a message and loses none. dedupe_key makes a
    scheduler that runs twice still notify once."""

    __tablename__ = "notifications"

    id: int | None = Field(default=None, primary_key=True)
    # A person (delivered to their linked chat) or, for replies to a chat not linked yet, the chat itself.
    user_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True)
    )
    chat_id: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    kind: str = Field(max_length=40)
    text: str = Field(max_length=4000)
    document_path: str | None = Field(default=None, max_length=500)
    document_name: str | None = Field(default=None, max_length=200)
    dedupe_key: str = Field(sa_column=Column(String(200), unique=True, nullable=False))
    created_at: datetime = Field(sa_column=_dt(index=True))
    status: str = Field(default="pending", max_length=16, index=True)  # pending|sent|failed|skipped
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    sent_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    last_error: str = Field(default="", max_length=500)


class TelegramLinkCode(SQLModel, table=True):
    """A one-time code shown in the profile; sending /start <code> to the bot links the chat."""

    __tablename__ = "telegram_link_codes"

    code_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False))
    expires_at: datetime = Field(sa_column=_dt())
    used_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))


class Dump(SQLModel, table=True):
    """What a session left behind (pages, files, clipboard, screenshot), packed as one zip."""

    __tablename__ = "dumps"

    session_id: int = Field(sa_column=Column(Integer, ForeignKey("sessions.id", ondelete="CASCADE"), primary_key=True))
    status: str = Field(default="collecting", max_length=16)  # collecting|ready|failed|expired
    path: str | None = Field(default=None, max_length=500)
    size_bytes: int = 0
    pages: int = 0
    files: int = 0
    missing: str = Field(default="", max_length=500)
    created_at: datetime = Field(sa_column=_dt())
    ready_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True))
    expires_at: datetime | None = Field(default=None, sa_column=_dt(nullable=True, index=True))
    notification_id: int | None = None


TEMPLATE_SHARED = text("owner_id IS NULL")
TEMPLATE_PERSONAL = text("owner_id IS NOT NULL")


class Template(SQLModel, table=True):
    """A named set of slots for one kind of task, launched (taken) together.

    Shared ones (no owner) are made by admins and seen by everyone; a personal one only by its owner.
    """

    __tablename__ = "templates"
    __table_args__ = (
        Index(
            "uq_templates_shared_name",
            "name",
            unique=True,
            sqlite_where=TEMPLATE_SHARED,
            postgresql_where=TEMPLATE_SHARED,
        ),
        Index(
            "uq_templates_personal_name",
            "owner_id",
            "name",
            unique=True,
            sqlite_where=TEMPLATE_PERSONAL,
            postgresql_where=TEMPLATE_PERSONAL,
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=80)
    owner_id: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=True, index=True)
    )
    icon: str = Field(default="🔍", max_length=8)
    # Where the task starts; shown on the session page to open in the remote browser.
    url: str | None = Field(default=None, max_length=500)
    created_by: int | None = Field(
        default=None, sa_column=Column(Integer, ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    )
    created_at: datetime = Field(sa_column=_dt())
    usage_count: int = 0


class TemplateSlot(SQLModel, table=True):
    __tablename__ = "template_slots"

    template_id: int = Field(
        sa_column=Column(Integer, ForeignKey("templates.id", ondelete="CASCADE"), primary_key=True)
    )
    slot_id: str = Field(sa_column=Column(String(32), ForeignKey("slots.id", ondelete="CASCADE"), primary_key=True))
    position: int = 0
