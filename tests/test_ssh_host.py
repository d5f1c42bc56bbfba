"""A room host reached over ssh://, the way production reaches one: the docker client runs the
real `ssh` binary against a real sshd, which runs `docker system dial-stdio` next to the engine.

The sshd (tests/ssh_support.py) listens on 127.0.0.1 with its own host key and authorized_keys
and points the docker CLI at the second test engine's socket; the app finds an `ssh` wrapper
first on PATH that passes a config with the test's key and the pinned host key, as an operator's
~/.ssh/config would.
"""

from __future__ import annotations

import os
import signal
import time
import uuid

import pytest

from services import health
from services.rooms import hosts as room_hosts
from services.rooms.containers import ENGINE_ERRORS
from services.runtime import reset as reset_runtime
from tests import ssh_support
from tests.test_docker_hosts import (
    add_slot,
    assert_only_host_down,
    ballast,
    move_with_profile,
    names_on,
    one_room_on_each,
    provider,
    room,
    running_container,
    wait_back,
)

pytestmark = pytest.mark.docker


@pytest.fixture
def ssh_hosts(docker_engine, docker_engine_b, ssh_docker_host, tmp_path, monkeypatch, database):
    """Rooms on `a` (the first engine's socket) and `s` (the second engine, through sshd)."""
    from tests.docker_support import remove_rooms, room_env

    instance = f"s{uuid.uuid4().hex[:8]}"
    for key, value in room_env(docker_engine, tmp_path, instance, rooms=6).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VDI_DOCKER_HOSTS", f"a={docker_engine.host}, s={ssh_docker_host.url}")
    monkeypatch.setenv("VDI_ROOM_READY_TIMEOUT", "30")
    monkeypatch.setenv("PATH", f"{ssh_docker_host.bin_dir}:{os.environ['PATH']}")
    reset_runtime()
    yield instance
    reset_runtime()
    remove_rooms(instance, docker_engine, docker_engine_b)  # directly, whatever became of sshd


def test_a_room_placed_or_pinned_on_the_ssh_host_runs_there_and_answers(
    ssh_hosts, docker_engine, docker_engine_b, ssh_docker_host, make_user
):
    admin = make_user("boss", admin=True)
    heavy = ballast(docker_engine, 0.5)  # a is the fuller host: the new room goes to s
    try:
        add_slot("placed")
        report = provider().reconcile()
    finally:
        heavy.remove(force=True)
    assert report.hosts == {"a": True, "s": True}
    assert report.states == {"placed": "ready"}
    assert (room("placed").host, room("placed").host_pinned) == ("s", False)

    add_slot("pinned")
    assert "на хосте s" in health.move_room(admin.id, "pinned", "s")
    assert provider().reconcile().states == {"placed": "ready", "pinned": "ready"}
    assert (room("pinned").host, room("pinned").host_pinned) == ("s", True)
    # The containers are on the engine behind sshd, published on the address from the ssh:// URL.
    assert names_on(docker_engine_b, ssh_hosts) == {"placed", "pinned"}
    assert names_on(docker_engine, ssh_hosts) == set()
    assert provider().answers(room("pinned")) and provider().answers(room("placed"))
    shown = {h.name: h for h in health.health(admin.id).hosts}
    assert shown["s"].state == "работает" and "свободно" in shown["s"].memory
    # It really went through sshd, with the test's key.
    assert "Accepted publickey for root" in ssh_docker_host.log.read_text()


def test_a_host_listed_by_name_publishes_its_rooms_on_its_address(
    ssh_hosts, docker_engine_b, ssh_docker_host, make_user, monkeypatch
):
    """Docker publishes a port on an IP address only: a host name from the URL is resolved."""
    monkeypatch.setenv("VDI_DOCKER_HOSTS", f"a=unix:///nonexistent.sock, s={ssh_docker_host.named_url}")
    reset_runtime()
    add_slot("named")
    health.move_room(make_user("boss", admin=True).id, "named", "s")
    assert provider().reconcile().states["named"] == "ready"
    client, container = running_container(docker_engine_b, ssh_hosts, "named")
    client.close()
    published = container.attrs["NetworkSettings"]["Ports"]["8080/tcp"]
    assert [p["HostIp"] for p in published] == ["127.0.0.1"], "published beyond the host's address"
    assert provider().answers(room("named"))


def test_moving_a_room_to_the_ssh_host_carries_its_profile(ssh_hosts, docker_engine, docker_engine_b, make_user):
    # The archive streams out of a and into s through `docker system dial-stdio`.
    move_with_profile(make_user("boss", admin=True).id, ssh_hosts, docker_engine, docker_engine_b, "s")


def test_sshd_going_away_takes_down_only_the_ssh_hosts_rooms(ssh_hosts, docker_engine, ssh_docker_host, make_user):
    from tests.ssh_support import restart_sshd, stop_sshd

    admin = make_user("boss", admin=True)
    one_room_on_each(admin.id, "a", "s")

    stop_sshd(ssh_docker_host)
    try:
        # ssh is refused at once: the pass must not wait for a connection timeout.
        assert_only_host_down(admin.id, up="a", down="s", pass_seconds=20)
    finally:
        restart_sshd(ssh_docker_host)
    wait_back("s", 60)


def test_an_ssh_host_keeps_its_connection_and_gives_up_on_an_engine_that_hangs(
    docker_engine_b, ssh_docker_host, monkeypatch
):
    """One ssh login serves request after request (a reconcile pass makes dozens), an exec's
    output comes back through it (the session dump reads the clipboard so), and an engine that
    stops answering mid-connection fails the call after the client's timeout."""
    monkeypatch.setenv("PATH", f"{ssh_docker_host.bin_dir}:{os.environ['PATH']}")

    def logins() -> int:
        return ssh_docker_host.log.read_text().count("Accepted publickey for root")

    before = logins()
    client = room_hosts.connect(ssh_docker_host.url, "s", None, timeout=3)
    try:
        for _ in range(20):
            client.containers.list()
        assert logins() - before == 1
        probe = client.containers.run(
            docker_engine_b.image,
            ["sleep", "60"],
            entrypoint=[],
            network_mode="none",
            detach=True,
            labels={"vdi_taxi.test": "ssh-exec"},
        )
        try:
            assert tuple(probe.exec_run(["sh", "-c", "echo clipboard"])) == (0, b"clipboard\n")
        finally:
            probe.remove(force=True)

        # The far side of the kept connection stops answering (a hung engine, a stalled link): its
        # processes are frozen, nothing exits, the ssh client has no reason to give up.
        frozen = ssh_support.sessions(ssh_docker_host)
        assert frozen, "the kept connection has no session on the far side"
        for pid in frozen:
            os.kill(pid, signal.SIGSTOP)
        try:
            began = time.monotonic()
            with pytest.raises(ENGINE_ERRORS):
                client.ping()
            assert time.monotonic() - began < 10
        finally:
            for pid in frozen:
                os.kill(pid, signal.SIGCONT)
        assert client.ping()
    finally:
        client.close()
