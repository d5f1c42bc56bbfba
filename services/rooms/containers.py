"""The Docker side of rooms: one Neko container per slot, its ports, directories, spec and lifecycle.

Containers carry labels, like neko-rooms does, so they can be found again after a
restart; the database keeps what labels cannot: fixed port blocks, the encrypted API
token of each room, its state and restart back-off.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import shutil
import threading
import time
from pathlib import Path

import docker
import requests
from docker.errors import APIError, DockerException, NotFound
from docker.models.containers import Container
from sqlalchemy import update
from sqlmodel import select

from services import alerts
from services.core import clock, crypto
from services.core.db import bump_board_version, session_scope
from services.core.models import Room, Slot
from services.core.settings import RoomSettings, get_settings
from services.core.status import set_status
from services.rooms.base import RoomHealth, RoomUnavailable
from services.rooms.neko import NekoClient

log = logging.getLogger(__name__)

NEKO_PORT = 8080
PROFILE_PATH = "/home/neko/.config/chromium"
DOWNLOADS_PATH = "/home/neko/Downloads"
POLICY_PATH = "/etc/chromium/policies/managed/policies.json"
NEKO_UID = 1000
ENGINE_ERRORS = (DockerException, requests.exceptions.RequestException)
# Linux capabilities a room keeps after dropping all (why each: see the spec below and the README).
ROOM_CAPABILITIES = ("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "KILL", "SYS_ADMIN")


def container_name(slot_id: str, instance: str = "main") -> str:
    """Names are global on an engine: a second installation's rooms carry its instance name."""
    return f"vdi-taxi-room-{slot_id}" if instance == "main" else f"vdi-taxi-room-{slot_id}--{instance}"


