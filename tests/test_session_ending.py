"""The "ends soon" warning on the board feed and why a session ended, in words, with frozen time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services import board, bookings, dumps, queue, scheduler, session_views, sessions
from services.core import clock
from services.core.errors import DomainError

NOW = datetime(2026, 11, 25, 7, 5, tzinfo=UTC)  # 10:05 Moscow
TODAY = "2026-11-25"
STORED_REASONS = ("manual", "timeout", "booking", "admin_force", "kicked", "idle", "room_error", "deactivated")


@pytest.fixture(autouse=True)
def _frozen():
    clock.freeze(NOW)
    yield
    clock.freeze(None)


def _at(minutes: float) -> datetime:
    at = NOW + timedelta(minutes=minutes)
    clock.freeze(at)
    return at


def _card(slot_id: str) -> board.SlotCard:
    return board.cards()[slot_id]


def test_every_end_reason_has_its_own_russian_text():
    texts = [session_views.end_reason_text(code) for code in STORED_REASONS]
    assert len(set(texts)) == len(texts)
    assert all(text and text.isascii() is False for text in texts)
    assert session_views.end_reason_text("timeout") == "Истекло время сессии"
    assert "администратор" in session_views.end_reason_text("admin_force")
    assert "другой вкладке" not in " ".join(texts)
    # A code nobody mapped yet never reaches a person raw.
    assert session_views.end_reason_text("something_new") == "Сессия завершена"
    assert session_views.end_reason_text(None) == "Сессия завершена"


def test_the_telegram_summary_says_why_the_session_ended(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-3")
    _at(180)
    assert scheduler.run_due()["ended_timeout"] == 1
    ended = session_views.get_session(work.id)
    text = dumps.summary_text(ended, 2, 0, [])
    assert text.startswith("🔚 Сессия завершена") and "Причина: Истекло время сессии" in text
    # Even one's own click is named, so a cut session never looks like a release.
    mine = sessions.take_slot(anna.id, "ppx-2")
    released = sessions.release_slot(anna.id, "ppx-2")
    assert released.id == mine.id
    assert "Причина: Вы завершили сессию" in dumps.summary_text(released, 0, 0, [])


def test_the_warning_starts_with_the_window_before_the_deadline_and_ends_with_an_extension(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "ppx-3")
    assert work.deadline_at == NOW + timedelta(hours=3)
    window = sessions.warn_window().total_seconds() / 60
    _at(180 - window - 1)
    assert not _card("ppx-3").ending_soon
    # Inside the window the board says so at once, whether or not the scheduler has ticked yet.
    _at(180 - window)
    card = _card("ppx-3")
    assert card.ending_soon and card.extend_refusal == ""
    assert card.deadline_ms == int(work.deadline_at.timestamp() * 1000)
    assert scheduler.run_due()["warned"] == 1
    assert _card("ppx-3").ending_soon

    extended = sessions.extend_session(anna.id, "ppx-3")
    assert extended.deadline_at == work.deadline_at + timedelta(hours=3)
    card = _card("ppx-3")
    assert not card.ending_soon and card.extend_refusal == ""
    assert card.deadline_ms == int(extended.deadline_at.timestamp() * 1000)

    # At the end of the extended time it warns again, and says a second extension is not possible.
    _at(360 - window)
    card = _card("ppx-3")
    assert card.ending_soon and card.extend_refusal == "Сессию можно продлить только один раз"


def test_the_warning_says_why_the_session_cannot_be_extended(make_user, demo_slots):
    anna, boris, vera = make_user("anna"), make_user("boris"), make_user("vera")
    sessions.take_slot(anna.id, "ppx-2")
    queue.join_queue(boris.id, "ppx-2")
    _at(178)
    assert _card("ppx-2").extend_refusal == "Продлить нельзя: слот ждут в очереди"

    # Someone else's booking starts at the deadline: the session is cut there and cannot go on.
    clock.freeze(NOW)
    sessions.take_slot(vera.id, "gpt-1")
    bookings.create_booking(boris.id, "gpt-1", TODAY, "11:00", 60)
    _at(52)
    card = _card("gpt-1")
    assert card.ending_soon and card.extend_refusal == "Продлить нельзя: в 11:00 начинается бронь"
    with pytest.raises(DomainError, match="в 11:00 начинается бронь"):
        sessions.extend_session(vera.id, "gpt-1")
    # Nobody else's card warns.
    assert not _card("ppx-3").ending_soon and _card("ppx-3").extend_refusal == ""
