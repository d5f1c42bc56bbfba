"""Account management used by the operator CLI and the admin panel."""

from __future__ import annotations

import re

from sqlmodel import select

from services import audit, auth
from services.db import session_scope
from services.errors import Conflict, DomainError, NotFound
from services.models import User

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
