"""Who is calling comes from an HttpOnly cookie of the socket's handshake, not from the tab's client token.

The attacks are sent the way an attacker would: a hand-made Socket.IO client that names any
client token, sends any event, and carries a cookie in its handshake or not.
"""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pyotp
import pytest
import socketio
from playwright.sync_api import expect
from sqlmodel import select

from services import auth, board, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.models import AuditEvent, SlotSession, User
from state.admin import AdminState
from state.board import BoardFeed
from state.dashboard import DashboardState
from state.login import LoginState
from state.profile import ProfileState
from state.templates import TemplatesState
from state.usage import UsageState
from tests.e2e.conftest import login, shot
from tests.reflex_client import HYDRATE_AND_LOAD, NAMESPACE, RawClient
from vdi_taxi import routes

ADMINS_ONLY = "Только для администраторов"
FEED = BoardFeed.get_full_name()
UUID_RE = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
# Every client token a test here used: none of them may turn up in the app's log.
USED_TOKENS: list[str] = []


def _client(url: str, **kwargs) -> RawClient:
    client = RawClient(url, **kwargs)
    USED_TOKENS.append(client.token)
    return client


def _replay(url: str, token: str) -> RawClient:
    """Connect under a closed tab's client token, with no cookie. Once the server has seen the tab
    close it links the old token, and the state kept under it, to the new socket; until then it
    hands out a fresh token instead, which would prove nothing: so wait for the real thing."""
    deadline = time.monotonic() + 15
    while True:
        client = RawClient(url, token=token)
        client.round_trip()  # a fresh token would have arrived before the answer
        if client.token == token:
            return client
        client.close()
        assert time.monotonic() < deadline, "the server kept the closed tab's token linked"
        time.sleep(0.5)


def _board_data(client: RawClient) -> list[dict]:
    """Board keys a socket received (Reflex's own snapshot of the feed substate is always empty)."""
    frames = [json.loads(m) for m in client.received]
    return [f["delta"][FEED] for f in frames if (f.get("delta") or {}).get(FEED)]


def test_the_login_cookie_is_httponly_and_strict_and_no_page_script_can_read_it(live_app, new_context, account):
    anna = account("Анна")
    ctx = new_context()
    page = ctx.new_page()
    login(page, live_app.url, anna)
    (cookie,) = [c for c in ctx.cookies() if c["name"] == auth.SESSION_COOKIE]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["secure"] is False  # the test app is served over http; https: tests/test_login_cookie.py
    assert auth.SESSION_COOKIE not in page.evaluate("document.cookie")
    assert auth.resolve_token(cookie["value"]).username == anna.username


def test_a_login_over_the_socket_sends_no_token_only_a_ticket_that_works_once(live_app, account):
    anna = account("Анна")
    tab = _client(live_app.url)
    try:
        form = {"username": anna.username, "password": anna.password}
        tab.send(f"{LoginState.get_full_name()}.submit", {"form": form})
        path = tab.sign_in_path()
        # The login token (a JWT, "eyJ...") never travels over the socket.
        assert not any("eyJ" in m for m in tab.received)
        first = httpx.get(live_app.url + path, follow_redirects=False)
        again = httpx.get(live_app.url + path, follow_redirects=False)
        assert first.status_code == again.status_code == 303
        assert auth.resolve_token(first.cookies[auth.SESSION_COOKIE]).username == anna.username
        assert auth.SESSION_COOKIE not in again.cookies
        # The tab, reloaded with its cookie, is Anna's.
        tab.log_in(first.cookies[auth.SESSION_COOKIE])
        tab.send(f"{DashboardState.get_full_name()}.toggle_favourite", {"slot_id": "lov-1"})
        tab.wait_for('"lov-1"')
    finally:
        tab.close()


