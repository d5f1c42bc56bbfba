"""Logins: passwords, TOTP second factor, revocable tokens, brute-force throttling.

A login is a signed token (JWT) whose id is a row of ``auth_tokens``: revocable, expiring, and
carrying whether the login passed a second factor (``mfa``). The browser holds it only as an
HttpOnly cookie (``SESSION_COOKIE``), which it gets by trading a one-time ticket at an HTTP route
(``issue_ticket`` / ``redeem_ticket``), so page scripts never see it.
"""

from __future__ import annotations

import dataclasses
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import bcrypt
import jwt
import pyotp
import segno
from sqlalchemy import or_, update
from sqlmodel import Session, select

from services.core import audit, clock, crypto, outbox
from services.core.db import session_scope
from services.core.errors import DomainError
from services.core.models import AuthToken, LoginThrottle, User
from services.core.settings import get_settings

ISSUER = "VDI Такси"
TOTP_STEP = 30
# Failures older than this stop counting (towards a lock or a burst alert).
FAILURE_WINDOW = timedelta(minutes=15)
# The login cookie: HttpOnly, set and cleared only by the app's HTTP routes.
SESSION_COOKIE = "vdi_token"
# How long the one-time ticket that sets the cookie is good for: the browser follows it at once.
TICKET_SECONDS = 60
# A real hash to compare against when the user does not exist, so timing does not tell.
_DUMMY_HASH = bcrypt.hashpw(b"no-such-user", bcrypt.gensalt(rounds=12))


class AuthError(DomainError):
    pass


@dataclass(frozen=True)
class UserInfo:
    id: int
    username: str
    name: str
    is_admin: bool
    has_2fa: bool
    onboarded: bool
    # This login passed a second factor (a TOTP code at login, or enrolment confirmed in it).
    mfa: bool = False

    @classmethod
    def of(cls, user: User) -> UserInfo:
        assert user.id is not None
        return cls(
            id=user.id,
            username=user.username,
            name=user.name,
            is_admin=user.is_admin,
            has_2fa=user.totp_secret_enc is not None,
            onboarded=user.onboarded,
        )

    @property
    def must_enrol_2fa(self) -> bool:
        """Admins cannot work without a second factor."""
        return self.is_admin and not self.has_2fa

    @property
    def acts_as_admin(self) -> bool:
        """An administrator whose login passed 2FA: the only caller admin handlers serve."""
        return self.is_admin and self.has_2fa and self.mfa


@dataclass(frozen=True)
class LoginResult:
    token: str
    user: UserInfo


@dataclass(frozen=True)
class Enrolment:
    secret: str
    uri: str
    qr_data_uri: str


# ---------------------------------------------------------------- passwords


def hash_password(password: str) -> str:
    if len(password) < 8:
        raise DomainError("Пароль должен быть не короче 8 символов")
    if len(password.encode()) > 72:
        raise DomainError("Пароль слишком длинный (не больше 72 байт)")
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=get_settings().bcrypt_rounds)).decode()


def _password_matches(password: str, hashed: str) -> bool:
    raw = password.encode()
    if len(raw) > 72:
        return False
    return bcrypt.checkpw(raw, hashed.encode())


# ---------------------------------------------------------------- throttling


def _lock_seconds(failures: int, threshold: int) -> int:
    s = get_settings()
    over = failures - threshold
    if over < 0:
        return 0
    return min(s.login_lock_base_seconds * (2**over), s.login_lock_max_seconds)


@dataclass(frozen=True)
class _Keys:
    """Throttle counters for one attempt. Never a lock on the account alone: anyone could
    then lock anyone out. The account key only counts, to alert admins about a burst."""

    pair: str  # this account from this address: locks after a few failures
    address: str  # this address, any account: locks after many failures
    account: str  # this account, any address: never locks, only alerts

    @property
    def locking(self) -> list[tuple[str, int]]:
        s = get_settings()
        return [(self.pair, s.login_lock_threshold), (self.address, s.login_ip_lock_threshold)]


def _throttle_keys(username: str, client_ip: str) -> _Keys:
    name = username.lower()[:64]
    ip = client_ip[:64] or "unknown"
    return _Keys(pair=f"pair:{name}@{ip}", address=f"ip:{ip}", account=f"burst:{name}")


