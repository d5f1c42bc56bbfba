"""Task templates: a named set of slots taken together ("research" = Perplexity + NotebookLM).

Admins manage them; everyone can launch them. A launch takes each free slot on its own
(the same database-refereed take as a single slot), so a busy slot never blocks the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from services import audit, clock, slots
from services.admin import URL_RE, require_admin
from services.db import session_scope
from services.errors import Conflict, DomainError, NotFound
from services.models import Slot, Template, TemplateSlot
from services.rooms import RoomProvider
from services.settings import get_settings

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
    per: dict[int, list[str]] = {}
    for link in links:
        if not active_only or names.get(link.slot_id, ("", False))[1]:
            per.setdefault(link.template_id, []).append(link.slot_id)
    out = []
    for t in templates:
        assert t.id is not None
        ids = per.get(t.id, [])
        out.append(TemplateView(t.id, t.name, t.icon, t.url or "", ids, [names[i][0] for i in ids], t.usage_count))
    return out


def list_templates(*, active_only: bool = True) -> list[TemplateView]:
    """Templates with their slots in order; by default only the slots one can take now."""
    with session_scope() as session:
        templates = session.exec(select(Template).order_by(Template.name)).all()
        views = _views(session, list(templates), active_only)
    return [v for v in views if v.slot_ids] if active_only else views


def get_template(template_id: int) -> TemplateView:
    with session_scope() as session:
        t = session.get(Template, template_id)
        if t is None:
            raise NotFound("Шаблон не найден")
        return _views(session, [t], active_only=True)[0]


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
    slot_ids = list(dict.fromkeys(slots.validate_slot_id(str(s)) for s in raw))
    if not slot_ids:
        raise DomainError("Выберите хотя бы один слот")
    limit = get_settings().max_template_slots
    if len(slot_ids) > limit:
        raise DomainError(f"В шаблоне не больше {limit} слотов: столько можно занять одновременно")
    return name, icon, url, slot_ids


def save_template(actor_id: int, form: dict, template_id: int | None = None, client_ip: str = "") -> TemplateView:
    """Create (template_id None) or replace a template; admins only."""
    require_admin(actor_id)
    name, icon, url, slot_ids = _clean(form)
    try:
        with session_scope() as session:
            known = set(session.exec(select(Slot.id).where(Slot.id.in_(slot_ids), Slot.is_active)).all())
            if missing := [s for s in slot_ids if s not in known]:
                raise DomainError(f"Нет активного слота: {', '.join(missing)}")
            if template_id is None:
                template = Template(name=name, icon=icon, url=url, created_by=actor_id, created_at=clock.now())
            else:
                template = session.get(Template, template_id)
                if template is None:
                    raise NotFound("Шаблон не найден")
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
                detail=", ".join(slot_ids),
                client_ip=client_ip,
            )
            session.flush()
            return _views(session, [template], active_only=False)[0]
    except IntegrityError:
        raise Conflict(f"Шаблон «{name}» уже есть") from None


def delete_template(actor_id: int, template_id: int, client_ip: str = "") -> str:
    require_admin(actor_id)
    with session_scope() as session:
        template = session.get(Template, template_id)
        if template is None:
            raise NotFound("Шаблон не найден")
        name = template.name
        session.exec(delete(TemplateSlot).where(TemplateSlot.template_id == template_id))
        session.delete(template)
        audit.record(session, "template_deleted", actor_id=actor_id, subject=name, client_ip=client_ip)
    return name


def launch(user_id: int, template_id: int, provider: RoomProvider | None = None) -> LaunchResult:
    """Take every free slot of the template; report the others and whether one can queue for them."""
    view = get_template(template_id)
    if not view.slot_ids:
        raise DomainError("В шаблоне нет доступных слотов")
    result = LaunchResult(view.id, view.name, view.url)
    names = dict(zip(view.slot_ids, view.slot_labels, strict=True))
    for slot_id in view.slot_ids:
        try:
            slots.take_slot(user_id, slot_id, via_template=True, provider=provider)
        except slots.Occupied as exc:
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
