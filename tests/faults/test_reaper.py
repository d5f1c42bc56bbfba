"""A test run killed with SIGKILL takes the daemons it started with it."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from tests.live_server import ROOT

TINY_DAEMON_TEST = """
import subprocess, sys, time
from pathlib import Path
from tests import reaper

def test_starts_a_daemon_and_hangs():
    # A daemon with a child of its own, one that escaped into a new session, as a containerd shim does,
    # and one in a new session that carries no marker, as an sshd's connection (found as a descendant).
    nap = [sys.executable, "-c", "import time; time.sleep(600)"]
    script = (f"import subprocess, time; subprocess.Popen({{nap!r}}); "
              f"subprocess.Popen({{nap + ['{mark}']!r}}, start_new_session=True); "
              f"subprocess.Popen({{nap + ['{unmarked}']!r}}, start_new_session=True); time.sleep(600)")
    daemon = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    reaper.watch(daemon.pid, marker="{mark}", grace=5)
    Path("{ready}").write_text(str(daemon.pid))
    time.sleep(600)
"""

TINY_DOCKERD_TEST = """
import time
from pathlib import Path
from tests import docker_support

def test_starts_dockerd_with_a_container_and_hangs():
    # Its own data root and its own bridge, no iptables: the run's shared engine, if one is up, is
    # left alone. (--bridge=none would delete the shared docker0 bridge at start-up.)
    run_dir = Path("{run_dir}")
    engine = docker_support.start_dockerd(
        run_dir / "root", run_dir, ("--bridge={bridge}", "--iptables=false", "--ip6tables=false")
    )
    client = engine.client()
    with open("{rootfs}", "rb") as fh:
        client.api.import_image_from_data(fh.read(), repository="vdi-reaper-probe", tag="1")
    client.containers.run(
        "vdi-reaper-probe:1", ["/{mark}/sleep", "600"], detach=True, network_mode="none",
        restart_policy={{"Name": "always"}},
    )
    Path("{ready}").write_text(str(engine.proc.pid))
    time.sleep(600)
"""

TINY_SSHD_TEST = """
import subprocess, time
from pathlib import Path
from tests import ssh_support
from tests.live_server import free_port

def test_starts_sshd_with_a_session_and_hangs():
    run_dir = Path("{run_dir}")
    host = ssh_support.start_sshd(run_dir, "unix://" + str(run_dir / "none.sock"), free_port())
    # A session that stays open on the far side, as a room host's `docker system dial-stdio` does.
    remote = "touch {run_dir}/up; sleep 600; : {mark}"
    subprocess.Popen([str(host.bin_dir / "ssh"), "-p", str(host.port), "root@127.0.0.1", remote])
    while not (run_dir / "up").exists():
        time.sleep(0.05)
    Path("{ready}").write_text(str(host.proc.pid))
    time.sleep(600)
"""


def _probe_rootfs(target: Path, mark: str) -> None:
    """The smallest image that runs: coreutils' sleep and the C library, the sleep under a
    directory named after the marker, so the container's process is found by its command line."""
    sleep = Path(shutil.which("sleep") or "/bin/sleep").resolve()
    with tarfile.open(target, "w") as tar:
        tar.add(sleep, arcname=f"{mark}/sleep")
        for line in subprocess.run(["ldd", str(sleep)], capture_output=True, text=True, check=True).stdout.splitlines():
            parts = line.split()
            lib = parts[2] if "=>" in parts and len(parts) > 2 else parts[0]
            if lib.startswith("/"):
                tar.add(Path(lib).resolve(), arcname=lib.lstrip("/"))


def _processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _kill_run_and_wait(
    tmp_path: Path, source: str, ready: Path, marker: str, start_timeout: float, gone_timeout: float, unmarked: str = ""
) -> None:
    test_file = tmp_path / "test_tiny.py"
    test_file.write_text(source)
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", str(test_file), "-q", "-p", "no:cacheprovider", "-p", "no:randomly"],
        cwd=ROOT,
        stdout=(tmp_path / "inner.log").open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + start_timeout
        while not ready.exists():
            assert run.poll() is None, (tmp_path / "inner.log").read_text()[-3000:]
            assert time.monotonic() < deadline, "the inner test run did not start its daemon in time"
            time.sleep(0.1)
        daemon_pid = int(ready.read_text())
        assert _alive(daemon_pid) and _processes_with(marker)
        if unmarked:
            deadline = time.monotonic() + 10
            while not _processes_with(unmarked):
                assert time.monotonic() < deadline, "the daemon's unmarked child did not start"
                time.sleep(0.05)
        os.kill(run.pid, signal.SIGKILL)  # no finalizer, no atexit: only the reaper can clean up
        run.wait()
        deadline = time.monotonic() + gone_timeout
        while _alive(daemon_pid) or _processes_with(marker) or (unmarked and _processes_with(unmarked)):
            left = _processes_with(marker) + (_processes_with(unmarked) if unmarked else [])
            assert time.monotonic() < deadline, f"left behind: {daemon_pid}, {left}"
            time.sleep(0.2)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()


def test_a_daemon_and_its_escaped_children_die_when_the_test_run_is_killed(tmp_path: Path):
    mark = f"reaper-mark-{uuid.uuid4().hex}"
    ready = tmp_path / "ready"
    unmarked = f"descendant-{uuid.uuid4().hex}"
    source = TINY_DAEMON_TEST.format(mark=mark, unmarked=unmarked, ready=ready)
    _kill_run_and_wait(tmp_path, source, ready, mark, start_timeout=60, gone_timeout=20, unmarked=unmarked)


@pytest.mark.docker
def test_dockerd_and_its_containers_die_when_the_test_run_is_killed(tmp_path: Path):
    if shutil.which("dockerd") is None:
        pytest.skip("dockerd is not installed")
    mark = f"reaper-mark-{uuid.uuid4().hex}"
    ready = tmp_path / "ready"
    run_dir = Path(tempfile.mkdtemp(prefix="vdi-reaper-"))  # short: dockerd's sockets live under it
    bridge = f"vdirp{uuid.uuid4().hex[:8]}"  # a bridge of its own (interface names: 15 characters at most)
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    # dockerd wants an address on the bridge it is given; nothing is ever sent there (network "none").
    subprocess.run(["ip", "addr", "add", "198.18.254.1/24", "dev", bridge], check=True)
    try:
        rootfs = tmp_path / "probe.tar"
        _probe_rootfs(rootfs, mark)
        source = TINY_DOCKERD_TEST.format(mark=mark, ready=ready, run_dir=run_dir, rootfs=rootfs, bridge=bridge)
        _kill_run_and_wait(tmp_path, source, ready, mark, start_timeout=120, gone_timeout=60)
        assert not _processes_with(str(run_dir)), "containerd or a shim outlived the run"
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
        subprocess.run(["ip", "link", "delete", bridge], check=False)


def test_sshd_and_its_open_sessions_die_when_the_test_run_is_killed(tmp_path: Path):
    """sshd serves each connection from a child in a session of its own, renamed: only the
    listener carries the marker, the sessions are found as its descendants."""
    if not Path("/usr/sbin/sshd").exists():
        pytest.skip("sshd is not installed")
    mark = f"reaper-mark-{uuid.uuid4().hex}"
    ready = tmp_path / "ready"
    source = TINY_SSHD_TEST.format(mark=mark, ready=ready, run_dir=tmp_path / "sshd")
    _kill_run_and_wait(tmp_path, source, ready, mark, start_timeout=60, gone_timeout=20)
