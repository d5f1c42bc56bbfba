"""The Docker room provider against a real engine and the Neko stand-in image."""

from __future__ import annotations

import os
import time

import docker
import httpx
import pytest
from sqlmodel import select

from services import board, session_views, sessions, slots
from services.core.db import session_scope
from services.core.models import Room, Slot
from services.rooms import base as rooms
from services.rooms.docker import DockerRoomProvider

pytestmark = pytest.mark.docker


@pytest.fixture
def two_slots(database):
    with session_scope() as session:
        session.add(
            Slot(
                id="ppx-1",
                service_name="Perplexity Max #1",
                category="РЕСЕРЧ",
                url="https://example.org/",
                sort_order=0,
            )
        )
        session.add(Slot(id="gpt-1", service_name="ChatGPT Pro", category="REASONING", sort_order=1))
        session.add(Slot(id="off-1", service_name="Выключенный", category="КОД", is_active=False, sort_order=2))
    return ["ppx-1", "gpt-1"]


@pytest.fixture
def provider(docker_rooms, two_slots) -> DockerRoomProvider:
    p = rooms.current()
    assert isinstance(p, DockerRoomProvider)
    report = p.reconcile()
    with session_scope() as session:
        details = {r.slot_id: r.detail for r in session.exec(select(Room)).all()}
    assert report.engine_ok and report.states == {"ppx-1": "ready", "gpt-1": "ready"}, details
    return p


def room_row(slot_id: str) -> Room:
    with session_scope() as session:
        return session.get(Room, slot_id)


def _login(url: str) -> httpx.Response:
    """Do what the embedded Neko client does with the URL's usr/pwd."""
    base, _, query = url.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    from urllib.parse import unquote

    return httpx.post(f"{base}api/login", json={"username": unquote(params["usr"]), "password": unquote(params["pwd"])})


def _answer(call):
    try:
        return call()
    except httpx.HTTPError:
        return None


