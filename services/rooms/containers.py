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
from sqlalchemy import or_, update
from sqlmodel import select

from services import alerts
from services.core import clock, crypto
from services.core.db import bump_board_version, session_scope
from services.core.models import Room, Slot, SystemStatus
from services.core.settings import RoomSettings, get_settings
from services.core.status import set_status
from services.rooms import hosts as room_hosts
from services.rooms.base import HostInfo, RoomHealth, RoomUnavailable, state_label
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
    """Rooms as containers on Docker engines (VDI_DOCKER_HOSTS): create, start, wait until Neko
    answers, restart. Each room lives on one host, recorded in its row."""

    def __init__(self, settings: RoomSettings | None = None) -> None:
        self.cfg = settings or get_settings().rooms
        self.host_urls: dict[str, str] = dict(self.cfg.hosts)
        self.default_host = self.cfg.hosts[0][0]
        self._clients: dict[str, docker.DockerClient] = {}
        self._lock = threading.Lock()

    def client(self, host: str | None = None) -> docker.DockerClient:
        name = host or self.default_host
        if name not in self.host_urls:
            raise RoomUnavailable(f"хост {name} не настроен (VDI_DOCKER_HOSTS)")
        with self._lock:
            if name not in self._clients:
                self._clients[name] = room_hosts.connect(self.host_urls[name], name, self.cfg.docker_cert_dir)
            return self._clients[name]

    def _drop_client(self, host: str | None = None) -> None:
        with self._lock:
            client = self._clients.pop(host or self.default_host, None)
            if client is not None:
                client.close()

    def host_infos(self) -> list[HostInfo]:
        """Each host's rooms and memory; a host marked unreachable is not asked again here."""
        with session_scope() as session:
            placed = [(r.slot_id, r.host or self.default_host) for r in session.exec(select(Room)).all()]
            down = {
                row.key.removeprefix("docker:")
                for row in session.exec(select(SystemStatus).where(SystemStatus.state != "ok")).all()
            }
        # Read as Docker reads the same value when it sets the rooms' limit.
        room_bytes = docker.utils.parse_bytes(self.cfg.memory)
        infos = []
        for name in self.host_urls:
            rooms = sorted(slot_id for slot_id, host in placed if host == name)
            if name in down or (len(self.host_urls) == 1 and "docker" in down):
                infos.append(HostInfo(name, False, rooms))
                continue
            try:
                client = self.client(name)
                total = int(client.info().get("MemTotal") or 0)
                free = total - room_hosts.reserved_by_others(client, self.cfg.instance) - len(rooms) * room_bytes
            except ENGINE_ERRORS:
                infos.append(HostInfo(name, False, rooms))
                continue
            infos.append(HostInfo(name, True, rooms, total, max(free, 0)))
        return infos

    def host_of(self, slot_id: str) -> str:
        room = self.room_row(slot_id, create=False)
        return (room.host if room is not None else None) or self.default_host

    def place(self) -> str:
        """The host with the most free memory: its total less what other containers reserve and
        what this installation's rooms placed there may take. A host that does not answer is skipped."""
        if len(self.host_urls) == 1:
            return self.default_host
        answering = [h for h in self.host_infos() if h.answers]
        if not answering:
            return self.default_host
        return max(answering, key=lambda h: h.memory_free).name

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
        return f"http://{self.bind_address(self.host_of(slot_id))}:{self.ports(room_index)[0]}"

    def bind_address(self, host: str) -> str:
        return room_hosts.address(self.host_urls.get(host, "unix://"))

    def public_url(self, slot_id: str, room_index: int) -> str:
        # {host}: the address of the room's Docker host, for rooms published on several hosts.
        host = self.bind_address(self.host_of(slot_id)) if "{host}" in self.cfg.url_template else ""
        return self.cfg.url_template.format(http_port=self.ports(room_index)[0], slot=slot_id, host=host)

    def neko(self, room: Room) -> NekoClient:
        if not room.api_token_enc:
            raise RoomUnavailable("комната ещё не создана")
        return NekoClient(self.api_url(room.slot_id, room.room_index), crypto.decrypt(room.api_token_enc))

    def room_dir(self, slot_id: str, host: str | None = None) -> Path:
        """The first host keeps the single-host layout; every other host has its own tree."""
        host = host or self.host_of(slot_id)
        if host == self.default_host:
            return self.cfg.data_dir / slot_id
        return self.cfg.data_dir / "hosts" / host / slot_id

    def downloads_dir(self, slot_id: str, host: str | None = None) -> Path:
        return self.room_dir(slot_id, host) / "downloads"

    def profile_dir(self, slot_id: str, host: str | None = None) -> Path:
        return self.room_dir(slot_id, host) / "profile"

    def room_row(self, slot_id: str, create: bool = True, pin: str | None = None) -> Room | None:
        with session_scope() as session:
            room = session.get(Room, slot_id)
            if room is not None or not create:
                return room
        host = pin or self.place()
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
                        host=host,
                        host_pinned=pin is not None,
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
        if changed:
            why = f" ({detail[:200]})" if detail else ""
            log.info("room %s on %s: %s%s", slot_id, room.host or self.default_host, state, why)

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

    def prepare_dirs(self, slot_id: str, host: str | None = None) -> None:
        for path in (self.profile_dir(slot_id, host), self.downloads_dir(slot_id, host)):
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
            host_url = self.host_urls.get(room.host or self.default_host, "unix://")
            ports[f"{NEKO_PORT}/tcp"] = (room_hosts.publish_ip(host_url), http)
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

    def our_containers(self, host: str | None = None) -> dict[str, Container]:
        found = self.client(host).containers.list(all=True, filters={"label": f"vdi_taxi.instance={self.cfg.instance}"})
        return {c.labels.get("vdi_taxi.slot", ""): c for c in found}

    def container_of(self, slot_id: str) -> Container | None:
        try:
            return self.client(self.host_of(slot_id)).containers.get(self.name_of(slot_id))
        except NotFound:
            return None

    def create_container(self, slot: Slot, room: Room) -> Container:
        self.prepare_dirs(slot.id)
        self.clear_profile_locks(slot.id)
        container = self.client(room.host).containers.create(**self.container_spec(slot, room))
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
            raise self.engine_failure(exc, room.host) from exc
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
            raise self.engine_failure(exc, room.host) from exc
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
            raise self.engine_failure(exc, self.host_of(slot_id)) from exc
        self.set_state(slot_id, "creating", "Пересоздание")
        return self.ensure_ready(slot_id)

    def move(self, slot_id: str, target: str) -> RoomHealth:
        """Stop the room, carry its profile to `target` through the archive API, start it there.

        The room stays pinned to `target`. If anything fails before the switch, the room stays
        where it was (reconcile starts it again) and the error is reported."""
        if target not in self.host_urls:
            raise RoomUnavailable(f"хост {target} не настроен (VDI_DOCKER_HOSTS)")
        room = self.room_row(slot_id, create=False)
        if room is None:  # not created yet: it will be created there
            self.room_row(slot_id, pin=target)
            return self.health(slot_id)
        source = room.host or self.default_host
        if source == target:
            self.set_state(slot_id, room.state, room.detail, host=target, host_pinned=True)
            return self.health(slot_id)
        self.set_state(slot_id, "moving", f"Перенос на хост {target}")
        try:
            src, dst = self.client(source), self.client(target)
            dst.ping()
            container = self.container_of(slot_id)
            if container is not None:
                container.stop(timeout=10)
            self.prepare_dirs(slot_id, source)
            self.prepare_dirs(slot_id, target)
            room_hosts.copy_profile(
                src,
                str(self.profile_dir(slot_id, source)),
                dst,
                str(self.profile_dir(slot_id, target)),
                self.cfg.image,
                self.cfg.instance,
            )
            if container is not None:
                container.remove(force=True)
        except (*ENGINE_ERRORS, RuntimeError) as exc:
            log.warning("moving room %s from %s to %s failed: %s", slot_id, source, target, exc)
            self.set_state(slot_id, "unknown", f"Перенос на хост {target} не удался")
            raise RoomUnavailable(f"перенос не удался: {exc}"[:300]) from exc
        self.set_state(
            slot_id, "creating", f"Перенесена с хоста {source}", host=target, host_pinned=True, container_id=None
        )
        return self.ensure_ready(slot_id)

    def remove(self, slot_id: str) -> None:
        container = self.container_of(slot_id)
        if container is not None:
            container.remove(force=True)

    def engine_failure(self, exc: Exception, host: str | None = None) -> RoomUnavailable:
        """An API error means the engine answered; anything else means it is gone."""
        if isinstance(exc, APIError):
            return RoomUnavailable(f"Docker: {exc.explanation or exc}")
        self.engine_down(exc, host)
        return RoomUnavailable("Docker недоступен")

    def status_key(self, host: str) -> str:
        """One engine keeps the single-host key; with several, each host has its own."""
        return "docker" if len(self.host_urls) == 1 else f"docker:{host}"

    def engine_ok(self, host: str) -> None:
        set_status(self.status_key(host), "ok", "")
        self._sum_up()

    def engine_down(self, exc: Exception, host: str | None = None) -> None:
        """The host's rooms become `unknown`; other hosts' rooms are left alone."""
        host = host or self.default_host
        log.warning("Docker engine %s unreachable: %s", host, exc)
        self._drop_client(host)
        several = len(self.host_urls) > 1
        where = f"Docker на хосте {host}" if several else "Docker"
        # Once per outage: every reconcile pass finds the engine down, the admins hear it when it goes.
        if set_status(self.status_key(host), "unreachable", f"{where} недоступен: {exc.__class__.__name__}"):
            rooms_text = "Комнаты этого хоста не обслуживаются" if several else "Комнаты не обслуживаются"
            alerts.alert_admins(
                "docker_down",
                f"🚨 Алерт\n{where} недоступен: {exc.__class__.__name__}. {rooms_text}, остальное работает.",
                f"docker_down:{host}:{clock.now().isoformat()}",
            )
        on_host = Room.host == host
        if host == self.default_host:
            on_host = or_(on_host, Room.host.is_(None))
        with session_scope() as session:
            session.exec(
                update(Room)
                .where(on_host)
                .values(state="unknown", detail=f"{where} недоступен", updated_at=clock.now())
            )
            bump_board_version(session)
        self._sum_up()

    def _sum_up(self) -> None:
        """With several hosts, `docker` says whether all of them answer (the board and the bot read it)."""
        if len(self.host_urls) == 1:
            return
        with session_scope() as session:
            down = [
                name
                for name in self.host_urls
                if (row := session.get(SystemStatus, f"docker:{name}")) is not None and row.state != "ok"
            ]
        detail = ("Docker недоступен на хостах: " + ", ".join(down)) if down else ""
        set_status("docker", "unreachable" if down else "ok", detail)

    @staticmethod
    def state_label(room: Room | None) -> str:
        return state_label(room.state if room else None)
