"""Neko rooms in Docker containers as a room provider: per-session access, artifacts, admin actions.

Each session gets its own Neko member (random password), deleted when the session
ends, and the room is restarted between users so nobody sees the previous person's
tabs. Containers themselves are handled by RoomContainers; upkeep by reconcile.
"""

from __future__ import annotations

import logging
import os
import secrets
import sqlite3
import tempfile
import threading
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import update
from sqlmodel import select

from services.core import clock, crypto
from services.core.db import session_scope
from services.core.models import RoomGrant, SlotSession, User
from services.rooms import reconcile as upkeep
from services.rooms import room_files
from services.rooms.base import Artifacts, HostInfo, Presence, RoomAccess, RoomProvider, RoomUnavailable
from services.rooms.chromium_history import read_visits
from services.rooms.containers import ENGINE_ERRORS, RoomContainers
from services.rooms.neko import NekoError, NekoSession

log = logging.getLogger(__name__)


class DockerRoomProvider(RoomContainers, RoomProvider):
    name = "docker"
    is_demo = False

    def grant(self, slot_id: str, session_id: int) -> RoomAccess:
        room = self.room_row(slot_id, create=False)
        if room is None or room.state != "ready":
            # The recorded state may lag behind: a room that answers is good enough.
            if room is None or room.state == "resetting" or not self.answers(room):
                raise RoomUnavailable(f"комната {self.state_label(room)}")
            self.set_state(slot_id, "ready", "", backoff_until=None)
        with session_scope() as session:
            user_name = session.exec(
                select(User.name).join(SlotSession, SlotSession.user_id == User.id).where(SlotSession.id == session_id)
            ).first()
        username = f"s{session_id}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(24)
        neko = self.neko(room)
        try:
            member_id = neko.create_member(username, password, f"{user_name or 'VDI'} #{session_id}")
        except NekoError as exc:
            raise RoomUnavailable("комната не отвечает" if exc.unreachable else str(exc)) from exc
        finally:
            neko.close()
        with session_scope() as session:
            session.add(
                RoomGrant(
                    slot_id=slot_id,
                    session_id=session_id,
                    token_hash=crypto.token_digest(password),
                    created_at=clock.now(),
                    member_id=member_id,
                    member_name=username,
                )
            )
        url = self.public_url(slot_id, room.room_index)
        sep = "&" if "?" in url else "?"
        return RoomAccess(url=f"{url}{sep}usr={quote(username)}&pwd={quote(password)}&embed=1", is_demo=False)

    def access_valid(self, slot_id: str, session_id: int) -> bool:
        room = self.room_row(slot_id, create=False)
        if room is None:
            return False
        with session_scope() as session:
            members = set(
                session.exec(
                    select(RoomGrant.member_id).where(
                        RoomGrant.session_id == session_id, RoomGrant.revoked_at.is_(None)
                    )
                ).all()
            )
        if not members:
            return False
        neko = self.neko(room)
        try:
            return bool(members & neko.member_ids())
        except NekoError:
            return True  # cannot tell right now: keep the URL, the room page shows its own state
        finally:
            neko.close()

    def revoke(self, slot_id: str, session_id: int) -> None:
        """Delete the session's Neko members; retried by reconcile if the room is unreachable now."""
        with session_scope() as session:
            grants = session.exec(
                select(RoomGrant).where(RoomGrant.session_id == session_id, RoomGrant.revoked_at.is_(None))
            ).all()
        if not grants:
            return
        room = self.room_row(slot_id, create=False)
        if room is None:
            return
        neko = self.neko(room)
        try:
            for grant in grants:
                if grant.member_id:
                    neko.delete_member(grant.member_id)
                with session_scope() as session:
                    session.exec(update(RoomGrant).where(RoomGrant.id == grant.id).values(revoked_at=clock.now()))
        except NekoError as exc:
            log.warning("revoking session %s in %s failed (%s); reconcile will retry", session_id, slot_id, exc)
        finally:
            neko.close()

    def after_session(self, slot_id: str) -> None:
        """Restart the room in the background so the next person starts with clean tabs."""
        self.set_state(slot_id, "resetting", "Очистка после сессии")
        threading.Thread(target=self._reset, args=(slot_id,), name=f"reset-{slot_id}", daemon=True).start()

    def _reset(self, slot_id: str) -> None:
        try:
            self.restart(slot_id, "Очистка после сессии")
        except Exception:  # reconcile picks the room up again
            log.exception("resetting room %s failed", slot_id)

    def collect(self, slot_id: str, started_at, ended_at) -> Artifacts:
        # Everything the room wrote is copied into an app-owned staging directory through
        # room_files (no symlinks, nothing outside the room's directories); dumps removes it.
        staging = Path(tempfile.mkdtemp(prefix=f"vdi-collect-{slot_id}-"))
        found = Artifacts(staging=staging)
        try:
            history = self._stage_history(slot_id, staging)
            found.visits = read_visits(history, started_at, ended_at)
        except (OSError, sqlite3.Error) as exc:
            found.missing.append(f"история посещений ({exc.__class__.__name__})")
        since = started_at.timestamp() - 5
        (staging / "files").mkdir()
        try:
            dir_fd = room_files.open_dir(self.downloads_dir(slot_id))
        except OSError:
            dir_fd = None
        if dir_fd is not None:
            try:
                for n, name in enumerate(room_files.list_names(dir_fd)):
                    if name.endswith(".crdownload"):
                        continue
                    staged = staging / "files" / str(n)
                    if room_files.copy_regular(dir_fd, name, staged, min_mtime=since):
                        found.files.append((name, staged))
            finally:
                os.close(dir_fd)
        try:
            container = self.container_of(slot_id)
            result = (
                container.exec_run(
                    ["xclip", "-selection", "clipboard", "-o"], environment={"DISPLAY": ":99.0"}, user="neko"
                )
                if container
                else None
            )
            if result is not None and result.exit_code == 0:
                found.clipboard = result.output.decode("utf-8", "replace")[:100_000]
            else:
                found.missing.append("буфер обмена (недоступен в комнате)")
        except ENGINE_ERRORS as exc:
            found.missing.append(f"буфер обмена ({exc.__class__.__name__})")
        try:
            found.screenshot = self.screenshot(slot_id)
        except RoomUnavailable:
            found.missing.append("скриншот (комната не ответила)")
        return found

    def _stage_history(self, slot_id: str, staging: Path) -> Path:
        """The browser's History database (and its journal), copied without following links."""
        target = staging / "History"
        dir_fd = room_files.open_dir(self.profile_dir(slot_id), "Default")
        try:
            if not room_files.copy_regular(dir_fd, "History", target):
                raise FileNotFoundError("History is missing or not a regular file")
            for suffix in ("-wal", "-journal"):
                room_files.copy_regular(dir_fd, "History" + suffix, staging / ("History" + suffix))
        finally:
            os.close(dir_fd)
        return target

    def clear_downloads(self, slot_id: str, names: list[str]) -> None:
        for name in names:
            (self.downloads_dir(slot_id) / name).unlink(missing_ok=True)

    def presence(self, slot_id: str) -> list[Presence]:
        room = self.room_row(slot_id, create=False)
        if room is None:
            return []
        neko = self.neko(room)
        try:
            sessions: list[NekoSession] = neko.sessions()
        except NekoError as exc:
            raise RoomUnavailable(str(exc)) from exc
        finally:
            neko.close()
        return [
            Presence(s.member_name, s.is_connected, s.connected_since, s.not_connected_since)
            for s in sessions
            if not s.is_admin
        ]

    def kick(self, slot_id: str) -> int:
        """Disconnect everyone from the room's desktop; returns how many were connected."""
        room = self.room_row(slot_id, create=False)
        if room is None:
            return 0
        neko = self.neko(room)
        try:
            kicked = 0
            for s in neko.sessions():
                if not s.is_admin and s.is_connected:
                    neko.disconnect(s.id)
                    kicked += 1
            return kicked
        except NekoError as exc:
            raise RoomUnavailable(str(exc)) from exc
        finally:
            neko.close()

    def screenshot(self, slot_id: str) -> bytes:
        room = self.room_row(slot_id, create=False)
        if room is None:
            raise RoomUnavailable("комната не создана")
        neko = self.neko(room)
        try:
            return neko.screenshot()
        except NekoError as exc:
            raise RoomUnavailable(str(exc)) from exc
        finally:
            neko.close()

    def hosts(self) -> list[HostInfo]:
        return self.host_infos()

    def reconcile(self, force: bool = False) -> upkeep.ReconcileReport:
        return upkeep.reconcile(self, self.revoke, force=force)