class RoomContainers:
    """Rooms as containers on one Docker engine: create, start, wait until Neko answers, restart."""

    def __init__(self, settings: RoomSettings | None = None) -> None:
        self.cfg = settings or get_settings().rooms
        self._client: docker.DockerClient | None = None
        self._lock = threading.Lock()

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

    def neko(self, room: Room) -> NekoClient:
        if not room.api_token_enc:
            raise RoomUnavailable("комната ещё не создана")
        return NekoClient(self.api_url(room.slot_id, room.room_index), crypto.decrypt(room.api_token_enc))

    def room_dir(self, slot_id: str) -> Path:
        return self.cfg.data_dir / slot_id

    def downloads_dir(self, slot_id: str) -> Path:
        return self.room_dir(slot_id) / "downloads"

    def profile_dir(self, slot_id: str) -> Path:
        return self.room_dir(slot_id) / "profile"

    def room_row(self, slot_id: str, create: bool = True) -> Room | None:
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
                existing = self.room_row(slot_id, create=False)
                if existing is not None:
                    return existing
        raise RoomUnavailable("не удалось выделить порты комнате")

    def set_state(self, slot_id: str, state: str, detail: str = "", **values) -> None:
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

    def policy_file(self, slot: Slot) -> Path:
        policy = json.loads(self.cfg.policy_file.read_text(encoding="utf-8"))
        if slot.url:
            # Every restart (= every new user) opens the subscription's page, not the last tabs.
            policy["RestoreOnStartup"] = 4
            policy["RestoreOnStartupURLs"] = [slot.url]
        path = self.room_dir(slot.id) / "policies.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(policy, indent=2), encoding="utf-8")
        return path

    def prepare_dirs(self, slot_id: str) -> None:
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
            str(self.policy_file(slot)): {"bind": POLICY_PATH, "mode": "ro"},
        }
        fingerprint = {k: v for k, v in env.items() if k != "NEKO_SESSION_API_TOKEN"}
        config_hash = hashlib.sha256(
            json.dumps(
                [
                    self.cfg.image,
                    fingerprint,
                    self.cfg.memory,
                    sorted(volumes),
                    self.cfg.pids_limit,
                    self.cfg.cpus,
                    ROOM_CAPABILITIES,
                ],
                sort_keys=True,
            ).encode()
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
            "pids_limit": self.cfg.pids_limit,
            "nano_cpus": int(self.cfg.cpus * 1e9),
            # Nothing gains privileges through setuid binaries or file capabilities.
            "security_opt": ["no-new-privileges:true"],
            # Only what the Neko image needs (README, "Security model"): its supervisord runs as
            # root and starts the desktop, Neko and Chromium as uid 1000 (SETUID, SETGID), owns
            # their files (CHOWN, DAC_OVERRIDE, FOWNER) and signals them (KILL); SYS_ADMIN lets
            # Chromium build its namespace sandbox under Docker's seccomp profile.
            "cap_drop": ["ALL"],
            "cap_add": list(ROOM_CAPABILITIES),
            "restart_policy": {"Name": "unless-stopped"},
        }
        if self.cfg.network:
            spec["network"] = self.cfg.network
        return spec

    def our_containers(self) -> dict[str, Container]:
        found = self.client().containers.list(all=True, filters={"label": f"vdi_taxi.instance={self.cfg.instance}"})
        return {c.labels.get("vdi_taxi.slot", ""): c for c in found}

    def container_of(self, slot_id: str) -> Container | None:
        try:
            return self.client().containers.get(self.name_of(slot_id))
        except NotFound:
            return None

    def create_container(self, slot: Slot, room: Room) -> Container:
        self.prepare_dirs(slot.id)
        self.clear_profile_locks(slot.id)
        container = self.client().containers.create(**self.container_spec(slot, room))
        container.start()
        self.set_state(slot.id, "starting", "Комната создана, запускается", container_id=container.id)
        return container

    def start_container(self, slot_id: str, container: Container) -> None:
        self.clear_profile_locks(slot_id)
        container.start()
        self.set_state(slot_id, "starting", "Комната запускается")

    def answers(self, room: Room) -> bool:
        neko = self.neko(room)
        try:
            return neko.healthy()
        finally:
            neko.close()

    def wait_ready(self, rooms: list[Room], timeout: float) -> dict[str, bool]:
        deadline = time.monotonic() + timeout
        pending = {room.slot_id: room for room in rooms}
        ready: dict[str, bool] = {}
        while pending and time.monotonic() < deadline:
            for slot_id, room in list(pending.items()):
                if self.answers(room):
                    ready[slot_id] = True
                    del pending[slot_id]
                    self.set_state(slot_id, "ready", "", backoff_until=None)
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
        room = self.room_row(slot_id)
        assert room is not None
        try:
            container = self.container_of(slot_id)
            if container is None:
                self.create_container(slot, room)
            elif container.status != "running":
                self.start_container(slot_id, container)
        except ENGINE_ERRORS as exc:
            raise self.engine_failure(exc) from exc
        if not self.wait_ready([room], self.cfg.ready_timeout_seconds)[slot_id]:
            self.set_state(slot_id, "unhealthy", "Не ответила вовремя после запуска")
        return self.health(slot_id)

    def health(self, slot_id: str) -> RoomHealth:
        room = self.room_row(slot_id, create=False)
        if room is None:
            return RoomHealth(slot_id=slot_id, state="unknown", detail="Комната ещё не создана")
        return RoomHealth(slot_id=slot_id, state=room.state, detail=room.detail)

    def restart(self, slot_id: str, reason: str = "Перезапуск администратором") -> RoomHealth:
        room = self.room_row(slot_id)
        assert room is not None
        try:
            container = self.container_of(slot_id)
            if container is None:
                return self.ensure_ready(slot_id)
            container.stop(timeout=10)
            self.clear_profile_locks(slot_id)
            container.start()
        except ENGINE_ERRORS as exc:
            raise self.engine_failure(exc) from exc
        self.set_state(slot_id, "starting", reason)
        if not self.wait_ready([room], self.cfg.ready_timeout_seconds)[slot_id]:
            self.set_state(slot_id, "unhealthy", f"{reason}: не ответила вовремя")
        return self.health(slot_id)

    def recreate(self, slot_id: str) -> RoomHealth:
        """Remove and create again: picks up a new image or new settings. Profile and downloads stay."""
        try:
            container = self.container_of(slot_id)
            if container is not None:
                container.remove(force=True)
        except ENGINE_ERRORS as exc:
            raise self.engine_failure(exc) from exc
        self.set_state(slot_id, "creating", "Пересоздание")
        return self.ensure_ready(slot_id)

    def remove(self, slot_id: str) -> None:
        container = self.container_of(slot_id)
        if container is not None:
            container.remove(force=True)

    def engine_failure(self, exc: Exception) -> RoomUnavailable:
        """An API error means the engine answered; anything else means it is gone."""
        if isinstance(exc, APIError):
            return RoomUnavailable(f"Docker: {exc.explanation or exc}")
        self.engine_down(exc)
        return RoomUnavailable("Docker недоступен")

    def engine_down(self, exc: Exception) -> None:
        log.warning("Docker engine unreachable: %s", exc)
        self._drop_client()
        # Once per outage: every reconcile pass finds the engine down, the admins hear it when it goes.
        if set_status("docker", "unreachable", f"Docker недоступен: {exc.__class__.__name__}"):
            alerts.alert_admins(
                "docker_down",
                f"🚨 Алерт\nDocker недоступен: {exc.__class__.__name__}. Комнаты не обслуживаются, остальное работает.",
                f"docker_down:{clock.now().isoformat()}",
            )
        with session_scope() as session:
            session.exec(update(Room).values(state="unknown", detail="Docker недоступен", updated_at=clock.now()))
            bump_board_version(session)

    @staticmethod
    def state_label(room: Room | None) -> str:
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
