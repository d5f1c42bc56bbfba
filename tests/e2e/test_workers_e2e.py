"""The production app with several backend workers on Redis and PostgreSQL (VDI_WORKERS=2).

Hand-made Socket.IO clients are placed on chosen workers (the server end of each websocket is
looked up in /proc) to show that what one worker does holds on the other.

The board's safety-net poll is set to 10 s here, so a change reaching the other worker's tabs
within a second can only have come through the Redis bell.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import threading
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import redis
from sqlmodel import select

from services import auth, sessions, users
from services.core import clock
from services.core.db import session_scope
from services.core.models import Lease, SlotSession
from state.auth import AuthState
from state.board import BoardFeed
from state.booking import BookingState
from state.dashboard import DashboardState
from state.login import LoginState
from state.session import SessionPageState
from tests.conftest import POSTGRES_ADMIN_URL, create_pg_database, drop_pg_database, empty_redis_db
from tests.e2e.conftest import ARTIFACTS
from tests.live_server import LiveApp, start_live_app
from tests.reflex_client import RawClient, board_frames, connect_on, worker_pids
from vdi_taxi import routes

REDIS = os.environ.get("VDI_TEST_REDIS_URL", "").rstrip("/")
pytestmark = pytest.mark.skipif(
    not (POSTGRES_ADMIN_URL and REDIS), reason="VDI_TEST_POSTGRES_URL and VDI_TEST_REDIS_URL (deploy/test.sh sets them)"
)
WORKERS = 2
POLL_SECONDS = 10.0
LEASE_SECONDS = 4
FEED = BoardFeed.get_full_name()


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    url = create_pg_database()
    number = empty_redis_db(REDIS)
    try:
        with start_live_app(
            tmp_path_factory.mktemp("workers-data"),
            ARTIFACTS / "live-app-workers.log",
            web_dir="workers",
            VDI_DATABASE_URL=url,
            REFLEX_REDIS_URL=f"{REDIS}/{number}",
            VDI_WORKERS=str(WORKERS),
            VDI_BOARD_POLL_MS=str(int(POLL_SECONDS * 1000)),
            VDI_LEASE_SECONDS=str(LEASE_SECONDS),
        ) as app:
            yield app
    finally:
        drop_pg_database(url)
        client = redis.Redis.from_url(f"{REDIS}/{number}")
        client.flushdb()
        client.close()


def _running(slot_id: str) -> list[SlotSession]:
    with session_scope() as session:
        return list(
            session.exec(select(SlotSession).where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None)))
        )


def test_a_login_on_one_worker_holds_on_the_other_and_a_logout_ends_it_on_both(live_app, account):
    first, second = worker_pids(live_app, WORKERS)
    anna = account("Анна")
    tab = connect_on(live_app, on=first)
    tab.send(f"{LoginState.get_full_name()}.submit", {"form": {"username": anna.username, "password": anna.password}})
    cookie = tab.follow_sign_in()
    tab.close()
    # The same tab reconnects with its new cookie and lands on the other worker: the login is the
    # cookie, checked against the database, not anything a worker keeps.
    tab = connect_on(live_app, on=second, token=tab.token, login=cookie)
    tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "ppx-1"})
    tab.wait_for("/session/ppx-1")
    assert [s.user_id for s in _running("ppx-1")] == [auth.login(anna.username, anna.password).user.id]

    # Another tab of the same browser (same login cookie) is served by the first worker.
    token = auth.login(anna.username, anna.password).token
    other = connect_on(live_app, on=first, login=token)
    tab.close()
    tab = connect_on(live_app, on=second, login=token)
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
    workers = worker_pids(live_app, WORKERS)
    boris = account("Борис")
    token = auth.login(boris.username, boris.password).token
    tabs = [connect_on(live_app, on=pid, login=token) for pid in workers]
    users.set_active(boris.username, False)
    for tab, slot in zip(tabs, ("gem-dt", "gem-veo"), strict=True):
        tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": slot})
        tab.wait_for("/login")
        tab.close()
    assert _running("gem-dt") == [] and _running("gem-veo") == []


def test_twenty_takers_spread_over_the_workers_give_exactly_one_winner(live_app, account):
    workers = worker_pids(live_app, WORKERS)
    slot = "lov-1"
    takers = [account(f"Гонщик {n}") for n in range(20)]
    tabs = []
    try:
        for n, taker in enumerate(takers):
            # ten on each worker
            tab = connect_on(live_app, on=workers[n % WORKERS], login=auth.login(taker.username, taker.password).token)
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
    workers = worker_pids(live_app, WORKERS)
    with session_scope() as session:
        lease = session.get(Lease, "scheduler")
    assert lease is not None
    assert lease.holder in {f"{socket.gethostname()}:{pid}" for pid in workers}


def _board_tab(app: LiveApp, on: int, login: str) -> RawClient:
    """A logged-in board tab served by worker `on`, holding the whole board."""
    tab = connect_on(app, on=on, login=login)
    tab.send(f"{FEED}.join", {})
    tab.wait_for('"layout"')
    return tab


def _card_frames(tab: RawClient, slot: str, since: int) -> list[tuple[float, dict]]:
    """(arrival time, the card) of every board frame carrying that slot's card, from index `since`."""
    key = f"c_{slot}"
    out = []
    for arrived, text in tab.arrivals[since:]:
        for delta in board_frames([text]):
            if key in delta:
                out.append((arrived, delta[key] | {"v": delta["v"]}))
    return out


