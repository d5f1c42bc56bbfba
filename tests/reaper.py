"""Daemons started by a test run die with it, even when the run itself is killed with SIGKILL.

The test process starts one small reaper process and keeps the only write end of a pipe to
it. Every daemon a test starts (dockerd, the app, a private PostgreSQL) is registered over
that pipe by its process group, optionally with a marker string: processes that left the
group (containerd shims, a postmaster's children) are found by the marker in their command
line. When the pipe closes — the test process exited normally, crashed or was SIGKILLed —
the reaper terminates every group still registered, waits, then kills what is left.

PR_SET_PDEATHSIG alone would not do: it reaches one direct child, not dockerd's own children
and containers, and not a daemon that re-parented itself.

Protocol, one line each: ``+<pgid> <grace seconds> <marker>`` registers, ``-<pgid>`` forgets.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

_lock = threading.Lock()
_writer: int | None = None
_reaper: subprocess.Popen | None = None


def _ensure_started() -> int:
    global _writer, _reaper
    if _writer is None or _reaper is None or _reaper.poll() is not None:
        read_end, write_end = os.pipe()  # both non-inheritable: no other child keeps the pipe open
        _reaper = subprocess.Popen(
            [sys.executable, "-m", "tests.reaper", str(read_end)],
            cwd=Path(__file__).resolve().parents[1],
            pass_fds=(read_end,),
            start_new_session=True,  # not hit by a signal sent to the test run's own group
            stdin=subprocess.DEVNULL,
        )
        os.close(read_end)
        _writer = write_end
    return _writer


def watch(pgid: int, *, marker: str = "", grace: float = 30.0) -> None:
    """Kill process group `pgid` (and processes whose command line holds `marker`) if this process dies."""
    assert "\n" not in marker and " " not in marker, "marker is one word"
    with _lock:
        os.write(_ensure_started(), f"+{pgid} {grace} {marker}\n".encode())


def forget(pgid: int) -> None:
    """The daemon was stopped by its owner: nothing left for the reaper to do."""
    with _lock:
        if _writer is not None:
            os.write(_writer, f"-{pgid}\n".encode())


def reaper_pid() -> int | None:
    return _reaper.pid if _reaper is not None else None


# ---------------------------------------------------------------------------------------- reaper side


def alive(pid: int) -> bool:
    """The process exists and is not a zombie waiting for its parent."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _marked(marker: str) -> list[int]:
    if not marker:
        return []
    found, me = [], os.getpid()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != me:
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if marker.encode() in cmdline and alive(int(entry.name)):
                found.append(int(entry.name))
    return found


def _descendants(pid: int) -> list[int]:
    """Children, grandchildren...: also those that started a session of their own (an sshd's
    connections), which neither the group nor a marker finds once they renamed themselves."""
    found, todo = [], [pid]
    while todo:
        try:
            children = Path(f"/proc/{todo[0]}/task/{todo[0]}/children").read_text().split()
        except OSError:
            children = []
        todo = todo[1:] + [int(c) for c in children]
        found.extend(int(c) for c in children)
    return found


def _signal(pids: list[int], sig: int) -> None:
    for pid in pids:
        with contextlib.suppress(OSError):
            os.kill(pid, sig)


def reap(pgid: int, grace: float, marker: str) -> None:
    """SIGTERM the group (dockerd then stops its containers), wait, then SIGKILL whatever remains,
    the leader's descendants in other sessions included."""
    # Taken first: once the leader is gone, its children belong to init and are no longer found.
    descendants = _descendants(pgid)

    def left() -> list[int]:
        return sorted({*_group_members(pgid), *_marked(marker), *(pid for pid in descendants if alive(pid))})

    with contextlib.suppress(OSError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and left():
        time.sleep(0.2)
    for _ in range(50):
        remaining = left()
        if not remaining:
            return
        _signal(remaining, signal.SIGKILL)
        time.sleep(0.1)


def main(fd: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C to the run is for pytest, not for us
    watched: dict[int, tuple[float, str]] = {}
    buffer = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        buffer += chunk
        *lines, buffer = buffer.split(b"\n")
        for raw in lines:
            line = raw.decode()
            if line.startswith("+"):
                pgid, grace, *marker = line[1:].split(" ")
                watched[int(pgid)] = (float(grace), marker[0] if marker else "")
            elif line.startswith("-"):
                watched.pop(int(line[1:]), None)
    # The test process is gone. Daemons are stopped together, each within its own grace.
    threads = [threading.Thread(target=reap, args=(pgid, *spec)) for pgid, spec in watched.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main(int(sys.argv[1]))
