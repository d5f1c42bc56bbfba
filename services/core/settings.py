"""All configuration in one place, read from ``VDI_*`` environment variables.

This module has one job, so it is long: every variable the app reads is declared here, next
to its default and its limits, and README's configuration tables mirror it. Each field names
its variable (``var("BOOKING_OPEN", ...)`` reads ``VDI_BOOKING_OPEN``); parsing and type
checks come from pydantic-settings, and every failure becomes a ``SettingsError`` that names
the variable, so an operator sees which line of the environment to fix.

Defaults are safe for a laptop (SQLite under ./data, demo rooms, demo data). There is no
built-in secret: without ``VDI_SECRET_KEY`` the first start writes a random key into
``$VDI_DATA_DIR/secret_key`` (0600) and every later start reuses it. Production refuses
a short explicit key and a low bcrypt cost instead of silently running with them.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    SkipValidation,
    ValidationError,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from services.core import files

ROOT_DIR = Path(__file__).resolve().parents[2]
SECRET_KEY_FILE = "secret_key"
# Variables whose values never appear in an error message (they may hold passwords or tokens).
SECRET_VARIABLES = {"VDI_SECRET_KEY", "VDI_DATABASE_URL", "VDI_TELEGRAM_TOKEN"}
MIN_SECRET_LENGTH = 32
# What Telegram allows in a username (5-32 letters, digits, underscores).
BOT_USERNAME_RE = re.compile(r"[A-Za-z0-9_]{5,32}")


class SettingsError(ValueError):
    """The environment describes a configuration the app must not start with."""


def var(name: str, default: Any = None, *, default_factory: Any = None, **limits: Any) -> Any:
    """A field read from ``VDI_<name>``; ``limits`` are pydantic constraints such as ``ge=1``."""
    if default_factory is not None:
        return Field(default_factory=default_factory, validation_alias=f"VDI_{name}", **limits)
    return Field(default, validation_alias=f"VDI_{name}", **limits)


# --- value formats an operator writes by hand ---------------------------------------------


def _lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _time_of_day(value: Any) -> int:
    """``09:00`` -> minutes after midnight; ``24:00`` is allowed as the end of the day."""
    if isinstance(value, int):
        return value
    try:
        hours, minutes = (int(x) for x in str(value).split(":"))
    except ValueError:
        raise ValueError("must look like 09:00") from None
    if not (0 <= hours <= 24 and 0 <= minutes < 60) or hours * 60 + minutes > 24 * 60:
        raise ValueError("is not a time of day")
    return hours * 60 + minutes


def _minutes_list(value: Any) -> tuple[int, ...]:
    """``30,60,120`` -> (30, 60, 120): sorted, duplicates dropped, each a positive multiple of 30."""
    if isinstance(value, str):
        try:
            value = {int(x) for x in value.split(",") if x.strip()}
        except ValueError:
            raise ValueError("must be a comma-separated list of minutes") from None
    values = tuple(sorted(value))
    if not values or any(v <= 0 or v % 30 for v in values):
        raise ValueError("durations must be positive multiples of 30 minutes")
    return values


def _weekdays(value: Any) -> frozenset[int]:
    """``1-5`` or ``1,3,5`` (or both, ``1-3,6``) -> ISO weekdays, 1 = Monday."""
    if not isinstance(value, str):
        return frozenset(value)
    days: set[int] = set()
    try:
        for part in value.split(","):
            lo, _, hi = part.strip().partition("-")
            days.update(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise ValueError("must look like 1-5 or 1,2,3") from None
    if not days or not days <= set(range(1, 8)):
        raise ValueError("weekdays are 1 (Monday) to 7 (Sunday)")
    return frozenset(days)


def _timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("unknown time zone") from None
    return value


def _bot_username(value: str) -> str:
    name = value.removeprefix("@")
    if name and not BOT_USERNAME_RE.fullmatch(name):
        raise ValueError("must be a Telegram username such as @vdi_taxi_bot")
    return name


def _resolved(path: Path) -> Path:
    return path.resolve()


def _networks(value: Any) -> tuple[str, ...]:
    """``127.0.0.1, 172.16.0.0/12`` -> normalised networks; anything else is refused."""
    if not isinstance(value, str):
        return tuple(value)
    networks: list[str] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        try:
            networks.append(str(ipaddress.ip_network(part, strict=False)))
        except ValueError:
            raise ValueError(f"{part!r} is not an IP address or network") from None
    return tuple(networks)


HOST_NAME_RE = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")


def _docker_hosts(value: Any) -> tuple[tuple[str, str], ...]:
    """``a=unix:///var/run/docker.sock, b=tcp://10.0.0.5:2376`` -> ((name, url), ...).

    The name is how the database records a room's host; without one it is ``local`` for a
    socket and the address's host name for tcp:// and ssh://."""
    if not isinstance(value, str):
        return tuple(tuple(v) for v in value)  # type: ignore[misc]
    hosts: list[tuple[str, str]] = []
    for part in (p.strip() for p in value.split(",")):
        if not part:
            continue
        name, sep, url = part.partition("=")
        if not sep or "://" in name:
            name, url = "", part
        url = url.strip()
        scheme, _, rest = url.partition("://")
        if scheme not in ("unix", "tcp", "ssh") or not rest:
            raise ValueError(f"{url!r}: a Docker host is unix://, tcp:// or ssh://")
        if not name:
            name = "local" if scheme == "unix" else rest.rpartition("@")[2].split(":")[0].split("/")[0]
        name = name.strip().lower().replace(".", "-")
        if not HOST_NAME_RE.fullmatch(name):
            raise ValueError(f"{name!r} is not a host name (letters, digits, dashes; up to 32)")
        if any(name == n for n, _ in hosts):
            raise ValueError(f"host name {name!r} appears twice")
        hosts.append((name, url))
    return tuple(hosts)


