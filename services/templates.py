"""Task templates: a named set of slots taken together ("research" = Perplexity + NotebookLM).

Shared templates are made by admins and seen by everyone; anyone can also keep personal
ones, seen and changed only by their owner (and admins). A launch takes each free slot
on its own (the same database-refereed take as a single slot), so a busy slot never
blocks the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from services import sessions
from services.core import audit, clock
from services.core.access import URL_RE, acts_as_admin, require_admin, validate_slot_id
from services.core.db import session_scope
from services.core.errors import Conflict, DomainError, Forbidden, NotFound
from services.core.models import Slot, Template, TemplateSlot, User
from services.core.plural import plural
from services.core.settings import get_settings
from services.rooms.base import RoomProvider

ICONS = ("🔍", "📊", "🎬", "📝", "💡", "🎯")


@dataclass(frozen=True)
class TemplateView:
    id: int
    name: str
    icon: str
    url: str
    slot_ids: list[str]
    slot_labels: list[str]
    usage_count: int
    # None: shared.
    owner_id: int | None = None
    owner_name: str = ""

    @property
    def slot_names(self) -> str:
        return " + ".join(self.slot_labels)


@dataclass(frozen=True)
class Skipped:
    slot_id: str
    service_name: str
    reason: str
    # Someone else holds it (working, booked or offered): joining its queue makes sense.
    queueable: bool


@dataclass
class LaunchResult:
    template_id: int
    name: str
    url: str
    taken: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


def _views(session, templates: list[Template], active_only: bool) -> list[TemplateView]:
    names = {s.id: (s.service_name, s.is_active) for s in session.exec(select(Slot)).all()}
    links = session.exec(select(TemplateSlot).order_by(TemplateSlot.template_id, TemplateSlot.position)).all()
    owners = {u.id: u.name for u in session.exec(select(User).where(User.id.in_({t.owner_id for t in templates})))}
    per: dict[int, list[str]] = {}
    for link in links:
        if not active_only or names.get(link.slot_id, ("", False))[1]:
            per.setdefault(link.template_id, []).append(link.slot_id)
    out = []
    for t in templates:
        assert t.id is not None
        ids = per.get(t.id, [])
        out.append(
            TemplateView(
                t.id,
                t.name,
                t.icon,
                t.url or "",
                ids,
                [names[i][0] for i in ids],
                t.usage_count,
                t.owner_id,
                owners.get(t.owner_id, "") if t.owner_id else "",
            )
        )
    return out


def _visible_to(viewer_id: int):
    return or_(Template.owner_id.is_(None), Template.owner_id == viewer_id)


def list_templates(viewer_id: int, *, active_only: bool = True) -> list[TemplateView]:
    """What one person can launch: shared templates, then their own, with slots they can take now."""
    with session_scope() as session:
        templates = session.exec(
            select(Template).where(_visible_to(viewer_id)).order_by(Template.owner_id.is_not(None), Template.name)
        ).all()
        views = _views(session, list(templates), active_only)
    return [v for v in views if v.slot_ids] if active_only else views


def all_templates(actor_id: int) -> list[TemplateView]:
    """Every template, shared and personal, with all its slots; admins only."""
    require_admin(actor_id)
    with session_scope() as session:
        templates = session.exec(select(Template).order_by(Template.owner_id.is_not(None), Template.name)).all()
        return _views(session, list(templates), active_only=False)


def slot_choices() -> list[tuple[str, str]]:
    """(id, name) of every active slot, in dashboard order, for the template editor."""
    with session_scope() as session:
        rows = session.exec(select(Slot).where(Slot.is_active).order_by(Slot.sort_order, Slot.id)).all()
        return [(s.id, s.service_name) for s in rows]


def get_template(template_id: int, viewer_id: int) -> TemplateView:
    with session_scope() as session:
        t = session.exec(select(Template).where(Template.id == template_id, _visible_to(viewer_id))).first()
        if t is None:
            raise NotFound("Шаблон не найден")
        return _views(session, [t], active_only=True)[0]


def _actor(session, actor_id: int) -> User:
    actor = session.get(User, actor_id)
    if actor is None or not actor.is_active:
        raise Forbidden("Учётная запись отключена")
    return actor


def _editable(session, actor: User, template_id: int) -> Template:
    """A template the actor may change: admins any, others only their own personal ones."""
    template = session.get(Template, template_id)
    if template is None or not (acts_as_admin(actor) or template.owner_id == actor.id):
        # Someone else's personal template does not exist as far as this person can tell.
        if template is not None and template.owner_id is None:
            raise Forbidden("Общие шаблоны меняют администраторы")
        raise NotFound("Шаблон не найден")
    return template


def _clean(form: dict) -> tuple[str, str, str | None, list[str]]:
    name = " ".join(str(form.get("name", "")).split())
    if not name:
        raise DomainError("Введите название")
    if len(name) > 80:
        raise DomainError("Название: не длиннее 80 символов")
    icon = str(form.get("icon", "") or ICONS[0])
    if icon not in ICONS:
        raise DomainError("Выберите иконку из списка")
    url = str(form.get("url", "") or "").strip() or None
    if url is not None and (len(url) > 500 or not URL_RE.match(url)):
        raise DomainError("URL должен начинаться с http:// или https://")
    raw = form.get("slot_ids") or []
    if isinstance(raw, str):
        raw = [raw]
    slot_ids = list(dict.fromkeys(validate_slot_id(str(s)) for s in raw))
    if not slot_ids:
        raise DomainError("Выберите хотя бы один слот")
    limit = get_settings().max_template_slots
    if len(slot_ids) > limit:
        raise DomainError(
            f"В шаблоне не больше {plural(limit, 'слота', 'слотов', 'слотов')}: столько можно занять одновременно"
        )
    return name, icon, url, slot_ids


def save_template(
    actor_id: int, form: dict, template_id: int | None = None, client_ip: str = "", *, personal: bool = True
) -> TemplateView:
    """Create (template_id None) or replace a template. Only admins create shared ones."""
    name, icon, url, slot_ids = _clean(form)
    try:
        with session_scope() as session:
            actor = _actor(session, actor_id)
            if not personal and not acts_as_admin(actor):
                raise Forbidden("Общие шаблоны создают администраторы")
            known = set(session.exec(select(Slot.id).where(Slot.id.in_(slot_ids), Slot.is_active)).all())
            if missing := [s for s in slot_ids if s not in known]:
                raise DomainError(f"Нет активного слота: {', '.join(missing)}")
            if template_id is None:
                template = Template(
                    name=name,
                    icon=icon,
                    url=url,
                    owner_id=actor_id if personal else None,
                    created_by=actor_id,
                    created_at=clock.now(),
                )
            else:
                template = _editable(session, actor, template_id)
                template.name, template.icon, template.url = name, icon, url
                session.exec(delete(TemplateSlot).where(TemplateSlot.template_id == template_id))
            session.add(template)
            session.flush()
            assert template.id is not None
            session.add_all(
                TemplateSlot(template_id=template.id, slot_id=s, position=i) for i, s in enumerate(slot_ids)
            )
            audit.record(
                session,
                "template_created" if template_id is None else "template_updated",
                actor_id=actor_id,
                subject=name,
                detail=("личный: " if template.owner_id else "общий: ") + ", ".join(slot_ids),
                client_ip=client_ip,
            )
            session.flush()
            return _views(session, [template], active_only=False)[0]
    except IntegrityError:
        raise Conflict(f"Шаблон «{name}» уже есть") from None


def delete_template(actor_id: int, template_id: int, client_ip: str = "") -> str:
    with session_scope() as session:
        template = _editable(session, _actor(session, actor_id), template_id)
        name = template.name
        session.exec(delete(TemplateSlot).where(TemplateSlot.template_id == template_id))
        session.delete(template)
        audit.record(session, "template_deleted", actor_id=actor_id, subject=name, client_ip=client_ip)
    return name


def launch(user_id: int, template_id: int, provider: RoomProvider | None = None) -> LaunchResult:
    """Take every free slot of the template; report the others and whether one can queue for them."""
    view = get_template(template_id, user_id)
    if not view.slot_ids:
        raise DomainError("В шаблоне нет доступных слотов")
    result = LaunchResult(view.id, view.name, view.url)
    names = dict(zip(view.slot_ids, view.slot_labels, strict=True))
    for slot_id in view.slot_ids:
        try:
            sessions.take_slot(user_id, slot_id, via_template=True, provider=provider)
        except sessions.Occupied as exc:
            result.skipped.append(Skipped(slot_id, names.get(slot_id, slot_id), exc.message, True))
        except DomainError as exc:
            result.skipped.append(Skipped(slot_id, names.get(slot_id, slot_id), exc.message, False))
        else:
            result.taken.append(slot_id)
    if result.taken:
        with session_scope() as session:
            session.exec(
                update(Template).where(Template.id == template_id).values(usage_count=Template.usage_count + 1)
            )
    return result
