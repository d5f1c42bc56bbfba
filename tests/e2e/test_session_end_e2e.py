"""The end of a session in the browser: the "ends soon" warning with its countdown and «Продлить»,
the cut at the deadline with its reason on the page and in Telegram, and forged extensions."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import update
from sqlmodel import select

from services import auth, queue, session_views, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.models import SlotSession
from services.telegram import linking
from state.session import SessionPageState
from tests.e2e.conftest import login, shot
from tests.reflex_client import RawClient

CHAT = 5550013


def _running(slot_id: str) -> SlotSession | None:
    with session_scope() as session:
        return session.exec(
            select(SlotSession).where(SlotSession.slot_id == slot_id, SlotSession.ended_at.is_(None))
        ).first()


def _take(username: str, password: str, slot_id: str) -> int:
    """Take the slot for the person (ending whatever an earlier test left running there)."""
    if (left := _running(slot_id)) is not None:
        assert left.id is not None
        sessions.end_session(left.id, "manual")
    user_id = auth.login(username, password).user.id
    return sessions.take_slot(user_id, slot_id).id


def _move_deadline(session_id: int, seconds: float) -> None:
    """Time passes: the session's deadline is now `seconds` away (the board picks it up on its next change)."""
    with session_scope() as session:
        session.exec(
            update(SlotSession)
            .where(SlotSession.id == session_id)
            .values(deadline_at=clock.now() + timedelta(seconds=seconds))
        )


def test_the_warning_counts_down_and_prodlit_moves_the_deadline(live_app, new_context, account):
    anna = account("Анна")
    session_id = _take(anna.username, anna.password, "nbp")
    page = new_context().new_page()
    login(page, live_app.url, anna)
    page.goto(f"{live_app.url}/session/nbp")
    expect(page.locator("[data-testid=room-frame]")).to_be_visible()
    banner = page.locator("[data-testid=ending-banner]")
    expect(banner).to_have_count(0)

    # Three minutes before the limit: inside the warning window. The scheduler warns, the page shows it.
    _move_deadline(session_id, 180)
    expect(banner).to_contain_text("Сессия закончится через", timeout=15_000)
    expect(banner.locator("[data-testid=ending-countdown]")).to_have_text(re.compile(r"^[23]:\d\d$"))
    first = banner.locator("[data-testid=ending-countdown]").inner_text()
    # The countdown is live: it moves on without any server round trip.
    expect(banner.locator("[data-testid=ending-countdown]")).not_to_have_text(first, timeout=5_000)
    # A reload shows it again, as the server computes it from the deadline.
    page.reload()
    expect(banner).to_contain_text("Сохраните работу", timeout=15_000)
    shot(page, "session-ending-warning")

    before = session_views.get_session(session_id).deadline_at
    assert before is not None
    banner.get_by_role("button", name="Продлить").click()
    expect(page.get_by_text("Сессия продлена")).to_be_visible()
    expect(banner).to_have_count(0)
    after = session_views.get_session(session_id)
    assert after.extended and after.deadline_at is not None
    assert after.deadline_at - before >= timedelta(hours=1)
    # Still going, and no warning comes back on reload.
    page.reload()
    expect(page.locator("[data-testid=room-frame]")).to_be_visible()
    expect(banner).to_have_count(0)
    assert _running("nbp") is not None
    sessions.end_session(session_id, "manual")


def test_a_session_cut_at_its_deadline_says_why_on_the_page_and_in_telegram(
    live_app, new_context, account, fake_telegram
):
    boris, vera = account("Борис"), account("Вера")
    boris_id = auth.login(boris.username, boris.password).user.id
    linking.link_chat(linking.create_link_code(boris_id).code, CHAT)
    session_id = _take(boris.username, boris.password, "ppx-3")
    page = new_context().new_page()
    login(page, live_app.url, boris)
    page.goto(f"{live_app.url}/session/ppx-3")
    expect(page.locator("[data-testid=room-frame]")).to_be_visible()

    # Vera queues for the slot: an extension would be refused, and the page says why instead of the button.
    vera_id = auth.login(vera.username, vera.password).user.id
    queue.join_queue(vera_id, "ppx-3")
    _move_deadline(session_id, 12)
    banner = page.locator("[data-testid=ending-banner]")
    expect(banner.locator("[data-testid=extend-refusal]")).to_have_text("Продлить нельзя: слот ждут в очереди")
    expect(banner.get_by_role("button", name="Продлить")).to_have_count(0)
    expect(banner.locator("[data-testid=ending-countdown]")).to_have_text(re.compile(r"^0:\d\d$"))
    shot(page, "session-ending-refused")
    warned = fake_telegram.wait_for(lambda m: m.chat_id == CHAT and m.text.startswith("⏳ Сессия скоро закончится"))
    assert "Perplexity Max #3" in warned[0].text

    # The scheduler cuts the session at the deadline; the page says it was the time limit.
    overlay = page.locator("[data-testid=session-ended-overlay]")
    expect(overlay).to_contain_text("Истекло время сессии", timeout=30_000)
    expect(overlay).not_to_contain_text("другой вкладке")
    shot(page, "session-ended-time-limit")
    page.wait_for_url(f"{live_app.url}/session-end/{session_id}", timeout=15_000)
    expect(page.locator("[data-testid=session-summary]")).to_contain_text("Истекло время сессии")
    assert session_views.get_session(session_id).end_reason == "timeout"

    summary = fake_telegram.wait_for(lambda m: m.chat_id == CHAT and m.text.startswith("🔚 Сессия завершена"))[0]
    assert "Причина: Истекло время сессии" in summary.text
    # The e2e app is shared: the slot is left free, not offered to Vera, for the tests after this one.
    queue.leave_queue(vera_id, "ppx-3")


def test_extending_someone_elses_session_is_refused_and_changes_nothing(live_app, account):
    owner, mallory = account("Олег"), account("Мэллори")
    session_id = _take(owner.username, owner.password, "gem-dt")
    _move_deadline(session_id, 120)
    before = session_views.get_session(session_id)
    name = SessionPageState.get_full_name()

    # Another employee opens the owner's session page and presses «Продлить» by hand.
    client = RawClient(live_app.url)
    try:
        client.log_in(auth.login(mallory.username, mallory.password).token)
        client.send(f"{name}.load", {}, path="/session/gem-dt")
        client.send(f"{name}.extend", {}, path="/session/gem-dt")
        client.wait_for("Продлить не получилось")
    finally:
        client.close()

    # Nobody signed in at all.
    anonymous = RawClient(live_app.url)
    try:
        anonymous.log_in("not-a-real-token")
        anonymous.send(f"{name}.extend", {}, path="/session/gem-dt")
        anonymous.wait_for("/login")
    finally:
        anonymous.close()

    after = session_views.get_session(session_id)
    assert after.ended_at is None and not after.extended and after.deadline_at == before.deadline_at
    sessions.end_session(session_id, "manual")
