"""Time from release to the dump being in the outbox: a Docker room (Neko stand-in) with
50 history entries and 5 downloaded files of 5 MB.
    python -m bench.dumps
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench.rooms import _room_env
from services import sessions
from tests.docker_support import docker_engine, ensure_standin_image
from tests.live_server import ROOT


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp, docker_engine(Path(tmp) / "dockerd") as engine:
        client = engine.client()
        image = ensure_standin_image(client)
        data = Path(tmp) / "data"
        os.environ.update(
            {**_room_env(engine, data, image), "VDI_DATA_DIR": str(data), "VDI_ENV": "test", "VDI_BCRYPT_ROUNDS": "4"}
        )
        from services import dumps, runtime, seed, users
        from services.core import outbox
        from services.core.db import migrate
        from services.rooms import base as rooms

        migrate()
        runtime.configure()
        seed.seed_demo()
        provider = rooms.current()
        provider.reconcile(force=True)
        dumps.RUN_IN_BACKGROUND = False  # measure the collection itself, not a thread hand-off
        person = users.create_user("dumpbench", "Бенч", "bench-pass-1")
        samples = []
        for _ in range(3):
            work = sessions.take_slot(person.id, "ppx-1")
            base = work.access_url.split("?")[0]
            usr, pwd = (p.split("=", 1)[1] for p in work.access_url.split("?")[1].split("&")[:2])
            token = httpx.post(f"{base}api/login", json={"username": usr, "password": pwd}).json()["token"]
            for i in range(50):
                httpx.post(
                    f"{base}api/standin/visit",
                    params={"token": token},
                    json={"url": f"https://example.org/{i}", "title": f"Страница {i}"},
                )
            for i in range(5):
                (provider.downloads_dir("ppx-1") / f"file{i}.bin").write_bytes(os.urandom(5 * 1024 * 1024))
            original = provider.after_session
            provider.after_session = lambda slot_id: None  # the room reset is not part of this figure
            began = time.perf_counter()
            sessions.release_slot(person.id, "ppx-1")
            elapsed = time.perf_counter() - began
            provider.after_session = original
            view = dumps.dump_view(work.id)
            assert view.pages == 50 and view.files == 5, view
            assert any(n.kind == "dump" for n in outbox.pending_for(person.id))
            samples.append(elapsed * 1000)
            provider.restart("ppx-1")
        client.close()
    result = {
        "release_to_dump_in_outbox_ms": {"median": round(statistics.median(samples)), "max": round(max(samples))},
        "zip_size": view.size_label,
    }
    print(result)
    out = ROOT / "bench-results" / "dumps.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
