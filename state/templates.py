"""Templates: launching and keeping personal ones on the dashboard, shared ones in the admin panel."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from services import queue, templates
from services.core.errors import DomainError
from services.templates import Skipped, TemplateView
from state.auth import AuthState, UserInfo, admin_only, quietly, signed_in
from state.board import notify_board_changed
from vdi_taxi import routes


@dataclass(frozen=True)
class TemplateCard:
    id: int
    name: str
    icon: str
    url: str
    slot_ids: list[str]
    slot_names: str
    usage_count: int
    owner_id: int
    owner_name: str


@dataclass(frozen=True)
class SlotOption:
    id: str
    name: str


def _card(v: TemplateView) -> TemplateCard:
    return TemplateCard(
        v.id, v.name, v.icon, v.url, v.slot_ids, v.slot_names, v.usage_count, v.owner_id or 0, v.owner_name
    )


def _template_id(raw) -> int | None:
    text = str(raw)
    return int(text) if text.isdigit() and len(text) < 10 else None


class TemplatesState(AuthState):
    cards: list[TemplateCard] = []
    launching: int = 0
    # The last launch's outcome, shown in a dialog when some slot was not taken.
    launch_open: bool = False
    launch_name: str = ""
    launch_template_id: int = 0
    launch_taken: list[str] = []
    launch_skipped: list[Skipped] = []
    # The editor: admins see every template here; anyone edits their own personal ones.
    editor: list[TemplateCard] = []
    slot_options: list[SlotOption] = []
    form_open: bool = False
    form_id: int = 0
    # A new template from the dashboard is personal; from the admin panel, shared.
    form_personal: bool = True
    form_name: str = ""
    form_url: str = ""
    form_icon: str = templates.ICONS[0]
    form_slots: list[str] = []
    form_error: str = ""

    @rx.var
    def icons(self) -> list[str]:
        return list(templates.ICONS)

    @rx.var
    def queueable_count(self) -> int:
        return sum(1 for s in self.launch_skipped if s.queueable)

    # ----------------------------------------------------------------- dashboard

    def _refresh_cards(self, viewer_id: int) -> None:
        self.cards = [_card(v) for v in templates.list_templates(viewer_id)]

    @rx.event
    @signed_in(otherwise=quietly)
    def load_templates(self, caller: UserInfo):
        self._refresh_cards(caller.id)
        self.slot_options = [SlotOption(i, n) for i, n in templates.slot_choices()]

    @rx.event
    @signed_in
    async def launch(self, caller: UserInfo, template_id: int):
        tid = _template_id(template_id)
        if tid is None:
            yield rx.toast.error("Шаблон не найден")
            return
        if self.launching:
            return
        self.launching = tid
        yield
        try:
            result = await asyncio.to_thread(templates.launch, caller.id, tid)
        except DomainError as exc:
            self.launching = 0
            yield rx.toast.error("Шаблон не запущен", description=exc.message)
            return
        self.launching = 0
        if result.taken:
            notify_board_changed()
        self.launch_name, self.launch_template_id = result.name, result.template_id
        self.launch_taken = result.taken
        self.launch_skipped = result.skipped
        self._refresh_cards(caller.id)
        if not result.skipped:
            yield rx.toast.success(f"Запущен «{result.name}»", description=f"Занято слотов: {len(result.taken)}")
            yield rx.redirect(self._session_url(result.taken[0]))
            return
        self.launch_open = True

    def _session_url(self, slot_id: str) -> str:
        return routes.session_page(slot_id, str(self.launch_template_id))

    @rx.event
    @signed_in
    def queue_for_skipped(self, caller: UserInfo):
        joined, problems = [], []
        for skipped in self.launch_skipped:
            if not skipped.queueable:
                continue
            try:
                place = queue.join_queue(caller.id, skipped.slot_id)
            except DomainError as exc:
                problems.append(f"{skipped.service_name}: {exc.message}")
            else:
                joined.append(f"{skipped.service_name} — {place}-й")
        notify_board_changed()
        self.launch_open = False
        events = []
        if joined:
            events.append(rx.toast.success("Вы в очереди", description="; ".join(joined)))
        if problems:
            events.append(rx.toast.error("Не получилось встать в очередь", description="; ".join(problems)))
        if self.launch_taken:
            events.append(rx.redirect(self._session_url(self.launch_taken[0])))
        return events

    @rx.event
    @signed_in(otherwise=quietly)
    def open_launched(self, caller: UserInfo):
        self.launch_open = False
        if self.launch_taken:
            return rx.redirect(self._session_url(self.launch_taken[0]))
        return None

    @rx.event
    def set_launch_open(self, value: bool):
        self.launch_open = bool(value)

    # --------------------------------------------------------------------- admin

    def _reload_lists(self, caller: UserInfo) -> None:
        self._refresh_cards(caller.id)
        if caller.acts_as_admin:
            self.editor = [_card(v) for v in templates.all_templates(caller.id)]

    @rx.event
    @admin_only(otherwise=quietly)
    def load_admin(self, caller: UserInfo):
        self._reload_lists(caller)
        self.slot_options = [SlotOption(i, n) for i, n in templates.slot_choices()]

    def _open_new(self, personal: bool) -> None:
        self.form_id, self.form_name, self.form_url, self.form_personal = 0, "", "", personal
        self.form_icon, self.form_slots, self.form_error = templates.ICONS[0], [], ""
        self.form_open = True

    @rx.event
    @admin_only
    def new_template(self, caller: UserInfo):
        self._open_new(personal=False)
        return None

    @rx.event
    @signed_in
    def new_personal_template(self, caller: UserInfo):
        self._open_new(personal=True)
        return None

    @rx.event
    @signed_in
    def edit_template(self, caller: UserInfo, template_id: int):
        tid = _template_id(template_id)
        # The lists only hold what this person may see; saving checks the right to change it.
        card = next((t for t in [*self.editor, *self.cards] if t.id == tid), None)
        if card is None:
            return rx.toast.error("Шаблон не найден")
        self.form_id, self.form_name, self.form_url = card.id, card.name, card.url
        self.form_icon, self.form_slots, self.form_error = card.icon, list(card.slot_ids), ""
        self.form_open = True
        return None

    @rx.event
    def set_form_open(self, value: bool):
        self.form_open = bool(value)

    @rx.event
    def set_form_icon(self, icon: str | list[str]):
        icon = str(icon[0] if isinstance(icon, list) and icon else icon)
        if icon in templates.ICONS:
            self.form_icon = icon

    @rx.event
    def toggle_form_slot(self, slot_id: str, checked: bool):
        slot_id = str(slot_id)[:40]
        if checked and slot_id not in self.form_slots:
            self.form_slots = [*self.form_slots, slot_id]
        elif not checked:
            self.form_slots = [s for s in self.form_slots if s != slot_id]

    @rx.event
    @signed_in
    def save_template(self, caller: UserInfo, form: dict):
        data = {
            "name": str(form.get("name", ""))[:200],
            "url": str(form.get("url", ""))[:600],
            "icon": self.form_icon,
            "slot_ids": list(self.form_slots)[:20],
        }
        try:
            view = templates.save_template(
                caller.id, data, self.form_id or None, self._client_ip(), personal=self.form_personal
            )
        except DomainError as exc:
            self.form_error = exc.message
            return None
        creating = not self.form_id
        self.form_open = False
        self._reload_lists(caller)
        return rx.toast.success("Шаблон создан" if creating else "Шаблон сохранён", description=view.name)

    @rx.event
    @signed_in
    def delete_template(self, caller: UserInfo, template_id: int):
        tid = _template_id(template_id)
        if tid is None:
            return rx.toast.error("Шаблон не найден")
        try:
            name = templates.delete_template(caller.id, tid, self._client_ip())
        except DomainError as exc:
            return rx.toast.error(exc.message)
        self._reload_lists(caller)
        return rx.toast.success("Шаблон удалён", description=name)