def test_a_closed_tabs_client_token_replayed_without_the_cookie_gets_the_login_page_and_none_of_her_data(
    live_app, new_context, account
):
    boss = account("Вера Канарейкина", admin=True, with_2fa=True)
    colleague = account("Кира Соседова")
    ctx = new_context()
    page = ctx.new_page()
    login(page, live_app.url, boss)
    page.goto(f"{live_app.url}/profile")
    expect(page.get_by_text(f"Вера Канарейкина · {boss.username}")).to_be_visible()
    page.goto(f"{live_app.url}/admin")
    page.get_by_role("tab", name="Пользователи").click()
    expect(page.locator("[data-testid=user-row]", has_text=colleague.username)).to_be_visible()
    # The tab's client token: in the page's sessionStorage, in a proxy's log, in the app's log of old.
    token = page.evaluate("window.sessionStorage.getItem('token')")
    assert token
    USED_TOKENS.append(token)
    ctx.close()

    mallory = _replay(live_app.url, token)
    try:
        # What the frontend sends first on connecting: the state snapshot and the page's on_load.
        mallory.send(HYDRATE_AND_LOAD, {}, path=routes.ADMIN)
        mallory.wait_for(f'"{routes.LOGIN}"')
        mark = len(mallory.received)
        mallory.send(f"{ProfileState.get_full_name()}.load", {}, path=routes.PROFILE)
        mallory.wait_for(f'"{routes.LOGIN}"', since=mark)
        everything = "\n".join(mallory.received)
    finally:
        mallory.close()
    for secret in ("Вера Канарейкина", boss.username, "Кира Соседова", colleague.username):
        assert secret not in everything, f"{secret!r} reached a socket without the cookie"


def test_sockets_under_the_boards_token_or_any_token_the_frontend_does_not_make_are_refused(live_app):
    def handshake(query: str) -> None:
        sio = socketio.Client(reconnection=False)
        try:
            sio.connect(
                f"{live_app.url}?{query}",
                socketio_path="/_event",
                transports=["websocket"],
                namespaces=[NAMESPACE],
                wait_timeout=5,
            )
        finally:
            sio.disconnect()

    for query in (
        "token=slotboard",
        "token=",
        "",
        f"token={uuid.uuid1()}",
        f"token={str(uuid.uuid4()).upper()}",
        f"token={uuid.uuid4()}x",
        f"token={uuid.uuid4()}&token={uuid.uuid4()}",
    ):
        with pytest.raises(socketio.exceptions.ConnectionError):
            handshake(query)
    # The polling transport is turned away the same way.
    polled = httpx.get(f"{live_app.url}/_event/?EIO=4&transport=polling&token=slotboard")
    assert polled.status_code == 403
    # A token of the frontend's own shape connects.
    handshake(f"token={uuid.uuid4()}")


def test_an_anonymous_socket_and_a_replayed_board_tab_get_no_board(live_app, account):
    watcher, holder = account("Ольга"), account("Глеб")
    # A logged-in board tab that closes: its token is then replayed without the cookie.
    closed = _client(live_app.url, login=auth.login(watcher.username, watcher.password).token)
    closed.send(f"{FEED}.join", {})
    closed.wait_for('"layout"')
    closed_token = closed.token
    closed.close()
    anonymous = _client(live_app.url)
    replayed = _replay(live_app.url, closed_token)
    witness = _client(live_app.url, login=auth.login(watcher.username, watcher.password).token)
    try:
        for socket in (anonymous, replayed):
            # Loading the board page runs its on_load, which joins logged-in tabs to the board.
            socket.send(HYDRATE_AND_LOAD, {}, path=routes.DASHBOARD)
            socket.wait_for(f'"{routes.LOGIN}"')
            socket.send(f"{FEED}.join", {})
        witness.send(f"{FEED}.join", {})
        witness.wait_for('"layout"')
        holder_id = auth.login(holder.username, holder.password).user.id
        slot = next(card.id for card in board.cards().values() if not card.busy)
        mark = len(witness.received)
        sessions.take_slot(holder_id, slot)
        try:
            witness.wait_for(f'"c_{slot}"', since=mark)
        finally:
            sessions.release_slot(holder_id, slot)
        for socket in (anonymous, replayed):
            assert not _board_data(socket), "a socket without a login received board data"
            assert all(f'"c_{slot}"' not in m and '"layout"' not in m for m in socket.received)
    finally:
        for socket in (anonymous, replayed, witness):
            socket.close()


