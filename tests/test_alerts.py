"""Admin alerts and reports: to admins only, once per event."""

from datetime import UTC, date, datetime

from sqlmodel import select

from services import scheduler
from services.core import clock
from services.core.db import session_scope
from services.core.models import Notification, Slot


def _kinds(user_id: int) -> list[str]:
    with session_scope() as session:
        return [n.kind for n in session.exec(select(Notification).where(Notification.user_id == user_id)).all()]


def test_renewal_within_three_days_alerts_admins_once(make_user, demo_slots):
    boss, anna = make_user("boss", admin=True), make_user("anna")
    with session_scope() as session:
        slot = session.get(Slot, "ppx-1")
        slot.renewal_date = date(2026, 11, 28)
        session.add(slot)
    clock.freeze(datetime(2026, 11, 24, 10, 0, tzinfo=UTC))  # four days ahead: nothing yet
    scheduler.run_due()
    assert "renewal" not in _kinds(boss.id)
    clock.freeze(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))
    scheduler.run_due()
    scheduler.run_due()
    assert _kinds(boss.id).count("renewal") == 1
    assert "renewal" not in _kinds(anna.id)
    with session_scope() as session:
        text = session.exec(select(Notification.text).where(Notification.kind == "renewal")).first()
    assert "💳 Продление подписки через 3 дн. (28.11.2026)" in text and "Perplexity Max #1" in text


def test_weekly_report_goes_out_on_monday_morning_once(make_user, demo_slots):
    boss = make_user("boss", admin=True)
    clock.freeze(datetime(2026, 11, 30, 5, 0, tzinfo=UTC))  # Monday 08:00 Moscow: too early
    scheduler.run_due()
    assert "weekly_report" not in _kinds(boss.id)
    clock.freeze(datetime(2026, 11, 30, 6, 5, tzinfo=UTC))  # 09:05
    scheduler.run_due()
    clock.freeze(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))
    scheduler.run_due()
    assert _kinds(boss.id).count("weekly_report") == 1
