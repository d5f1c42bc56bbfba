"""Behind the trusted proxy: the audit log and the throttle see the real client, and
an attacker hammering an account from one address does not keep its owner out."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlmodel import select

from services import runtime, users
from services.core.db import session_scope
from services.core.models import AuditEvent
from state.login import LoginState
from tests.e2e.conftest import ARTIFACTS
from tests.live_server import LiveApp, start_live_app
from tests.reflex_client import RawClient

PASSWORD = "owner-pass-123"


@pytest.fixture(scope="module")
def proxied_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    # The test process connects from 127.0.0.1, which plays the reverse proxy here.
    with start_live_app(
        tmp_path_factory.mktemp("proxied-data"),
        ARTIFACTS / "proxied-app.log",
        web_dir="proxied",
        VDI_TRUSTED_PROXIES="127.0.0.1",
        VDI_LOGIN_LOCK_THRESHOLD="3",
    ) as app:
        yield app


@pytest.fixture(autouse=True)
def _use_live_database(proxied_app: LiveApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("VDI_DATA_DIR", "VDI_SECRET_KEY", "VDI_BCRYPT_ROUNDS"):
        monkeypatch.setenv(key, proxied_app.env[key])
    runtime.reset()
    yield


def _attempt(app: LiveApp, forwarded_for: str, username: str, password: str, expect: str | None) -> None:
    client = RawClient(app.url, headers={"X-Forwarded-For": forwarded_for})
    try:
        client.send(
            f"{LoginState.get_full_name()}.submit",
            {"form": {"username": username, "password": password, "totp_code": ""}},
        )
        if expect:
            client.wait_for(expect)
        else:
            _wait_audit("login", username, forwarded_for)
    finally:
        client.close()


def _audit(kind: str, username: str) -> list[AuditEvent]:
    with session_scope() as session:
        return list(session.exec(select(AuditEvent).where(AuditEvent.kind == kind, AuditEvent.subject == username)))


def _wait_audit(kind: str, username: str, ip: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e.client_ip == ip for e in _audit(kind, username)):
            return
        time.sleep(0.1)
    raise AssertionError(f"no {kind} audit entry for {username} from {ip}: {_audit(kind, username)}")


def test_an_attacker_behind_the_proxy_is_throttled_while_the_owner_still_logs_in(proxied_app):
    owner = users.create_user("owner1", "Владелица", PASSWORD)
    attacker = "203.0.113.66"
    for n in range(3):
        _attempt(proxied_app, attacker, owner.username, f"guess-{n}-wrong", "Неверный логин или пароль")
    # The attacker's address now waits, even with the right password...
    _attempt(proxied_app, attacker, owner.username, PASSWORD, "Слишком много неудачных попыток")
    # ...while the owner, from her own address behind the same proxy, gets in at once.
    _attempt(proxied_app, "198.51.100.23", owner.username, PASSWORD, None)
    assert {e.client_ip for e in _audit("login_failed", owner.username)} == {attacker}
