"""Configuration an operator writes, the refusals they would hit, and what lands on disk."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from services import dumps, sessions
from services.core.db import make_engine, session_scope
from services.core.models import Dump
from services.core.settings import ROOT_DIR, SECRET_KEY_FILE, SettingsError, load_settings

PRINT_KEY = "from services.core.settings import get_settings; print(get_settings().secret_key)"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def bare_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only VDI_DATA_DIR (a temporary one) is set: what an operator gets with no configuration."""
    data_dir = os.environ["VDI_DATA_DIR"]
    for key in list(os.environ):
        if key.startswith("VDI_") or key == "DOCKER_HOST":
            monkeypatch.delenv(key)
    monkeypatch.setenv("VDI_DATA_DIR", data_dir)


def test_an_unconfigured_install_gets_the_documented_defaults(bare_env):
    s = load_settings()
    data_dir = Path(os.environ["VDI_DATA_DIR"]).resolve()
    assert (s.env, s.production, s.demo_data) == ("development", False, True)
    assert s.data_dir == data_dir
    assert s.database_url == f"sqlite:///{data_dir / 'vdi_taxi.db'}"
    assert s.public_url == "http://localhost:3000"
    assert (s.timezone_name, str(s.tz)) == ("Europe/Moscow", "Europe/Moscow")
    assert (s.token_ttl_minutes, s.max_direct_slots, s.max_template_slots) == (720, 1, 4)
    assert (s.login_lock_threshold, s.login_lock_base_seconds, s.login_lock_max_seconds) == (5, 30, 3600)
    assert (s.room_provider, s.board_poll_seconds, s.bcrypt_rounds) == ("demo", 0.5, 12)
    assert (s.lease_seconds, s.workers) == (30, 1)
    r = s.rooms
    assert (r.docker_host, r.image, r.instance) == (
        "unix:///var/run/docker.sock",
        "ghcr.io/m1k1o/neko/chromium:3.1.5",
        "main",
    )
    assert r.data_dir == data_dir / "rooms"
    assert (r.http_port_base, r.udp_port_base, r.udp_ports_per_room, r.udp_bind) == (18100, 59000, 5, "127.0.0.1")
    assert (r.public_ip, r.api_mode, r.network) == ("", "published", "")
    assert r.url_template == "http://localhost:{http_port}/"
    assert (r.memory, r.screen, r.reconcile_seconds, r.ready_timeout_seconds) == ("3g", "1920x1080@30", 30, 60)
    assert r.policy_file == ROOT_DIR / "deploy" / "neko" / "policies.json"
    b = s.booking
    assert (b.open_minute, b.close_minute, b.durations, b.max_minutes) == (9 * 60, 21 * 60, (30, 60, 120), 120)
    assert (b.max_future, b.days_ahead, b.checkin_minutes, b.offer_minutes) == (3, 14, 15, 5)
    assert (b.session_max_minutes, b.warn_minutes, b.tick_seconds) == (180, 5, 5)
    assert b.work_days == frozenset({1, 2, 3, 4, 5})
    t = s.telegram
    assert (t.token, t.configured) == ("", False)
    assert (t.api_url, t.file_url) == ("https://api.telegram.org/bot", "https://api.telegram.org/file/bot")
    assert (t.link_code_minutes, t.max_document_bytes, t.dump_keep_days) == (15, 50 * 1024 * 1024, 14)


def test_without_a_data_dir_the_data_lives_under_the_project(bare_env, monkeypatch):
    monkeypatch.delenv("VDI_DATA_DIR")
    monkeypatch.setenv("VDI_SECRET_KEY", "k" * 40)  # keeps this test from writing a key into ./data
    s = load_settings()
    assert s.data_dir == ROOT_DIR / "data"
    assert s.rooms.data_dir == ROOT_DIR / "data" / "rooms"


