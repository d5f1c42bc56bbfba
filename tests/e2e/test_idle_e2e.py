"""Idle release in the browser: the warning banner with its countdown, and «Я здесь»."""

from __future__ import annotations

import re
import time
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import update
from sqlmodel import select

from services.core import clock
from services.core.db import session_scope
from services.core.models import RoomGrant, SlotSession, User
from tests.e2e.conftest import login, shot


def _wait_until(condition, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.2)


def _session_of(username: str) -> tuple[SlotSession, User]:
    with session_scope() as session:
        return session.exec(
            select(SlotSession, User)
            .join(User, User.id == SlotSession.user_id)
            .where(User.username == username, SlotSession.ended_at.is_(None))
        ).one()


def _portal_reported(username: str) -> bool:
    return _session_of(username)[1].portal_seen_at is not None


def _room_reported(username: str) -> bool:
    work, _ = _session_of(username)
    with session_scope() as session:
        grant = session.exec(select(RoomGrant).where(RoomGrant.session_id == work.id)).first()
    return grant is not None and grant.seen_at is not None


def test_an_unattended_session_shows_a_countdown_banner_and_i_am_here_keeps_the_slot(live_app, new_context, account):
    anna = account("Анна")
    page = new_context().new_page()
    login(page, live_app.url, anna)
    page.locator("[data-testid=slot-card][data-slot=gpt-1]").get_by_role("button", name="Занять").click()
    page.wait_for_url(f"{live_app.url}/session/gpt-1")
    expect(page.frame_locator("[data-testid=room-frame]").locator("#room-title")).to_be_visible()
    # Both the portal tab and the demo room report in on their own.
    _wait_until(lambda: _room_reported(anna.username))
    _wait_until(lambda: _portal_reported(anna.username))
    expect(page.get_by_role("alert").filter(has_text="Слот освободится")).to_have_count(0)

    # Twenty minutes pass with the laptop closed: nobody reported in since the take.
    work, user = _session_of(anna.username)
    long_ago = clock.now() - timedelta(minutes=20)
    with session_scope() as session:
        session.exec(update(SlotSession).where(SlotSession.id == work.id).values(started_at=long_ago))
        session.exec(update(User).where(User.id == user.id).values(portal_seen_at=long_ago))
        session.exec(update(RoomGrant).where(RoomGrant.session_id == work.id).values(seen_at=long_ago))

    banner = page.locator("[data-testid=idle-banner]")
    expect(banner).to_contain_text("Слот освободится через", timeout=15_000)
    expect(banner.locator(".mono")).to_have_text(re.compile(r"^[45]:\d\d$"))
    shot(page, "idle-banner")

    banner.get_by_role("button", name="Я здесь").click()
    expect(banner).to_have_count(0)
    expect(page.get_by_text("слот остаётся за вами")).to_be_visible()
    work, _ = _session_of(anna.username)
    assert work.idle_warned_at is None and work.ended_at is None
