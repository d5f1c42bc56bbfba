"""The subscription slots themselves: the admins' catalogue (with encrypted credentials), and favourites."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from sqlalchemy import delete, func
from sqlmodel import select

from services import dates
from services.core import audit, crypto
from services.core.access import SLOT_ID_RE, URL_RE, require_admin, validate_slot_id
from services.core.db import bump_board_version, session_scope
from services.core.errors import Conflict, DomainError, NotFound
from services.core.models import Favourite, Slot, SlotSession, User
from services.sessions import force_release

log = logging.getLogger(__name__)


HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class SlotRow:
    id: str
    service_name: str
    tier: str
    category: str
    accent: str
    monthly_cost: float
    url: str
    is_active: bool
    renewal: str
    max_minutes: int
    idle_minutes: int
    has_credentials: bool
    occupant: str


def slot_rows(actor_id: int) -> list[SlotRow]:
    require_admin(actor_id)
    with session_scope() as session:
        rows = session.exec(select(Slot).order_by(Slot.sort_order, Slot.id)).all()
        running = dict(
            session.exec(
                select(SlotSession.slot_id, User.name)
                .join(User, User.id == SlotSession.user_id)
                .where(SlotSession.ended_at.is_(None))
            ).all()
        )
    return [
        SlotRow(
            s.id,
            s.service_name,
            s.tier or "",
            s.category,
            s.category_accent,
            s.monthly_cost,
            s.url or "",
            s.is_active,
            dates.numeric(s.renewal_date) if s.renewal_date else "",
            s.max_session_minutes or 0,
            s.idle_minutes or 0,
            bool(s.login_enc or s.password_enc),
            running.get(s.id, ""),
        )
        for s in rows
    ]


def _optional_minutes(raw: str, lowest: int, what: str) -> int | None:
    """A per-slot limit in minutes from the form; blank means the configured default."""
    try:
        minutes = int(raw) if raw else None
    except ValueError as exc:
        raise DomainError(f"{what} — целое число минут") from exc
    if minutes is not None and not lowest <= minutes <= 1440:
        raise DomainError(f"{what} — от {lowest} до 1440 минут")
    return minutes


def _clean_form(form: dict) -> dict:
    def text_of(key: str, limit: int) -> str:
        return str(form.get(key) or "").strip()[:limit]

    out = {
        "id": text_of("id", 40).lower(),
        "service_name": text_of("service_name", 120),
        "tier": text_of("tier", 40) or None,
        "category": text_of("category", 40).upper(),
        "category_accent": text_of("category_accent", 9) or "#3b82f6",
        "url": text_of("url", 500) or None,
        "login": text_of("login", 200),
        "password": str(form.get("password") or "")[:200],
    }
    if not out["service_name"]:
        raise DomainError("Введите название")
    if not out["category"]:
        raise DomainError("Выберите или введите категорию")
    if not HEX_RE.match(out["category_accent"]):
        raise DomainError("Цвет категории — в виде #3b82f6")
    if out["url"] and not URL_RE.match(out["url"]):
        raise DomainError("URL должен начинаться с http:// или https://")
    cost_raw = text_of("monthly_cost", 20).replace(",", ".")
    try:
        out["monthly_cost"] = float(cost_raw)
    except ValueError as exc:
        raise DomainError("Введите стоимость") from exc
    if not 0 <= out["monthly_cost"] <= 100_000:
        raise DomainError("Стоимость — от 0 до 100 000 $ в месяц")
    out["max_session_minutes"] = _optional_minutes(text_of("max_session_minutes", 6), 5, "Длина сессии")
    out["idle_minutes"] = _optional_minutes(text_of("idle_minutes", 6), 1, "Простой")
    renewal_raw = text_of("renewal_date", 10)
    out["renewal_date"] = dates.parse_numeric(renewal_raw) if renewal_raw else None
    if renewal_raw and out["renewal_date"] is None:
        raise DomainError("Дата продления — в виде ДД.ММ.ГГГГ, например 31.12.2026")
    return out


def save_slot(actor_id: int, form: dict, *, creating: bool, client_ip: str = "") -> SlotRow:
    """Create or edit a subscription slot; credentials are stored encrypted, blank keeps them."""
    require_admin(actor_id)
    data = _clean_form(form)
    if creating and not SLOT_ID_RE.match(data["id"]):
        raise DomainError("Введите ID слота (напр. ppx-1): латиница, цифры, дефис")
    with session_scope() as session:
        slot = session.get(Slot, data["id"])
        if creating:
            if slot is not None:
                raise Conflict(f"Слот с ID '{data['id']}' уже существует")
            order = session.exec(select(func.max(Slot.sort_order))).one() or 0
            slot = Slot(id=data["id"], service_name="", category="", sort_order=order + 1)
        elif slot is None:
            raise NotFound("Слот не найден")
        for key in (
            "service_name",
            "tier",
            "category",
            "category_accent",
            "url",
            "monthly_cost",
            "max_session_minutes",
            "idle_minutes",
            "renewal_date",
        ):
            setattr(slot, key, data[key])
        if data["login"]:
            slot.login_enc = crypto.encrypt(data["login"])
        if data["password"]:
            slot.password_enc = crypto.encrypt(data["password"])
        session.add(slot)
        bump_board_version(session)
        audit.record(
            session,
            "slot_created" if creating else "slot_updated",
            actor_id=actor_id,
            subject=slot.id,
            detail="доступы изменены" if data["login"] or data["password"] else "",
            client_ip=client_ip,
        )
    return next(r for r in slot_rows(actor_id) if r.id == data["id"])


def reveal_credentials(actor_id: int, slot_id: str, client_ip: str = "") -> tuple[str, str]:
    """The subscription's login and password, for an admin who asked; every look is audited."""
    require_admin(actor_id)
    with session_scope() as session:
        slot = session.get(Slot, slot_id)
        if slot is None:
            raise NotFound("Слот не найден")
        audit.record(session, "credentials_viewed", actor_id=actor_id, subject=slot_id, client_ip=client_ip)
        return (
            crypto.decrypt(slot.login_enc) if slot.login_enc else "",
            crypto.decrypt(slot.password_enc) if slot.password_enc else "",
        )


