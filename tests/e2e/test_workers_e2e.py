"""The production app with several backend workers on Redis and PostgreSQL (VDI_WORKERS=2).

Hand-made Socket.IO clients are placed on chosen workers (the server end of each websocket is
looked up in /proc) to show that what one worker does holds on the other.
"""

from __future__ import annotations

import os
import socket
import threading
from collections import Counter
from collections.abc import Iterator

import pytest
import redis
from sqlmodel import select

from services import auth, users
from services.core.db import session_scope
from services.core.models import Lease, SlotSession
from state.auth import AuthState
from state.dashboard import DashboardState
from state.login import LoginState
from tests.conftest import POSTGRES_ADMIN_URL, create_pg_database, drop_pg_database
from tests.e2e.conftest import ARTIFACTS
from tests.live_server import LiveApp, serving_pid, start_live_app
from tests.reflex_client import RawClient
from vdi_taxi import routes

REDIS = os.environ.get("VDI_TEST_REDIS_URL", "").rstrip("/")
pytestmark = pytest.mark.skipif(
    not (POSTGRES_ADMIN_URL and REDIS), reason="VDI_TEST_POSTGRES_URL and VDI_TEST_REDIS_URL (deploy/test.sh sets them)"
)
WORKERS = 2


def _empty_redis_db() -> int:
    """A Redis database nobody uses right now, so the test neither reads nor wipes anyone's keys."""
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS}/{number}")
        try:
            if client.dbsize() == 0:
                return number
        finally:
            client.close()
    pytest.skip(f"no empty Redis database at {REDIS}")


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    url = create_pg_database()
    number = _empty_redis_db()
    try:
        with start_live_app(
            tmp_path_factory.mktemp("workers-data"),
            ARTIFACTS / "live-app-workers.log",
            web_dir="workers",
            VDI_DATABASE_URL=url,
            REFLEX_REDIS_URL=f"{REDIS}/{number}",
            VDI_WORKERS=str(WORKERS),
        ) as app:
            yield app
    finally:
        drop_pg_database(url)
        client = redis.Redis.from_url(f"{REDIS}/{number}")
        client.flushdb()
        client.close()


def _connect(
    app: LiveApp, on: int | None = None, avoid: int | None = None, token: str | None = None, login: str | None = None
) -> RawClient:
    """A client served by worker `on` (or by any worker but `avoid`): connect until the kernel
    hands the connection to such a worker. `login`: the login cookie its handshake carries."""
    # Which worker accepts a connection is the kernel's choice, and a busy worker loses most races:
    # try up to a bounded number of connections, each closed at once when it landed elsewhere.
    for _ in range(300):
        client = RawClient(app.url, token=token, login=login)
        pid = serving_pid(app, client.local_port)
        if pid is not None and (on is None or pid == on) and pid != avoid:
            client.worker = pid  # type: ignore[attr-defined]
            return client
        client.close()
    raise AssertionError(f"no connection landed on worker {on} (avoiding {avoid})")


def _workers(app: LiveApp) -> list[int]:
    seen: set[int] = set()
    clients = []
    try:
        for _ in range(100):
            clients.append(_connect(app))
            seen.add(clients[-1].worker)
            if len(seen) == WORKERS:
                return sorted(seen)
    finally:
        for client in clients:
            client.close()
    raise AssertionError(f"only workers {seen} answered; expected {WORKERS}")


def _running(slot_id: str) -> list[SlotSession]:
    with session_scope() as session:
        return list(
            session.exec(select(SlotSession).where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None)))
        )


def test_a_login_on_one_worker_holds_on_the_other_and_a_logout_ends_it_on_both(live_app, account):
    first, second = _workers(live_app)
    anna = account("Анна")
    tab = _connect(live_app, on=first)
    tab.send(f"{LoginState.get_full_name()}.submit", {"form": {"username": anna.username, "password": anna.password}})
    cookie = tab.follow_sign_in()
    tab.close()
    # The same tab reconnects with its new cookie and lands on the other worker: the login is the
    # cookie, checked against the database, not anything a worker keeps.
    tab = _connect(live_app, on=second, token=tab.token, login=cookie)
    tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "ppx-1"})
    tab.wait_for("/session/ppx-1")
    assert [s.user_id for s in _running("ppx-1")] == [auth.login(anna.username, anna.password).user.id]

    # Another tab of the same browser (same login cookie) is served by the first worker.
    token = auth.login(anna.username, anna.password).token
    other = _connect(live_app, on=first, login=token)
    tab.close()
    tab = _connect(live_app, on=second, login=token)
    tab.send(f"{AuthState.get_full_name()}.logout", {})
    tab.wait_for(routes.SIGN_OUT)
    tab.close()
    # Logged out on the second worker, refused on the first at once: no worker trusts a copy.
    other.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "ppx-2"})
    other.wait_for("/login")
    other.close()
    assert _running("ppx-2") == []
    assert auth.resolve_token(token) is None


def test_a_user_revoked_by_an_admin_is_refused_by_every_worker(live_app, account):
    workers = _workers(live_app)
    boris = account("Борис")
    token = auth.login(boris.username, boris.password).token
    tabs = [_connect(live_app, on=pid, login=token) for pid in workers]
    users.set_active(boris.username, False)
    for tab, slot in zip(tabs, ("gem-dt", "gem-veo"), strict=True):
        tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": slot})
        tab.wait_for("/login")
        tab.close()
    assert _running("gem-dt") == [] and _running("gem-veo") == []


def test_twenty_takers_spread_over_the_workers_give_exactly_one_winner(live_app, account):
    workers = _workers(live_app)
    slot = "lov-1"
    takers = [account(f"Гонщик {n}") for n in range(20)]
    tabs = []
    try:
        for n, taker in enumerate(takers):
            # ten on each worker
            tab = _connect(live_app, on=workers[n % WORKERS], login=auth.login(taker.username, taker.password).token)
            tabs.append(tab)
        assert Counter(tab.worker for tab in tabs) == {pid: 20 // WORKERS for pid in workers}
        start = threading.Barrier(len(tabs))

        def take(tab: RawClient) -> None:
            start.wait()
            tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": slot})

        threads = [threading.Thread(target=take, args=(tab,)) for tab in tabs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        outcomes = Counter()
        for tab in tabs:
            message = tab.wait_for_any((f"/session/{slot}", "Не удалось занять слот"), timeout=30)
            outcomes["won" if f"/session/{slot}" in message else "refused"] += 1
    finally:
        for tab in tabs:
            tab.close()
    assert outcomes == {"won": 1, "refused": 19}
    assert len(_running(slot)) == 1


def test_the_scheduler_runs_in_exactly_one_of_the_workers(live_app):
    """Workers are forked from one supervisor: each must name itself when it takes a lease, or
    all of them would hold it at once under the supervisor's name."""
    workers = _workers(live_app)
    with session_scope() as session:
        lease = session.get(Lease, "scheduler")
    assert lease is not None
    assert lease.holder in {f"{socket.gethostname()}:{pid}" for pid in workers}
