"""What the admin pages show and do. Every function checks the caller is an active admin."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import func, or_
from sqlmodel import select

from services import audit, auth, bookings, clock, crypto, users
from services.db import bump_board_version, session_scope
from services.errors import Conflict, DomainError, Forbidden, NotFound
from services.models import AuditEvent, Lease, Notification, Room, Slot, SlotSession, SystemStatus, User


def require_admin(actor_id: int) -> User:
    with session_scope() as session:
        actor = session.get(User, actor_id)
    if actor is None or not actor.is_active or not actor.is_admin:
        raise Forbidden("Только для администраторов")
    return actor


@dataclass(frozen=True)
class RoomRow:
    slot_id: str
    service_name: str
    state: str
    detail: str
    occupant: str
    since: str
    restarts: int


@dataclass(frozen=True)
class Health:
    docker: str
    scheduler: str
    outbox_pending: int
    outbox_failed: int
    rooms: list[RoomRow]


def health(actor_id: int) -> Health:
    require_admin(actor_id)
    now = clock.now()
    with session_scope() as session:
        docker = session.get(SystemStatus, "docker")
        lease = session.get(Lease, "scheduler")
        pending = session.exec(
            select(func.count()).select_from(Notification).where(Notification.status.in_(["pending", "sending"]))
        ).one()
        failed = session.exec(
            select(func.count()).select_from(Notification).where(Notification.status == "failed")
        ).one()
        slots = session.exec(select(Slot).where(Slot.is_active).order_by(Slot.sort_order, Slot.id)).all()
        rooms = {r.slot_id: r for r in session.exec(select(Room)).all()}
        running = {
            w.slot_id: (w, u)
            for w, u in session.exec(
                select(SlotSession, User)
                .join(User, User.id == SlotSession.user_id)
                .where(SlotSession.ended_at.is_(None))
            ).all()
        }
    rows = []
    for slot in slots:
        room = rooms.get(slot.id)
        work_user = running.get(slot.id)
        rows.append(
            RoomRow(
                slot.id,
                slot.service_name,
                room.state if room else "demo",
                room.detail if room else "Демо-комната (без Docker)",
                work_user[1].name if work_user else "",
                f"с {bookings.hhmm(work_user[0].started_at)}" if work_user else "",
                room.restarts if room else 0,
            )
        )
    docker_label = (
        "не используется (демо-комнаты)"
        if docker is None
        else ("работает" if docker.state == "ok" else docker.detail or "недоступен")
    )
    scheduler_label = (
        f"работает ({lease.holder})"
        if lease and lease.expires_at > now
        else "не отвечает — проверьте процесс приложения"
    )
    return Health(docker_label, scheduler_label, int(pending), int(failed), rows)


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


def create_user(actor_id: int, form: dict) -> tuple[UserRow, str]:
    """Create an account; returns its row and the initial password (generated when left empty)."""
    require_admin(actor_id)
    password = _password_or_generated(str(form.get("password", "") or ""))
    info = users.create_user(
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
    users.reset_password(username, password, actor_id=actor_id)
    return password


def rename_user(actor_id: int, username: str, name: str) -> None:
    require_admin(actor_id)
    users.rename(username, name, actor_id=actor_id)


def set_user_active(actor_id: int, username: str, active: bool) -> None:
    actor = require_admin(actor_id)
    if actor.username == username and not active:
        raise Forbidden("Нельзя отключить самого себя")
    users.set_active(username, active, actor_id=actor_id)


def reset_user_2fa(actor_id: int, username: str) -> None:
    require_admin(actor_id)
    users.reset_2fa(username, actor_id=actor_id)


def set_user_admin(actor_id: int, username: str, is_admin: bool) -> None:
    actor = require_admin(actor_id)
    if actor.username == username and not is_admin:
        raise Forbidden("Нельзя снять права администратора с самого себя")
    with session_scope() as session:
        user = session.exec(select(User).where(User.username == users.normalise_username(username))).first()
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


@dataclass(frozen=True)
class AuditRow:
    at: str
    kind: str
    actor: str
    subject: str
    detail: str
    client_ip: str


def audit_rows(actor_id: int, kind: str = "", limit: int = 200) -> list[AuditRow]:
    require_admin(actor_id)
    tz = bookings.get_settings().tz
    with session_scope() as session:
        query = select(AuditEvent, User.username).join(User, User.id == AuditEvent.actor_id, isouter=True)
        if kind:
            query = query.where(AuditEvent.kind == kind[:40])
        rows = session.exec(query.order_by(AuditEvent.id.desc()).limit(limit)).all()
    return [
        AuditRow(f"{e.at.astimezone(tz):%d.%m %H:%M:%S}", e.kind, name or "—", e.subject, e.detail, e.client_ip)
        for e, name in rows
    ]


def audit_kinds(actor_id: int) -> list[str]:
    require_admin(actor_id)
    with session_scope() as session:
        return sorted(session.exec(select(AuditEvent.kind).distinct()).all())


ROOM_ACTIONS = {"restart": "перезапущена", "recreate": "пересоздана", "kick": "все отключены"}


def room_action(actor_id: int, slot_id: str, action: str, client_ip: str = "") -> str:
    """Restart, recreate or kick everyone out of a slot's room; returns what happened, in Russian."""
    from services.rooms import RoomUnavailable, get_room_provider
    from services.slots import validate_slot_id

    require_admin(actor_id)
    slot_id = validate_slot_id(slot_id)
    if action not in ROOM_ACTIONS:
        raise Forbidden("Неизвестное действие")
    provider = get_room_provider()
    if not hasattr(provider, action):
        return "Демо-комната: у неё нет контейнера, действие не нужно"
    try:
        result = getattr(provider, action)(slot_id)
    except RoomUnavailable as exc:
        return f"Не удалось: {exc}"
    with session_scope() as session:
        audit.record(session, f"room_{action}", actor_id=actor_id, subject=slot_id, client_ip=client_ip)
    state = getattr(result, "state", None)
    return f"Комната {slot_id}: {ROOM_ACTIONS[action]}" + (f" (состояние: {state})" if state else "")