Lower = BeforeValidator(_lower)
Upper = BeforeValidator(lambda value: value.strip().upper() if isinstance(value, str) else value)
TimeOfDay = Annotated[int, BeforeValidator(_time_of_day)]
# NoDecode: the value is plain text such as 30,60,120, not the JSON pydantic-settings expects for lists.
MinutesList = Annotated[tuple[int, ...], NoDecode, BeforeValidator(_minutes_list)]
Weekdays = Annotated[frozenset[int], NoDecode, BeforeValidator(_weekdays)]
ResolvedPath = Annotated[Path, AfterValidator(_resolved)]
Networks = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_networks)]
DockerHosts = Annotated[tuple[tuple[str, str], ...], NoDecode, BeforeValidator(_docker_hosts)]


def _data_dir_from_env() -> Path:
    """VDI_DATA_DIR as ``Settings.data_dir`` reads it; the room group needs it for its own default."""
    return Path(os.environ.get("VDI_DATA_DIR", "").strip() or ROOT_DIR / "data").resolve()


class _Env(BaseSettings):
    """Common reading rules: values are stripped, an empty variable counts as unset."""

    model_config = SettingsConfigDict(
        frozen=True,
        extra="ignore",
        env_prefix="VDI_",
        case_sensitive=True,  # vdi_env is not VDI_ENV, as before
        env_ignore_empty=True,
        validate_default=True,
        # No .env file and no secrets directory: the process environment is the only source.
        env_file=None,
    )

    @model_validator(mode="before")
    @classmethod
    def _strip(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: v.strip() if isinstance(v, str) else v for k, v in data.items()}
        return data


# --- groups --------------------------------------------------------------------------------