def test_hand_written_formats_are_understood(monkeypatch):
    monkeypatch.setenv("VDI_BOOKING_OPEN", " 08:30 ")
    monkeypatch.setenv("VDI_BOOKING_CLOSE", "24:00")
    monkeypatch.setenv("VDI_BOOKING_DURATIONS", "120, 30,60,30")
    monkeypatch.setenv("VDI_WORK_DAYS", "1-3,6")
    monkeypatch.setenv("VDI_ROOM_PROVIDER", "Docker")
    monkeypatch.setenv("VDI_DEMO_DATA", "off")
    monkeypatch.setenv("VDI_BOARD_POLL_MS", "250")
    monkeypatch.setenv("VDI_TELEGRAM_MAX_DOCUMENT_MB", "20")
    monkeypatch.setenv("VDI_PUBLIC_URL", "https://taxi.example.com/")
    monkeypatch.setenv("VDI_TELEGRAM_TOKEN", "123:abc")
    s = load_settings()
    assert (s.booking.open_minute, s.booking.close_minute) == (8 * 60 + 30, 24 * 60)
    assert s.booking.durations == (30, 60, 120)
    assert s.booking.work_days == frozenset({1, 2, 3, 6})
    assert (s.room_provider, s.demo_data, s.board_poll_seconds) == ("docker", False, 0.25)
    assert s.telegram.max_document_bytes == 20 * 1024 * 1024 and s.telegram.configured
    assert s.public_url == "https://taxi.example.com"


def test_docker_host_falls_back_to_the_standard_variable(bare_env, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    assert load_settings().rooms.docker_host == "tcp://127.0.0.1:2375"
    monkeypatch.setenv("VDI_DOCKER_HOST", "unix:///run/other.sock")
    assert load_settings().rooms.docker_host == "unix:///run/other.sock"


def test_several_docker_hosts_are_named_and_the_single_host_is_the_default(bare_env, monkeypatch):
    assert load_settings().rooms.hosts == (("local", "unix:///var/run/docker.sock"),)
    monkeypatch.setenv(
        "VDI_DOCKER_HOSTS", "unix:///var/run/docker.sock, big=tcp://10.0.0.5:2376 ,ssh://vdi@rooms-2.example.org"
    )
    monkeypatch.setenv("VDI_DOCKER_CERT_DIR", "/etc/vdi/docker-certs")
    rooms = load_settings().rooms
    assert rooms.hosts == (
        ("local", "unix:///var/run/docker.sock"),
        ("big", "tcp://10.0.0.5:2376"),
        ("rooms-2-example-org", "ssh://vdi@rooms-2.example.org"),
    )
    assert rooms.docker_cert_dir == Path("/etc/vdi/docker-certs")
    for bad in ("http://10.0.0.5", "a=unix:///x,a=tcp://y:1", "Bad Name=tcp://y:1"):
        monkeypatch.setenv("VDI_DOCKER_HOSTS", bad)
        with pytest.raises(SettingsError, match="VDI_DOCKER_HOSTS"):
            load_settings()


def test_an_empty_variable_means_the_default(monkeypatch):
    monkeypatch.setenv("VDI_MAX_TEMPLATE_SLOTS", "")
    monkeypatch.setenv("VDI_SECRET_KEY", "")
    s = load_settings()
    assert s.max_template_slots == 4 and len(s.secret_key) >= 32


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"VDI_MAX_DIRECT_SLOTS": "many"}, "VDI_MAX_DIRECT_SLOTS"),
        ({"VDI_TOKEN_TTL_MINUTES": "3"}, "VDI_TOKEN_TTL_MINUTES"),
        ({"VDI_TIMEZONE": "Mars/Olympus"}, "VDI_TIMEZONE"),
        ({"VDI_ENV": "prod"}, "VDI_ENV"),
        ({"VDI_DEMO_DATA": "maybe"}, "VDI_DEMO_DATA"),
        ({"VDI_ROOM_PROVIDER": "k8s"}, "VDI_ROOM_PROVIDER"),
        ({"VDI_ROOM_API_MODE": "bridge"}, "VDI_ROOM_API_MODE"),
        ({"VDI_ROOM_API_MODE": "network"}, "VDI_ROOM_NETWORK"),
        ({"VDI_ROOM_URL_TEMPLATE": "http://rooms.example/"}, "VDI_ROOM_URL_TEMPLATE"),
        ({"VDI_ROOM_HTTP_PORT_BASE": "80"}, "VDI_ROOM_HTTP_PORT_BASE"),
        ({"VDI_BOOKING_OPEN": "9am"}, "VDI_BOOKING_OPEN"),
        ({"VDI_BOOKING_CLOSE": "25:00"}, "VDI_BOOKING_CLOSE"),
        ({"VDI_BOOKING_OPEN": "09:15"}, "VDI_BOOKING_OPEN"),
        ({"VDI_BOOKING_OPEN": "21:00"}, "VDI_BOOKING_OPEN"),
        ({"VDI_BOOKING_DURATIONS": "30,an hour"}, "VDI_BOOKING_DURATIONS"),
        ({"VDI_BOOKING_DURATIONS": "45"}, "VDI_BOOKING_DURATIONS"),
        ({"VDI_BOOKING_DURATIONS": "180", "VDI_BOOKING_MAX_MINUTES": "120"}, "VDI_BOOKING_MAX_MINUTES"),
        ({"VDI_WORK_DAYS": "mon-fri"}, "VDI_WORK_DAYS"),
        ({"VDI_WORK_DAYS": "1-9"}, "VDI_WORK_DAYS"),
        ({"VDI_MAX_DIRECT_SLOTS": "5"}, "VDI_MAX_DIRECT_SLOTS"),
        ({"VDI_BOARD_POLL_MS": "10"}, "VDI_BOARD_POLL_MS"),
        ({"VDI_TELEGRAM_MAX_DOCUMENT_MB": "0"}, "VDI_TELEGRAM_MAX_DOCUMENT_MB"),
    ],
)
def test_a_bad_value_is_refused_naming_its_variable(monkeypatch, env, named):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(SettingsError, match=named):
        load_settings()