def room_screenshot(actor_id: int, slot_id: str) -> bytes | None:
    from services.rooms import RoomUnavailable, get_room_provider
    from services.slots import validate_slot_id

    require_admin(actor_id)
    provider = get_room_provider()
    if not hasattr(provider, "screenshot"):
        return None
    try:
        return provider.screenshot(validate_slot_id(slot_id))
    except RoomUnavailable:
        return None


# ---------------------------------------------------------------- subscriptions (slots)

HEX_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
URL_RE = re.compile(r"^https?://.+")


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
            s.renewal_date.isoformat() if s.renewal_date else "",
            s.max_session_minutes or 0,
            bool(s.login_enc or s.password_enc),
            running.get(s.id, ""),
        )
        for s in rows
    ]


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
    minutes_raw = text_of("max_session_minutes", 6)
    try:
        out["max_session_minutes"] = int(minutes_raw) if minutes_raw else None
    except ValueError as exc:
        raise DomainError("Длина сессии — целое число минут") from exc
    if out["max_session_minutes"] is not None and not 5 <= out["max_session_minutes"] <= 1440:
        raise DomainError("Длина сессии — от 5 до 1440 минут")
    renewal_raw = text_of("renewal_date", 10)
    try:
        out["renewal_date"] = date.fromisoformat(renewal_raw) if renewal_raw else None
    except ValueError as exc:
        raise DomainError("Дата продления — в виде ГГГГ-ММ-ДД") from exc
    return out


def save_slot(actor_id: int, form: dict, *, creating: bool, client_ip: str = "") -> SlotRow:
    """Create or edit a subscription slot; credentials are stored encrypted, blank keeps them."""
    from services.slots import SLOT_ID_RE

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
    from services.slots import force_release, validate_slot_id

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
