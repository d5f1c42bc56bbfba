"""The login cookie, its one-time ticket, the 2FA claim of a login, client tokens and the log."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta

import pyotp
import pytest
from reflex.istate.data import HeaderData, SessionData
from reflex.state import State
from sqlmodel import select
from starlette.applications import Starlette
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from services import auth, runtime, slots, users
from services.core import clock, crypto
from services.core.access import require_admin
from services.core.db import session_scope
from services.core.errors import Forbidden
from services.core.models import User
from services.telegram import bot
from state.admin import AdminState
from state.auth import AuthState
from state.tab_binding import TabBinding, is_client_token
from vdi_taxi import log_privacy, routes
from vdi_taxi.http_routes import ROUTES
from vdi_taxi.socket_gate import with_socket_gate

T0 = clock.now().replace(microsecond=0)


def _client() -> TestClient:
    return TestClient(Starlette(routes=ROUTES), base_url="http://testserver")


def _set_cookie_header(reply) -> str:
    (header,) = [v for k, v in reply.headers.multi_items() if k == "set-cookie"]
    return header.lower()


def test_a_ticket_sets_an_httponly_strict_cookie_once_and_a_second_use_gets_nothing(make_user):
    anna = make_user("anna")
    token = auth.login("anna", "correct-horse").token
    ticket = auth.issue_ticket(token)
    client = _client()
    reply = client.get(routes.sign_in(ticket), follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == routes.LOGIN
    cookie = _set_cookie_header(reply)
    assert f"{auth.SESSION_COOKIE}={token}".lower() in cookie
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # the default public URL is http
    assert auth.resolve_token(reply.cookies[auth.SESSION_COOKIE]).id == anna.id
    again = _client().get(routes.sign_in(ticket), follow_redirects=False)
    assert again.status_code == 303 and "set-cookie" not in again.headers
    assert auth.redeem_ticket(ticket) is None


def test_the_cookie_is_secure_when_the_app_is_served_over_https(make_user, monkeypatch):
    monkeypatch.setenv("VDI_PUBLIC_URL", "https://taxi.example.com")
    runtime.reset()
    make_user("anna")
    ticket = auth.issue_ticket(auth.login("anna", "correct-horse").token)
    reply = _client().get(routes.sign_in(ticket), follow_redirects=False)
    cookie = _set_cookie_header(reply)
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie


def test_a_ticket_is_good_for_a_minute_only_and_never_for_a_revoked_login(make_user):
    make_user("anna")
    clock.freeze(T0)
    late = auth.issue_ticket(auth.login("anna", "correct-horse").token)
    clock.freeze(T0 + timedelta(seconds=auth.TICKET_SECONDS + 1))
    assert auth.redeem_ticket(late) is None
    token = auth.login("anna", "correct-horse").token
    revoked = auth.issue_ticket(token)
    auth.logout(token)
    assert auth.redeem_ticket(revoked) is None
    for forged in ("", "x" * 500, "not-a-ticket"):
        assert auth.redeem_ticket(forged) is None


def test_two_redeemers_racing_for_one_ticket_get_one_cookie(make_user):
    make_user("anna")
    ticket = auth.issue_ticket(auth.login("anna", "correct-horse").token)

    async def race():
        return await asyncio.gather(*(asyncio.to_thread(auth.redeem_ticket, ticket) for _ in range(8)))

    results = asyncio.run(race())
    assert sum(r is not None for r in results) == 1


def test_sign_out_revokes_the_login_and_clears_the_cookie(make_user):
    make_user("anna")
    token = auth.login("anna", "correct-horse").token
    client = _client()
    client.cookies.set(auth.SESSION_COOKIE, token)
    reply = client.get(routes.SIGN_OUT, follow_redirects=False)
    assert reply.status_code == 303 and reply.headers["location"] == routes.DASHBOARD
    cookie = _set_cookie_header(reply)
    assert f'{auth.SESSION_COOKIE}=""' in cookie and "max-age=0" in cookie and "httponly" in cookie
    assert auth.resolve_token(token) is None


def test_the_cookie_is_read_from_a_cookie_header_among_others():
    header = f"theme=dark; {auth.SESSION_COOKIE}=abc.def.ghi; other=1"
    assert auth.token_from_cookies(header) == "abc.def.ghi"
    assert auth.token_from_cookies("theme=dark") == ""
    assert auth.token_from_cookies("") == ""
    assert auth.login_id("abc.def.ghi") == ""


def test_an_admin_who_logged_in_with_the_password_alone_can_do_no_admin_work(make_user, demo_slots):
    vera = make_user("vera", admin=True, with_2fa=False)
    anna = make_user("anna")
    result = auth.login("vera", "correct-horse")
    assert result.user.mfa is False and not result.user.acts_as_admin
    assert auth.resolve_token(result.token).must_enrol_2fa
    with pytest.raises(Forbidden, match="2FA"):
        require_admin(vera.id)
    with pytest.raises(Forbidden):
        users.set_user_active(vera.id, "anna", False)
    with pytest.raises(Forbidden):
        slots.reveal_credentials(vera.id, demo_slots[0])
    assert auth.login("anna", "correct-horse").user.id == anna.id  # still active


def test_enrolling_in_a_login_makes_it_an_admin_one_and_the_admins_password_only_logins_stop_counting(make_user):
    vera = make_user("vera", admin=True, with_2fa=False)
    clock.freeze(T0)
    elsewhere = auth.login("vera", "correct-horse").token
    here = auth.login("vera", "correct-horse").token
    secret = auth.begin_enrolment(vera.id).secret
    enrolled = auth.confirm_enrolment(vera.id, pyotp.TOTP(secret).at(clock.now()), login_token=here)
    assert enrolled.acts_as_admin
    assert auth.resolve_token(here).acts_as_admin
    assert auth.resolve_token(elsewhere) is None
    assert require_admin(vera.id).username == "vera"
    # A later login passes the code and is an admin one from the start.
    clock.freeze(T0 + timedelta(seconds=60))
    later = auth.login("vera", "correct-horse", pyotp.TOTP(secret).at(clock.now()))
    assert later.user.acts_as_admin and auth.resolve_token(later.token).acts_as_admin


def test_an_employee_keeps_other_logins_when_she_enrols(make_user):
    anna = make_user("anna")
    clock.freeze(T0)
    other = auth.login("anna", "correct-horse").token
    secret = auth.begin_enrolment(anna.id).secret
    auth.confirm_enrolment(anna.id, pyotp.TOTP(secret).at(clock.now()))
    assert auth.resolve_token(other).id == anna.id


def test_telegram_admin_commands_from_an_admin_without_2fa_are_refused(make_user, demo_slots):
    vera = make_user("vera", admin=True, with_2fa=False)
    anna = make_user("anna")
    with session_scope() as session:
        session.get(User, vera.id).telegram_chat_id = 555
    for text in ("/kick anna", "/health", "/stats", f"/release {demo_slots[0]}"):
        assert "2FA" in bot.reply_to(555, text, update_id=hash(text) % 10_000)
    assert auth.login("anna", "correct-horse").user.id == anna.id


@pytest.mark.parametrize(
    "token,ok",
    [
        (str(uuid.uuid4()), True),
        ("4c1f7a2e-9d3b-4f6a-f123-0123456789ab", True),  # the frontend's variant nibble runs 8-f
        ("slotboard", False),
        ("", False),
        (str(uuid.uuid1()), False),
        (str(uuid.uuid4()).upper(), False),
        (str(uuid.uuid4()) + "x", False),
        ("../" + str(uuid.uuid4()), False),
    ],
)
def test_only_client_tokens_the_frontend_makes_are_accepted(token, ok):
    assert is_client_token(token) is ok


def test_the_socket_gate_turns_away_foreign_tokens_before_the_app_sees_them():
    reached: list[str] = []

    async def app(scope, receive, send):
        reached.append(scope["query_string"].decode())
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    client = TestClient(with_socket_gate(app))
    good = str(uuid.uuid4())
    assert client.get(f"/_event/?EIO=4&transport=polling&token={good}").status_code == 200
    assert client.get("/_event/?EIO=4&transport=polling&token=slotboard").status_code == 403
    assert client.get("/_event/?EIO=4&transport=polling").status_code == 403
    assert client.get("/login?token=slotboard").status_code == 200  # other paths are not its business
    assert reached == [f"EIO=4&transport=polling&token={good}", "token=slotboard"]
    with (
        pytest.raises(WebSocketDisconnect),
        client.websocket_connect("/_event/?EIO=4&transport=websocket&token=slotboard"),
    ):
        pass


@pytest.fixture
def redacting_log():
    previous = logging.getLogRecordFactory()
    log_privacy.install()
    log_privacy.install()  # twice is once
    yield
    logging.setLogRecordFactory(previous)


def test_uuids_in_log_messages_are_redacted_whatever_the_logger(redacting_log, caplog):
    token = str(uuid.uuid4())
    with caplog.at_level(logging.WARNING):
        logging.getLogger("reflex.app").warning(f"Attempting to send delta to disconnected client {token!r}")
        logging.getLogger("anything.else").warning("token %s in args", token)
        try:
            raise RuntimeError(f"cleanup of {token} failed")
        except RuntimeError:
            logging.getLogger("reflex.utils").exception("Token cleanup error")
    text = caplog.text
    assert token not in text
    assert "disconnected client '<client>'" in text and "token <client> in args" in text


def _tab(client_token: str, login: str) -> State:
    """A tab's whole state tree, as seen by an event on a socket whose handshake carried `login`."""
    root = State(_reflex_internal_init=True)
    root.rx_router_session = SessionData(client_token=client_token)
    root.rx_router_headers = HeaderData(cookie=f"{auth.SESSION_COOKIE}={login}")
    return root


