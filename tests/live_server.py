"""Start the real app (production build, one port) on a free port with its own data.

Used by the end-to-end tests and the benchmarks, so both measure what people run.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests import reaper

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("VDI_CHROMIUM", "/usr/bin/chromium")
# Without the background-networking flags Chromium keeps dialling out of this closed network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def free_block(count: int, kind: int = socket.SOCK_STREAM, low: int = 20000, high: int = 32000) -> int:
    """First port of `count` consecutive free ports, outside the ephemeral range the OS hands out,
    so a container publishing them later does not collide with a client socket."""
    import random

    for _ in range(200):
        start = random.randrange(low, high - count)
        socks = []
        try:
            for port in range(start, start + count):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind(("127.0.0.1", port))
            return start
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port block")


def wait_http(url: str, deadline: float, proc: subprocess.Popen | None = None) -> None:
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"app exited with {proc.returncode} before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer in time")


def stop_process_group(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    reaper.forget(proc.pid)


@dataclass
class LiveApp:
    url: str
    env: dict[str, str]
    log_path: Path
    pid: int


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    try:
        for fd in os.listdir(f"/proc/{pid}/fd"):
            try:
                target = os.readlink(f"/proc/{pid}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    except OSError:
        pass
    return inodes


def serving_pid(app: LiveApp, client_port: int) -> int | None:
    """The app process (one of its workers) holding the server end of the TCP connection that a
    client opened from `client_port`: read from /proc, as `ss -tnp` would."""
    app_port = int(app.url.rsplit(":", 1)[1])
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                local, remote = fields[1], fields[2]
                if int(local.rsplit(":", 1)[1], 16) == app_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                    inode = fields[9]
    if inode is None:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.getpgid(int(entry)) != app.pid:  # the app's processes share its process group
                continue
        except OSError:
            continue
        if inode in _socket_inodes(int(entry)):
            return int(entry)
    return None


# The log of each running app by its URL, so a failing browser step can quote what the app said.
LOGS: dict[str, Path] = {}


def log_tail(url: str, lines: int = 30) -> str:
    path = LOGS.get(url)
    if path is None or not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@contextmanager
def start_live_app(
    data_dir: Path,
    log_path: Path,
    web_dir: str = "app",
    *,
    port: int | None = None,
    secret_key: str | None = None,
    **extra_env: str,
) -> Iterator[LiveApp]:
    """Build and serve the app; each web_dir name gets its own build, since a build bakes in its port.

    Passing the port and secret of an earlier run starts the same installation again (a restart)."""
    port = port or free_port()
    # The app's own database unless the caller names one (PostgreSQL runs); never the caller's by accident.
    inherited = {k: v for k, v in os.environ.items() if k != "VDI_DATABASE_URL"}
    env = {
        **inherited,
        "VDI_ENV": "test",
        "VDI_DATA_DIR": str(data_dir),
        "VDI_PORT": str(port),
        "VDI_SECRET_KEY": secret_key or secrets.token_urlsafe(48),
        "VDI_BCRYPT_ROUNDS": "4",
        "VDI_LOGIN_LOCK_THRESHOLD": "20",
        "VDI_SCHEDULER_TICK_SECONDS": "1",
        # Its own build and state directories, so a developer's running app is left alone.
        "REFLEX_WEB_WORKDIR": str(ROOT / ".web-e2e" / web_dir),
        "REFLEX_STATES_WORKDIR": str(data_dir / "states"),
        **extra_env,
    }
    subprocess.run(
        [sys.executable, "-m", "vdi_taxi.manage", "seed-demo"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "vdi_taxi.manage", "serve"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    reaper.watch(proc.pid, grace=20)  # gone with the test run even if that is SIGKILLed
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        wait_http(f"{url}/api/health", deadline, proc)
        wait_http(f"{url}/login", deadline, proc)
        LOGS[url] = log_path
        yield LiveApp(url=url, env=env, log_path=log_path, pid=proc.pid)
    finally:
        LOGS.pop(url, None)
        stop_process_group(proc)
