"""Neko rooms as Docker containers, one per slot, driven through the Docker Engine API.

Containers carry labels, like neko-rooms does, so the provider can find its own
after a restart; the database keeps what labels cannot: fixed port blocks, the
encrypted API token of each room, its state and restart back-off. Each session
gets its own Neko member (random password), deleted when the session ends, and
the room is restarted between users so nobody sees the previous person's tabs.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import sqlite3
import threading
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import docker
import requests
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from sqlalchemy import update
from sqlmodel import select

from services import alerts, clock, crypto, leases
from services.db import bump_board_version, session_scope
from services.models import Room, RoomGrant, Slot, SlotSession, SystemStatus, User
from services.neko import NekoClient, NekoError, NekoSession
from services.rooms import Artifacts, RoomAccess, RoomHealth, RoomProvider, RoomUnavailable
from services.settings import RoomSettings, get_settings

log = logging.getLogger(__name__)

NEKO_PORT = 8080
PROFILE_PATH = "/home/neko/.config/chromium"
DOWNLOADS_PATH = "/home/neko/Downloads"
POLICY_PATH = "/etc/chromium/policies/managed/policies.json"
NEKO_UID = 1000
ENGINE_ERRORS = (DockerException, requests.exceptions.RequestException)
MAX_BACKOFF = timedelta(minutes=10)


@dataclass(frozen=True)
class Presence:
    member_name: str
    is_connected: bool
    connected_since: object
    not_connected_since: object


@dataclass(frozen=True)
class ReconcileReport:
    ran: bool
    engine_ok: bool
    states: dict[str, str]
    removed: list[str]
    seconds: float


def container_name(slot_id: str, instance: str = "main") -> str:
    """Names are global on an engine: a second installation's rooms carry its instance name."""
    return f"vdi-taxi-room-{slot_id}" if instance == "main" else f"vdi-taxi-room-{slot_id}--{instance}"


def set_status(key: str, state: str, detail: str = "") -> None:
    with session_scope() as session:
        row = session.get(SystemStatus, key)
        changed = row is None or row.state != state
        if row is None:
            row = SystemStatus(key=key, state=state, detail=detail[:500], updated_at=clock.now())
        row.state, row.detail, row.updated_at = state, detail[:500], clock.now()
        session.add(row)
        if changed:
            bump_board_version(session)


