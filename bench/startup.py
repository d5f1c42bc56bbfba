"""Cold and warm start of the README run command, and the memory of the running app.

Cold: a fresh clone (no virtualenv, no frontend build; package caches of this
machine stay warm). Warm: the same clone started again. Each run is timed until
the login page answers, then the app's whole process group is measured and stopped.
    python -m bench.startup
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.live_server import ROOT, free_port, stop_process_group, wait_http


def _rss_mib(pgid: int) -> float:
    out = subprocess.run(["ps", "-o", "rss=", "-g", str(pgid)], capture_output=True, text=True).stdout
    return sum(int(x) for x in out.split()) / 1024


def start_once(clone: Path, data_dir: Path) -> dict[str, float]:
    port = free_port()
    env = {**os.environ, "VDI_PORT": str(port), "VDI_DATA_DIR": str(data_dir)}
    for key in ("VDI_VENV", "REFLEX_WEB_WORKDIR", "REFLEX_STATES_WORKDIR"):
        env.pop(key, None)
    began = time.monotonic()
    with open(data_dir / f"run-{port}.log", "w") as log:
        proc = subprocess.Popen(
            ["bash", "deploy/run.sh"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        wait_http(f"http://127.0.0.1:{port}/login", time.monotonic() + 900, proc)
        ready = time.monotonic() - began
        time.sleep(5)  # let start-up work settle before measuring memory
        return {"seconds_to_login_page": round(ready, 1), "rss_mib": round(_rss_mib(proc.pid), 1)}
    finally:
        stop_process_group(proc)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        clone = Path(tmp) / "clone"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        data = Path(tmp) / "data"
        data.mkdir()
        cold = start_once(clone, data)
        print(f"cold start: {cold['seconds_to_login_page']} s to the login page, RSS {cold['rss_mib']} MiB")
        warm = start_once(clone, data)
        print(f"warm start: {warm['seconds_to_login_page']} s to the login page, RSS {warm['rss_mib']} MiB")
    out = ROOT / "bench-results" / "startup.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"cold": cold, "warm": warm}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