def _wait_for_card(tab: RawClient, slot: str, since: int, check, timeout: float) -> tuple[float, dict]:
    """The first frame, from index `since`, whose card of `slot` passes `check`."""
    deadline = time.monotonic() + timeout
    while True:
        found = [(t, c) for t, c in _card_frames(tab, slot, since) if check(c)]
        if found:
            return found[0]
        assert time.monotonic() < deadline, f"no frame for {slot} within {timeout} s; got {tab.received[since:]}"
        tab.wait_for(f'"c_{slot}"', since=len(tab.received), timeout=max(0.05, deadline - time.monotonic()))


def _open_session(tab: RawClient, slot: str) -> dict:
    """Take the slot and open its session page, as the browser does; the page's route (for events)."""
    tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": slot})
    tab.wait_for(f"/session/{slot}")
    page = {"path": f"/session/{slot}", "query": {"slot": slot}}
    tab.send(f"{SessionPageState.get_full_name()}.load", {}, **page)
    tab.wait_for('"session_id_rx_state_"')
    return page


def _reached_in_a_second(tab: RawClient, slot: str, since: int, check, sent: float) -> dict:
    """The card of the first frame (from index `since`) passing `check`; it came within 1 s of `sent`."""
    arrived, card = _wait_for_card(tab, slot, since, check, timeout=POLL_SECONDS / 2)
    assert arrived - sent < 1.0, f"the change reached the other worker's tab after {arrived - sent:.2f} s"
    return card


def test_a_take_on_one_worker_shows_on_a_board_tab_of_the_other_within_a_second(live_app, account):
    first, second = worker_pids(live_app, WORKERS)
    watcher, taker = account("Зоя"), account("Игорь")
    board = _board_tab(live_app, second, auth.login(watcher.username, watcher.password).token)
    tab = connect_on(live_app, on=first, login=auth.login(taker.username, taker.password).token)
    try:
        mark = len(board.received)
        sent = time.time()
        tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "ppx-3"})
        card = _reached_in_a_second(board, "ppx-3", mark, lambda c: c["busy"], sent)
        assert card["occupant_name"] == "Игорь"
    finally:
        board.close()
        tab.close()


def test_a_queue_offer_made_on_one_worker_reaches_the_queued_persons_tab_on_the_other(live_app, account):
    first, second = worker_pids(live_app, WORKERS)
    holder, waiting = account("Денис"), account("Елена")
    holder_login = auth.login(holder.username, holder.password)
    waiting_login = auth.login(waiting.username, waiting.password)
    slot = "gem-veo"
    holder_tab = connect_on(live_app, on=first, login=holder_login.token)
    waiting_tab = _board_tab(live_app, second, waiting_login.token)
    try:
        page = _open_session(holder_tab, slot)
        waiting_tab.send(f"{BookingState.get_full_name()}.join_queue", {"slot_id": slot})
        waiting_tab.wait_for("Вы в очереди")
        mark = len(waiting_tab.received)
        # The holder's session page on the first worker releases the slot: the offer is made there.
        sent = time.time()
        holder_tab.send(f"{SessionPageState.get_full_name()}.release", {}, **page)
        offered = waiting_login.user.id
        card = _reached_in_a_second(waiting_tab, slot, mark, lambda c: c["offered_to_id"] == offered, sent)
        assert not card["busy"] and card["offer_expires_ms"] > sent * 1000
    finally:
        holder_tab.close()
        waiting_tab.close()


