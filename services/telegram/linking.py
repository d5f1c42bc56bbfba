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
from services.core.models import LoginThrottle, SystemStatus, TelegramLinkCode, User
from services.core.settings import BOT_USERNAME_RE, get_settings

log = logging.getLogger(__name__)


BOT_STATUS_KEY = "telegram_bot"


def configured() -> bool:
    return get_settings().telegram.configured


def remember_bot(username: str | None) -> None:
    """The bot's @username as getMe reported it, so every app process can name the bot."""
    name = (username or "").removeprefix("@")
    if not BOT_USERNAME_RE.fullmatch(name):
        log.warning("Telegram reported an unusable bot username %r", username)
        return
    with session_scope() as session:
        row = session.get(SystemStatus, BOT_STATUS_KEY) or SystemStatus(
            key=BOT_STATUS_KEY, state="ok", updated_at=clock.now()
        )
        row.detail, row.updated_at = name, clock.now()
        session.add(row)


def bot_username() -> str:
    """The bot people write to: VDI_TELEGRAM_BOT_USERNAME, else what getMe said; empty while unknown."""
    if not configured():
        return ""
    if name := get_settings().telegram.bot_username:
        return name
    with session_scope() as session:
        row = session.get(SystemStatus, BOT_STATUS_KEY)
        return row.detail if row else ""


@dataclass(frozen=True)
class LinkCode:
    code: str
    expires_at_label: str


def bot_url(bot_username: str, code: str = "") -> str:
    """The bot's t.me address; with a code, opening it sends /start <code> to the bot."""
    if not bot_username:
        return ""
    return f"https://t.me/{bot_username}" + (f"?start={code}" if code else "")


# Crockford's base32: no I, L, O or U, so a code read off a screen is typed right.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
CODE_LENGTH = 10  # 10 x 5 bits = 50 bits
# Wrong codes a chat may send before it has to wait (counted in the database, so across workers).
MAX_WRONG_CODES = 5
WRONG_CODE_WINDOW = timedelta(minutes=15)


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _normalise(code: str) -> str:
    """What the person meant: case, spaces and dashes do not matter, look-alikes are mapped."""
    raw = (code or "").strip().upper().replace("-", "").replace(" ", "")
    return raw.translate(str.maketrans({"O": "0", "I": "1", "L": "1"}))[:64]


def _chat_key(chat_id: int) -> str:
    return f"tg-link:{chat_id}"


def _chat_locked_for(chat_id: int) -> int:
    """Seconds this chat must still wait before trying another code (0: it may try)."""
    now = clock.now()
    with session_scope() as session:
        row = session.get(LoginThrottle, _chat_key(chat_id))
        if row and row.locked_until and row.locked_until > now:
            return int((row.locked_until - now).total_seconds()) + 1
    return 0


def _count_wrong_code(chat_id: int) -> None:
    now = clock.now()
    with session_scope() as session:
        key = _chat_key(chat_id)
        row = session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(key=key, failures=0, updated_at=now)
        elif row.updated_at < now - WRONG_CODE_WINDOW:
            row.failures, row.locked_until = 0, None
        if row.failures == 0:
            row.updated_at = now  # the window starts at the first wrong code
        row.failures += 1
        if row.failures >= MAX_WRONG_CODES:
            row.locked_until = row.updated_at + WRONG_CODE_WINDOW
        session.add(row)


def create_link_code(user_id: int) -> LinkCode:
    """A fresh one-time code; older unused codes of the person stop working."""
    code = _new_code()
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
    wait = _chat_locked_for(chat_id)
    if wait:
        raise DomainError(f"Слишком много неверных кодов. Подождите {wait // 60 + 1} мин. и попробуйте снова.")
    code = _normalise(code)
    now = clock.now()
    with session_scope() as session:
        row = session.get(TelegramLinkCode, crypto.token_digest(code)) if code else None
        wrong = row is None or row.used_at is not None or row.expires_at <= now
    if wrong:
        _count_wrong_code(chat_id)
        raise DomainError("Код не подошёл или устарел. Получите новый в профиле VDI Такси.")
    with session_scope() as session:
        row = session.get(TelegramLinkCode, crypto.token_digest(code))
        assert row is not None
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
    # The bot's @username without the @ (empty while not known yet).
    bot: str = ""


def link_state(user_id: int) -> TelegramLink:
    with session_scope() as session:
        user = session.get(User, user_id)
    if user is None:
        return TelegramLink(configured(), False, "", "", bot_username())
    since = f"{clock.local(user.telegram_linked_at):%d.%m.%Y %H:%M}" if user.telegram_linked_at else ""
    return TelegramLink(configured(), user.telegram_chat_id is not None, since, user.telegram_error, bot_username())