def _check_lock(session: Session, keys: _Keys, now: datetime) -> None:
    for key, _ in keys.locking:
        row = session.get(LoginThrottle, key)
        if row and row.locked_until and row.locked_until > now:
            wait = int((row.locked_until - now).total_seconds()) + 1
            raise AuthError(f"Слишком много неудачных попыток. Повторите через {wait} с.")


def _bump(session: Session, key: str, now: datetime) -> LoginThrottle:
    row = session.get(LoginThrottle, key)
    if row is None:
        row = LoginThrottle(key=key, failures=0, updated_at=now)
    elif row.updated_at < now - FAILURE_WINDOW and not (row.locked_until and row.locked_until > now):
        row.failures = 0
    row.failures += 1
    row.updated_at = now
    session.add(row)
    return row


def _record_failure(session: Session, keys: _Keys, now: datetime, client_ip: str, username: str) -> bool:
    """Count a failure; True when it starts a burst against the account that admins must hear about."""
    for key, threshold in keys.locking:
        row = _bump(session, key, now)
        seconds = _lock_seconds(row.failures, threshold)
        if seconds:
            row.locked_until = now + timedelta(seconds=seconds)
            audit.record(session, "login_locked", subject=key, detail=f"{seconds} s", client_ip=client_ip)
    audit.record(session, "login_failed", subject=username[:64], client_ip=client_ip)
    burst = _bump(session, keys.account, now)
    # Exactly at the threshold: once per burst (the counter restarts after a quiet window).
    if burst.failures == get_settings().login_alert_threshold:
        audit.record(
            session, "login_burst", subject=username[:64], detail=f"{burst.failures} failures", client_ip=client_ip
        )
        return True
    return False


def _alert_burst(username: str, client_ip: str, now: datetime) -> None:
    s = get_settings()
    # Through the outbox like every admin alert (alerts.alert_admins sits above this module).
    outbox.enqueue_for_admins(
        "login_burst",
        f"🚨 {s.login_alert_threshold} неудачных входов подряд в учётную запись «{username[:64]}» "
        f"за {int(FAILURE_WINDOW.total_seconds() // 60)} мин.\nПоследний адрес: {client_ip or 'неизвестен'}",
        f"login_burst:{username[:64]}:{now.isoformat()}",
    )


def _clear_failures(session: Session, keys: _Keys) -> None:
    row = session.get(LoginThrottle, keys.pair)
    if row:
        session.delete(row)


# ---------------------------------------------------------------- TOTP


def _totp(secret: str) -> pyotp.TOTP:
    return pyotp.TOTP(secret, interval=TOTP_STEP)


def _matching_step(secret: str, code: str, now: datetime) -> int | None:
    """The time step a code belongs to, allowing one step of clock drift."""
    code = code.strip().replace(" ", "")
    if len(code) != 6 or not code.isdigit():
        return None
    totp = _totp(secret)
    current = totp.timecode(now)
    for step in (current, current - 1, current + 1):
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _consume_step(session: Session, user_id: int, step: int) -> bool:
    """Accept a step only if it is newer than the last one used (atomic, so no replay)."""
    result = session.exec(
        update(User)
        .where(User.id == user_id)
        .where(or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step)
    )
    return result.rowcount == 1


def begin_enrolment(user_id: int) -> Enrolment:
    with session_scope() as session:
        user = _load_active(session, user_id)
        if user.totp_pending_enc:
            secret = crypto.decrypt(user.totp_pending_enc)
        else:
            secret = pyotp.random_base32()
            user.totp_pending_enc = crypto.encrypt(secret)
            session.add(user)
        uri = _totp(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5, border=2, dark="#0f172a", light="#ffffff")
    return Enrolment(secret=secret, uri=uri, qr_data_uri=qr)