class DockerRoomProvider(RoomProvider):
    name = "docker"
    is_demo = False

    def __init__(self, settings: RoomSettings | None = None) -> None:
        self.cfg = settings or get_settings().rooms
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()

    # ------------------------------------------------------------ plumbing

    def client(self) -> docker.DockerClient:
        with self._lock:
            if self._client is None:
                self._client = docker.DockerClient(base_url=self.cfg.docker_host, timeout=30)
            return self._client

    def _drop_client(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
            self._client = None

    def name_of(self, slot_id: str) -> str:
        return container_name(slot_id, self.cfg.instance)

    def ports(self, room_index: int) -> tuple[int, int, int]:
        """HTTP port and UDP range of a room, derived from its unique index."""
        http = self.cfg.http_port_base + room_index
        udp_start = self.cfg.udp_port_base + room_index * self.cfg.udp_ports_per_room
        return http, udp_start, udp_start + self.cfg.udp_ports_per_room - 1

    def api_url(self, slot_id: str, room_index: int) -> str:
        if self.cfg.api_mode == "network":
            # Behind the proxy the room serves everything under its path prefix.
            return f"http://{self.name_of(slot_id)}:{NEKO_PORT}/neko/{slot_id}"
        return f"http://127.0.0.1:{self.ports(room_index)[0]}"

    def public_url(self, slot_id: str, room_index: int) -> str:
        return self.cfg.url_template.format(http_port=self.ports(room_index)[0], slot=slot_id)

    def _neko(self, room: Room) -> NekoClient:
        if not room.api_token_enc:
            raise RoomUnavailable("комната ещё не создана")
        return NekoClient(self.api_url(room.slot_id, room.room_index), crypto.decrypt(room.api_token_enc))

    def room_dir(self, slot_id: str) -> Path:
        return self.cfg.data_dir / slot_id

    def downloads_dir(self, slot_id: str) -> Path:
        return self.room_dir(slot_id) / "downloads"

    def profile_dir(self, slot_id: str) -> Path:
        return self.room_dir(slot_id) / "profile"

    # ------------------------------------------------------------ database rows

    def _room(self, slot_id: str, create: bool = True) -> Room | None:
        with session_scope() as session:
            room = session.get(Room, slot_id)
            if room is not None or not create:
                return room
        # Lowest free index; the unique constraint referees concurrent allocations.
        for _ in range(20):
            try:
                with session_scope() as session:
                    used = set(session.exec(select(Room.room_index)).all())
                    index = next(i for i in range(len(used) + 1) if i not in used)
                    room = Room(
                        slot_id=slot_id,
                        room_index=index,
                        state="creating",
                        api_token_enc=crypto.encrypt(secrets.token_urlsafe(32)),
                        updated_at=clock.now(),
                    )
                    session.add(room)
                return room
            except Exception:  # lost the race for that index, or the row appeared meanwhile
                existing = self._room(slot_id, create=False)
                if existing is not None:
                    return existing
        raise RoomUnavailable("не удалось выделить порты комнате")

    def _set_state(self, slot_id: str, state: str, detail: str = "", **values) -> None:
        with session_scope() as session:
            room = session.get(Room, slot_id)
            if room is None:
                return
            changed = room.state != state or room.detail != detail
            room.state, room.detail, room.updated_at = state, detail[:500], clock.now()
            for key, value in values.items():
                setattr(room, key, value)
            session.add(room)
            if changed:
                bump_board_version(session)

    # ------------------------------------------------------------ container spec

    def _policy_file(self, slot: Slot) -> Path:
        policy = json.loads(self.cfg.policy_file.read_text(encoding="utf-8"))
        if slot.url:
            # Every restart (= every new user) opens the subscription's page, not the last tabs.
            policy["RestoreOnStartup"] = 4
            policy["RestoreOnStartupURLs"] = [slot.url]
        path = self.room_dir(slot.id) / "policies.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(policy, indent=2), encoding="utf-8")
        return path

    def _prepare_dirs(self, slot_id: str) -> None:
        for path in (self.profile_dir(slot_id), self.downloads_dir(slot_id)):
            path.mkdir(parents=True, exist_ok=True)
            try:
                shutil.chown(path, NEKO_UID, NEKO_UID)
            except PermissionError:
                log.warning("cannot chown %s to uid %s; the room may not write there", path, NEKO_UID)

    def clear_profile_locks(self, slot_id: str) -> None:
        """Chromium refuses a profile locked by another host name and opens a throwaway one."""
        for lock in self.profile_dir(slot_id).glob("Singleton*"):
            lock.unlink(missing_ok=True)

    def container_spec(self, slot: Slot, room: Room) -> dict:
        http, udp_start, udp_end = self.ports(room.room_index)
        assert room.api_token_enc
        env = {
            "NEKO_SERVER_BIND": f":{NEKO_PORT}",
            "NEKO_SESSION_API_TOKEN": crypto.decrypt(room.api_token_enc),
            "NEKO_MEMBER_PROVIDER": "object",
            "NEKO_SESSION_IMPLICIT_HOSTING": "true",
            "NEKO_SESSION_MERCIFUL_RECONNECT": "true",
            "NEKO_DESKTOP_SCREEN": self.cfg.screen,
            "NEKO_WEBRTC_EPR": f"{udp_start}-{udp_end}",
            "NEKO_FILETRANSFER_ENABLED": "true",
            "NEKO_FILETRANSFER_DIR": DOWNLOADS_PATH,
        }
        if self.cfg.public_ip:
            env["NEKO_WEBRTC_NAT1TO1"] = self.cfg.public_ip
        if self.cfg.api_mode == "network":
            env["NEKO_SERVER_PROXY"] = "true"
            env["NEKO_SERVER_PATH_PREFIX"] = f"/neko/{slot.id}/"
        ports: dict[str, object] = {f"{p}/udp": (self.cfg.udp_bind, p) for p in range(udp_start, udp_end + 1)}
        if self.cfg.api_mode == "published":
            ports[f"{NEKO_PORT}/tcp"] = ("127.0.0.1", http)
        volumes = {
            str(self.profile_dir(slot.id)): {"bind": PROFILE_PATH, "mode": "rw"},
            str(self.downloads_dir(slot.id)): {"bind": DOWNLOADS_PATH, "mode": "rw"},
            str(self._policy_file(slot)): {"bind": POLICY_PATH, "mode": "ro"},
        }
        fingerprint = {k: v for k, v in env.items() if k != "NEKO_SESSION_API_TOKEN"}
        config_hash = hashlib.sha256(
            json.dumps([self.cfg.image, fingerprint, self.cfg.memory, sorted(volumes)], sort_keys=True).encode()
        ).hexdigest()[:16]
        spec = {
            "image": self.cfg.image,
            "name": self.name_of(slot.id),
            "hostname": self.name_of(slot.id),
            "detach": True,
            "environment": env,
            "labels": {
                "vdi_taxi.slot": slot.id,
                "vdi_taxi.instance": self.cfg.instance,
                "vdi_taxi.http_port": str(http),
                "vdi_taxi.udp_range": f"{udp_start}-{udp_end}",
                "vdi_taxi.config": config_hash,
            },
            "ports": ports,
            "volumes": volumes,
            "shm_size": "2g",
            "mem_limit": self.cfg.memory,
            "cap_add": ["SYS_ADMIN"],
            "restart_policy": {"Name": "unless-stopped"},
        }
        if self.cfg.network:
            spec["network"] = self.cfg.network
        return spec

    # ------------------------------------------------------------ lifecycle

    def _our_containers(self) -> dict[str, Container]:
        found = self.client().containers.list(all=True, filters={"label": f"vdi_taxi.instance={self.cfg.instance}"})
        return {c.labels.get("vdi_taxi.slot", ""): c for c in found}

    def _container(self, slot_id: str) -> Container | None:
        try:
            return self.client().containers.get(self.name_of(slot_id))
        except NotFound:
            return None

    def _create(self, slot: Slot, room: Room) -> Container:
        self._prepare_dirs(slot.id)
        self.clear_profile_locks(slot.id)
        container = self.client().containers.create(**self.container_spec(slot, room))
        container.start()
        self._set_state(slot.id, "starting", "Комната создана, запускается", container_id=container.id)
        return container

    def _start(self, slot_id: str, container: Container) -> None:
        self.clear_profile_locks(slot_id)
        container.start()
        self._set_state(slot_id, "starting", "Комната запускается")

    def _answers(self, room: Room) -> bool:
        neko = self._neko(room)
        try:
            return neko.healthy()
        finally:
            neko.close()

    def _wait_ready(self, rooms: list[Room], timeout: float) -> dict[str, bool]:
        deadline = time.monotonic() + timeout
        pending = {room.slot_id: room for room in rooms}
        ready: dict[str, bool] = {}
        while pending and time.monotonic() < deadline:
            for slot_id, room in list(pending.items()):
                if self._answers(room):
                    ready[slot_id] = True
                    del pending[slot_id]
                    self._set_state(slot_id, "ready", "", backoff_until=None)
            if pending:
                time.sleep(0.2)
        for slot_id in pending:
            ready[slot_id] = False
        return ready

    def ensure_ready(self, slot_id: str) -> RoomHealth:
        with session_scope() as session:
            slot = session.get(Slot, slot_id)
        if slot is None:
            raise RoomUnavailable("слот не найден")
        room = self._room(slot_id)
        assert room is not None
        try:
            container = self._container(slot_id)
            if container is None:
                self._create(slot, room)
            elif container.status != "running":
                self._start(slot_id, container)
        except ENGINE_ERRORS as exc:
            raise self._engine_failure(exc) from exc
        if not self._wait_ready([room], self.cfg.ready_timeout_seconds)[slot_id]:
            self._set_state(slot_id, "unhealthy", "Не ответила вовремя после запуска")
        return self.health(slot_id)

    def health(self, slot_id: str) -> RoomHealth:
        room = self._room(slot_id, create=False)
        if room is None:
            return RoomHealth(slot_id=slot_id, state="unknown", detail="Комната ещё не создана")
        return RoomHealth(slot_id=slot_id, state=room.state, detail=room.detail)

    def restart(self, slot_id: str, reason: str = "Перезапуск администратором") -> RoomHealth:
        room = self._room(slot_id)
        assert room is not None
        try:
            container = self._container(slot_id)
            if container is None:
                return self.ensure_ready(slot_id)
            container.stop(timeout=10)
            self.clear_profile_locks(slot_id)
            container.start()
        except ENGINE_ERRORS as exc:
            raise self._engine_failure(exc) from exc
        self._set_state(slot_id, "starting", reason)
        if not self._wait_ready([room], self.cfg.ready_timeout_seconds)[slot_id]:
            self._set_state(slot_id, "unhealthy", f"{reason}: не ответила вовремя")
        return self.health(slot_id)

    def recreate(self, slot_id: str) -> RoomHealth:
        """Remove and create again: picks up a new image or new settings. Profile and downloads stay."""
        try:
            container = self._container(slot_id)
            if container is not None:
                container.remove(force=True)
        except ENGINE_ERRORS as exc:
            raise self._engine_failure(exc) from exc
        self._set_state(slot_id, "creating", "Пересоздание")
        return self.ensure_ready(slot_id)

    def remove(self, slot_id: str) -> None:
        container = self._container(slot_id)
        if container is not None:
            container.remove(force=True)

    # ------------------------------------------------------------ access

    def grant(self, slot_id: str, session_id: int) -> RoomAccess:
        room = self._room(slot_id, create=False)
        if room is None or room.state != "ready":
            # The recorded state may lag behind: a room that answers is good enough.
            if room is None or room.state == "resetting" or not self._answers(room):
                raise RoomUnavailable(f"комната {self._state_label(room)}")
            self._set_state(slot_id, "ready", "", backoff_until=None)
        with session_scope() as session:
            user_name = session.exec(
                select(User.name).join(SlotSession, SlotSession.user_id == User.id).where(SlotSession.id == session_id)
            ).first()
        username = f"s{session_id}-{secrets.token_hex(4)}"
        password = secrets.token_urlsafe(24)
        neko = self._neko(room)
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
        room = self._room(slot_id, create=False)
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
        neko = self._neko(room)
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
        room = self._room(slot_id, create=False)
        if room is None:
            return
        neko = self._neko(room)
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
        self._set_state(slot_id, "resetting", "Очистка после сессии")
        threading.Thread(target=self._reset, args=(slot_id,), name=f"reset-{slot_id}", daemon=True).start()

    def _reset(self, slot_id: str) -> None:
        try:
            self.restart(slot_id, "Очистка после сессии")
        except Exception:  # reconcile picks the room up again
            log.exception("resetting room %s failed", slot_id)

    # ------------------------------------------------------------ session artifacts

    def collect(self, slot_id: str, started_at, ended_at) -> Artifacts:
        from services.chromium_history import read_visits

        found = Artifacts()
        try:
            found.visits = read_visits(self.profile_dir(slot_id) / "Default" / "History", started_at, ended_at)
        except (OSError, sqlite3.Error) as exc:
            found.missing.append(f"история посещений ({exc.__class__.__name__})")
        since = started_at.timestamp() - 5
        downloads = self.downloads_dir(slot_id)
        if downloads.exists():
            for path in sorted(downloads.iterdir()):
                if path.is_file() and path.stat().st_mtime >= since and not path.name.endswith(".crdownload"):
                    found.files.append((path.name, path))
        try:
            container = self._container(slot_id)
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

    def clear_downloads(self, slot_id: str, names: list[str]) -> None:
        for name in names:
            (self.downloads_dir(slot_id) / name).unlink(missing_ok=True)

    # ------------------------------------------------------------ presence and admin

    def presence(self, slot_id: str) -> list[Presence]:
        room = self._room(slot_id, create=False)
        if room is None:
            return []
        neko = self._neko(room)
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
        room = self._room(slot_id, create=False)
        if room is None:
            return 0
        neko = self._neko(room)
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
        room = self._room(slot_id, create=False)
        if room is None:
            raise RoomUnavailable("комната не создана")
        neko = self._neko(room)
        try:
            return neko.screenshot()
        except NekoError as exc:
            raise RoomUnavailable(str(exc)) from exc
        finally:
            neko.close()

    # ------------------------------------------------------------ reconcile

    def _engine_failure(self, exc: Exception) -> RoomUnavailable:
        """An API error means the engine answered; anything else means it is gone."""
        if isinstance(exc, APIError):
            return RoomUnavailable(f"Docker: {exc.explanation or exc}")
        self._engine_down(exc)
        return RoomUnavailable("Docker недоступен")

    def _engine_down(self, exc: Exception) -> None:
        log.warning("Docker engine unreachable: %s", exc)
        self._drop_client()
        hour = clock.now().strftime("%Y%m%d%H")
        alerts.alert_admins(
            "docker_down",
            f"🚨 Алерт\nDocker недоступен: {exc.__class__.__name__}. Комнаты не обслуживаются, остальное работает.",
            f"docker_down:{hour}",
        )
        set_status("docker", "unreachable", f"Docker недоступен: {exc.__class__.__name__}")
        with session_scope() as session:
            session.exec(update(Room).values(state="unknown", detail="Docker недоступен", updated_at=clock.now()))
            bump_board_version(session)

    @staticmethod
    def _state_label(room: Room | None) -> str:
        labels = {
            "creating": "создаётся",
            "starting": "запускается",
            "resetting": "очищается после сессии",
            "unhealthy": "не отвечает",
            "stopped": "остановлена",
            "error": "в ошибке",
            "unknown": "недоступна",
        }
        return labels.get(room.state if room else "unknown", "недоступна")

    def reconcile(self, force: bool = False) -> ReconcileReport:
        """Bring containers in line with the slots; safe to run from several processes."""
        began = time.monotonic()
        ttl = timedelta(seconds=max(self.cfg.reconcile_seconds * 2, self.cfg.ready_timeout_seconds + 30))
        if not force and not leases.acquire("reconcile-rooms", ttl):
            return ReconcileReport(False, True, {}, [], 0.0)
        try:
            try:
                self.client().ping()
                ours = self._our_containers()
            except ENGINE_ERRORS as exc:
                self._engine_down(exc)
                return ReconcileReport(True, False, {}, [], time.monotonic() - began)
            set_status("docker", "ok", "")
            with session_scope() as session:
                all_slots = {s.id: s for s in session.exec(select(Slot)).all()}
            removed = self._remove_strays(ours, all_slots)
            waiting = self._start_missing(ours, [s for s in all_slots.values() if s.is_active])
            if waiting:
                for slot_id, ok in self._wait_ready(waiting, self.cfg.ready_timeout_seconds).items():
                    if not ok:
                        self._mark_unhealthy(slot_id, "Не ответила вовремя после запуска")
            self._retry_revocations()
            with session_scope() as session:
                states = {r.slot_id: r.state for r in session.exec(select(Room)).all()}
            return ReconcileReport(True, True, states, removed, time.monotonic() - began)
        except ENGINE_ERRORS as exc:
            # A conflict with a concurrent change (container removed meanwhile) is retried next pass.
            engine_ok = isinstance(exc, APIError)
            if engine_ok:
                log.warning("reconcile pass stopped early: %s", exc)
            else:
                self._engine_down(exc)
            return ReconcileReport(True, engine_ok, {}, [], time.monotonic() - began)
        finally:
            if not force:
                leases.release("reconcile-rooms")

    def _remove_strays(self, ours: dict[str, Container], slots: dict[str, Slot]) -> list[str]:
        removed = []
        for slot_id, container in ours.items():
            if slot_id not in slots:
                container.remove(force=True)
                removed.append(slot_id)
            elif not slots[slot_id].is_active and container.status == "running":
                container.stop(timeout=10)
                self._set_state(slot_id, "stopped", "Слот отключён")
        return removed

    def _start_missing(self, ours: dict[str, Container], active: list[Slot]) -> list[Room]:
        waiting = []
        now = clock.now()
        for slot in active:
            try:
                self._reconcile_room(slot, ours.get(slot.id), now, waiting)
            except APIError as exc:
                # One room's problem (e.g. its name taken by a foreign container) must not stall the rest.
                self._set_state(slot.id, "error", f"Docker: {exc.explanation or exc}"[:500])
        return waiting

    def _reconcile_room(self, slot: Slot, container: Container | None, now, waiting: list[Room]) -> None:
        room = self._room(slot.id)
        assert room is not None
        if room.backoff_until and room.backoff_until > now and room.state == "unhealthy":
            return
        if container is None:
            self._create(slot, room)
            waiting.append(room)
        elif container.status != "running":
            self._start(slot.id, container)
            waiting.append(room)
        elif room.state != "resetting":
            health = (container.attrs.get("State", {}).get("Health") or {}).get("Status")
            if self._answers(room):
                self._set_state(slot.id, "ready", "", backoff_until=None)
            elif health == "unhealthy" or room.state in {"ready", "unknown", "unhealthy"}:
                self._restart_with_backoff(slot.id, room, container)
                waiting.append(room)
            else:
                waiting.append(room)

    def _restart_with_backoff(self, slot_id: str, room: Room, container: Container) -> None:
        attempt = room.restarts + 1
        alerts.alert_admins(
            "room_unhealthy",
            f"🚨 Алерт\nКомната {slot_id} не отвечала — перезапуск №{attempt}.",
            f"room_restart:{slot_id}:{attempt}:{room.updated_at.isoformat()}",
        )
        container.restart(timeout=10)
        self._set_state(
            slot_id,
            "starting",
            f"Не отвечала — перезапуск №{attempt}",
            restarts=attempt,
        )

    def _mark_unhealthy(self, slot_id: str, reason: str) -> None:
        room = self._room(slot_id, create=False)
        if room is None:
            return
        delay = min(timedelta(seconds=30 * 2 ** min(room.restarts, 10)), MAX_BACKOFF)
        self._set_state(slot_id, "unhealthy", reason, backoff_until=clock.now() + delay)

    def _retry_revocations(self) -> None:
        with session_scope() as session:
            pending = session.exec(
                select(RoomGrant.slot_id, RoomGrant.session_id)
                .join(SlotSession, SlotSession.id == RoomGrant.session_id)
                .where(RoomGrant.revoked_at.is_(None), SlotSession.ended_at.is_not(None))
                .distinct()
            ).all()
        for slot_id, session_id in pending:
            self.revoke(slot_id, session_id)