class RoomSettings(_Env):
    """Where and how slot rooms (Neko containers) run; used by the Docker provider."""

    docker_host: str = Field(
        "unix:///var/run/docker.sock", validation_alias=AliasChoices("VDI_DOCKER_HOST", "DOCKER_HOST")
    )
    # Several room hosts (README, "Scaling out"); empty: the one engine of VDI_DOCKER_HOST.
    docker_hosts: DockerHosts = var("DOCKER_HOSTS", "")
    # TLS for tcp:// hosts: <dir>/<host name>/{ca,cert,key}.pem, or shared <dir>/{ca,cert,key}.pem.
    docker_cert_dir: Path | None = var("DOCKER_CERT_DIR", None)
    image: str = var("NEKO_IMAGE", "ghcr.io/m1k1o/neko/chromium:3.1.5")
    instance: str = var("ROOM_INSTANCE", "main")
    data_dir: ResolvedPath = var("ROOM_DATA_DIR", default_factory=lambda: _data_dir_from_env() / "rooms")
    http_port_base: int = var("ROOM_HTTP_PORT_BASE", 18100, ge=1024)
    udp_port_base: int = var("ROOM_UDP_PORT_BASE", 59000, ge=1024)
    udp_ports_per_room: int = var("ROOM_UDP_PORTS_PER_ROOM", 5, ge=1)
    # WebRTC media: 0.0.0.0 on a real host so browsers can reach it; loopback by default.
    udp_bind: str = var("ROOM_UDP_BIND", "127.0.0.1")
    public_ip: str = var("ROOM_PUBLIC_IP", "")
    url_template: str = var("ROOM_URL_TEMPLATE", "http://localhost:{http_port}/")
    api_mode: Annotated[Literal["published", "network"], Lower] = var("ROOM_API_MODE", "published")
    network: str = var("ROOM_NETWORK", "")
    memory: str = var("ROOM_MEMORY", "3g")
    # Process and CPU ceilings, so one room (a fork bomb, a runaway page) cannot starve the host.
    # Chromium with a dozen tabs runs a few hundred threads (each counts as a pid).
    pids_limit: int = var("ROOM_PIDS_LIMIT", 1024, ge=64)
    cpus: float = var("ROOM_CPUS", 2.0, ge=0.1, le=64)
    screen: str = var("ROOM_SCREEN", "1920x1080@30")
    policy_file: Path = var("ROOM_POLICY_FILE", ROOT_DIR / "deploy" / "neko" / "policies.json")
    reconcile_seconds: int = var("RECONCILE_SECONDS", 30, ge=2)
    ready_timeout_seconds: int = var("ROOM_READY_TIMEOUT", 60, ge=1)

    @model_validator(mode="after")
    def _consistent(self) -> RoomSettings:
        if self.api_mode == "network" and not self.network:
            raise ValueError("VDI_ROOM_API_MODE=network needs VDI_ROOM_NETWORK")
        if "{http_port}" not in self.url_template and "{slot}" not in self.url_template:
            raise ValueError("VDI_ROOM_URL_TEMPLATE must contain {http_port} or {slot}")
        return self

    @property
    def hosts(self) -> tuple[tuple[str, str], ...]:
        """Every room host as (name, engine URL); the first is where rooms of unknown placement live."""
        return self.docker_hosts or (("local", self.docker_host),)


class BookingSettings(_Env):
    """Booking, queue and session-time rules (times of day in the configured timezone)."""

    open_minute: TimeOfDay = var("BOOKING_OPEN", "09:00")
    close_minute: TimeOfDay = var("BOOKING_CLOSE", "21:00")
    durations: MinutesList = var("BOOKING_DURATIONS", "30,60,120")
    max_minutes: int = var("BOOKING_MAX_MINUTES", 120, ge=30)
    max_future: int = var("MAX_FUTURE_BOOKINGS", 3, ge=1)
    days_ahead: int = var("BOOKING_DAYS_AHEAD", 14, ge=1)
    checkin_minutes: int = var("CHECKIN_MINUTES", 15, ge=1)
    offer_minutes: int = var("QUEUE_OFFER_MINUTES", 5, ge=1)
    session_max_minutes: int = var("SESSION_MAX_MINUTES", 180, ge=5)
    warn_minutes: int = var("SESSION_WARN_MINUTES", 5, ge=1)
    tick_seconds: int = var("SCHEDULER_TICK_SECONDS", 5, ge=1)
    # Idle release: no one in the room and no portal tab of the holder for this long (0: off).
    idle_minutes: int = var("IDLE_MINUTES", 15, ge=0)
    idle_grace_minutes: int = var("IDLE_GRACE_MINUTES", 5, ge=1)
    # How often an open portal tab or demo room reports that it is still open.
    presence_seconds: int = var("PRESENCE_SECONDS", 60, ge=5)
    # ISO weekdays (1 = Monday) counted as working days by the utilisation report.
    work_days: Weekdays = var("WORK_DAYS", "1-5")

    @model_validator(mode="after")
    def _consistent(self) -> BookingSettings:
        if self.open_minute % 30 or self.close_minute % 30 or self.open_minute >= self.close_minute:
            raise ValueError("VDI_BOOKING_OPEN must be before VDI_BOOKING_CLOSE, both on a 30-minute grid")
        if self.max_minutes < min(self.durations):
            raise ValueError("VDI_BOOKING_MAX_MINUTES is shorter than every allowed duration")
        return self


