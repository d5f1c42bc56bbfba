"""The admin «Загрузка» tab: utilisation charts, heat map, advice and CSV export."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import reflex as rx

from services import analytics, dates
from services.core.errors import DomainError
from state.auth import AuthState, UserInfo, admin_only, quietly


@dataclass(frozen=True)
class UsageRow:
    slot_id: str
    service_name: str
    sessions: int
    hours: float
    work_pct: float
    waits: int
    avg_wait: float
    no_shows: int
    monthly_cost: str
    cost_per_hour: str
    verdict: str


@dataclass(frozen=True)
class HeatCell:
    title: str
    background: str


@dataclass(frozen=True)
class HeatRow:
    weekday: str
    cells: list[HeatCell]


def _heat_colour(pct: float) -> str:
    # Transparent when idle, towards solid amber when every slot was busy.
    return "rgba(148, 163, 184, 0.08)" if pct <= 0 else f"rgba(245, 158, 11, {0.15 + 0.85 * min(pct, 100) / 100:.2f})"


class UsageState(AuthState):
    period: str = "week"
    usage: list[UsageRow] = []
    heat: list[HeatRow] = []
    advice: list[str] = []
    history_note: str = ""
    work_hours: float = 0
    total_hours: float = 0
    loading: bool = False
    error: str = ""

    @rx.var
    def chart(self) -> list[dict[str, float | str]]:
        """The table's figures in the shape the charts read."""
        return [
            {"name": u.service_name, "hours": u.hours, "pct": u.work_pct, "wait": u.avg_wait, "no_shows": u.no_shows}
            for u in self.usage
        ]

    @rx.var
    def chart_height(self) -> int:
        # 36 px a slot: a name wrapped onto two lines of 12 px axis text stays clear of its neighbours.
        return 60 + 36 * max(len(self.usage), 1)

    @rx.event
    @admin_only(otherwise=quietly)
    async def load_usage(self, caller: UserInfo):
        self.loading, self.error = True, ""
        yield
        try:
            report = await asyncio.to_thread(analytics.utilisation, caller.id, self.period)
        except DomainError as exc:
            self.loading, self.error = False, exc.message
            return
        self._show(report)
        self.loading = False

    def _show(self, report: analytics.Utilisation) -> None:
        self.usage = [
            UsageRow(
                slot_id=s.slot_id,
                service_name=s.service_name,
                sessions=s.sessions,
                hours=s.hours_used,
                work_pct=s.work_pct,
                waits=s.queue_waits,
                avg_wait=s.avg_wait_minutes,
                no_shows=s.no_shows,
                monthly_cost=f"${s.monthly_cost:g}",
                cost_per_hour="—" if s.cost_per_hour is None else f"${s.cost_per_hour:.2f}",
                verdict=s.verdict,
            )
            for s in report.slots
        ]
        self.heat = [
            HeatRow(
                weekday=dates.WEEKDAYS_SHORT[d],
                cells=[
                    HeatCell(
                        title=f"{dates.WEEKDAYS_SHORT[d]} {h:02d}:00 — занято {pct:.0f}%",
                        background=_heat_colour(pct),
                    )
                    for h, pct in enumerate(report.heat[d])
                ],
            )
            for d in range(7)
        ]
        self.advice = report.recommendations
        self.history_note = report.history_note
        self.work_hours, self.total_hours = report.work_hours, round(report.total_hours, 1)

    @rx.event
    @admin_only
    async def set_period(self, caller: UserInfo, period: str | list[str]):
        period = str(period[0] if isinstance(period, list) and period else period)
        if period not in analytics.PERIODS:
            yield rx.toast.error("Неизвестный период")
            return
        self.period = period
        yield UsageState.load_usage

    @rx.event
    @admin_only
    async def export_csv(self, caller: UserInfo):
        try:
            report = await asyncio.to_thread(analytics.utilisation, caller.id, self.period)
        except DomainError as exc:
            return rx.toast.error(exc.message)
        # The byte order mark lets spreadsheet programs read the Cyrillic headers as UTF-8.
        return rx.download(
            data="\ufeff" + analytics.to_csv(report),
            filename=f"vdi-taxi-usage-{self.period}-{report.end:%Y%m%d}.csv",
            mime_type="text/csv",
        )
