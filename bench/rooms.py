"""Room figures with a real Docker engine and the Neko stand-in image:
cold creation of 10 rooms, reconcile of 10 running rooms, take-to-URL on a warm
room, and the memory of the app process while it manages 10 rooms.
    python -m bench.rooms
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from services import sessions
from tests.docker_support import docker_engine, ensure_standin_image, room_env
from tests.live_server import ROOT, start_live_app


def _room_env(engine, data: Path, image: str) -> dict[str, str]:
    engine.image = image
    return room_env(engine, data, f"bench{os.getpid()}")


def main() -> int:
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp, docker_engine(Path(tmp) / "dockerd") as engine:
        client = engine.client()
        image = ensure_standin_image(client)
        data = Path(tmp) / "data"
        env = {**_room_env(engine, data, image), "VDI_DATA_DIR": str(data), "VDI_ENV": "test", "VDI_BCRYPT_ROUNDS": "4"}
        os.environ.update(env)
        from services import runtime, seed, users
        from services.core.db import migrate
        from services.rooms import base as rooms

        migrate()
        runtime.configure()
        seed.seed_demo()
        provider = rooms.current()

        began = time.perf_counter()
        report = provider.reconcile(force=True)
        results["cold_create_10_rooms_s"] = round(time.perf_counter() - began, 2)
        assert set(report.states.values()) == {"ready"}, report.states
        warm = []
        for _ in range(5):
            began = time.perf_counter()
            provider.reconcile(force=True)
            warm.append(time.perf_counter() - began)
        results["reconcile_10_running_rooms_ms"] = round(statistics.median(warm) * 1000, 1)

        takes = []
        people = [users.create_user(f"bench{i}", f"Бенч {i}", "bench-pass-1") for i in range(10)]
        for person, slot_id in zip(people, [row[0] for row in seed.DEMO_SLOTS], strict=True):
            began = time.perf_counter()
            work = sessions.take_slot(person.id, slot_id)
            takes.append(time.perf_counter() - began)
            assert work.access_url
        results["take_to_url_warm_room_ms"] = {
            "median": round(statistics.median(takes) * 1000, 1),
            "max": round(max(takes) * 1000, 1),
        }
        for person, slot_id in zip(people, [row[0] for row in seed.DEMO_SLOTS], strict=True):
            sessions.release_slot(person.id, slot_id)
        for c in client.containers.list(all=True, filters={"label": f"vdi_taxi.instance={env['VDI_ROOM_INSTANCE']}"}):
            c.remove(force=True)

        # The whole app, managing 10 rooms.
        app_env = _room_env(engine, Path(tmp) / "app", image)
        with start_live_app(
            Path(tmp) / "app", ROOT / "bench-results" / "rooms-app.log", web_dir="bench-rooms", **app_env
        ) as app:
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                running = client.containers.list(
                    filters={"label": f"vdi_taxi.instance={app_env['VDI_ROOM_INSTANCE']}", "health": "healthy"}
                )
                if len(running) == 10:
                    break
                time.sleep(1)
            time.sleep(5)
            out = subprocess.run(["ps", "-o", "rss=", "-g", str(app.pid)], capture_output=True, text=True).stdout
            results["app_rss_with_10_rooms_mib"] = round(sum(int(x) for x in out.split()) / 1024, 1)
        client.close()
    for key, value in results.items():
        print(f"{key}: {value}")
    out_file = ROOT / "bench-results" / "rooms.json"
    out_file.parent.mkdir(exist_ok=True)
    out_file.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
