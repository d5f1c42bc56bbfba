"""Idle release with a real room: presence comes from the Neko sessions of a Docker room."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from services import scheduler, session_views, sessions
from services.core import clock
from tests.test_docker_rooms import _login, _wait, provider, two_slots  # noqa: F401  (fixtures)

pytestmark = pytest.mark.docker


def test_someone_connected_to_the_room_keeps_the_slot_and_leaving_it_starts_the_idle_clock(provider, make_user):  # noqa: F811
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-1")
    room = _login(work.access_url).json()
    base = work.access_url.split("?")[0]
    httpx.post(f"{base}api/session/heartbeat", params={"token": room["token"]})
    _wait(lambda: any(p.is_connected for p in provider.presence("ppx-1")), what="presence")
    # Twenty minutes later, without a portal tab, Anna is still connected to the room: no warning.
    start = clock.now()
    clock.freeze(start + timedelta(minutes=20))
    done = scheduler.run_due()
    assert done["idle_warned"] == 0 and done["ended_idle"] == 0
    assert session_views.get_session(work.id).ended_at is None
    # She disconnects; fifteen minutes after she was last seen, she is warned.
    assert provider.kick("ppx-1") == 1
    clock.freeze(start + timedelta(minutes=34))
    assert scheduler.run_due()["idle_warned"] == 0
    clock.freeze(start + timedelta(minutes=35, seconds=1))
    assert scheduler.run_due()["idle_warned"] == 1
    clock.freeze(start + timedelta(minutes=40, seconds=2))
    assert scheduler.run_due()["ended_idle"] == 1
    assert session_views.get_session(work.id).end_reason == "idle"