def _wait(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_reconcile_creates_one_configured_container_per_active_slot(provider, docker_engine):
    client = docker_engine.client()
    c = client.containers.get(provider.name_of("ppx-1"))
    assert c.status == "running"
    assert c.labels["vdi_taxi.slot"] == "ppx-1" and c.labels["vdi_taxi.instance"] == provider.cfg.instance
    host_cfg = c.attrs["HostConfig"]
    assert c.attrs["Config"]["Hostname"] == provider.name_of("ppx-1")
    assert host_cfg["ShmSize"] == 2 * 1024**3
    assert host_cfg["RestartPolicy"]["Name"] == "unless-stopped"
    assert host_cfg["Memory"] == 256 * 1024**2
    http_binding = host_cfg["PortBindings"]["8080/tcp"][0]
    assert http_binding["HostIp"] == "127.0.0.1"
    env = dict(e.split("=", 1) for e in c.attrs["Config"]["Env"])
    assert env["NEKO_MEMBER_PROVIDER"] == "object" and len(env["NEKO_SESSION_API_TOKEN"]) > 30
    mounts = {m["Destination"]: m for m in c.attrs["Mounts"]}
    assert mounts["/etc/chromium/policies/managed/policies.json"]["RW"] is False
    assert {"/home/neko/.config/chromium", "/home/neko/Downloads"} <= set(mounts)
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(provider.name_of("off-1"))
    # Port blocks never overlap, and the API token is not stored in plain text.
    a, b = room_row("ppx-1"), room_row("gpt-1")
    assert provider.ports(a.room_index)[0] != provider.ports(b.room_index)[0]
    assert env["NEKO_SESSION_API_TOKEN"] not in (a.api_token_enc or "")
    client.close()


def test_a_room_runs_without_new_privileges_with_limits_and_only_the_capabilities_neko_needs(provider, docker_engine):
    client = docker_engine.client()
    c = client.containers.get(provider.name_of("ppx-1"))
    host_cfg = c.attrs["HostConfig"]
    assert "no-new-privileges:true" in host_cfg["SecurityOpt"]
    assert host_cfg["PidsLimit"] == provider.cfg.pids_limit > 0
    assert host_cfg["NanoCpus"] == int(provider.cfg.cpus * 1e9) > 0
    assert host_cfg["CapDrop"] == ["ALL"]
    assert set(host_cfg["CapAdd"]) == {"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETUID", "SETGID", "KILL", "SYS_ADMIN"}
    # What the kernel enforces inside the room: the bounding set, and no way to gain privileges.
    status = c.exec_run(["cat", "/proc/1/status"]).output.decode()
    fields = dict(line.split(":\t", 1) for line in status.splitlines() if ":\t" in line)
    assert fields["NoNewPrivs"].strip() == "1"
    bits = {"CHOWN": 0, "DAC_OVERRIDE": 1, "FOWNER": 3, "KILL": 5, "SETGID": 6, "SETUID": 7, "SYS_ADMIN": 21}
    assert int(fields["CapBnd"], 16) == sum(1 << b for b in bits.values())
    client.close()


def test_a_session_url_works_during_the_session_and_is_refused_after_release(provider, make_user):
    anna = make_user("anna")
    started = time.perf_counter()
    work = sessions.take_slot(anna.id, "ppx-1")
    took = time.perf_counter() - started
    assert work.access_url.startswith(f"http://127.0.0.1:{provider.ports(room_row('ppx-1').room_index)[0]}/?usr=")
    assert "&embed=1" in work.access_url
    assert _login(work.access_url).status_code == 200
    assert took < 3  # generous; the benchmark measures the real figure
    sessions.release_slot(anna.id, "ppx-1")
    # The room restarts after the release; whenever it answers, the old credentials are refused.
    assert _wait(lambda: _answer(lambda: _login(work.access_url)), what="room answering").status_code == 401


def test_between_users_the_room_restarts_and_the_next_user_gets_in(provider, make_user, docker_engine):
    anna, boris = make_user("anna"), make_user("boris")
    client = docker_engine.client()
    before = client.containers.get(provider.name_of("gpt-1")).attrs["State"]["StartedAt"]
    sessions.take_slot(anna.id, "gpt-1")
    sessions.release_slot(anna.id, "gpt-1")
    _wait(
        lambda: (
            room_row("gpt-1").state == "ready"
            and client.containers.get(provider.name_of("gpt-1")).attrs["State"]["StartedAt"] != before
        ),
        what="room reset",
    )
    work = sessions.take_slot(boris.id, "gpt-1")
    assert _login(work.access_url).status_code == 200
    client.close()


def test_presence_kick_and_screenshot(provider, make_user):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    session = _login(work.access_url).json()
    base = work.access_url.split("?")[0]
    httpx.post(f"{base}api/session/heartbeat", params={"token": session["token"]})
    present = _wait(lambda: [p for p in provider.presence("ppx-1") if p.is_connected], what="presence")
    assert present[0].member_name == f"Anna #{work.id}" and present[0].connected_since is not None
    assert provider.kick("ppx-1") == 1
    assert not any(p.is_connected for p in provider.presence("ppx-1"))
    assert provider.screenshot("ppx-1")[:2] == b"\xff\xd8"


def test_a_crashed_room_comes_back_and_serves_again(provider, make_user, docker_engine):
    client = docker_engine.client()
    c = client.containers.get(provider.name_of("ppx-1"))
    c.exec_run(
        [
            "python3",
            "-c",
            "import os,signal\nfor p in os.listdir('/proc'):\n if p.isdigit() and b'server.py'"
            " in open(f'/proc/{p}/cmdline','rb').read(): os.kill(int(p), signal.SIGKILL)",
        ]
    )
    _wait(lambda: client.containers.get(provider.name_of("ppx-1")).attrs["RestartCount"] >= 1, what="docker restart")
    report = provider.reconcile()
    assert report.states["ppx-1"] == "ready"
    work = sessions.take_slot(make_user("anna").id, "ppx-1")
    assert _login(work.access_url).status_code == 200
    client.close()


def test_recreate_applies_new_settings_and_keeps_the_profile(provider, monkeypatch, docker_engine):
    history = provider.profile_dir("ppx-1") / "Default" / "History"
    _wait(history.exists, what="profile")
    monkeypatch.setenv("VDI_ROOM_SCREEN", "1280x720@25")
    from services import runtime

    runtime.reset()
    fresh = rooms.current()
    assert fresh.recreate("ppx-1").state == "ready"
    client = docker_engine.client()
    env = dict(e.split("=", 1) for e in client.containers.get(provider.name_of("ppx-1")).attrs["Config"]["Env"])
    assert env["NEKO_DESKTOP_SCREEN"] == "1280x720@25"
    assert history.exists()
    client.close()


def test_stale_profile_lock_from_another_host_is_cleared_before_start(provider, docker_engine):
    client = docker_engine.client()
    client.containers.get(provider.name_of("gpt-1")).stop(timeout=5)
    lock = provider.profile_dir("gpt-1") / "SingletonLock"
    lock.unlink(missing_ok=True)
    os.symlink("some-old-host-4242", lock)
    assert provider.reconcile().states["gpt-1"] == "ready"
    room = room_row("gpt-1")
    token_client = provider.neko(room)
    mode = token_client._http.get("/api/standin/profile").json()["mode"]
    token_client.close()
    assert mode == "persistent"
    client.close()


def test_orphans_with_our_labels_are_removed_and_others_left_alone(provider, docker_engine):
    client = docker_engine.client()
    ghost = client.containers.create(
        docker_engine.image,
        name=f"ghost-{provider.cfg.instance}",
        labels={"vdi_taxi.slot": "deleted-slot", "vdi_taxi.instance": provider.cfg.instance},
    )
    stranger = client.containers.create(
        docker_engine.image,
        name=f"stranger-{provider.cfg.instance}",
        labels={"vdi_taxi.slot": "deleted-slot", "vdi_taxi.instance": "someone-else"},
    )
    report = provider.reconcile()
    assert report.removed == ["deleted-slot"]
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(ghost.id)
    client.containers.get(stranger.id).remove(force=True)
    client.close()


def test_engine_down_marks_rooms_unknown_and_the_app_keeps_working(provider, make_user, docker_engine):
    make_user("boss", admin=True)
    from services.core.models import SystemStatus
    from tests.docker_support import restart_dockerd, stop_dockerd

    stop_dockerd(docker_engine)
    try:
        report = provider.reconcile()
        assert not report.engine_ok
        with session_scope() as session:
            assert session.get(SystemStatus, "docker").state == "unreachable"
        cards = board.cards()
        assert cards["ppx-1"].room_state == "unknown" and cards["ppx-1"].room_label == "Комната недоступна"
        anna = make_user("anna")
        with session_scope() as session:
            from services.core.models import Notification

            kinds = [n.kind for n in session.exec(select(Notification)).all()]
        assert "docker_down" in kinds  # the admin was alerted
        with pytest.raises(slots.DomainError, match="Комната слота не готова"):
            sessions.take_slot(anna.id, "ppx-1")
        assert slots.favourites_of(anna.id) == []  # the rest of the app answers
    finally:
        restart_dockerd(docker_engine)
    report = _wait(
        lambda: (r := provider.reconcile()).engine_ok and r.states.get("ppx-1") == "ready" and r,
        timeout=60,
        what="rooms back after the engine returned",
    )
    with session_scope() as session:
        assert session.get(SystemStatus, "docker").state == "ok"
    assert report.states["gpt-1"] == "ready"


def test_container_names_follow_the_slot_and_keep_installations_apart():
    from services.rooms.containers import container_name

    assert container_name("ppx-1") == "vdi-taxi-room-ppx-1"
    assert container_name("ppx-1", "staging") == "vdi-taxi-room-ppx-1--staging"


def test_the_dump_takes_history_and_downloads_from_the_room_and_clears_them(provider, make_user):
    from services import dumps

    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    base = work.access_url.split("?")[0]
    session = _login(work.access_url).json()
    for i in range(3):
        httpx.post(
            f"{base}api/standin/visit",
            params={"token": session["token"]},
            json={"url": f"https://example.org/page{i}", "title": f"Страница {i}"},
        )
    report = provider.downloads_dir("ppx-1") / "report.pdf"
    report.write_bytes(b"%PDF-1.4 test")
    sessions.release_slot(anna.id, "ppx-1")
    view = dumps.dump_view(work.id)
    assert view is not None and view.status == "ready"
    assert view.pages == 3 and view.files == 1
    assert "буфер обмена" in view.missing  # the stand-in has no X clipboard; said, not hidden
    assert not report.exists()  # the next person does not get Anna's file


def test_a_session_whose_room_restarted_gets_a_working_url_again(provider, make_user):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "gpt-1")
    provider.restart("gpt-1", "сбой")  # the room forgets its members
    assert _wait(lambda: _answer(lambda: _login(work.access_url)), what="room back").status_code == 401
    assert not provider.access_valid("gpt-1", work.id)
    fresh = sessions.ensure_access(session_views.my_session_on_slot(anna.id, "gpt-1"))
    assert fresh.access_url != work.access_url
    assert _login(fresh.access_url).status_code == 200
    assert sessions.ensure_access(fresh).access_url == fresh.access_url  # valid now: left alone