def test_production_refuses_a_short_secret(monkeypatch):
    monkeypatch.setenv("VDI_ENV", "production")
    monkeypatch.setenv("VDI_BCRYPT_ROUNDS", "12")
    monkeypatch.setenv("VDI_SECRET_KEY", "dev-only-secret-change-me")
    with pytest.raises(SettingsError, match="VDI_SECRET_KEY"):
        load_settings()


def test_production_refuses_cheap_password_hashing(monkeypatch):
    monkeypatch.setenv("VDI_ENV", "production")
    monkeypatch.setenv("VDI_SECRET_KEY", "x" * 48)
    monkeypatch.setenv("VDI_BCRYPT_ROUNDS", "10")
    with pytest.raises(SettingsError, match="VDI_BCRYPT_ROUNDS"):
        load_settings()


def test_production_accepts_a_real_secret_and_has_no_demo_data(monkeypatch):
    monkeypatch.setenv("VDI_ENV", "production")
    monkeypatch.setenv("VDI_SECRET_KEY", "x" * 48)
    monkeypatch.setenv("VDI_BCRYPT_ROUNDS", "12")
    settings = load_settings()
    assert settings.production and not settings.demo_data
    assert settings.secret_key == "x" * 48
    assert not (settings.data_dir / SECRET_KEY_FILE).exists()


def test_first_start_writes_a_private_key_that_a_later_process_reuses(bare_env):
    data_dir = Path(os.environ["VDI_DATA_DIR"])
    assert not data_dir.exists()
    first = load_settings().secret_key
    key_file = data_dir / SECRET_KEY_FILE
    assert _mode(data_dir) == 0o700 and _mode(key_file) == 0o600
    assert len(first) >= 32 and key_file.read_text().strip() == first
    later = subprocess.run(
        [sys.executable, "-c", PRINT_KEY], cwd=ROOT_DIR, env=os.environ, capture_output=True, text=True, check=True
    )
    assert later.stdout.strip() == first
    assert [p.name for p in data_dir.iterdir()] == [SECRET_KEY_FILE]  # no temporary files left behind


