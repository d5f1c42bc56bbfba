"""All configuration in one place, read from ``VDI_*`` environment variables.

Defaults are safe for a laptop (SQLite under ./data, demo rooms, demo data);
production mode refuses the default secret instead of silently running with it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_SECRET = "dev-only-secret-change-me"
ROOT_DIR = Path(__file__).resolve().parents[2]


class SettingsError(ValueError):
    """The environment describes a configuration the app must not start with."""


def _env(name: str, default: str) -> str:
    return os.environ.get(f"VDI_{name}", default).strip()


def _env_int(name: str, default: int, minimum: int = 0) -> int:
    raw = _env(name, str(default))
    try:
        value = int(raw)
    except ValueError as exc:
        raise SettingsError(f"VDI_{name} must be an integer, got {raw!r}") from exc
    if value < minimum:
        raise SettingsError(f"VDI_{name} must be >= {minimum}, got {value}")
    return value


def _env_bool(name: str, default: bool) -> bool:
    raw = _env(name, "1" if default else "0").lower()
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise SettingsError(f"VDI_{name} must be a boolean, got {raw!r}")


@dataclass(frozen=True)
class RoomSettings:
    """Where and how slot rooms (Neko containers) run; used by the Docker provider."""

    docker_host: str
    image: str
    instance: str
    data_dir: Path
    http_port_base: int
    udp_port_base: int
    udp_ports_per_room: int
    udp_bind: str
    public_ip: str
    url_template: str
    api_mode: str
    network: str
    memory: str
    screen: str
    policy_file: Path
    reconcile_seconds: int
    ready_timeout_seconds: int


@dataclass(frozen=True)
class BookingSettings:
    """Booking, queue and session-time rules (times of day in the configured timezone)."""

    open_minute: int
    close_minute: int
    durations: tuple[int, ...]
    max_minutes: int
    max_future: int
    days_ahead: int
    checkin_minutes: int
    offer_minutes: int
    session_max_minutes: int
    warn_minutes: int
    tick_seconds: int
    # ISO weekdays (1 = Monday) counted as working days by the utilisation report.
    work_days: frozenset[int]


def _env_weekdays(name: str, default: str) -> frozenset[int]:
    raw = _env(name, default)
    days: set[int] = set()
    try:
        for part in raw.split(","):
            lo, _, hi = part.strip().partition("-")
            days.update(range(int(lo), int(hi or lo) + 1))
    except ValueError as exc:
        raise SettingsError(f"VDI_{name} must look like 1-5 or 1,2,3, got {raw!r}") from exc
    if not days or not days <= set(range(1, 8)):
        raise SettingsError(f"VDI_{name}: weekdays are 1 (Monday) to 7 (Sunday), got {raw!r}")
    return frozenset(days)


def _env_hhmm(name: str, default: str) -> int:
    raw = _env(name, default)
    try:
        hours, minutes = (int(x) for x in raw.split(":"))
    except ValueError as exc:
        raise SettingsError(f"VDI_{name} must look like 09:00, got {raw!r}") from exc
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise SettingsError(f"VDI_{name} is not a time of day: {raw!r}")
    return hours * 60 + minutes


def _env_minutes_list(name: str, default: str) -> tuple[int, ...]:
    raw = _env(name, default)
    try:
        values = tuple(sorted({int(x) for x in raw.split(",") if x.strip()}))
    except ValueError as exc:
        raise SettingsError(f"VDI_{name} must be a comma-separated list of minutes, got {raw!r}") from exc
    if not values or any(v <= 0 or v % 30 for v in values):
        raise SettingsError(f"VDI_{name}: durations must be positive multiples of 30 minutes")
    return values


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    api_url: str
    file_url: str
    link_code_minutes: int
    max_document_bytes: int
    dump_keep_days: int

    @property
    def configured(self) -> bool:
        return bool(self.token)


@dataclass(frozen=True)
class Settings:
    env: str
    data_dir: Path
    database_url: str
    secret_key: str
    timezone_name: str
    token_ttl_minutes: int
    max_direct_slots: int
    max_template_slots: int
    login_lock_threshold: int
    login_lock_base_seconds: int
    login_lock_max_seconds: int
    room_provider: str
    demo_data: bool
    board_poll_seconds: float
    bcrypt_rounds: int
    rooms: RoomSettings
    booking: BookingSettings
    telegram: TelegramSettings
    public_url: str

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone_name)

    def validate(self) -> None:
        if self.env not in {"development", "production", "test"}:
            raise SettingsError("VDI_ENV must be development, production or test")
        try:
            ZoneInfo(self.timezone_name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise SettingsError(f"Unknown VDI_TIMEZONE {self.timezone_name!r}") from exc
        if self.production and (self.secret_key == DEFAULT_SECRET or len(self.secret_key) < 32):
            raise SettingsError(
                "VDI_SECRET_KEY must be set to a random value of at least 32 characters "
                "in production (python -c 'import secrets; print(secrets.token_urlsafe(48))')"
            )
        if self.production and self.bcrypt_rounds < 12:
            raise SettingsError("VDI_BCRYPT_ROUNDS below 12 is only allowed outside production")
        if self.room_provider not in {"demo", "docker"}:
            raise SettingsError("VDI_ROOM_PROVIDER must be demo or docker")
        if self.rooms.api_mode not in {"published", "network"}:
            raise SettingsError("VDI_ROOM_API_MODE must be published or network")
        if self.rooms.api_mode == "network" and not self.rooms.network:
            raise SettingsError("VDI_ROOM_API_MODE=network needs VDI_ROOM_NETWORK")
        if "{http_port}" not in self.rooms.url_template and "{slot}" not in self.rooms.url_template:
            raise SettingsError("VDI_ROOM_URL_TEMPLATE must contain {http_port} or {slot}")
        b = self.booking
        if b.open_minute % 30 or b.close_minute % 30 or b.open_minute >= b.close_minute:
            raise SettingsError("VDI_BOOKING_OPEN must be before VDI_BOOKING_CLOSE, both on a 30-minute grid")
        if b.max_minutes < min(b.durations):
            raise SettingsError("VDI_BOOKING_MAX_MINUTES is shorter than every allowed duration")
        if self.max_direct_slots > self.max_template_slots:
            raise SettingsError("VDI_MAX_DIRECT_SLOTS cannot exceed VDI_MAX_TEMPLATE_SLOTS")


def load_settings() -> Settings:
    env = _env("ENV", "development").lower()
    data_dir = Path(_env("DATA_DIR", str(ROOT_DIR / "data"))).resolve()
    default_db = f"sqlite:///{data_dir / 'vdi_taxi.db'}"
    settings = Settings(
        env=env,
        data_dir=data_dir,
        database_url=_env("DATABASE_URL", default_db),
        secret_key=_env("SECRET_KEY", DEFAULT_SECRET),
        timezone_name=_env("TIMEZONE", "Europe/Moscow"),
        token_ttl_minutes=_env_int("TOKEN_TTL_MINUTES", 12 * 60, minimum=5),
        max_direct_slots=_env_int("MAX_DIRECT_SLOTS", 1, minimum=1),
        max_template_slots=_env_int("MAX_TEMPLATE_SLOTS", 4, minimum=1),
        login_lock_threshold=_env_int("LOGIN_LOCK_THRESHOLD", 5, minimum=1),
        login_lock_base_seconds=_env_int("LOGIN_LOCK_BASE_SECONDS", 30, minimum=1),
        login_lock_max_seconds=_env_int("LOGIN_LOCK_MAX_SECONDS", 3600, minimum=1),
        room_provider=_env("ROOM_PROVIDER", "demo").lower(),
        demo_data=_env_bool("DEMO_DATA", env != "production"),
        board_poll_seconds=_env_int("BOARD_POLL_MS", 500, minimum=50) / 1000,
        bcrypt_rounds=_env_int("BCRYPT_ROUNDS", 12, minimum=4),
        rooms=RoomSettings(
            docker_host=_env("DOCKER_HOST", os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")),
            image=_env("NEKO_IMAGE", "ghcr.io/m1k1o/neko/chromium:3.1.5"),
            instance=_env("ROOM_INSTANCE", "main"),
            data_dir=Path(_env("ROOM_DATA_DIR", str(data_dir / "rooms"))).resolve(),
            http_port_base=_env_int("ROOM_HTTP_PORT_BASE", 18100, minimum=1024),
            udp_port_base=_env_int("ROOM_UDP_PORT_BASE", 59000, minimum=1024),
            udp_ports_per_room=_env_int("ROOM_UDP_PORTS_PER_ROOM", 5, minimum=1),
            # WebRTC media: 0.0.0.0 on a real host so browsers can reach it; loopback by default.
            udp_bind=_env("ROOM_UDP_BIND", "127.0.0.1"),
            public_ip=_env("ROOM_PUBLIC_IP", ""),
            url_template=_env("ROOM_URL_TEMPLATE", "http://localhost:{http_port}/"),
            api_mode=_env("ROOM_API_MODE", "published").lower(),
            network=_env("ROOM_NETWORK", ""),
            memory=_env("ROOM_MEMORY", "3g"),
            screen=_env("ROOM_SCREEN", "1920x1080@30"),
            policy_file=Path(_env("ROOM_POLICY_FILE", str(ROOT_DIR / "deploy" / "neko" / "policies.json"))),
            reconcile_seconds=_env_int("RECONCILE_SECONDS", 30, minimum=2),
            ready_timeout_seconds=_env_int("ROOM_READY_TIMEOUT", 60, minimum=1),
        ),
        telegram=TelegramSettings(
            token=_env("TELEGRAM_TOKEN", ""),
            api_url=_env("TELEGRAM_API_URL", "https://api.telegram.org/bot"),
            file_url=_env("TELEGRAM_FILE_URL", "https://api.telegram.org/file/bot"),
            link_code_minutes=_env_int("TELEGRAM_LINK_MINUTES", 15, minimum=1),
            # The Bot API refuses documents over 50 MB; bigger dumps go as a download link.
            max_document_bytes=_env_int("TELEGRAM_MAX_DOCUMENT_MB", 50, minimum=1) * 1024 * 1024,
            dump_keep_days=_env_int("DUMP_KEEP_DAYS", 14, minimum=1),
        ),
        public_url=_env("PUBLIC_URL", "http://localhost:" + os.environ.get("VDI_PORT", "3000")).rstrip("/"),
        booking=BookingSettings(
            open_minute=_env_hhmm("BOOKING_OPEN", "09:00"),
            close_minute=_env_hhmm("BOOKING_CLOSE", "21:00"),
            durations=_env_minutes_list("BOOKING_DURATIONS", "30,60,120"),
            max_minutes=_env_int("BOOKING_MAX_MINUTES", 120, minimum=30),
            max_future=_env_int("MAX_FUTURE_BOOKINGS", 3, minimum=1),
            days_ahead=_env_int("BOOKING_DAYS_AHEAD", 14, minimum=1),
            checkin_minutes=_env_int("CHECKIN_MINUTES", 15, minimum=1),
            offer_minutes=_env_int("QUEUE_OFFER_MINUTES", 5, minimum=1),
            session_max_minutes=_env_int("SESSION_MAX_MINUTES", 180, minimum=5),
            warn_minutes=_env_int("SESSION_WARN_MINUTES", 5, minimum=1),
            tick_seconds=_env_int("SCHEDULER_TICK_SECONDS", 5, minimum=1),
            work_days=_env_weekdays("WORK_DAYS", "1-5"),
        ),
    )
    settings.validate()
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
