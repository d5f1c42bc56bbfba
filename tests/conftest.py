"""Shared fixtures: a freshly migrated database per test, small factories."""

from __future__ import annotations

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pyotp
import pytest
import redis
from reflex.istate.data import HeaderData
from sqlalchemy import create_engine, text

from services import auth, dumps, runtime, seed
from services.core import clock, db
from services.seed import DEMO_SLOTS

POSTGRES_ADMIN_URL = os.environ.get("VDI_TEST_POSTGRES_URL", "")
REDIS_URL = os.environ.get("VDI_TEST_REDIS_URL", "").rstrip("/")


def empty_redis_db(url: str = REDIS_URL) -> int:
    """A Redis database nobody uses right now, so the test neither reads nor wipes anyone's keys."""
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{url}/{number}")
        try:
            if client.dbsize() == 0:
                return number
        finally:
            client.close()
    pytest.skip(f"no empty Redis database at {url}")


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("VDI_ENV", "test")
    monkeypatch.setenv("VDI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("VDI_DATABASE_URL", raising=False)
    monkeypatch.setenv("VDI_BCRYPT_ROUNDS", "4")
    monkeypatch.setenv("VDI_LOGIN_LOCK_THRESHOLD", "3")
    monkeypatch.setenv("VDI_LOGIN_LOCK_BASE_SECONDS", "30")
    # After-session work (dump, room reset) runs inline, so no thread outlives its test.
    monkeypatch.setattr(dumps, "RUN_IN_BACKGROUND", False)
    runtime.reset()
    yield
    _join_background_work()
    clock.freeze(None)
    runtime.reset()


def _join_background_work() -> None:
    """A room reset or dump thread started by a test ends with it: left running, it would read
    the next test's settings halfway through and write into that test's database."""
    for thread in threading.enumerate():
        if thread.name.startswith(("reset-", "dump-")):
            thread.join(timeout=90)


def _pg_url(name: str) -> str:
    return POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def _pg_admin(statement: str) -> None:
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(statement))
    admin.dispose()


def create_pg_database(template: str | None = None) -> str:
    """A new, uniquely named PostgreSQL database (a copy of `template` when given); its URL."""
    name = f"vdi_test_{uuid.uuid4().hex[:10]}"
    _pg_admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
    return _pg_url(name)


def drop_pg_database(url: str) -> None:
    _pg_admin(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """A PostgreSQL database migrated once per run; each test gets a copy of it (CREATE DATABASE
    ... TEMPLATE copies files, far faster than running every migration again)."""
    url = create_pg_database()
    db.migrate(url)  # Alembic's engine is disposed after the run: a template must have no connections
    yield url.rsplit("/", 1)[1]
    drop_pg_database(url)


# Every test that touches the database runs on SQLite and, when PostgreSQL is there, on it too.
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_ADMIN_URL else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, empty database: SQLite, or a fresh PostgreSQL database under VDI_TEST_POSTGRES_URL."""
    backend = request.param
    if backend == "postgresql" and request.node.get_closest_marker("sqlite_only"):
        pytest.skip("this test is about SQLite itself (its file, its locking)")
    if backend == "postgresql":
        if not POSTGRES_ADMIN_URL:
            pytest.skip("VDI_TEST_POSTGRES_URL is not set (deploy/test.sh sets it)")
        url = create_pg_database(template=request.getfixturevalue("pg_template"))
        monkeypatch.setenv("VDI_DATABASE_URL", url)
        runtime.reset()
        yield backend
        runtime.reset()
        db.dispose_engines()
        drop_pg_database(url)
    else:
        db.migrate()
        yield backend


@pytest.fixture
def demo_slots(database: str) -> list[str]:
    with db.session_scope() as session:
        session.add_all(seed.demo_slots())
    return [row[0] for row in DEMO_SLOTS]


@pytest.fixture
def make_user(database: str):
    from services import users

    counter = iter(range(1, 10_000))

    def factory(
        name: str | None = None, *, admin: bool = False, password: str = "correct-horse", with_2fa: bool | None = None
    ) -> users.auth.UserInfo:
        """A user; admins get 2FA enrolled unless `with_2fa=False` (admin operations need it)."""
        n = next(counter)
        username = (name or f"user{n}").lower()
        info = users.create_user(username, (name or f"Пользователь {n}").title(), password, is_admin=admin)
        if admin if with_2fa is None else with_2fa:
            enrolment = users.auth.begin_enrolment(info.id)
            # The previous step's code, so the current one stays free for a login.
            code = pyotp.TOTP(enrolment.secret).at(clock.now() - timedelta(seconds=30))
            info = users.auth.confirm_enrolment(info.id, code)
        return info

    return factory


def with_login(state, token: str):
    """A state as its handlers see it on a socket whose handshake carried this login cookie."""
    state.rx_router_headers = HeaderData(cookie=f"{auth.SESSION_COOKIE}={token}")
    return state


@pytest.fixture(scope="session")
def docker_engine(tmp_path_factory: pytest.TempPathFactory):
    """A real Docker engine started for this test run (stopped at the end) and the Neko stand-in image."""
    from tests.docker_support import docker_engine as engine_ctx
    from tests.docker_support import ensure_standin_image

    with engine_ctx(tmp_path_factory.mktemp("dockerd")) as engine:
        client = engine.client()
        engine.image = ensure_standin_image(client)
        client.close()
        yield engine


@pytest.fixture(scope="session")
def docker_engine_b(docker_engine, tmp_path_factory: pytest.TempPathFactory):
    """A second engine on this machine, over tcp:// with TLS (own data root, exec root, bridge)."""
    from tests.docker_support import second_docker_engine

    with second_docker_engine(tmp_path_factory.mktemp("dockerd-b"), docker_engine) as engine:
        yield engine


@pytest.fixture(scope="session")
def ssh_docker_host(docker_engine_b, tmp_path_factory: pytest.TempPathFactory):
    """A private sshd on 127.0.0.1 whose sessions reach the second engine's socket, and an `ssh`
    wrapper (its `bin_dir`, for PATH) with the test's key and pinned host key."""
    from tests.ssh_support import ssh_host

    with ssh_host(tmp_path_factory.mktemp("sshd"), f"unix://{docker_engine_b.run_dir / 'docker.sock'}") as host:
        yield host


@pytest.fixture
def docker_rooms(docker_engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Settings for the Docker room provider against the test engine, isolated per test."""
    from tests.docker_support import remove_rooms, room_env

    instance = f"t{uuid.uuid4().hex[:8]}"
    for key, value in room_env(docker_engine, tmp_path, instance, rooms=4).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VDI_ROOM_READY_TIMEOUT", "30")
    runtime.reset()
    yield instance
    _join_background_work()  # let room resets finish before their containers go
    remove_rooms(instance, docker_engine)


def _stage(item: pytest.Item) -> int:
    path = str(item.fspath)
    return 2 if "/e2e/" in path else 1 if "/faults/" in path else 0


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Unit tests first, then the fault suite (it starts and kills real processes), browser tests
    last: Playwright's sync API keeps an event loop running in this thread for the rest of the
    session, which the asyncio-based tests (Telegram) cannot share."""
    for item in items:
        if _stage(item) == 1:
            item.add_marker(pytest.mark.faults)
    items.sort(key=_stage)
