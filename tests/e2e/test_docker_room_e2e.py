"""The foundation's session flow once more, with rooms as real containers (Neko stand-in)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from playwright.sync_api import expect
from sqlmodel import select

from services.core.db import session_scope
from services.core.models import Room
from services.rooms import base as rooms
from tests.docker_support import remove_rooms, room_env
from tests.e2e.conftest import ARTIFACTS, login, shot, use_app_settings
from tests.live_server import LiveApp, start_live_app

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def docker_app(docker_engine, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    data = tmp_path_factory.mktemp("docker-app")
    env = room_env(docker_engine, data, f"e2e{uuid.uuid4().hex[:6]}")
    with start_live_app(data, ARTIFACTS / "live-app-docker.log", web_dir="docker", **env) as app:
        yield app
    # Rooms outlive the app by design (restart policy); the next tests need the CPU back.
    remove_rooms(env["VDI_ROOM_INSTANCE"], docker_engine)


@pytest.fixture(autouse=True)
def _use_live_database(docker_app: LiveApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_app_settings(docker_app, monkeypatch)
    yield


def _wait_rooms_ready(timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            rows = session.exec(select(Room)).all()
            states = {r.slot_id: r.state for r in rows}
            details = {r.slot_id: r.detail for r in rows if r.state != "ready"}
        if len(states) == 10 and set(states.values()) == {"ready"}:
            return
        time.sleep(0.5)
    raise AssertionError(f"rooms not ready: {states} {details}")


def test_take_embeds_the_neko_room_and_release_removes_the_member(docker_app, new_context, account):
    _wait_rooms_ready()
    anna = account("Анна")
    page = new_context().new_page()
    login(page, docker_app.url, anna)
    card = page.locator("[data-testid=slot-card][data-slot=nb-drive]")
    expect(card.get_by_role("button", name="Занять")).to_be_enabled()
    card.get_by_role("button", name="Занять").click()
    page.wait_for_url(f"{docker_app.url}/session/nb-drive")
    frame = page.frame_locator("[data-testid=room-frame]")
    expect(frame.locator("#room-title")).to_contain_text("Neko: vdi-taxi-room-nb-drive")
    expect(frame.locator("#room-user")).to_contain_text("Анна #")
    expect(page.get_by_text("демо-комната")).to_have_count(0)
    room_url = page.locator("[data-testid=room-frame]").get_attribute("src")
    shot(page, "session-docker")

    provider = rooms.current()
    assert [p for p in provider.presence("nb-drive") if p.is_connected]

    page.get_by_role("button", name="Освободить").click()
    page.get_by_role("button", name="Да, завершить").click()
    page.wait_for_url(f"{docker_app.url}/session-end/*")
    with session_scope() as session:
        room = session.get(Room, "nb-drive")
    neko = provider.neko(room)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                members = neko._http.get("/api/members").json()
                break
            except Exception:  # the room restarts between users
                time.sleep(0.3)
        assert members == []
    finally:
        neko.close()
    # The URL that was embedded is now worthless.
    base, _, query = room_url.partition("?")
    params = dict(p.split("=", 1) for p in query.split("&"))
    deadline = time.monotonic() + 30
    status = None
    while time.monotonic() < deadline:
        try:
            status = httpx.post(
                f"{base}api/login", json={"username": unquote(params["usr"]), "password": unquote(params["pwd"])}
            ).status_code
            break
        except httpx.HTTPError:
            time.sleep(0.3)
    assert status == 401
    assert Path(ARTIFACTS / "session-docker.png").exists()


def test_a_room_container_deleted_by_hand_comes_back_and_the_session_page_recovers(
    docker_app, new_context, account, docker_engine
):
    """Fault (see tests/faults/): the holder's room vanishes mid-session; the app's reconcile
    recreates it and the session page, opened again, lets the holder back in."""
    _wait_rooms_ready()
    boris = account("Борис")
    page = new_context().new_page()
    login(page, docker_app.url, boris)
    card = page.locator("[data-testid=slot-card][data-slot=gpt-1]")
    card.get_by_role("button", name="Занять").click()
    page.wait_for_url(f"{docker_app.url}/session/gpt-1")
    frame = page.frame_locator("[data-testid=room-frame]")
    expect(frame.locator("#room-user")).to_contain_text("Борис #")
    before = page.locator("[data-testid=room-frame]").get_attribute("src")

    provider = rooms.current()
    client = docker_engine.client()
    try:
        client.containers.get(provider.name_of("gpt-1")).remove(force=True)
        deadline = time.monotonic() + 150  # the app's next reconcile pass, then the room's start
        while True:
            with session_scope() as session:
                room = session.get(Room, "gpt-1")
            names = [c.name for c in client.containers.list(filters={"name": provider.name_of("gpt-1")})]
            if room is not None and room.state == "ready" and names:
                break
            assert time.monotonic() < deadline, f"room not recreated: {room and room.state}, {names}"
            time.sleep(0.5)
        assert len(names) == 1
    finally:
        client.close()
    page.reload()
    expect(frame.locator("#room-user")).to_contain_text("Борис #", timeout=30_000)
    assert page.locator("[data-testid=room-frame]").get_attribute("src") != before
    shot(page, "fault-room-recreated")