def confirm_enrolment(user_id: int, code: str, client_ip: str = "", login_token: str = "") -> UserInfo:
    """Turn the pending secret on. The login it was confirmed in (`login_token`) has now passed a
    second factor; an admin's other logins, which did not, stop counting (see resolve_token)."""
    now = clock.now()
    claims = _decode(login_token)
    with session_scope() as session:
        user = _load_active(session, user_id)
        if not user.totp_pending_enc:
            raise AuthError("Сначала откройте страницу подключения 2FA")
        secret = crypto.decrypt(user.totp_pending_enc)
        step = _matching_step(secret, code, now)
        if step is None:
            raise AuthError("Неверный код 2FA. Проверьте время на телефоне и попробуйте снова.")
        user.totp_secret_enc = user.totp_pending_enc
        user.totp_pending_enc = None
        user.totp_last_step = step
        session.add(user)
        verified = claims is not None and claims["sub"] == str(user_id)
        if verified:
            assert claims is not None
            session.exec(update(AuthToken).where(AuthToken.jti == claims["jti"]).values(mfa=True))
        audit.record(session, "2fa_enrolled", actor_id=user_id, subject=user.username, client_ip=client_ip)
        return dataclasses.replace(UserInfo.of(user), mfa=verified)


def current_code(secret: str, at: datetime | None = None) -> str:
    """The code an authenticator app would show; used by the operator CLI and tests."""
    return _totp(secret).at(at or clock.now())


# ---------------------------------------------------------------- tokens


def _encode(row: AuthToken) -> str:
    """The signed token of a login row (the same bytes every time: HS256 over fixed claims)."""
    payload = {
        "sub": str(row.user_id),
        "jti": row.jti,
        "iat": int(row.issued_at.timestamp()),
        "exp": int(row.expires_at.timestamp()),
    }
    return jwt.encode(payload, crypto.jwt_key(), algorithm="HS256")


def _issue_token(session: Session, user: User, client_ip: str, now: datetime, *, mfa: bool) -> str:
    assert user.id is not None
    expires = now + timedelta(minutes=get_settings().token_ttl_minutes)
    row = AuthToken(
        jti=secrets.token_urlsafe(24),
        user_id=user.id,
        issued_at=now,
        expires_at=expires,
        client_ip=client_ip[:64],
        mfa=mfa,
    )
    session.add(row)
    return _encode(row)


def _decode(token: str) -> dict | None:
    if not token or len(token) > 2000:
        return None
    try:
        return jwt.decode(
            token,
            crypto.jwt_key(),
            algorithms=["HS256"],
            # Time checks use services.core.clock (below and in the token table), not the wall clock.
            options={"require": ["sub", "jti", "exp"], "verify_exp": False, "verify_iat": False},
        )
    except jwt.PyJWTError:
        return None


def login_id(token: str) -> str:
    """The id of the login a token names if its signature holds, else "" (no database look-up:
    used to tell apart whose a tab's state is, not to let anyone in)."""
    claims = _decode(token)
    return str(claims["jti"]) if claims is not None else ""


def resolve_token(token: str) -> UserInfo | None:
    """The user behind a token, or None if it is invalid, expired, revoked or deactivated.

    An administrator with 2FA enrolled is only ever signed in by a login that passed it: a login
    from before the enrolment (password only) no longer counts for them."""
    claims = _decode(token)
    now = clock.now()
    if claims is None or claims["exp"] <= now.timestamp():
        return None
    with session_scope() as session:
        row = session.get(AuthToken, claims["jti"])
        if row is None or row.revoked_at is not None or row.expires_at <= now or str(row.user_id) != claims["sub"]:
            return None
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            return None
        if user.is_admin and user.totp_secret_enc is not None and not row.mfa:
            return None
        return dataclasses.replace(UserInfo.of(user), mfa=row.mfa)


def issue_ticket(token: str) -> str:
    """A one-time ticket, good for TICKET_SECONDS, that the browser trades for `token` as an
    HttpOnly cookie. Only its digest is stored; issuing another replaces it."""
    claims = _decode(token)
    if claims is None:
        raise AuthError("Сессия входа недействительна. Войдите снова.")
    ticket = secrets.token_urlsafe(32)
    expires = clock.now() + timedelta(seconds=TICKET_SECONDS)
    with session_scope() as session:
        session.exec(
            update(AuthToken)
            .where(AuthToken.jti == claims["jti"], AuthToken.revoked_at.is_(None))
            .values(ticket_digest=crypto.token_digest(ticket), ticket_expires_at=expires)
        )
    return ticket


