"""«Здоровье» with rooms on two Docker hosts: each host's state, memory and rooms, and a move by menu."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import expect
from sqlmodel import select

from services.core.db import session_scope
from services.core.models import Room
from tests.docker_support import remove_rooms, room_env
from tests.e2e.conftest import ARTIFACTS, login, shot, use_app_settings
from tests.live_server import LiveApp, start_live_app

pytestmark = pytest.mark.docker


@pytest.fixture(scope="module")
def hosts_app(docker_engine, docker_engine_b, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    data = tmp_path_factory.mktemp("hosts-app")
    env = room_env(docker_engine, data, f"e2e{uuid.uuid4().hex[:6]}")
    env["VDI_DOCKER_HOSTS"] = f"a={docker_engine.host},b={docker_engine_b.host}"
    env["VDI_DOCKER_CERT_DIR"] = str(docker_engine_b.certs)
    with start_live_app(data, ARTIFACTS / "live-app-hosts.log", web_dir="hosts", **env) as app:
        yield app
    remove_rooms(env["VDI_ROOM_INSTANCE"], docker_engine, docker_engine_b)


@pytest.fixture(autouse=True)
def _use_live_database(hosts_app: LiveApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    use_app_settings(hosts_app, monkeypatch)
    yield


def _rooms(timeout: float = 180) -> dict[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with session_scope() as session:
            rows = session.exec(select(Room)).all()
        if len(rows) == 10 and {r.state for r in rows} == {"ready"}:
            return {r.slot_id: r.host or "" for r in rows}
        time.sleep(0.5)
    raise AssertionError("rooms not ready on both hosts")


def test_health_shows_both_hosts_and_an_admin_moves_a_room(hosts_app, new_context, account):
    placed = _rooms()
    assert sorted(set(placed.values())) == ["a", "b"]
    boss = account("Админ", admin=True, with_2fa=True)
    page = new_context(viewport={"width": 1400, "height": 1000}).new_page()
    login(page, hosts_app.url, boss)
    page.goto(f"{hosts_app.url}/admin")
    page.get_by_role("tab", name="Здоровье").click()
    hosts = page.locator("[data-testid=host-row]")
    expect(hosts).to_have_count(2)
    on_a = sum(1 for h in placed.values() if h == "a")
    expect(hosts.filter(has_text="работает")).to_have_count(2)
    expect(hosts.first).to_contain_text(f"{on_a} комнат")
    expect(hosts.first).to_contain_text("свободно")

    slot_id = next(s for s, h in placed.items() if h == "a")
    row = page.locator("[data-testid=room-row]").filter(has_text=slot_id)
    row.get_by_role("button", name="Перенести").click()
    page.get_by_role("menuitem", name="На хост b").click()
    expect(page.get_by_text(f"Комната {slot_id}: на хосте b (работает)")).to_be_visible(timeout=60_000)
    expect(row).to_contain_text("закреплена")
    shot(page, "admin-health-hosts")
    with session_scope() as session:
        moved = session.get(Room, slot_id)
    assert (moved.host, moved.host_pinned, moved.state) == ("b", True, "ready")
