"""Booking from the dialog, the live calendar, the queue offer passing down the line."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from playwright.sync_api import expect
from sqlalchemy import update

from services import auth, bookings, dates
from services.core import clock
from services.core.db import session_scope
from services.core.models import QueueEntry
from tests.e2e.conftest import login, shot


def _card(page, slot_id: str):
    return page.locator(f"[data-testid=slot-card][data-slot={slot_id}]")


def test_book_from_the_dialog_and_see_it_live_on_anothers_calendar(live_app, new_context, account):
    anna, boris = account("Анна"), account("Борис")
    anna_id = auth.login(anna.username, anna.password).user.id
    tomorrow = (clock.local(clock.now()) + timedelta(days=1)).date()
    page_b = new_context().new_page()
    login(page_b, live_app.url, boris)
    page_b.goto(f"{live_app.url}/calendar")
    page_b.get_by_role("button", name="Следующий день").click()
    expect(page_b.locator("[data-testid=calendar-day]")).to_contain_text(f"{tomorrow:%d.%m.%Y}")
    row_b = page_b.locator("[data-testid=calendar-row][data-slot=gem-dt]")
    expect(row_b.locator("[data-testid=calendar-bar]")).to_have_count(0)

    page_a = new_context().new_page()
    login(page_a, live_app.url, anna)
    _card(page_a, "gem-dt").locator("[data-testid=book-button]").click()
    dialog = page_a.get_by_role("dialog")
    expect(dialog).to_contain_text("Забронировать Gemini Ultra — Deep Think")
    # It opens on the next free half hour, never a past one, the date in dd.MM.yyyy.
    proposed_day, proposed_start = bookings.next_free_start("gem-dt", anna_id)
    expect(dialog.get_by_label("Дата")).to_contain_text(dates.numeric(proposed_day))
    expect(dialog.get_by_label("Время начала")).to_have_text(proposed_start)
    assert bookings.parse_start(proposed_day.isoformat(), proposed_start) > clock.now()
    dialog.get_by_label("Дата").click()
    picker = page_a.get_by_role("dialog", name="Выбор даты")
    expect(picker.locator("[data-testid=picker-month]")).to_contain_text(str(clock.local(clock.now()).year))
    shot(page_a, "booking-date-picker", full_page=False)
    page_a.get_by_role("button", name=dates.spoken(tomorrow)).click()
    expect(dialog.get_by_label("Дата")).to_contain_text(dates.numeric(tomorrow))
    dialog.get_by_label("Время начала").click()
    page_a.get_by_role("option", name="14:00").click()
    dialog.get_by_text("2 часа").click()
    shot(page_a, "booking-dialog", full_page=False)
    dialog.get_by_role("button", name="Забронировать").click()
    expect(page_a.get_by_text("Бронь подтверждена")).to_be_visible()
    expect(page_a.locator("[data-testid=my-booking]")).to_contain_text(f"{tomorrow:%d.%m.%Y} 14:00–16:00")

    # The other person's open calendar redraws by itself.
    expect(row_b.locator("[data-testid=calendar-bar]")).to_have_count(1, timeout=5000)
    expect(row_b.locator("[data-testid=calendar-bar]")).to_contain_text("Анна")
    shot(page_b, "calendar")

    # Booked time is covered by its bar; an overlapping request is refused and names the holder.
    row_b.locator("[data-testid=calendar-cell]").nth(9).click()  # 13:30, free
    dialog_b = page_b.get_by_role("dialog")
    expect(dialog_b.get_by_label("Время начала")).to_have_text("13:30")
    dialog_b.get_by_text("2 часа").click()
    dialog_b.get_by_role("button", name="Забронировать").click()
    expect(dialog_b.get_by_role("alert")).to_contain_text("Конфликт с бронью 14:00–16:00 (Анна)")

    # Anna cannot hold a second slot at the same time.
    _card(page_a, "nbp").locator("[data-testid=book-button]").click()
    dialog.get_by_label("Дата").click()
    page_a.get_by_role("button", name=dates.spoken(tomorrow)).click()
    dialog.get_by_label("Время начала").click()
    page_a.get_by_role("option", name="15:00").click()
    dialog.get_by_role("button", name="Забронировать").click()
    expect(dialog.get_by_role("alert")).to_contain_text("У вас уже есть бронь на это время: Gemini Ultra")
    dialog.get_by_role("button", name="Отмена").click()

    # The personal .ics feed carries the booking.
    href = page_a.context.new_page()
    href.goto(f"{live_app.url}/calendar")
    link = href.locator("[data-testid=ics-link]")
    expect(link).to_have_attribute("href", re.compile(r"^/calendar/feed/.+\.ics$"))
    feed = link.get_attribute("href")
    text = httpx.get(live_app.url + feed).text
    assert "BEGIN:VEVENT" in text and "Gemini Ultra — Deep Think" in text

    # Cancel with confirmation.
    page_a.locator("[data-testid=my-booking]").get_by_role("button").click()
    page_a.get_by_role("button", name="Отменить бронь").click()
    expect(page_a.get_by_text("Бронь отменена")).to_be_visible()
    expect(row_b.locator("[data-testid=calendar-bar]")).to_have_count(0, timeout=5000)


def test_queue_offer_goes_to_the_first_in_line_and_then_to_the_next(live_app, new_context, account):
    holder, first, second = account("Олег"), account("Первый"), account("Второй")
    page_h, page_1, page_2 = (new_context().new_page() for _ in range(3))
    login(page_h, live_app.url, holder)
    login(page_1, live_app.url, first)
    login(page_2, live_app.url, second)
    _card(page_h, "ppx-2").get_by_role("button", name="Занять").click()
    page_h.wait_for_url(f"{live_app.url}/session/ppx-2")

    _card(page_1, "ppx-2").get_by_role("button", name="В очередь").click()
    expect(page_1.get_by_text("Вы в очереди")).to_be_visible()
    _card(page_2, "ppx-2").get_by_role("button", name="В очередь (1)").click()
    expect(_card(page_2, "ppx-2").locator("[data-testid=queue-info]")).to_contain_text("Очередь: 2 · вы 2-й")

    page_h.get_by_role("button", name="Освободить").click()
    page_h.get_by_role("button", name="Да, завершить").click()

    expect(page_1.locator("[data-testid=offer-banner]")).to_contain_text("Perplexity Max #2", timeout=3000)
    expect(_card(page_2, "ppx-2").locator("[data-testid=slot-status]")).to_contain_text(
        "Предложен следующему в очереди"
    )
    expect(_card(page_2, "ppx-2").get_by_role("button", name="Занять")).to_have_count(0)
    shot(page_1, "queue-offer")

    # Nobody claims it: the window passes (moved forward in the database) and the next in line gets it.
    with session_scope() as session:
        session.exec(
            update(QueueEntry)
            .where(QueueEntry.slot_id == "ppx-2", QueueEntry.status == "offered")
            .values(offer_expires_at=clock.now() - timedelta(seconds=1))
        )
    expect(page_2.locator("[data-testid=offer-banner]")).to_be_visible(timeout=5000)
    expect(page_1.locator("[data-testid=offer-banner]")).to_have_count(0)
    page_2.locator("[data-testid=offer-banner]").get_by_role("button", name="Занять").click()
    page_2.wait_for_url(f"{live_app.url}/session/ppx-2")


def test_an_admin_cancels_someone_elses_booking_from_the_calendar(live_app, new_context, account):
    anna, boss = account("Анна"), account("Админ", admin=True, with_2fa=True)
    anna_id = auth.login(anna.username, anna.password).user.id
    tomorrow = (clock.local(clock.now()) + timedelta(days=1)).date()
    booking = bookings.create_booking(anna_id, "ppx-3", tomorrow.isoformat(), "10:00", 60)

    page = new_context().new_page()
    login(page, live_app.url, boss)
    page.goto(f"{live_app.url}/calendar")
    page.get_by_role("button", name="Следующий день").click()
    bar = page.locator("[data-testid=calendar-row][data-slot=ppx-3] [data-testid=calendar-bar]")
    expect(bar).to_contain_text("Анна")
    bar.click()
    # The confirmation names the slot, the day and the time.
    expect(page.get_by_role("alertdialog")).to_contain_text(
        f"Perplexity Max #3, {dates.with_weekday(tomorrow)}, 10:00–11:00 (Анна)"
    )
    page.get_by_role("button", name="Отменить бронь").click()
    expect(page.get_by_text("Бронь отменена")).to_be_visible()
    expect(bar).to_have_count(0)
    assert bookings.my_bookings(anna_id) == []
    assert booking.id not in {b.id for b in bookings.my_bookings(anna_id)}
