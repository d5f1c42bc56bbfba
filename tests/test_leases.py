"""Periodic jobs run in one process at a time, whatever the number of workers."""

import os
import socket
import subprocess
from datetime import UTC, datetime, timedelta

from services.core import clock, leases

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def test_only_one_holder_until_the_lease_expires(database):
    clock.freeze(T0)
    assert leases.acquire("job", timedelta(seconds=60), holder="worker-a")
    assert not leases.acquire("job", timedelta(seconds=60), holder="worker-b")
    assert leases.acquire("job", timedelta(seconds=60), holder="worker-a")  # renewal
    clock.freeze(T0 + timedelta(seconds=61))
    assert leases.acquire("job", timedelta(seconds=60), holder="worker-b")
    assert not leases.acquire("job", timedelta(seconds=60), holder="worker-a")


def test_release_lets_the_next_holder_in_at_once(database):
    clock.freeze(T0)
    assert leases.acquire("job", timedelta(minutes=5), holder="worker-a")
    leases.release("job", holder="worker-a")
    assert leases.acquire("job", timedelta(minutes=5), holder="worker-b")


def test_a_lease_held_by_a_dead_process_on_this_host_is_free_at_once(database):
    clock.freeze(T0)
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid that no longer runs: the app killed with SIGKILL
    assert leases.acquire("job", timedelta(minutes=5), holder=f"{socket.gethostname()}:{gone.pid}")
    assert leases.acquire("job", timedelta(minutes=5), holder="restarted")
    # A live holder on this host, or any holder on another host, keeps its lease until it expires.
    assert leases.acquire("job2", timedelta(minutes=5), holder=f"{socket.gethostname()}:{os.getppid()}")
    assert not leases.acquire("job2", timedelta(minutes=5), holder="restarted")
    assert leases.acquire("job3", timedelta(minutes=5), holder=f"elsewhere:{gone.pid}")
    assert not leases.acquire("job3", timedelta(minutes=5), holder="restarted")