def test_an_admin_without_2fa_is_refused_by_every_admin_handler(live_app, account):
    vera, victim = account("Вера", admin=True), account("Жертва")
    # The password alone is a login (it leads to 2FA enrolment), never an admin one.
    token = auth.login(vera.username, vera.password).token
    tab = _client(live_app.url, login=token)
    try:
        tab.send(HYDRATE_AND_LOAD, {}, path=routes.ADMIN)
        tab.wait_for(f'"{routes.ENROL_2FA}"')
        a, u, t = AdminState.get_full_name(), UsageState.get_full_name(), TemplatesState.get_full_name()
        tab.send(f"{a}.set_active", {"username": victim.username, "active": False})
        tab.send(f"{a}.show_credentials", {"slot_id": "ppx-1"})
        tab.send(f"{a}.refresh", {})
        tab.send(f"{a}.set_admin", {"username": victim.username, "value": True})
        tab.send(f"{u}.export_csv", {})
        tab.send(f"{t}.new_template", {})
        tab.send(f"{DashboardState.get_full_name()}.force_release", {"slot_id": "ppx-1"})
        tab.wait_for("Только администратор может принудительно освободить слот")
        assert sum(ADMINS_ONLY in m for m in tab.received) >= 6
        assert not any(victim.username in m for m in tab.received)  # no user list came back
    finally:
        tab.close()
    with session_scope() as session:
        target = session.exec(select(User).where(User.username == victim.username)).one()
        assert target.is_active and not target.is_admin
        vera_id = session.exec(select(User.id).where(User.username == vera.username)).one()
        done = {e.kind for e in session.exec(select(AuditEvent).where(AuditEvent.actor_id == vera_id))}
    assert done == {"login"}  # no credentials_viewed, no user change

    # Vera enrols in a second login; the first, password-only one no longer counts at all.
    enrolling = auth.login(vera.username, vera.password).token
    secret = auth.begin_enrolment(vera_id).secret
    auth.confirm_enrolment(vera_id, pyotp.TOTP(secret).at(clock.now()), login_token=enrolling)
    assert auth.resolve_token(token) is None
    assert auth.resolve_token(enrolling).acts_as_admin
    stale = _client(live_app.url, login=token)
    try:
        stale.send(f"{AdminState.get_full_name()}.set_active", {"username": victim.username, "active": False})
        stale.wait_for(ADMINS_ONLY)
    finally:
        stale.close()
    assert auth.login(victim.username, victim.password).user.username == victim.username


def test_two_tabs_share_the_login_and_a_logout_in_one_ends_it_in_the_other(live_app, new_context, account):
    anna = account("Анна")
    ctx = new_context()
    first = ctx.new_page()
    login(first, live_app.url, anna)
    second = ctx.new_page()
    second.goto(f"{live_app.url}/profile")
    expect(second.get_by_text(f"Анна · {anna.username}")).to_be_visible()
    shot(second, "second-tab-logged-in")
    second.get_by_role("button", name="Выйти").click()
    second.wait_for_url(f"{live_app.url}/login")
    assert not [c for c in ctx.cookies() if c["name"] == auth.SESSION_COOKIE]
    # The first tab's socket still carries the old cookie: the server refuses it.
    free = next(card.id for card in board.cards().values() if not card.busy)
    first.locator(f"[data-testid=slot-card][data-slot={free}]").get_by_role("button", name="Занять").click()
    first.wait_for_url(f"{live_app.url}/login")
    assert not _running_sessions_of(anna.username)
    # And logging in again in either tab works.
    login(first, live_app.url, anna)
    expect(first.locator("[data-testid=slot-card]")).to_have_count(10)


def _running_sessions_of(username: str) -> list[SlotSession]:
    with session_scope() as session:
        user_id = session.exec(select(User.id).where(User.username == username)).one()
        running = select(SlotSession).where(SlotSession.user_id == user_id, SlotSession.ended_at.is_(None))
        return list(session.exec(running))


def test_the_app_log_holds_no_client_token(live_app, account):
    """Reflex names a client token when it has a delta for a tab that just closed: make it happen."""
    anna = account("Анна")
    token = auth.login(anna.username, anna.password).token
    deadline = time.monotonic() + 30
    while "disconnected client" not in live_app.log_path.read_text(encoding="utf-8", errors="replace"):
        assert time.monotonic() < deadline, "could not make the app log a delta for a closed tab"
        tab = _client(live_app.url, login=token)
        # Events are handled one after another; the tab is gone before the last one's answer.
        for _ in range(30):
            tab.send(f"{DashboardState.get_full_name()}.toggle_favourite", {"slot_id": "lov-1"})
        tab.close()
    log = live_app.log_path.read_text(encoding="utf-8", errors="replace")
    assert "disconnected client '<client>'" in log
    leaked = [t for t in USED_TOKENS if t in log]
    assert leaked == []
    assert UUID_RE.findall(log) == []
