"""Rooms on two Docker hosts (a unix socket and a second engine over tcp:// with TLS, both on
this machine): reconcile of 20 rooms spread over the two, and moving a room between hosts with
a 50 MB browser profile.
    python -m bench.hosts
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import pyotp
from sqlmodel import select

from tests.docker_support import docker_engine, ensure_standin_image, room_env, second_docker_engine
from tests.live_server import ROOT

ROOMS = 20
PROFILE_MB = 50
BLOB = "/home/neko/.config/chromium/Default/blob"


def _profile_digest(engine, instance: str, slot_id: str) -> str:
    client = engine.client()
    try:
        (container,) = client.containers.list(
            filters={"label": [f"vdi_taxi.instance={instance}", f"vdi_taxi.slot={slot_id}"]}
        )
        result = container.exec_run(["sha256sum", BLOB])
        assert result.exit_code == 0, result.output
        return result.output.split()[0].decode()
    finally:
        client.close()


def main() -> int:
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp, docker_engine(Path(tmp) / "dockerd-a") as a:
        client = a.client()
        a.image = ensure_standin_image(client)
        client.close()
        with second_docker_engine(Path(tmp) / "dockerd-b", a) as b:
            data = Path(tmp) / "data"
            instance = f"bench{os.getpid()}"
            env = {
                **room_env(a, data, instance, rooms=ROOMS),
                "VDI_DOCKER_HOSTS": f"a={a.host},b={b.host}",
                "VDI_DOCKER_CERT_DIR": str(b.certs),
                "VDI_DATA_DIR": str(data),
                "VDI_ENV": "test",
                "VDI_BCRYPT_ROUNDS": "4",
                "VDI_ROOM_READY_TIMEOUT": "120",
            }
            os.environ.update(env)
            from services import health, runtime, users
            from services.core.db import migrate, session_scope
            from services.core.models import Room, Slot
            from services.rooms import base as rooms

            migrate()
            runtime.configure()
            with session_scope() as session:
                for i in range(ROOMS):
                    session.add(Slot(id=f"r{i:02d}", service_name=f"Комната {i}", category="КОД", sort_order=i))
            admin = users.create_user("bench-admin", "Бенч", "bench-pass-1", is_admin=True)
            enrolment = users.auth.begin_enrolment(admin.id)  # admin operations need 2FA
            users.auth.confirm_enrolment(admin.id, pyotp.TOTP(enrolment.secret).now())
            provider = rooms.current()

            began = time.perf_counter()
            report = provider.reconcile(force=True)
            results["cold_create_20_rooms_2_hosts_s"] = round(time.perf_counter() - began, 2)
            assert set(report.states.values()) == {"ready"}, report.states
            with session_scope() as session:
                spread = [r.host for r in session.exec(select(Room)).all()]
            results["rooms_per_host"] = {h: spread.count(h) for h in ("a", "b")}
            warm = []
            for _ in range(5):
                began = time.perf_counter()
                report = provider.reconcile(force=True)
                warm.append(time.perf_counter() - began)
                assert report.hosts == {"a": True, "b": True}
            results["reconcile_20_running_rooms_2_hosts_ms"] = round(statistics.median(warm) * 1000, 1)

            # Moving: a profile with a 50 MB file, there and back three times.
            slot_id = "r00"
            with session_scope() as session:
                source = session.get(Room, slot_id).host
            engines = {"a": a, "b": b}
            client = engines[source].client()
            (container,) = client.containers.list(
                filters={"label": [f"vdi_taxi.instance={instance}", f"vdi_taxi.slot={slot_id}"]}
            )
            made = container.exec_run(
                ["sh", "-c", f"mkdir -p $(dirname {BLOB}) && head -c {PROFILE_MB}M /dev/urandom > {BLOB}"]
            )
            assert made.exit_code == 0, made.output
            client.close()
            digest = _profile_digest(engines[source], instance, slot_id)
            moves = []
            here = source
            for _ in range(3):
                there = "b" if here == "a" else "a"
                began = time.perf_counter()
                message = health.move_room(admin.id, slot_id, there)
                moves.append(time.perf_counter() - began)
                assert message.endswith("(состояние: ready)"), message
                assert _profile_digest(engines[there], instance, slot_id) == digest
                here = there
            results["move_room_50mb_profile_s"] = {
                "median": round(statistics.median(moves), 2),
                "max": round(max(moves), 2),
            }
    for key, value in results.items():
        print(f"{key}: {value}")
    out_file = ROOT / "bench-results" / "hosts.json"
    out_file.parent.mkdir(exist_ok=True)
    out_file.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
