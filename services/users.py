"""People's accounts: created, renamed, reset and switched off by the operator CLI and the admin panel."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_
from sqlmodel import select

from services import auth
from services.core import audit, clock
from services.core.access import require_admin
from services.core.db import session_scope
from services.core.errors import Conflict, DomainError, Forbidden, NotFound
from services.core.models import SlotSession, User

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")


def normalise_username(username: str) -> str:
    username = (username or "").strip().lower()
    if not USERNAME_RE.match(username):
        raise DomainError("Логин: 2–32 символа, латинские буквы, цифры, точка, дефис, подчёркивание")
    return username


def _by_username(session, username: str) -> User:
    user = session.exec(select(User).where(User.username == normalise_username(username))).first()
    if user is None:
        raise NotFound(f"Пользователь '{username}' не найден")
    return user


def create_user(
    username: str, name: str, password: str, *, is_admin: bool = False, actor_id: int | None = None
) -> auth.UserInfo:
    username = normalise_username(username)
    name = _clean_name(name)
    password_hash = auth.hash_password(password)
    with session_scope() as session:
        if session.exec(select(User).where(User.username == username)).first():
            raise Conflict(f"Пользователь '{username}' уже существует")
        user = User(username=username, name=name, password_hash=password_hash, is_admin=is_admin)
        session.add(user)
        session.flush()
        audit.record(session, "user_created", actor_id=actor_id, subject=username, detail="admin" if is_admin else "")
        return auth.UserInfo.of(user)


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name or len(name) > 120:
        raise DomainError("Введите имя (до 120 символов)")
    return name


def rename(username: str, name: str, *, actor_id: int | None = None) -> None:
    name = _clean_name(name)
    with session_scope() as session:
        user = _by_username(session, username)
        old, user.name = user.name, name
        session.add(user)
        audit.record(session, "user_renamed", actor_id=actor_id, subject=user.username, detail=f"{old} → {name}")


def reset_password(username: str, password: str, *, actor_id: int | None = None) -> None:
    password_hash = auth.hash_password(password)
    with session_scope() as session:
        user = _by_username(session, username)
        user.password_hash = password_hash
        session.add(user)
        assert user.id is not None
        auth.revoke_user_tokens(session, user.id)
        audit.record(session, "password_reset", actor_id=actor_id, subject=user.username)


def reset_2fa(username: str, *, actor_id: int | None = None) -> None:
    """Remove the second factor; the user enrols again at the next login."""
    with session_scope() as session:
        user = _by_username(session, username)
        user.totp_secret_enc = None
        user.totp_pending_enc = None
        user.totp_last_step = None
        session.add(user)
        assert user.id is not None
        auth.revoke_user_tokens(session, user.id)
        audit.record(session, "2fa_reset", actor_id=actor_id, subject=user.username)


def set_active(username: str, active: bool, *, actor_id: int | None = None) -> None:
    with session_scope() as session:
        user = _by_username(session, username)
        user.is_active = active
        session.add(user)
        assert user.id is not None
        if not active:
            auth.revoke_user_tokens(session, user.id)
        audit.record(
            session, "user_activated" if active else "user_deactivated", actor_id=actor_id, subject=user.username
        )


def mark_onboarded(user_id: int) -> None:
    with session_scope() as session:
        user = session.get(User, user_id)
        if user is not None and not user.onboarded:
            user.onboarded = True
            session.add(user)


def list_users() -> list[auth.UserInfo]:
    with session_scope() as session:
        return [auth.UserInfo.of(u) for u in session.exec(select(User).order_by(User.username))]


# ---------------------------------------------------------------- the admin panel


@dataclass(frozen=True)
class UserRow:
    username: str
    name: str
    is_admin: bool
    is_active: bool
    has_2fa: bool
    telegram: str
    sessions_week: int
    hours_week: str


def user_rows(actor_id: int) -> list[UserRow]:
    require_admin(actor_id)
    since = clock.now() - timedelta(days=7)
    now = clock.now()
    with session_scope() as session:
        people = session.exec(select(User).order_by(User.username)).all()
        recent = session.exec(
            select(SlotSession).where(or_(SlotSession.ended_at.is_(None), SlotSession.ended_at > since))
        ).all()
    per_user: dict[int, list[SlotSession]] = {}
    for w in recent:
        per_user.setdefault(w.user_id, []).append(w)
    rows = []
    for u in people:
        assert u.id is not None
        works = per_user.get(u.id, [])
        hours = sum(((w.ended_at or now) - max(w.started_at, since)).total_seconds() for w in works) / 3600
        tg = "ошибка" if u.telegram_error else ("привязан" if u.telegram_chat_id else "—")
        rows.append(
            UserRow(
                u.username,
                u.name,
                u.is_admin,
                u.is_active,
                u.totp_secret_enc is not None,
                tg,
                len(works),
                f"{hours:.1f}",
            )
        )
    return rows


def _password_or_generated(password: str) -> str:
    # A generated one is shown to the admin once, to hand over; it is never stored in clear.
    return password or secrets.token_urlsafe(9)


def create_account(actor_id: int, form: dict) -> tuple[UserRow, str]:
    """Create an account; returns its row and the initial password (generated when left empty)."""
    require_admin(actor_id)
    password = _password_or_generated(str(form.get("password", "") or ""))
    info = create_user(
        str(form.get("username", "")),
        str(form.get("name", "")),
        password,
        is_admin=str(form.get("is_admin", "")).lower() in {"on", "true", "1"},
        actor_id=actor_id,
    )
    row = next(r for r in user_rows(actor_id) if r.username == info.username)
    return row, password


def reset_user_password(actor_id: int, username: str, password: str = "") -> str:
    """Set a new password (generated when empty) and sign the person out everywhere."""
    require_admin(actor_id)
    password = _password_or_generated(password)
    reset_password(username, password, actor_id=actor_id)
    return password


def rename_user(actor_id: int, username: str, name: str) -> None:
    require_admin(actor_id)
    rename(username, name, actor_id=actor_id)


def set_user_active(actor_id: int, username: str, active: bool) -> None:
    actor = require_admin(actor_id)
    if actor.username == username and not active:
        raise Forbidden("Нельзя отключить самого себя")
    set_active(username, active, actor_id=actor_id)


def reset_user_2fa(actor_id: int, username: str) -> None:
    require_admin(actor_id)
    reset_2fa(username, actor_id=actor_id)


def set_user_admin(actor_id: int, username: str, is_admin: bool) -> None:
    actor = require_admin(actor_id)
    if actor.username == username and not is_admin:
        raise Forbidden("Нельзя снять права администратора с самого себя")
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == normalise_username(username))).first()
        if user is None:
            raise Forbidden("Пользователь не найден")
        user.is_admin = is_admin
        session.add(user)
        assert user.id is not None
        if is_admin:
            auth.revoke_user_tokens(session, user.id)  # next login goes through 2FA enrolment
        audit.record(
            session, "admin_granted" if is_admin else "admin_revoked", actor_id=actor_id, subject=user.username
        )