class TelegramSettings(_Env):
    token: str = var("TELEGRAM_TOKEN", "")
    api_url: str = var("TELEGRAM_API_URL", "https://api.telegram.org/bot")
    file_url: str = var("TELEGRAM_FILE_URL", "https://api.telegram.org/file/bot")
    link_code_minutes: int = var("TELEGRAM_LINK_MINUTES", 15, ge=1)
    # The bot's @username for the profile's link; empty: learnt from the Bot API (getMe) at start.
    bot_username: Annotated[str, AfterValidator(_bot_username)] = var("TELEGRAM_BOT_USERNAME", "")
    # The Bot API refuses documents over 50 MB; bigger dumps go as a download link.
    max_document_mb: int = var("TELEGRAM_MAX_DOCUMENT_MB", 50, ge=1)
    dump_keep_days: int = var("DUMP_KEEP_DAYS", 14, ge=1)

    @property
    def configured(self) -> bool:
        return bool(self.token)

    @property
    def max_document_bytes(self) -> int:
        return self.max_document_mb * 1024 * 1024


# --- the whole configuration -----------------------------------------------------------------


def _default_public_url() -> str:
    return "http://localhost:" + (os.environ.get("VDI_PORT", "").strip() or "3000")


def _default_database_url(data: dict[str, Any]) -> str:
    data_dir = data.get("data_dir", _data_dir_from_env())
    return f"sqlite:///{data_dir / 'vdi_taxi.db'}"


class Settings(_Env):
    env: Annotated[Literal["development", "production", "test"], Lower] = var("ENV", "development")
    data_dir: ResolvedPath = var("DATA_DIR", ROOT_DIR / "data")
    database_url: str = var("DATABASE_URL", default_factory=_default_database_url)
    # How long a write waits for another writer's lock (SQLite) before it fails with a clear message.
    db_busy_seconds: int = var("DB_BUSY_SECONDS", 30, ge=1)
    # Empty until load_settings() fills it from VDI_SECRET_KEY or from the key file in data_dir.
    secret_key: str = var("SECRET_KEY", "")
    timezone_name: Annotated[str, AfterValidator(_timezone)] = var("TIMEZONE", "Europe/Moscow")
    token_ttl_minutes: int = var("TOKEN_TTL_MINUTES", 12 * 60, ge=5)
    max_direct_slots: int = var("MAX_DIRECT_SLOTS", 1, ge=1)
    max_template_slots: int = var("MAX_TEMPLATE_SLOTS", 4, ge=1)
    login_lock_threshold: int = var("LOGIN_LOCK_THRESHOLD", 5, ge=1)
    login_lock_base_seconds: int = var("LOGIN_LOCK_BASE_SECONDS", 30, ge=1)
    login_lock_max_seconds: int = var("LOGIN_LOCK_MAX_SECONDS", 3600, ge=1)
    # Failures from one address (any accounts) before that address is throttled.
    login_ip_lock_threshold: int = var("LOGIN_IP_LOCK_THRESHOLD", 20, ge=1)
    # Failures against one account (any addresses) within the window that alert the admins.
    login_alert_threshold: int = var("LOGIN_ALERT_THRESHOLD", 10, ge=1)
    # Direct peers whose X-Forwarded-For / X-Real-IP is believed (the reverse proxy).
    trusted_proxies: Networks = var("TRUSTED_PROXIES", ())
    room_provider: Annotated[Literal["demo", "docker"], Lower] = var("ROOM_PROVIDER", "demo")
    demo_data: bool = var("DEMO_DATA", default_factory=lambda data: data.get("env") != "production")
    board_poll_ms: int = var("BOARD_POLL_MS", 500, ge=50)
    bcrypt_rounds: int = var("BCRYPT_ROUNDS", 12, ge=4)
    # How long the process running a background job keeps it without renewing; another takes over after.
    lease_seconds: int = var("LEASE_SECONDS", 30, ge=2)
    # Backend worker processes (read by rxconfig.py for granian); more than one needs Redis.
    workers: int = var("WORKERS", 1, ge=1)
    # What the app's own log (services, state, vdi_taxi) prints on stderr; INFO shows logins,
    # sessions and room changes, WARNING only what needs an operator.
    log_level: Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR"], Upper] = var("LOG_LEVEL", "INFO")
    public_url: Annotated[str, AfterValidator(lambda url: url.rstrip("/"))] = var(
        "PUBLIC_URL", default_factory=_default_public_url
    )
    # The groups read and check their own variables; load_settings() builds them and passes them in.
    rooms: SkipValidation[RoomSettings]
    booking: SkipValidation[BookingSettings]
    telegram: SkipValidation[TelegramSettings]

    @property
    def production(self) -> bool:
        return self.env == "production"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone_name)

    @property
    def board_poll_seconds(self) -> float:
        return self.board_poll_ms / 1000

    @property
    def redis_url(self) -> str:
        """Reflex's Redis (tab state of several workers), also the board's bell between them."""
        return os.environ.get("REFLEX_REDIS_URL", "").strip()

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        if self.production and self.secret_key and len(self.secret_key) < MIN_SECRET_LENGTH:
            raise ValueError(
                f"VDI_SECRET_KEY must be a random value of at least {MIN_SECRET_LENGTH} characters "
                "in production (python -c 'import secrets; print(secrets.token_urlsafe(48))'), "
                "or left unset so the app keeps a generated key in VDI_DATA_DIR"
            )
        if self.production and self.bcrypt_rounds < 12:
            raise ValueError("VDI_BCRYPT_ROUNDS below 12 is only allowed outside production")
        if self.workers > 1 and not self.redis_url:
            raise ValueError(
                "VDI_WORKERS above 1 needs REFLEX_REDIS_URL: without Redis each worker would keep its own tabs"
            )
        if self.booking.tick_seconds >= self.lease_seconds:
            raise ValueError("VDI_SCHEDULER_TICK_SECONDS must be below VDI_LEASE_SECONDS (each beat renews it)")
        if self.max_direct_slots > self.max_template_slots:
            raise ValueError("VDI_MAX_DIRECT_SLOTS cannot exceed VDI_MAX_TEMPLATE_SLOTS")
        return self