def test_a_generated_key_is_accepted_in_production(bare_env, monkeypatch):
    monkeypatch.setenv("VDI_ENV", "production")
    s = load_settings()
    assert s.production and len(s.secret_key) >= 32


def test_processes_starting_together_agree_on_one_key(bare_env):
    starters = [
        subprocess.Popen([sys.executable, "-c", PRINT_KEY], cwd=ROOT_DIR, env=os.environ, stdout=subprocess.PIPE)
        for _ in range(6)
    ]
    keys = {p.communicate(timeout=60)[0].decode().strip() for p in starters}
    assert all(p.returncode == 0 for p in starters)
    assert len(keys) == 1 and len(keys.pop()) >= 32
    assert [p.name for p in Path(os.environ["VDI_DATA_DIR"]).iterdir()] == [SECRET_KEY_FILE]


def test_an_unusable_key_file_is_refused_rather_than_replaced(bare_env):
    data_dir = Path(os.environ["VDI_DATA_DIR"])
    data_dir.mkdir()
    (data_dir / SECRET_KEY_FILE).write_text("\n")
    with pytest.raises(SettingsError, match=SECRET_KEY_FILE):
        load_settings()
    assert (data_dir / SECRET_KEY_FILE).read_text() == "\n"


def test_an_existing_world_readable_data_dir_and_key_are_tightened(bare_env):
    data_dir = Path(os.environ["VDI_DATA_DIR"])
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    key = "k" * 48
    (data_dir / SECRET_KEY_FILE).write_text(key)
    (data_dir / SECRET_KEY_FILE).chmod(0o644)
    assert load_settings().secret_key == key
    assert _mode(data_dir / SECRET_KEY_FILE) == 0o600
    make_engine(load_settings().database_url).dispose()
    assert _mode(data_dir) == 0o700


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)  # a file only SQLite has
def test_the_sqlite_database_and_its_directory_are_owner_only(database):
    data_dir = Path(os.environ["VDI_DATA_DIR"])
    db_file = data_dir / "vdi_taxi.db"
    assert _mode(data_dir) == 0o700
    assert _mode(db_file) == 0o600
    for sidecar in (data_dir / "vdi_taxi.db-wal", data_dir / "vdi_taxi.db-shm"):
        if sidecar.exists():
            assert _mode(sidecar) == 0o600


def test_session_dumps_are_owner_only(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "gpt-1")
    sessions.release_slot(anna.id, "gpt-1")
    with session_scope() as session:
        path = Path(session.get(Dump, work.id).path)
    assert _mode(dumps.dumps_dir()) == 0o700
    assert _mode(path) == 0o600
    assert "meta.json" in zipfile.ZipFile(path).namelist()


def test_every_mistake_is_reported_at_once(monkeypatch):
    monkeypatch.setenv("VDI_BOOKING_OPEN", "9am")
    monkeypatch.setenv("VDI_ROOM_MEMORY", "")
    monkeypatch.setenv("VDI_ROOM_HTTP_PORT_BASE", "80")
    monkeypatch.setenv("VDI_TIMEZONE", "Mars/Olympus")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    for named in ("VDI_BOOKING_OPEN", "VDI_ROOM_HTTP_PORT_BASE", "VDI_TIMEZONE"):
        assert named in str(refused.value)


def test_several_workers_are_refused_without_redis(monkeypatch):
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    monkeypatch.setenv("VDI_WORKERS", "2")
    with pytest.raises(SettingsError, match="REFLEX_REDIS_URL"):
        load_settings()
    monkeypatch.setenv("REFLEX_REDIS_URL", "redis://127.0.0.1:6379/9")
    assert load_settings().workers == 2


def test_a_scheduler_beat_slower_than_its_lease_is_refused(monkeypatch):
    monkeypatch.setenv("VDI_LEASE_SECONDS", "5")
    monkeypatch.setenv("VDI_SCHEDULER_TICK_SECONDS", "5")
    with pytest.raises(SettingsError, match="VDI_LEASE_SECONDS"):
        load_settings()
