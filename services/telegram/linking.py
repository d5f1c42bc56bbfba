"""Linking a Telegram chat to an account: a one-time code from the profile, sent to the bot as /start <code>."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import update
from sqlmodel import select

from services.core import clock, crypto
from services.core.db import session_scope
from services.core.errors import DomainError
from services.core.models import TelegramLinkCode, User
from services.core.settings import get_settings

log = logging.getLogger(__name__)


def configured() -> bool:
    return get_settings().telegram.configured


@dataclass(frozen=True)
class LinkCode:
    code: str
    expires_at_label: str

    def deep_link(self, bot_username: str) -> str:
        return f"https://t.me/{bot_username}?start={self.code}" if bot_username else ""


def create_link_code(user_id: int) -> LinkCode:
    """A fresh one-time code; older unused codes of the person stop working."""
    code = secrets.token_hex(4).upper()
    expires = clock.now() + timedelta(minutes=get_settings().telegram.link_code_minutes)
    with session_scope() as session:
        session.exec(
            update(TelegramLinkCode)
            .where(TelegramLinkCode.user_id == user_id, TelegramLinkCode.used_at.is_(None))
            .values(used_at=clock.now())
        )
        session.add(TelegramLinkCode(code_hash=crypto.token_digest(code), user_id=user_id, expires_at=expires))
    return LinkCode(code, clock.hhmm(expires))


def link_chat(code: str, chat_id: int) -> User:
    code = (code or "").strip().upper()
    now = clock.now()
    with session_scope() as session:
        row = session.get(TelegramLinkCode, crypto.token_digest(code)) if code else None
        if row is None or row.used_at is not None or row.expires_at <= now:
            raise DomainError("Код не подошёл или устарел. Получите новый в профиле VDI Такси.")
        claimed = session.exec(
            update(TelegramLinkCode)
            .where(TelegramLinkCode.code_hash == row.code_hash, TelegramLinkCode.used_at.is_(None))
            .values(used_at=now)
        )
        if claimed.rowcount != 1:
            raise DomainError("Код уже использован.")
        # A chat controls one account: linking here moves it away from any other.
        session.exec(update(User).where(User.telegram_chat_id == chat_id).values(telegram_chat_id=None))
        session.flush()
        user = session.get(User, row.user_id)
        if user is None or not user.is_active:
            raise DomainError("Учётная запись отключена.")
        user.telegram_chat_id, user.telegram_linked_at, user.telegram_error = chat_id, now, ""
        session.add(user)
        return user


def unlink(user_id: int) -> None:
    with session_scope() as session:
        session.exec(update(User).where(User.id == user_id).values(telegram_chat_id=None, telegram_linked_at=None))


def user_for_chat(chat_id: int) -> User | None:
    with session_scope() as session:
        return session.exec(select(User).where(User.telegram_chat_id == chat_id, User.is_active)).first()


@dataclass(frozen=True)
class TelegramLink:
    configured: bool
    linked: bool
    since: str
    error: str


def link_state(user_id: int) -> TelegramLink:
    with session_scope() as session:
        user = session.get(User, user_id)
    if user is None:
        return TelegramLink(configured(), False, "", "")
    since = f"{clock.local(user.telegram_linked_at):%d.%m.%Y %H:%M}" if user.telegram_linked_at else ""
    return TelegramLink(configured(), user.telegram_chat_id is not None, since, user.telegram_error)
