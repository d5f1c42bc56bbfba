"""The session page (room in an iframe) and the session end page."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from services import dumps, idle, session_views, sessions, templates
from services.core import clock, db
from services.core.errors import DomainError
from services.core.settings import get_settings
from services.telegram import delivery, linking
from state.auth import AuthState, UserInfo, quietly, signed_in
from state.board import notify_board_changed
from vdi_taxi import routes


class SessionPageState(AuthState):
    session_id: int = 0
    slot_id: str = ""
    service_name: str = ""
    access_url: str = ""
    is_demo_room: bool = False
    started_at_ms: int = 0
    error: str = ""
    releasing: bool = False
    # Board version when the page loaded: an older board cannot prove the session ended.
    loaded_version: int = 0
    # How many slots the person holds now: above one, the page offers to switch between them.
    open_count: int = 0
    # Opened from a template launch: its id (kept when switching) and its starting address.
    template_id: int = 0
    template_url: str = ""
    # Whether the session's work (pages, files, screenshot) will reach the person's Telegram.
    telegram_linked: bool = False
    # Why the session ended (once it has): the ended overlay says so before moving to the summary.
    end_reason: str = ""

    @rx.event
    @signed_in
    def load(self, caller: UserInfo):
        slot_id = routes.slot_of_session_page(self.router.url.path)
        self.error = ""
        self.session_id = 0
        self.end_reason = ""
        self.loaded_version = db.board_version()
        try:
            work = sessions.ensure_access(session_views.my_session_on_slot(caller.id, slot_id))
        except DomainError as exc:
            self.error = exc.message
            self.slot_id = slot_id[:40]
            return
        self.session_id = work.id
        self.slot_id = work.slot_id
        self.service_name = work.service_name
        self.access_url = work.access_url
        self.is_demo_room = work.is_demo_room
        self.started_at_ms = int(work.started_at.timestamp() * 1000)
        self.open_count = len(session_views.active_sessions_of(caller.id))
        self.telegram_linked = linking.link_state(caller.id).linked
        self._load_template(work.slot_id, caller.id)

    def _load_template(self, slot_id: str, viewer_id: int) -> None:
        raw = str(self.router.url.query_parameters.get("template", ""))
        self.template_id, self.template_url = 0, ""
        if not raw.isdigit() or len(raw) > 9:
            return
        try:
            view = templates.get_template(int(raw), viewer_id)
        except DomainError:
            return
        if slot_id in view.slot_ids:
            self.template_id, self.template_url = view.id, view.url

    @rx.event
    @signed_in
    async def release(self, caller: UserInfo):
        if self.releasing or not self.slot_id:
            return
        self.releasing = True
        yield
        try:
            ended = await asyncio.to_thread(sessions.release_slot, caller.id, self.slot_id)
        except DomainError as exc:
            self.releasing = False
            yield rx.toast.error("Не удалось освободить слот", description=exc.message)
            return
        self.releasing = False
        notify_board_changed()
        yield rx.redirect(routes.session_end_page(ended.id))

    @rx.event
    @signed_in
    def extend(self, caller: UserInfo):
        try:
            work = sessions.extend_session(caller.id, self.slot_id)
        except DomainError as exc:
            return rx.toast.error("Продлить не получилось", description=exc.message)
        notify_board_changed()
        assert work.deadline_at is not None
        return rx.toast.success("Сессия продлена", description=f"До {clock.hhmm(work.deadline_at)}")

    @rx.event
    @signed_in
    def still_here(self, caller: UserInfo):
        """«Я здесь»: the holder answers the idle warning; the release is called off."""
        try:
            idle.still_here(caller.id, self.slot_id)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        notify_board_changed()
        return rx.toast.success("Отлично, слот остаётся за вами")

    @rx.event(background=True)
    @signed_in(otherwise=quietly)
    async def leave_after_end(self, caller: UserInfo):
        """The session was ended elsewhere (or by the clock): show why, then go to its summary."""
        async with self:
            session_id = self.session_id
        if not session_id:
            return
        try:
            ended = await asyncio.to_thread(session_views.session_for_viewer, session_id, caller.id, False)
        except DomainError:
            return
        if ended.ended_at is None:
            return
        async with self:
            self.end_reason = ended.end_reason_label
        await asyncio.sleep(4)
        async with self:
            # The person may have left the page meanwhile; do not drag them back.
            still_here = self.router.url.path.rstrip("/") == routes.session_page(self.slot_id)
        if still_here:
            yield rx.redirect(routes.session_end_page(session_id))


@dataclass(frozen=True)
class OpenSlot:
    slot_id: str
    service_name: str


class SessionEndState(AuthState):
    session_id: int = 0
    service_name: str = ""
    time_range: str = ""
    duration: str = ""
    reason: str = ""
    error: str = ""
    dump_status: str = ""
    dump_pages: int = 0
    dump_files: int = 0
    dump_missing: str = ""
    dump_size: str = ""
    dump_url: str = ""
    telegram_label: str = ""
    # The delivery has reached a final state (sent, failed, or nothing to send).
    telegram_settled: bool = False
    watching: bool = False
    # Slots the viewer still holds (a template launch takes several): one click back to each.
    still_open: list[OpenSlot] = []

    def _refresh_dump(self, owner_id: int) -> None:
        view = dumps.dump_view(self.session_id)
        if view is not None:
            self.dump_status, self.dump_pages, self.dump_files = view.status, view.pages, view.files
            self.dump_missing, self.dump_size, self.dump_url = view.missing, view.size_label, view.download_url
        sent = delivery.delivery_status(owner_id, f"dump:{self.session_id}")
        self.telegram_label, self.telegram_settled = sent.label, sent.settled

    @rx.event
    @signed_in
    def load(self, caller: UserInfo):
        raw = routes.session_id_of_end_page(self.router.url.path)
        self.error = ""
        self.dump_status = ""
        if not raw.isdigit() or len(raw) > 12:
            self.error = "Сессия не найдена"
            return None
        try:
            work = session_views.session_for_viewer(int(raw), caller.id, caller.acts_as_admin)
        except DomainError as exc:
            self.error = exc.message
            return None
        tz = get_settings().tz
        start = work.started_at.astimezone(tz)
        end = work.ended_at.astimezone(tz) if work.ended_at else None
        self.session_id = work.id
        self.service_name = work.service_name
        self.time_range = f"{start:%d.%m.%Y %H:%M} – {end:%H:%M}" if end else f"{start:%d.%m.%Y %H:%M} – идёт"
        self.duration = work.duration_label
        self.reason = work.end_reason_label if end else "Сессия ещё идёт"
        self._refresh_dump(work.user_id)
        self.still_open = [OpenSlot(w.slot_id, w.service_name) for w in session_views.active_sessions_of(caller.id)]
        if not self.watching:
            return SessionEndState.watch_dump
        return None

    @rx.event(background=True)
    @signed_in(otherwise=quietly)
    async def watch_dump(self, caller: UserInfo):
        """Show the dump and its delivery as they become ready (collection runs in the background)."""
        async with self:
            if self.watching:
                return
            self.watching = True
        try:
            for _ in range(120):
                await asyncio.sleep(1)
                async with self:
                    if not routes.is_session_end_page(self.router.url.path):
                        return
                    # Re-checked on every poll: a revoked login stops the watch.
                    viewer = self._current_user()
                    if viewer is None or not self.session_id:
                        return
                    work = session_views.session_for_viewer(self.session_id, viewer.id, viewer.acts_as_admin)
                    self._refresh_dump(work.user_id)
                    if self.dump_status in {"ready", "failed", "expired"} and self.telegram_settled:
                        return
        finally:
            async with self:
                self.watching = False
