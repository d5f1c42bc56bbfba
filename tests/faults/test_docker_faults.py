"""Faults of the Docker engine and of one room, against a real engine and the Neko stand-in.

The app's room upkeep (reconcile every VDI_RECONCILE_SECONDS, as the app's lifespan task
does) runs in a background thread here; the checks read the database, the engine and the
room's own login endpoint.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from urllib.parse import unquote

import httpx
import pytest
from sqlmodel import select

from services import board, runtime, session_views, sessions
from services.core.db import session_scope
from services.core.errors import DomainError
from services.core.models import Notification, Slot
from services.rooms import base as rooms
from services.rooms.docker import DockerRoomProvider
from tests.docker_support import restart_dockerd, stop_dockerd

pytestmark = pytest.mark.docker
SLOTS = ("ppx-1", "gpt-1")


@pytest.fixture
def provider(docker_rooms, database, monkeypatch: pytest.MonkeyPatch) -> DockerRoomProvider:
    monkeypatch.setenv("VDI_RECONCILE_SECONDS", "2")
    runtime.reset()
    with session_scope() as session:
        session.add(Slot(id="ppx-1", service_name="Perplexity Max #1", category="РЕСЕРЧ", sort_order=0))
        session.add(Slot(id="gpt-1", service_name="ChatGPT Pro", category="REASONING", sort_order=1))
    p = rooms.current()
    assert isinstance(p, DockerRoomProvider)
    assert p.reconcile().states == {"ppx-1": "ready", "gpt-1": "ready"}
    return p


@pytest.fixture
def upkeep(provider: DockerRoomProvider) -> Iterator[None]:
    """The app's periodic reconcile, stopped with the test."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            with contextlib.suppress(Exception):  # the app's loop logs and goes on; so does this one
                provider.reconcile()
            stop.wait(2)

    thread = threading.Thread(target=loop, name="reconcile-loop", daemon=True)
    thread.start()
    yield
    stop.set()
    thread.join(timeout=90)


def _login(url: str) -> int | None:
    """What the embedded Neko client does with the URL's usr/pwd; None if the room does not answer."""
    base, _, query = url.partition("?")
    params = dict(part.split("=", 1) for part in query.split("&"))
    try:
        return httpx.post(
            f"{base}api/login",
            json={"username": unquote(params["usr"]), "password": unquote(params["pwd"])},
            timeout=5,
        ).status_code
    except httpx.HTTPError:
        return None


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.3)


def _containers(engine, instance: str) -> list[str]:
    client = engine.client()
    try:
        found = client.containers.list(all=True, filters={"label": f"vdi_taxi.instance={instance}"})
        return sorted(c.labels["vdi_taxi.slot"] for c in found)
    finally:
        client.close()


def _states() -> dict[str, str]:
    return {slot_id: card.room_state for slot_id, card in board.cards().items()}


def test_a_minute_without_the_docker_engine_loses_no_session_and_alerts_admins_once(
    provider, upkeep, docker_engine, docker_rooms, make_user
):
    make_user("boss", admin=True)
    anna, boris = make_user("anna"), make_user("boris")
    work = sessions.take_slot(anna.id, "ppx-1")
    assert _login(work.access_url) == 200

    stop_dockerd(docker_engine)
    try:
        _wait(lambda: set(_states().values()) == {"unknown"}, 20, "rooms shown as unknown")
        refusals = set()
        until = time.monotonic() + 60
        while time.monotonic() < until:  # a minute of people using the app meanwhile
            assert set(_states().values()) == {"unknown"}  # the board answers, rooms stay unknown
            try:
                sessions.take_slot(boris.id, "gpt-1")
                raise AssertionError("a slot was handed out with no engine behind it")
            except DomainError as exc:
                refusals.add(exc.message.split(":")[0])
            assert session_views.my_session_on_slot(anna.id, "ppx-1").id == work.id
            time.sleep(2)
        assert refusals == {"Комната слота не готова"}
    finally:
        restart_dockerd(docker_engine)

    _wait(lambda: set(_states().values()) == {"ready"}, 120, "rooms healed after the engine returned")
    assert _containers(docker_engine, docker_rooms) == sorted(SLOTS)  # one each, no duplicate
    with session_scope() as session:
        alerts = session.exec(select(Notification).where(Notification.kind == "docker_down")).all()
    assert len(alerts) == 1, [a.dedupe_key for a in alerts]
    # Anna's session went through it: still hers, and her room lets her in again.
    again = sessions.ensure_access(session_views.my_session_on_slot(anna.id, "ppx-1"))
    assert again.id == work.id
    assert _wait(lambda: _login(again.access_url) == 200, 30, "anna's room to let her in")
    assert sessions.take_slot(boris.id, "gpt-1").slot_id == "gpt-1"


def test_a_room_container_deleted_by_hand_is_recreated_and_the_session_gets_in_again(
    provider, upkeep, docker_engine, docker_rooms, make_user
):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "gpt-1")
    assert _login(work.access_url) == 200
    client = docker_engine.client()
    try:
        old = client.containers.get(provider.name_of("gpt-1"))
        old_id = old.id
        old.remove(force=True)  # the fault

        def recreated() -> bool:
            try:
                return client.containers.get(provider.name_of("gpt-1")).id != old_id
            except Exception:
                return False

        _wait(recreated, 60, "the room recreated by the reconcile loop")
    finally:
        client.close()
    _wait(lambda: _states()["gpt-1"] == "ready", 90, "the recreated room ready")
    assert _containers(docker_engine, docker_rooms) == sorted(SLOTS)  # one each, no duplicate

    # What the session page does when it is opened again: check the access, grant it anew if needed.
    def let_in() -> bool:
        again = sessions.ensure_access(session_views.my_session_on_slot(anna.id, "gpt-1"))
        assert again.id == work.id  # the same session throughout
        return _login(again.access_url) == 200

    _wait(let_in, 60, "the holder let into the recreated room")
