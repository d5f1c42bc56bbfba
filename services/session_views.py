"""Reading sessions: one session as its owner or an admin sees it, someone's running ones, history."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import select

from services.core import clock, crypto
from services.core.access import validate_slot_id
from services.core.db import session_scope
from services.core.errors import Forbidden, NotFound
from services.core.files import dump_download_path
from services.core.models import Dump, Slot, SlotSession, User
from services.core.settings import get_settings
from services.rooms import base as rooms

log = logging.getLogger(__name__)


# Why a session ended, in the words its owner reads on the page, in history and in Telegram.
# One text per reason stored in SlotSession.end_reason (services.sessions and the scheduler).
END_REASONS = {
    "manual": "Вы завершили сессию",
    "released": "Вы завершили сессию",
    "timeout": "Истекло время сессии",
    "booking": "Началась бронь другого сотрудника",
    "admin_force": "Слот освободил администратор",
    "kicked": "Администратор завершил все ваши сессии",
    "idle": "Слот простаивал: вас не было ни в комнате, ни на портале",
    "room_error": "Комната слота не запустилась",
    "deactivated": "Учётная запись отключена",
}
UNKNOWN_END_REASON = "Сессия завершена"


def end_reason_text(reason: str | None) -> str:
    """The Russian text for a stored end reason; never the raw code."""
    return END_REASONS.get(reason or "", UNKNOWN_END_REASON)


@dataclass(frozen=True)
class SessionInfo:
    id: int
    slot_id: str
    service_name: str
    user_id: int
    user_name: str
    started_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    access_url: str = ""
    is_demo_room: bool = False
    deadline_at: datetime | None = None
    extended: bool = False

    @property
    def duration_minutes(self) -> int:
        end = self.ended_at or clock.now()
        return max(0, int((end - self.started_at).total_seconds() // 60))

    @property
    def duration_label(self) -> str:
        minutes = self.duration_minutes
        if minutes < 1:
            return "меньше минуты"
        hours, mins = divmod(minutes, 60)
        return f"{hours} ч {mins} мин" if hours else f"{mins} мин"

    @property
    def end_reason_label(self) -> str:
        return end_reason_text(self.end_reason) if self.ended_at is not None else ""


def session_info(work: SlotSession, slot: Slot, user: User, with_url: bool = False) -> SessionInfo:
    assert work.id is not None and user.id is not None
    url = crypto.decrypt(work.access_url_enc) if with_url and work.access_url_enc else ""
    return SessionInfo(
        id=work.id,
        slot_id=slot.id,
        service_name=slot.service_name,
        user_id=user.id,
        user_name=user.name,
        started_at=work.started_at,
        ended_at=work.ended_at,
        end_reason=work.end_reason,
        access_url=url,
        is_demo_room=rooms.current().is_demo,
        deadline_at=work.deadline_at,
        extended=work.extended,
    )


def get_session(session_id: int) -> SessionInfo:
    with session_scope() as session:
        row = session.exec(
            select(SlotSession, Slot, User)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .where(SlotSession.id == session_id)
        ).first()
        if row is None:
            raise NotFound("Сессия не найдена")
        return session_info(*row)


def session_for_viewer(session_id: int, viewer_id: int, viewer_is_admin: bool) -> SessionInfo:
    info = get_session(session_id)
    if info.user_id != viewer_id and not viewer_is_admin:
        raise Forbidden("Нет доступа к этой сессии")
    return info


def my_session_on_slot(user_id: int, slot_id: str) -> SessionInfo:
    """The caller's running session on a slot, with the room URL to embed."""
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        row = session.exec(
            select(SlotSession, Slot, User)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None))
        ).first()
        if row is None:
            raise NotFound("Сессия в этом слоте не запущена")
        if row[2].id != user_id:
            raise Forbidden(f"Слот занят пользователем {row[2].name}")
        return session_info(*row, with_url=True)


def active_sessions_of(user_id: int) -> list[SessionInfo]:
    with session_scope() as session:
        rows = session.exec(
            select(SlotSession, Slot, User)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .where(SlotSession.user_id == user_id, SlotSession.ended_at.is_(None))
            .order_by(SlotSession.started_at)
        ).all()
        return [session_info(*row) for row in rows]


@dataclass(frozen=True)
class HistoryItem:
    session_id: int
    service_name: str
    when: str
    duration: str
    reason: str
    dump_url: str


def history_of(user_id: int, limit: int = 20) -> list[HistoryItem]:
    """The person's finished sessions, newest first, with their dump links while kept."""

    tz = get_settings().tz
    with session_scope() as session:
        rows = session.exec(
            select(SlotSession, Slot, User, Dump)
            .join(Slot, Slot.id == SlotSession.slot_id)
            .join(User, User.id == SlotSession.user_id)
            .join(Dump, Dump.session_id == SlotSession.id, isouter=True)
            .where(SlotSession.user_id == user_id, SlotSession.ended_at.is_not(None))
            .order_by(SlotSession.started_at.desc())
            .limit(limit)
        ).all()
    items = []
    for work, slot, user, dump in rows:
        info = session_info(work, slot, user)
        url = dump_download_path(Path(dump.path).name) if dump and dump.status == "ready" and dump.path else ""
        items.append(
            HistoryItem(
                info.id,
                info.service_name,
                f"{info.started_at.astimezone(tz):%d.%m.%Y %H:%M}",
                info.duration_label,
                info.end_reason_label,
                url,
            )
        )
    return items