def test_a_tabs_state_is_wiped_before_another_login_uses_it_and_left_alone_by_its_own(make_user):
    async def scenario():
        make_user("boss", admin=True)
        make_user("anna")
        boss = auth.login("boss", "correct-horse", auth.current_code(_secret_of("boss"))).token
        anna = auth.login("anna", "correct-horse").token
        binding = TabBinding()
        root = _tab(str(uuid.uuid4()), boss)
        assert await binding.preprocess(None, root, None) is None
        admin = await root.get_state(AdminState)
        admin.issued_for, admin.issued_password = "anna", "s3cret-pass"
        root._clean()
        # The same login again: nothing is written, so the event sends no extra delta.
        assert await binding.preprocess(None, root, None) is None
        tab_states = [root, admin, await root.get_state(AuthState)]
        assert not any(state.dirty_vars for state in tab_states) and root.get_delta() == {}
        assert admin.issued_password == "s3cret-pass"
        # Another login (or none) on the same client token: the tab starts from scratch.
        for other in (anna, ""):
            admin.issued_password = "s3cret-pass"
            root.rx_router_headers = HeaderData(cookie=f"{auth.SESSION_COOKIE}={other}")
            assert await binding.preprocess(None, root, None) is None
            assert admin.issued_password == "" and admin.issued_for == ""
            assert (await root.get_state(AuthState))._bound_login == auth.login_id(other)
        # A client token the frontend cannot have made gets nothing processed.
        refused = await binding.preprocess(None, _tab("slotboard", boss), None)
        assert refused is not None and refused.delta == {} and refused.events == []

    asyncio.run(scenario())


def _secret_of(username: str) -> str:
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == username)).one()
        return crypto.decrypt(user.totp_secret_enc)