def test_a_force_release_on_one_worker_ends_the_session_page_on_the_other(live_app, account):
    first, second = worker_pids(live_app, WORKERS)
    anna, boss = account("Анна"), account("Админ", admin=True, with_2fa=True)
    slot = "hf-1"
    user_tab = connect_on(live_app, on=second, login=auth.login(anna.username, anna.password).token)
    admin_tab = connect_on(live_app, on=first, login=auth.login(boss.username, boss.password, boss.code()).token)
    try:
        # The session page as it opens: it notes the session and the board version, and joins the board.
        page = _open_session(user_tab, slot)
        user_tab.send(f"{FEED}.join", {}, **page)
        user_tab.wait_for('"layout"')
        (work,) = _running(slot)
        loaded_version = _version_seen(user_tab)
        mark = len(user_tab.received)
        sent = time.time()
        admin_tab.send(f"{DashboardState.get_full_name()}.force_release", {"slot_id": slot})
        admin_tab.wait_for("принудительно освобождён")
        card = _reached_in_a_second(user_tab, slot, mark, lambda c: c["session_id"] != work.id, sent)
        # Exactly what the page's overlay is drawn from: a board at least as new as the page,
        # whose card no longer names this session.
        assert card["v"] >= loaded_version and not card["busy"]
    finally:
        user_tab.close()
        admin_tab.close()


def _version_seen(tab: RawClient) -> int:
    """The board version the session page noted when it loaded (its loaded_version)."""
    for text in tab.received:
        for delta in (json.loads(text).get("delta") or {}).values():
            if "loaded_version_rx_state_" in delta:
                return delta["loaded_version_rx_state_"]
    raise AssertionError("the session page never noted a board version")


def _scheduler_holder() -> str:
    with session_scope() as session:
        lease = session.get(Lease, "scheduler")
        return lease.holder if lease is not None and lease.expires_at > clock.now() else ""


def test_killing_the_lease_holder_worker_keeps_the_board_flowing_and_moves_its_jobs(live_app, account):
    """The board has no leased publisher: every worker feeds its own tabs and hears the bell, so a
    worker killed outright costs only the tabs it served (they reconnect). Its leased jobs move to
    another worker within 2 lease periods. Kept last: it kills one of the module's workers."""
    workers = worker_pids(live_app, WORKERS)
    holder = _scheduler_holder()
    victim = next(pid for pid in workers if holder == f"{socket.gethostname()}:{pid}")
    (survivor,) = set(workers) - {victim}
    watcher, taker = account("Юлия"), account("Яков")
    board = _board_tab(live_app, survivor, auth.login(watcher.username, watcher.password).token)
    taker_id = auth.login(taker.username, taker.password).user.id
    try:
        os.kill(victim, signal.SIGKILL)
        killed = time.monotonic()
        # A change committed outside the workers (as the scheduler or the CLI would) and one on the survivor.
        mark = len(board.received)
        sent = time.time()
        sessions.take_slot(taker_id, "gpt-1")
        _reached_in_a_second(board, "gpt-1", mark, lambda c: c["busy"], sent)
        mark = len(board.received)
        tab = connect_on(live_app, on=survivor, login=auth.login(watcher.username, watcher.password).token)
        sent = time.time()
        tab.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "ppx-2"})
        _reached_in_a_second(board, "ppx-2", mark, lambda c: c["busy"], sent)
        tab.close()
        # The scheduler's lease: taken over by a live worker within 2 lease periods.
        while (now_held := _scheduler_holder()) in ("", holder):
            assert time.monotonic() - killed < 2 * LEASE_SECONDS, "no worker took the scheduler over"
            time.sleep(0.2)
        assert now_held != holder
    finally:
        board.close()
    # The app still serves with all its workers: the dead one was replaced, not the whole app.
    assert len(worker_pids(live_app, WORKERS)) == WORKERS
