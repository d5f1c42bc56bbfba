"""Rooms on two Docker engines: one on a unix socket, one over tcp:// with TLS, each with its own
data root, exec root, socket and bridge. Placement, pinning, a host going away, moving a room."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pytest
from sqlmodel import select

from services import health
from services.core import clock
from services.core.db import session_scope
from services.core.models import AuditEvent, Notification, Room, Slot, SystemStatus
from services.rooms import base as rooms
from services.rooms import hosts as room_hosts
from services.rooms.docker import DockerRoomProvider
from services.rooms.reconcile import MOVE_GRACE
from services.runtime import reset as reset_runtime

pytestmark = pytest.mark.docker

SECRET = "logged-in-session-cookie-4711"
COOKIES = "/home/neko/.config/chromium/Default/Cookies"


@pytest.fixture
def engine_b(docker_engine_b):
    return docker_engine_b


@pytest.fixture
def two_hosts(docker_engine, engine_b, tmp_path, monkeypatch, database):
    from tests.docker_support import remove_rooms, room_env

    instance = f"h{uuid.uuid4().hex[:8]}"
    for key, value in room_env(docker_engine, tmp_path, instance, rooms=6).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("VDI_DOCKER_HOSTS", f"a={docker_engine.host}, b={engine_b.host}")
    monkeypatch.setenv("VDI_DOCKER_CERT_DIR", str(engine_b.certs))
    monkeypatch.setenv("VDI_ROOM_READY_TIMEOUT", "30")
    reset_runtime()
    yield instance
    remove_rooms(instance, docker_engine, engine_b)


def add_slot(slot_id: str) -> None:
    with session_scope() as session:
        session.add(Slot(id=slot_id, service_name=f"Сервис {slot_id}", category="КОД", sort_order=0))


def provider() -> DockerRoomProvider:
    p = rooms.current()
    assert isinstance(p, DockerRoomProvider)
    return p


def room(slot_id: str) -> Room:
    with session_scope() as session:
        return session.get(Room, slot_id)


def names_on(engine, instance: str) -> set[str]:
    client = engine.client()
    try:
        found = client.containers.list(filters={"label": f"vdi_taxi.instance={instance}"})
        return {c.labels["vdi_taxi.slot"] for c in found}
    finally:
        client.close()


def running_container(engine, instance: str, slot_id: str):
    client = engine.client()
    (found,) = client.containers.list(filters={"label": [f"vdi_taxi.instance={instance}", f"vdi_taxi.slot={slot_id}"]})
    return client, found


def ballast(engine, share: float):
    """A container that reserves `share` of the engine's memory, as another tenant of the host would."""
    client = engine.client()
    total = client.info()["MemTotal"]
    return client.containers.run(
        engine.image,
        ["sleep", "600"],
        entrypoint=[],
        mem_limit=int(total * share),
        network_mode="none",
        detach=True,
        labels={"vdi_taxi.test": "ballast"},
    )


def test_a_new_room_goes_to_the_host_with_more_free_memory_unless_pinned(two_hosts, docker_engine, engine_b, make_user):
    admin = make_user("boss", admin=True)
    heavy = ballast(docker_engine, 0.5)
    try:
        add_slot("s1")
        report = provider().reconcile()
        assert report.hosts == {"a": True, "b": True}
        assert report.states == {"s1": "ready"}
        assert room("s1").host == "b" and not room("s1").host_pinned
        assert names_on(engine_b, two_hosts) == {"s1"} and names_on(docker_engine, two_hosts) == set()

        # Pinned by an admin before its room exists: created on the fuller host all the same.
        add_slot("s2")
        message = health.move_room(admin.id, "s2", "a")
        assert "на хосте a" in message
        report = provider().reconcile()
        assert report.states == {"s1": "ready", "s2": "ready"}
        assert (room("s2").host, room("s2").host_pinned) == ("a", True)
        assert names_on(docker_engine, two_hosts) == {"s2"}
    finally:
        heavy.remove(force=True)

    # Without the other tenant, a has the room of s2 and b that of s1: equal; one more on b makes a freer.
    add_slot("s3")
    add_slot("s4")
    provider().reconcile()
    placed = {slot_id: room(slot_id).host for slot_id in ("s3", "s4")}
    assert sorted(placed.values()) == ["a", "b"], placed

    shown = health.health(admin.id)
    by_name = {h.name: h for h in shown.hosts}
    assert by_name["a"].state == "работает" and "свободно" in by_name["a"].memory
    assert by_name["a"].rooms.startswith("2 комнаты") and "s2" in by_name["a"].rooms
    assert {r.slot_id: r.host for r in shown.rooms} == {"s1": "b", "s2": "a", **placed}


def test_a_host_that_stops_answering_takes_down_only_its_own_rooms(two_hosts, docker_engine, engine_b, make_user):
    from tests.docker_support import restart_dockerd, stop_dockerd

    admin = make_user("boss", admin=True)
    one_room_on_each(admin.id, "a", "b")

    stop_dockerd(engine_b)
    try:
        assert_only_host_down(admin.id, up="a", down="b")
    finally:
        restart_dockerd(engine_b)
    wait_back("b", 90)


def one_room_on_each(admin_id: int, *hosts: str) -> None:
    """Room on-<host> pinned to each host, all ready."""
    for host in hosts:
        add_slot(f"on-{host}")
        health.move_room(admin_id, f"on-{host}", host)
    assert provider().reconcile().states == {f"on-{host}": "ready" for host in hosts}