# --- loading ---------------------------------------------------------------------------------


def _describe(exc: ValidationError) -> list[str]:
    """pydantic's errors as lines an operator can act on, each naming its variable."""
    lines = []
    for error in exc.errors():
        if error["type"] == "default_factory_not_called":
            continue  # a derived default skipped because the field it derives from is reported
        message = error["msg"].removeprefix("Value error, ")
        if error["loc"]:
            # loc starts with the field's alias, which is the variable's name.
            name = error["loc"][0]
            got = "" if name in SECRET_VARIABLES else f", got {error['input']!r}"
            lines.append(f"{name}: {message}{got}")
        else:
            lines.append(message)
    return lines


def stored_secret_key(data_dir: Path) -> str:
    """The generated key in ``data_dir``, created on first use.

    Several processes may start at once (app workers, the operator CLI, the migration step),
    so the key is written in full to a private temporary file and published with ``link()``,
    which fails when the name exists: exactly one key ever appears, and nobody reads half of it.
    """
    path = data_dir / SECRET_KEY_FILE
    try:
        if not path.exists():
            files.private_dir(data_dir)
            tmp = data_dir / f".{SECRET_KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}"
            with files.create_private(tmp) as fh:
                fh.write((secrets.token_urlsafe(48) + "\n").encode())
                fh.flush()
                os.fsync(fh.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process published its key first; use that one
            finally:
                tmp.unlink()
        files.private_file(path)
        key = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"cannot keep the secret key in VDI_DATA_DIR ({path}): {exc}") from exc
    if len(key) < MIN_SECRET_LENGTH:
        raise SettingsError(f"{path} does not hold a usable key; remove it to generate a new one or set VDI_SECRET_KEY")
    return key


def load_settings() -> Settings:
    errors: list[str] = []
    groups: dict[str, _Env] = {}
    for name, group in (("rooms", RoomSettings), ("booking", BookingSettings), ("telegram", TelegramSettings)):
        try:
            groups[name] = group()
        except ValidationError as exc:
            errors += _describe(exc)
            # Unchecked defaults stand in so the rest is still checked: the operator sees every mistake at once.
            groups[name] = group.model_construct()
    try:
        settings = Settings(**groups)
    except ValidationError as exc:
        errors += _describe(exc)
    if errors:
        raise SettingsError("; ".join(errors))
    if not settings.secret_key:
        settings = settings.model_copy(update={"secret_key": stored_secret_key(settings.data_dir)})
    return settings


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