def redeem_ticket(ticket: str) -> tuple[str, UserInfo] | None:
    """The login token and user a ticket stands for, once: the first redeemer clears it (a
    conditional update), so a copied or replayed ticket gets nothing. None if unknown or stale."""
    if not ticket or len(ticket) > 100:
        return None
    digest = crypto.token_digest(ticket)
    now = clock.now()
    with session_scope() as session:
        row = session.exec(select(AuthToken).where(AuthToken.ticket_digest == digest)).first()
        if row is None:
            return None
        fresh = row.ticket_expires_at is not None and row.ticket_expires_at > now
        token = _encode(row)
        claimed = session.exec(
            update(AuthToken)
            .where(AuthToken.jti == row.jti, AuthToken.ticket_digest == digest)
            .values(ticket_digest=None, ticket_expires_at=None)
        )
        if claimed.rowcount != 1 or not fresh:
            return None
    info = resolve_token(token)
    return (token, info) if info is not None else None


def token_from_cookies(cookie_header: str) -> str:
    """The login token in a Cookie request header ("" if there is none)."""
    for part in (cookie_header or "").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name == SESSION_COOKIE:
            return value.strip().strip('"')[:2000]
    return ""


def logout(token: str) -> None:
    claims = _decode(token)
    if claims is None:
        return
    with session_scope() as session:
        session.exec(
            update(AuthToken)
            .where(AuthToken.jti == claims["jti"], AuthToken.revoked_at.is_(None))
            .values(revoked_at=clock.now())
        )


def revoke_user_tokens(session: Session, user_id: int) -> None:
    session.exec(
        update(AuthToken)
        .where(AuthToken.user_id == user_id, AuthToken.revoked_at.is_(None))
        .values(revoked_at=clock.now())
    )


# ---------------------------------------------------------------- login


def _load_active(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        raise AuthError("Сессия входа недействительна. Войдите снова.")
    return user


def login(username: str, password: str, totp_code: str = "", client_ip: str = "") -> LoginResult:
    username = (username or "").strip().lower()
    password = password or ""
    if not username:
        raise AuthError("Введите логин")
    if len(password) < 4:
        raise AuthError("Пароль минимум 4 символа")
    if len(username) > 64:
        raise AuthError("Неверный логин или пароль")
    now = clock.now()
    keys = _throttle_keys(username, client_ip)
    with session_scope() as session:
        _check_lock(session, keys, now)
        user = session.exec(select(User).where(User.username == username)).first()
        ok = _password_matches(password, user.password_hash if user else _DUMMY_HASH.decode())
        burst = False
        if user is None or not ok:
            burst = _record_failure(session, keys, now, client_ip, username)
            failure: AuthError | None = AuthError("Неверный логин или пароль")
        elif not user.is_active:
            failure = AuthError("Учётная запись отключена. Обратитесь к администратору.")
        elif user.totp_secret_enc:
            failure, burst = _check_second_factor(session, user, totp_code, now, keys, client_ip)
        else:
            failure = None
        if failure is None:
            assert user is not None
            _clear_failures(session, keys)
            # Reaching here with a second factor enrolled means its code was just checked.
            mfa = user.totp_secret_enc is not None
            token = _issue_token(session, user, client_ip, now, mfa=mfa)
            audit.record(session, "login", actor_id=user.id, subject=username, client_ip=client_ip)
            return LoginResult(token=token, user=dataclasses.replace(UserInfo.of(user), mfa=mfa))
    # Raised after the block so the failure counters are committed.
    if burst:
        _alert_burst(username, client_ip, now)
    raise failure


def _check_second_factor(
    session: Session, user: User, code: str, now: datetime, keys: _Keys, client_ip: str
) -> tuple[AuthError | None, bool]:
    """The failure (if any) and whether it started a burst."""
    assert user.id is not None and user.totp_secret_enc
    code = (code or "").strip()
    if not code:
        return AuthError("Введите код 2FA из приложения-аутентификатора"), False
    step = _matching_step(crypto.decrypt(user.totp_secret_enc), code, now)
    if step is None:
        burst = _record_failure(session, keys, now, client_ip, user.username)
        return AuthError("Неверный код 2FA"), burst
    if not _consume_step(session, user.id, step):
        burst = _record_failure(session, keys, now, client_ip, user.username)
        return AuthError("Этот код уже использован. Дождитесь следующего кода."), burst
    return None, False