class SlotBusy(DomainError):
    """Disabling would cut someone's running session: the admin must decide."""


def set_slot_active(
    actor_id: int, slot_id: str, active: bool, *, end_running: bool = False, client_ip: str = ""
) -> None:
    require_admin(actor_id)
    slot_id = validate_slot_id(slot_id)
    if not active:
        with session_scope() as session:
            running = session.exec(
                select(User.name)
                .join(SlotSession, SlotSession.user_id == User.id)
                .where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None))
            ).first()
        if running and not end_running:
            raise SlotBusy(f"В слоте идёт сессия: {running}. Завершить её и отключить слот?")
        if running:
            force_release(actor_id, slot_id, client_ip)
    with session_scope() as session:
        slot = session.get(Slot, slot_id)
        if slot is None:
            raise NotFound("Слот не найден")
        slot.is_active = active
        session.add(slot)
        bump_board_version(session)
        audit.record(
            session,
            "slot_enabled" if active else "slot_disabled",
            actor_id=actor_id,
            subject=slot_id,
            client_ip=client_ip,
        )


def favourites_of(user_id: int) -> list[str]:
    with session_scope() as session:
        return list(session.exec(select(Favourite.slot_id).where(Favourite.user_id == user_id)).all())


def toggle_favourite(user_id: int, slot_id: str) -> bool:
    """Flip a star; returns whether the slot is now a favourite."""
    slot_id = validate_slot_id(slot_id)
    with session_scope() as session:
        slot = session.get(Slot, slot_id)
        if slot is None or not slot.is_active:
            raise NotFound("Слот не найден")
        removed = session.exec(delete(Favourite).where(Favourite.user_id == user_id, Favourite.slot_id == slot_id))
        if removed.rowcount:
            return False
        session.add(Favourite(user_id=user_id, slot_id=slot_id))
    return True
