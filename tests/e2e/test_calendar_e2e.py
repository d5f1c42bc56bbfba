"""The week view at desktop and phone size, the profile's 2FA, the favourite chip that queues, «Загрузка сегодня»."""

from __future__ import annotations

import re
from datetime import timedelta

import pyotp
from playwright.sync_api import expect
from sqlmodel import select

from services import auth, bookings, calendar, dates, queue, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.models import User
from tests.e2e.conftest import login, shot

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def _no_page_scroll(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _past_cells_now_or_just_after(day) -> set[int]:
    """The count can move on while the page loads, at a half-hour boundary."""
    now = calendar.past_cells(day)
    return {now, now + 1}


def test_the_week_view_shows_a_slots_week_with_the_now_line_and_unbookable_past(live_app, new_context, account):
    anna, boris = account("Анна"), account("Борис")
    boris_id = auth.login(boris.username, boris.password).user.id
    today = clock.local(clock.now()).date()
    day_after = today + timedelta(days=2)
    bookings.create_booking(boris_id, "hf-1", day_after.isoformat(), "11:00", 120)

    page = new_context(viewport={"width": 1366, "height": 900}).new_page()
    login(page, live_app.url, anna)
    page.goto(f"{live_app.url}/calendar")
    expect(page.locator("[data-testid=calendar-row]")).to_have_count(10)
    shot(page, "calendar-day-desktop")
    page.get_by_role("radio", name="Неделя").click()
    page.get_by_label("Слот").click()
    page.get_by_role("option", name="Higgsfield Ultimate").click()
    week = page.locator("[data-testid=calendar-week-view]")
    monday = dates.week_start(day_after)
    next_week = monday != dates.week_start(today)
    if next_week:
        page.get_by_role("button", name="Следующая неделя").click()
    expect(page.locator("[data-testid=calendar-day]")).to_contain_text(f"неделя {monday:%d.%m.%Y}")
    column = week.locator(f"[data-testid=week-day][data-day='{day_after.isoformat()}']").first
    expect(column.locator("[data-testid=calendar-bar]")).to_contain_text("Борис")
    shot(page, "calendar-week-desktop")

    # A free cell books that half hour.
    column.locator("[data-testid=calendar-cell]").nth(12).click()  # 15:00, after Boris's 11:00–13:00
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Дата")).to_contain_text(dates.numeric(day_after))
    expect(dialog.get_by_label("Время начала")).to_have_text("15:00")
    dialog.get_by_role("button", name="Отмена").click()

    # Today: the half hours already begun are greyed and cannot be booked; the now line shows the time.
    page.get_by_role("button", name="Сегодня").click()
    today_column = week.locator(f"[data-testid=week-day][data-day='{today.isoformat()}']").first
    expect(today_column).to_be_visible()
    past = today_column.locator("[data-testid=calendar-past]").count()
    assert past in _past_cells_now_or_just_after(today)
    cells = today_column.locator("[data-testid=calendar-cell]").count()
    assert past + cells == 24
    assert today_column.locator("[data-testid=now-line]").count() == (1 if calendar.now_position(today) >= 0 else 0)
    if dates.week_start(today) != today:  # the week's Monday is already over
        expect(week.locator("[data-testid=week-day]").first.locator("[data-testid=calendar-cell]")).to_have_count(0)

    phone = new_context(**PHONE).new_page()
    login(phone, live_app.url, anna)
    phone.goto(f"{live_app.url}/calendar")
    expect(phone.locator("[data-testid=calendar-row]")).to_have_count(10)
    _no_page_scroll(phone)
    shot(phone, "calendar-day-phone")
    phone.get_by_role("radio", name="Неделя").click()
    phone.get_by_label("Слот").click()
    phone.get_by_role("option", name="Higgsfield Ultimate").click()
    if dates.week_start(day_after) != dates.week_start(today):
        phone.get_by_role("button", name="Следующая неделя").click()
    phone.get_by_role("button", name=dates.spoken(day_after)).click()
    shown = phone.locator("[data-testid=calendar-week-view] [data-testid=week-day]:visible")
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("data-day", day_after.isoformat())
    expect(shown.locator("[data-testid=calendar-bar]")).to_contain_text("Борис")
    cell = shown.locator("[data-testid=calendar-cell]").first.bounding_box()
    assert cell["height"] >= 40 and cell["width"] >= 40
    _no_page_scroll(phone)
    shot(phone, "calendar-week-phone")

    phone.get_by_role("radio", name="День").click()
    phone.get_by_label("Дата").click()
    expect(phone.locator("[data-testid=picker-month]")).to_be_visible()
    shot(phone, "calendar-date-picker-phone", full_page=False)


def test_the_booking_dialog_fits_a_phone(live_app, new_context, account):
    anna = account("Анна")
    page = new_context(**PHONE).new_page()
    login(page, live_app.url, anna)
    page.locator("[data-testid=slot-card][data-slot=lov-1] [data-testid=book-button]").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Дата")).to_be_visible()
    shot(page, "booking-dialog-phone", full_page=False)
    dialog.get_by_label("Дата").click()
    # Measured once the popover's opening animation (a slight zoom) is over.
    page.wait_for_function(
        "(() => { const r = document.querySelector('[data-testid=picker-day]').getBoundingClientRect();"
        " return r.width >= 40 && r.height >= 40; })()"
    )
    _no_page_scroll(page)
    shot(page, "booking-date-picker-phone", full_page=False)


def test_someone_who_skipped_2fa_turns_it_on_from_the_profile(live_app, new_context, account):
    anna = account("Анна")
    page = new_context().new_page()
    login(page, live_app.url, anna)
    page.goto(f"{live_app.url}/profile")
    card = page.locator("[data-testid=two-factor-card]")
    expect(card).to_contain_text("Не подключена")
    shot(page, "profile")
    card.get_by_role("button", name="Подключить 2FA").click()
    page.wait_for_url(f"{live_app.url}/2fa?from=profile")
    # The secret is filled in by the page's on_load: wait for it rather than read a blank.
    expect(page.locator("[data-testid=totp-secret]")).to_have_text(re.compile(r"[A-Z2-7]{26,}"))
    expect(page.get_by_role("button", name="Не сейчас")).to_be_visible()
    secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
    page.get_by_label("Код из приложения").fill(pyotp.TOTP(secret).at(clock.now()))
    page.get_by_role("button", name="Подтвердить").click()
    page.wait_for_url(f"{live_app.url}/profile")
    expect(page.locator("[data-testid=two-factor-on]")).to_have_text("✓ Подключена")
    with session_scope() as session:
        assert session.exec(select(User).where(User.username == anna.username)).one().totp_secret_enc

    phone = new_context(**PHONE).new_page()
    login(phone, live_app.url, account("Борис"))
    phone.goto(f"{live_app.url}/profile")
    expect(phone.locator("[data-testid=two-factor-card]")).to_be_visible()
    _no_page_scroll(phone)
    shot(phone, "profile-phone")


def test_a_busy_favourites_chip_queues_you_and_the_dashboard_shows_todays_load(live_app, new_context, account):
    holder, anna = account("Олег"), account("Анна")
    holder_id = auth.login(holder.username, holder.password).user.id
    anna_id = auth.login(anna.username, anna.password).user.id
    sessions.take_slot(holder_id, "gem-veo")
    page = new_context(viewport={"width": 1366, "height": 900}).new_page()
    login(page, live_app.url, anna)
    page.locator("[data-testid=slot-card][data-slot=gem-veo] [data-testid=favourite-toggle]").click()
    chip = page.locator("[data-testid=favourite-chip][data-slot=gem-veo]")
    expect(chip).to_contain_text("Занят — в очередь")
    chip.click()
    expect(page.get_by_text("Вы в очереди")).to_be_visible()
    expect(chip).to_contain_text("Вы 1-й в очереди")
    load = page.locator("[data-testid=today-load]")
    if clock.local(clock.now()).hour * 60 + clock.local(clock.now()).minute > 9 * 60:
        expect(load).to_contain_text("Загрузка сегодня:")
        expect(load.locator("[data-testid=load-chip]", has_text="ВИДЕО")).to_be_visible()
    shot(page, "dashboard-desktop")

    phone = new_context(**PHONE).new_page()
    login(phone, live_app.url, anna)
    expect(phone.locator("[data-testid=favourite-chip][data-slot=gem-veo]")).to_contain_text("в очереди")
    _no_page_scroll(phone)
    shot(phone, "dashboard-phone-favourites")
    queue.leave_queue(anna_id, "gem-veo")
    sessions.release_slot(holder_id, "gem-veo")
