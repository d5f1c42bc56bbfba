"""The board bell between workers: a commit that changes the board rings Redis once, after the
commit; a rolled-back change rings nothing; each worker's listener hears it (real Redis)."""

from __future__ import annotations

import asyncio
import time

import pytest
import redis

from services import runtime, sessions
from services.core import board_signal, db
from tests.conftest import REDIS_URL, empty_redis_db

pytestmark = pytest.mark.skipif(not REDIS_URL, reason="VDI_TEST_REDIS_URL is not set (deploy/test.sh sets it)")
END = b"end-of-test"


@pytest.fixture
def bell(monkeypatch: pytest.MonkeyPatch):
    """What a worker subscribed to the board channel hears."""
    url = f"{REDIS_URL}/{empty_redis_db()}"
    monkeypatch.setenv("REFLEX_REDIS_URL", url)
    runtime.reset()
    client = redis.Redis.from_url(url)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(board_signal.channel(url))
    pubsub.get_message(timeout=1)  # the subscription's confirmation

    def heard() -> list[bytes]:
        """Every message up to one this test publishes last (Redis keeps one channel's order)."""
        client.publish(board_signal.channel(url), END)
        got: list[bytes] = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=1)
            if message is None:
                continue
            if message["data"] == END:
                return got
            got.append(message["data"])
        raise AssertionError(f"the end marker never arrived; heard {got}")

    yield heard
    pubsub.close()
    client.close()


def test_a_take_rings_the_bell_once_and_a_rolled_back_change_rings_nothing(bell, demo_slots, make_user):
    user = make_user("anna")
    assert bell() == []
    sessions.take_slot(user.id, demo_slots[0])
    assert bell() == [b"1"]

    with pytest.raises(RuntimeError), db.session_scope() as session:
        db.bump_board_version(session)
        raise RuntimeError("the handler failed after changing the board")
    assert bell() == []


def test_a_worker_listening_is_woken_by_a_change_committed_elsewhere(bell, demo_slots, make_user):
    user = make_user("boris")

    async def scenario() -> int:
        rung = asyncio.Event()
        listener = asyncio.create_task(board_signal.listen(rung.set))
        # The listener's first look after subscribing, then the change's own bell.
        await asyncio.wait_for(rung.wait(), timeout=5)
        rung.clear()
        await asyncio.to_thread(sessions.take_slot, user.id, demo_slots[0])
        await asyncio.wait_for(rung.wait(), timeout=2)
        listener.cancel()
        return 1

    assert asyncio.run(scenario()) == 1


def test_without_redis_nothing_is_rung_and_nothing_listens(monkeypatch, demo_slots, make_user):
    monkeypatch.delenv("REFLEX_REDIS_URL", raising=False)
    runtime.reset()
    user = make_user("vera")
    sessions.take_slot(user.id, demo_slots[0])  # no Redis to reach: the commit just succeeds
    assert asyncio.run(asyncio.wait_for(board_signal.listen(lambda: None), timeout=1)) is None
