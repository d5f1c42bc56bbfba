"""A private sshd in front of a test Docker engine, so ssh:// room hosts run the real path:
the app's docker client starts the `ssh` binary, which runs `docker system dial-stdio` on the
far side, where sshd's SetEnv points the docker CLI at the engine's socket.

Nothing here reads or writes ~/.ssh: the server has its own host key, authorized_keys and
config, the client a config of its own that an `ssh` wrapper on PATH passes with -F.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from tests import reaper

SSHD = "/usr/sbin/sshd"
SSH = "/usr/bin/ssh"


@dataclass
class SshHost:
    port: int
    proc: subprocess.Popen
    run_dir: Path
    engine_host: str

    @property
    def url(self) -> str:
        return f"ssh://root@127.0.0.1:{self.port}"

    @property
    def named_url(self) -> str:
        """The same host by name, as an operator may list it."""
        return f"ssh://root@localhost:{self.port}"

    @property
    def bin_dir(self) -> Path:
        """Put first on PATH: its `ssh` uses the test's key and known_hosts, not ~/.ssh."""
        return self.run_dir / "bin"

    @property
    def log(self) -> Path:
        return self.run_dir / "sshd.log"


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "vdi-test", "-f", str(path)], check=True)


def prepare(run_dir: Path, engine_host: str, port: int) -> None:
    """Keys and both configs; sshd itself is started by `start_sshd`."""
    run_dir.mkdir(parents=True, exist_ok=True)
    run_dir.chmod(0o700)
    for name in ("host_key", "client_key"):
        if not (run_dir / name).exists():
            _keygen(run_dir / name)
    (run_dir / "authorized_keys").write_text((run_dir / "client_key.pub").read_text())
    (run_dir / "sshd_config").write_text(
        "\n".join(
            [
                f"ListenAddress 127.0.0.1:{port}",
                f"HostKey {run_dir / 'host_key'}",
                f"PidFile {run_dir / 'sshd.pid'}",
                f"AuthorizedKeysFile {run_dir / 'authorized_keys'}",
                "PermitRootLogin prohibit-password",
                "PubkeyAuthentication yes",
                "PasswordAuthentication no",
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                # The key files live under /tmp, which is world-writable: sshd's ownership check
                # of every parent directory would refuse them.
                "StrictModes no",
                "AllowTcpForwarding no",
                "X11Forwarding no",
                "PrintMotd no",
                # What an operator's host has in the remote user's environment: the engine to dial.
                f"SetEnv DOCKER_HOST={engine_host}",
                "LogLevel VERBOSE",
                "",
            ]
        )
    )
    host_key = (run_dir / "host_key.pub").read_text().split()
    (run_dir / "known_hosts").write_text(
        "".join(f"[{name}]:{port} {host_key[0]} {host_key[1]}\n" for name in ("127.0.0.1", "localhost"))
    )
    (run_dir / "ssh_config").write_text(
        "\n".join(
            [
                "Host *",
                f"  IdentityFile {run_dir / 'client_key'}",
                "  IdentitiesOnly yes",
                f"  UserKnownHostsFile {run_dir / 'known_hosts'}",
                "  GlobalKnownHostsFile /dev/null",
                "  StrictHostKeyChecking yes",
                "  BatchMode yes",
                "  ConnectTimeout 5",
                "  ServerAliveInterval 5",
                "  ServerAliveCountMax 2",
                "  LogLevel ERROR",
                "",
            ]
        )
    )
    bin_dir = run_dir / "bin"
    bin_dir.mkdir(exist_ok=True)
    wrapper = bin_dir / "ssh"
    wrapper.write_text(f'#!/bin/sh\nexec {SSH} -F {run_dir / "ssh_config"} "$@"\n')
    wrapper.chmod(0o755)


def _wait_banner(port: int, proc: subprocess.Popen, log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited ({proc.returncode}): {log.read_text()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    return
        except OSError:
            pass
        time.sleep(0.05)
    raise TimeoutError(f"sshd on port {port} did not answer: {log.read_text()[-2000:]}")


def start_sshd(run_dir: Path, engine_host: str, port: int) -> SshHost:
    """sshd in the foreground (-D), its own process group; the caller stops it with `stop_sshd`."""
    if not Path(SSHD).exists():
        raise RuntimeError("sshd is not installed (apt-get install openssh-server)")
    prepare(run_dir, engine_host, port)
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # its privilege separation directory
    log = open(run_dir / "sshd.log", "ab")  # noqa: SIM115  (lives as long as the daemon)
    proc = subprocess.Popen(
        [SSHD, "-D", "-e", "-f", str(run_dir / "sshd_config")],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    # Connections are served by children in sessions of their own: the reaper takes them as
    # descendants of the listener, the listener by its group and its command line.
    reaper.watch(proc.pid, marker=str(run_dir / "sshd_config"), grace=5)
    host = SshHost(port=port, proc=proc, run_dir=run_dir, engine_host=engine_host)
    _wait_banner(port, proc, host.log, 15)
    return host


def _children(pid: int) -> list[int]:
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(p) for p in listed]


def _tree(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        todo.extend(_children(current))
    return found


def sessions(host: SshHost) -> list[int]:
    """The processes serving the open connections (sshd's children and what they run)."""
    return _tree(host.proc.pid)[1:]


def stop_sshd(host: SshHost, timeout: float = 10) -> None:
    """The listener and every connection it serves: as a host that went away, not a reload.
    (A plain SIGTERM to sshd keeps established sessions alive.)"""
    pids = _tree(host.proc.pid)
    for pid in reversed(pids):
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    try:
        host.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        host.proc.kill()
        host.proc.wait()
    deadline = time.monotonic() + timeout
    for pid in pids[1:]:
        while reaper.alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        if reaper.alive(pid):
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    reaper.forget(host.proc.pid)


def restart_sshd(host: SshHost) -> None:
    """The same sshd again: same port, keys and config."""
    fresh = start_sshd(host.run_dir, host.engine_host, host.port)
    host.proc = fresh.proc


@contextmanager
def ssh_host(run_dir: Path, engine_host: str):
    """sshd on a free loopback port, reaching `engine_host` (a unix:// socket) for the test session."""
    from tests.live_server import free_port

    if shutil.which("ssh") is None or shutil.which("ssh-keygen") is None:
        raise RuntimeError("the ssh client is not installed (apt-get install openssh-client)")
    host = start_sshd(run_dir, engine_host, free_port())
    try:
        yield host
    finally:
        stop_sshd(host)
