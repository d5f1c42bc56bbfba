"""Alerts and reports for administrators, through the same outbox as everything else."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlmodel import select

from services import analytics
from services.core import clock, outbox
from services.core.db import session_scope
from services.core.models import Slot


def alert_admins(kind: str, text: str, dedupe_key: str) -> int:
    """Queue an alert for every active admin; the dedupe key makes repeats harmless."""
    return outbox.enqueue_for_admins(kind, text, dedupe_key)


def renewal_reminders(now: datetime) -> int:
    today = clock.local(now).date()
    with session_scope() as session:
        due = session.exec(
            select(Slot).where(
                Slot.is_active,
                Slot.renewal_date.is_not(None),
                Slot.renewal_date >= today,
                Slot.renewal_date <= today + timedelta(days=3),
            )
        ).all()
    sent = 0
    for slot in due:
        assert slot.renewal_date is not None
        days = (slot.renewal_date - today).days
        when = "сегодня" if days == 0 else f"через {days} дн. ({slot.renewal_date:%d.%m.%Y})"
        sent += alert_admins(
            "renewal",
            f"💳 Продление подписки {when}\nСлот: {slot.service_name}\nСтоимость: ${slot.monthly_cost:.0f}/мес",
            f"renewal:{slot.id}:{slot.renewal_date.isoformat()}",
        )
    return sent


def weekly_report(now: datetime) -> int:
    """Monday morning (local time), once per week: last week's utilisation."""
    local = clock.local(now)
    if local.weekday() != 0 or local.hour < 9:
        return 0
    year, week, _ = local.isocalendar()
    return alert_admins("weekly_report", analytics.weekly_text(), f"weekly:{year}-{week}")
