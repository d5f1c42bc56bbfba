"""Logins, second factor, revocation and throttling, as a user or an attacker sees them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from sqlmodel import select

from services import auth, runtime, users
from services.auth import AuthError
from services.core import clock, crypto
from services.core.db import session_scope
from services.core.models import AuditEvent, Notification, User

T0 = datetime(2026, 11, 26, 9, 0, 0, tzinfo=UTC)


def _wrong_code(secret: str, at: datetime) -> str:
    valid = {pyotp.TOTP(secret).at(at + timedelta(seconds=d)) for d in (-30, 0, 30)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def _enrol(user_id: int) -> str:
    enrolment = auth.begin_enrolment(user_id)
    auth.confirm_enrolment(user_id, pyotp.TOTP(enrolment.secret).at(clock.now()))
    return enrolment.secret


def test_correct_password_logs_in_and_token_identifies_the_user(make_user):
    user = make_user("maria")
    result = auth.login("Maria", "correct-horse", client_ip="10.0.0.1")
    assert result.user.id == user.id
    assert auth.resolve_token(result.token) == result.user


def test_wrong_password_and_unknown_user_get_the_same_message(make_user):
    make_user("maria")
    with pytest.raises(AuthError, match="Неверный логин или пароль"):
        auth.login("maria", "wrong-horse")
    with pytest.raises(AuthError, match="Неверный логин или пароль"):
        auth.login("nobody", "wrong-horse")


def test_user_with_2fa_needs_a_valid_code(make_user):
    clock.freeze(T0)
    user = make_user("maria")
    secret = _enrol(user.id)
    with pytest.raises(AuthError, match="Введите код 2FA"):
        auth.login("maria", "correct-horse")
    with pytest.raises(AuthError, match="Неверный код 2FA"):
        auth.login("maria", "correct-horse", _wrong_code(secret, T0))
    clock.freeze(T0 + timedelta(minutes=5))
    ok = auth.login("maria", "correct-horse", pyotp.TOTP(secret).at(clock.now()))
    assert ok.user.has_2fa


def test_a_totp_code_cannot_be_used_twice(make_user):
    clock.freeze(T0)
    user = make_user("maria")
    secret = _enrol(user.id)
    clock.freeze(T0 + timedelta(minutes=2))
    code = pyotp.TOTP(secret).at(clock.now())
    auth.login("maria", "correct-horse", code)
    with pytest.raises(AuthError, match="уже использован"):
        auth.login("maria", "correct-horse", code)
    # The next time step works again.
    clock.freeze(T0 + timedelta(minutes=2, seconds=30))
    auth.login("maria", "correct-horse", pyotp.TOTP(secret).at(clock.now()))


def test_enrolment_code_cannot_be_replayed_for_login(make_user):
    clock.freeze(T0)
    user = make_user("maria")
    enrolment = auth.begin_enrolment(user.id)
    code = pyotp.TOTP(enrolment.secret).at(T0)
    auth.confirm_enrolment(user.id, code)
    with pytest.raises(AuthError, match="уже использован"):
        auth.login("maria", "correct-horse", code)


def test_wrong_enrolment_code_leaves_2fa_off(make_user):
    user = make_user("maria")
    enrolment = auth.begin_enrolment(user.id)
    wrong = _wrong_code(enrolment.secret, clock.now())
    with pytest.raises(AuthError, match="Неверный код"):
        auth.confirm_enrolment(user.id, wrong)
    assert not auth.login("maria", "correct-horse").user.has_2fa


def test_totp_secret_is_not_stored_in_plain_text(make_user):
    user = make_user("maria")
    secret = _enrol(user.id)
    with session_scope() as session:
        row = session.get(User, user.id)
        assert secret not in (row.totp_secret_enc or "")
        assert crypto.decrypt(row.totp_secret_enc) == secret


def test_logout_revokes_the_token_at_once(make_user):
    make_user("maria")
    token = auth.login("maria", "correct-horse").token
    auth.logout(token)
    assert auth.resolve_token(token) is None


def test_deactivation_revokes_every_login_and_blocks_new_ones(make_user):
    make_user("maria")
    tokens = [auth.login("maria", "correct-horse").token for _ in range(2)]
    users.set_active("maria", False)
    assert all(auth.resolve_token(t) is None for t in tokens)
    with pytest.raises(AuthError, match="отключена"):
        auth.login("maria", "correct-horse")


def test_token_expires_after_its_lifetime(make_user, monkeypatch):
    monkeypatch.setenv("VDI_TOKEN_TTL_MINUTES", "60")
    auth.get_settings.cache_clear()
    clock.freeze(T0)
    make_user("maria")
    token = auth.login("maria", "correct-horse").token
    clock.freeze(T0 + timedelta(minutes=59))
    assert auth.resolve_token(token) is not None
    clock.freeze(T0 + timedelta(minutes=61))
    assert auth.resolve_token(token) is None


def test_forged_or_tampered_tokens_are_refused(make_user):
    make_user("maria")
    token = auth.login("maria", "correct-horse").token
    head, body, sig = token.split(".")
    assert auth.resolve_token(f"{head}.{body}.{sig[:-2]}xx") is None
    assert auth.resolve_token("garbage") is None
    assert auth.resolve_token("") is None


def test_repeated_failures_from_one_address_throttle_that_address_for_a_growing_delay(make_user):
    clock.freeze(T0)
    make_user("maria")
    for _ in range(3):  # threshold is 3 in tests
        with pytest.raises(AuthError, match="Неверный логин"):
            auth.login("maria", "bad-password", client_ip="10.0.0.7")
    # The guessing address is refused even with the right password...
    with pytest.raises(AuthError, match=r"Повторите через 3\d с"):
        auth.login("maria", "correct-horse", client_ip="10.0.0.7")
    clock.freeze(T0 + timedelta(seconds=31))
    with pytest.raises(AuthError, match="Неверный логин"):
        auth.login("maria", "bad-password", client_ip="10.0.0.7")
    # Fourth failure doubles the delay.
    with pytest.raises(AuthError, match=r"Повторите через 6\d с"):
        auth.login("maria", "correct-horse", client_ip="10.0.0.7")
    clock.freeze(T0 + timedelta(seconds=31 + 61))
    assert auth.login("maria", "correct-horse", client_ip="10.0.0.7").user.username == "maria"
    with session_scope() as session:
        kinds = [e.kind for e in session.exec(select(AuditEvent)).all()]
    assert "login_locked" in kinds and "login" in kinds


def test_an_attacker_hammering_an_account_cannot_lock_its_owner_out(make_user):
    clock.freeze(T0)
    uid = make_user("boss", admin=True).id
    secret = _enrol(uid)
    for attempt in range(12):
        with pytest.raises(AuthError):
            auth.login("boss", f"guess-{attempt}", client_ip="203.0.113.66")
    with pytest.raises(AuthError, match="Повторите через"):
        auth.login("boss", "correct-horse", pyotp.TOTP(secret).at(clock.now()), client_ip="203.0.113.66")
    # The owner, from her own address, with password and code, gets in at once.
    clock.freeze(T0 + timedelta(seconds=40))
    result = auth.login("boss", "correct-horse", pyotp.TOTP(secret).at(clock.now()), client_ip="10.0.0.5")
    assert result.user.username == "boss"


def test_many_addresses_failing_on_one_account_alert_admins_once_per_burst(make_user, monkeypatch):
    monkeypatch.setenv("VDI_LOGIN_ALERT_THRESHOLD", "5")
    runtime.reset()
    clock.freeze(T0)
    make_user("maria")
    admin_id = make_user("boss", admin=True).id
    for attempt in range(9):
        with pytest.raises(AuthError):
            auth.login("maria", "bad-password", client_ip=f"198.51.100.{attempt + 1}")
    with session_scope() as session:
        alerts = session.exec(select(Notification).where(Notification.kind == "login_burst")).all()
        bursts = session.exec(select(AuditEvent).where(AuditEvent.kind == "login_burst")).all()
    assert [n.user_id for n in alerts] == [admin_id]
    assert "maria" in alerts[0].text
    assert [b.subject for b in bursts] == ["maria"]
    # After a quiet window a new burst alerts again.
    clock.freeze(T0 + timedelta(minutes=30))
    for attempt in range(5):
        with pytest.raises(AuthError):
            auth.login("maria", "bad-password", client_ip=f"198.51.100.{attempt + 50}")
    with session_scope() as session:
        assert len(session.exec(select(Notification).where(Notification.kind == "login_burst")).all()) == 2


def test_one_address_guessing_many_accounts_gets_throttled(make_user, monkeypatch):
    monkeypatch.setenv("VDI_LOGIN_IP_LOCK_THRESHOLD", "4")
    runtime.reset()
    clock.freeze(T0)
    make_user("maria")
    for name in ("a1", "a2", "a3", "a4"):
        with pytest.raises(AuthError, match="Неверный логин"):
            auth.login(name, "whatever-pass", client_ip="10.9.9.9")
    with pytest.raises(AuthError, match="Повторите через"):
        auth.login("maria", "correct-horse", client_ip="10.9.9.9")
    assert auth.login("maria", "correct-horse", client_ip="10.1.1.1").user.username == "maria"


def test_admin_without_2fa_must_enrol_and_user_may_skip(make_user):
    admin = make_user("boss", admin=True, with_2fa=False)
    user = make_user("maria")
    assert admin.must_enrol_2fa
    assert not user.must_enrol_2fa