def assert_only_host_down(admin_id: int, up: str, down: str, pass_seconds: float = 60) -> None:
    """Host `down` is gone, `up` answers (rooms on-<host>): only on-<down> is unknown, the admins
    hear it once, «Здоровье» says which host, and the room on `up` still serves people."""
    for _ in range(2):  # the second pass finds it still down: no second alert
        began = time.monotonic()
        report = provider().reconcile()
        assert time.monotonic() - began < pass_seconds, "a host that is gone must not stall the pass"
        assert report.hosts == {up: True, down: False}
        assert report.states == {f"on-{up}": "ready", f"on-{down}": "unknown"}
    assert f"хосте {down} недоступен" in room(f"on-{down}").detail
    with session_scope() as session:
        alerts = session.exec(select(Notification).where(Notification.kind == "docker_down")).all()
        assert [a.user_id for a in alerts] == [admin_id]
        assert f"хосте {down}" in alerts[0].text
        assert session.get(SystemStatus, f"docker:{up}").state == "ok"
        assert session.get(SystemStatus, f"docker:{down}").state == "unreachable"
    shown = {h.name: h for h in health.health(admin_id).hosts}
    assert shown[down].state.startswith("не отвечает") and shown[up].state == "работает"
    assert provider().answers(room(f"on-{up}"))


def wait_back(host: str, seconds: float) -> None:
    """Reconcile passes until the room on `host` is ready again and every host answers."""
    deadline = time.monotonic() + seconds
    while provider().reconcile().states.get(f"on-{host}") != "ready":
        assert time.monotonic() < deadline, f"the room on {host} did not come back"
        time.sleep(0.5)
    with session_scope() as session:
        assert session.get(SystemStatus, "docker").state == "ok"
    assert provider().answers(room(f"on-{host}"))


def test_moving_a_room_carries_its_profile_to_the_other_host(two_hosts, docker_engine, engine_b, make_user):
    move_with_profile(make_user("boss", admin=True).id, two_hosts, docker_engine, engine_b, "b")
    with session_scope() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.kind == "room_move").order_by(AuditEvent.id)).all()
    assert [(e.subject, e.detail) for e in events] == [
        ("mv", "Перенос комнаты на хост a"),
        ("mv", "Перенос комнаты на хост b (с хоста a)"),
    ]


def move_with_profile(admin_id: int, instance: str, source, target, target_name: str) -> None:
    """Room mv, ready on host a (engine `source`) with a logged-in profile, moved to `target_name`
    (engine `target`): the profile file is there, the room answers and stays where it was put."""
    add_slot("mv")
    health.move_room(admin_id, "mv", "a")
    assert provider().reconcile().states == {"mv": "ready"}
    client, container = running_container(source, instance, "mv")
    written = container.exec_run(["sh", "-c", f"mkdir -p $(dirname {COOKIES}) && printf %s {SECRET} > {COOKIES}"])
    assert written.exit_code == 0, written.output
    client.close()

    message = health.move_room(admin_id, "mv", target_name)
    assert message == f"Комната mv: на хосте {target_name} (работает)"
    assert (room("mv").host, room("mv").host_pinned, room("mv").state) == (target_name, True, "ready")
    assert names_on(source, instance) == set()
    client, container = running_container(target, instance, "mv")
    read = container.exec_run(["cat", COOKIES])
    client.close()
    assert (read.exit_code, read.output.decode()) == (0, SECRET)
    assert provider().answers(room("mv"))
    # The next pass leaves it where the admin put it.
    assert provider().reconcile().states == {"mv": "ready"}
    assert names_on(target, instance) == {"mv"}


def test_moving_is_refused_for_an_unknown_host_and_a_busy_slot(two_hosts, make_user):
    from services import sessions
    from services.core.errors import Forbidden

    admin = make_user("boss", admin=True)
    anna = make_user("anna")
    add_slot("busy")
    health.move_room(admin.id, "busy", "a")
    provider().reconcile()
    with pytest.raises(Forbidden, match="Неизвестный хост"):
        health.move_room(admin.id, "busy", "c")
    with pytest.raises(Forbidden):
        health.move_room(anna.id, "busy", "b")
    sessions.take_slot(anna.id, "busy")
    assert health.move_room(admin.id, "busy", "b") == "Слот занят: перенесите комнату, когда сессия закончится"
    assert room("busy").host == "a"


def test_reconcile_clears_the_helpers_a_crashed_move_left_behind(two_hosts, docker_engine, engine_b, make_user):
    """A move whose process died leaves its stopped profile-copy helpers; reconcile removes them
    once no live move can still be using them, and never touches another installation's."""
    add_slot("hl")
    health.move_room(make_user("boss", admin=True).id, "hl", "a")
    assert provider().reconcile().states == {"hl": "ready"}
    client = engine_b.client()
    ours = room_hosts._helper(client, docker_engine.image, "/tmp", two_hosts)
    foreign = room_hosts._helper(client, docker_engine.image, "/tmp", "another-installation")
    try:

        def helpers(label: str) -> set[str]:
            return {c.id for c in client.containers.list(all=True, filters={"label": f"vdi_taxi.helper={label}"})}

        provider().reconcile()
        assert helpers(two_hosts) == {ours.id}, "a helper young enough to belong to a live move was removed"
        clock.freeze(clock.now() + MOVE_GRACE + timedelta(minutes=1))
        try:
            assert provider().reconcile().states == {"hl": "ready"}
        finally:
            clock.freeze(None)
        assert helpers(two_hosts) == set()
        assert helpers("another-installation") == {foreign.id}
        assert names_on(docker_engine, two_hosts) == {"hl"}, "the room itself must stay"
    finally:
        foreign.remove(force=True)
        client.close()
