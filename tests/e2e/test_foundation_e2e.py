"""A person's path through the foundation: login with 2FA, the live board, a session."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from tests.e2e.conftest import login, shot


def _card(page, slot_id: str):
    return page.locator(f"[data-testid=slot-card][data-slot={slot_id}]")


def test_pages_behind_login_send_a_stranger_to_the_login_page(live_app, new_context):
    page = new_context().new_page()
    for path in ("/", "/session/ppx-1", "/session-end/1"):
        page.goto(live_app.url + path)
        page.wait_for_url(f"{live_app.url}/login")
    expect(page.get_by_text("Портал бронирования AI-сервисов")).to_be_visible()
    shot(page, "login")


def test_login_with_2fa_rejects_a_wrong_code_then_shows_the_dashboard(live_app, new_context, account):
    boss = account("Борис", admin=True, with_2fa=True)
    page = new_context().new_page()
    page.goto(f"{live_app.url}/login")
    page.locator("#username").fill(boss.username)
    page.locator("#password").fill(boss.password)
    page.locator("#totp_code").fill("000000" if boss.code() != "000000" else "111111")
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_contain_text("Неверный код 2FA")
    page.locator("#totp_code").fill(boss.code())
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(f"{live_app.url}/")
    expect(page.get_by_text("Привет,")).to_contain_text("Борис")
    expect(page.locator("[data-testid=category-group]")).to_have_count(5)
    expect(page.locator("[data-testid=category-group]").first).to_contain_text("РЕСЕРЧ")
    expect(page.locator("[data-testid=slot-card]")).to_have_count(10)
    shot(page, "dashboard")


def test_admin_without_2fa_is_led_to_enrolment_and_cannot_skip_it(live_app, new_context, account):
    import pyotp

    boss = account("Вера", admin=True, onboarded=False)
    page = new_context().new_page()
    login(page, live_app.url, boss, expect_path="/2fa")
    expect(page.get_by_text("Подключите двухфакторную защиту")).to_be_visible()
    expect(page.get_by_role("button", name="Пропустить пока")).to_have_count(0)
    page.goto(f"{live_app.url}/")  # the guard sends an admin without 2FA back
    page.wait_for_url(f"{live_app.url}/2fa")
    # The secret is filled in by the page's on_load: wait for it rather than read a blank.
    expect(page.locator("[data-testid=totp-secret]")).to_have_text(re.compile(r"[A-Z2-7]{26,}"))
    secret = page.locator("[data-testid=totp-secret]").inner_text().strip()
    shot(page, "enrol-2fa")
    page.get_by_placeholder("123456").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Подтвердить").click()
    # First run continues with the guide, resuming after the step just done.
    page.wait_for_url(f"{live_app.url}/onboarding")
    expect(page.get_by_text("Шаг 2 из 4")).to_be_visible()
    expect(page.get_by_role("heading", name="Привяжите Telegram")).to_be_visible()
    shot(page, "onboarding-telegram")
    page.get_by_role("button", name="Пропустить").click()
    expect(page.get_by_role("heading", name="Добавьте на рабочий стол")).to_be_visible()
    page.get_by_role("button", name="Далее").click()
    expect(page.get_by_role("heading", name="Как это работает")).to_be_visible()
    page.get_by_role("button", name="Начать работу").click()
    page.wait_for_url(f"{live_app.url}/")
    expect(page.locator("[data-testid=slot-card]")).to_have_count(10)
    # Done once: the next visit goes straight to the dashboard.
    page.goto(f"{live_app.url}/login")
    page.wait_for_url(f"{live_app.url}/")


def test_a_take_reaches_another_users_tab_within_a_second_and_release_ends_the_session(live_app, new_context, account):
    anna, boris = account("Анна"), account("Борис")
    page_a = new_context().new_page()
    page_b = new_context().new_page()
    login(page_a, live_app.url, anna)
    login(page_b, live_app.url, boris)
    expect(_card(page_b, "nbp")).to_have_attribute("data-busy", "false")

    _card(page_a, "nbp").get_by_role("button", name="Занять").click()
    page_a.wait_for_url(f"{live_app.url}/session/nbp")
    taken_at = time.monotonic()
    expect(_card(page_b, "nbp")).to_have_attribute("data-busy", "true", timeout=1000)
    seen_after = time.monotonic() - taken_at
    expect(_card(page_b, "nbp")).to_contain_text("Занято: Анна")
    assert seen_after < 1.0
    # Boris cannot take it; the refusal names the holder.
    expect(_card(page_b, "nbp").get_by_role("button", name="Занять")).to_have_count(0)

    frame = page_a.frame_locator("[data-testid=room-frame]")
    expect(frame.locator("#room-title")).to_have_text("Nano Banana Pro")
    expect(page_a.get_by_text("демо-комната")).to_be_visible()
    expect(page_a.locator("[data-testid=session-timer]")).to_have_text("00:00:01", timeout=5000)
    room_url = page_a.locator("[data-testid=room-frame]").get_attribute("src")
    shot(page_a, "session")

    # Back on the dashboard, Anna sees the way back to her session.
    page_a.goto(f"{live_app.url}/")
    expect(page_a.locator("[data-testid=active-session-banner]")).to_contain_text("Nano Banana Pro")
    page_a.locator("[data-testid=active-session-banner]").get_by_role("link").click()
    page_a.wait_for_url(f"{live_app.url}/session/nbp")

    page_a.get_by_role("button", name="Освободить").click()
    page_a.get_by_role("button", name="Да, завершить").click()
    page_a.wait_for_url(f"{live_app.url}/session-end/*")
    summary = page_a.locator("[data-testid=session-summary]")
    expect(summary).to_contain_text("Nano Banana Pro")
    expect(summary).to_contain_text("меньше минуты")
    expect(summary).to_contain_text("Вы завершили сессию")
    shot(page_a, "session-end")
    expect(_card(page_b, "nbp")).to_have_attribute("data-busy", "false", timeout=1000)
    # The room URL was a one-time credential: it is dead now.
    assert page_a.request.get(live_app.url + room_url).status == 403


def test_admin_force_release_is_noticed_on_the_users_session_page(live_app, new_context, account):
    anna, boss = account("Анна"), account("Админ", admin=True, with_2fa=True)
    page_a = new_context().new_page()
    login(page_a, live_app.url, anna)
    _card(page_a, "hf-1").get_by_role("button", name="Занять").click()
    page_a.wait_for_url(f"{live_app.url}/session/hf-1")
    expect(page_a.locator("[data-testid=room-frame]")).to_be_visible()

    page_admin = new_context().new_page()
    login(page_admin, live_app.url, boss)
    _card(page_admin, "hf-1").get_by_role("button", name="Освободить").click()
    page_admin.get_by_role("button", name="Да, освободить").click()
    expect(page_admin.get_by_text("принудительно освобождён")).to_be_visible()

    expect(page_a.locator("[data-testid=session-ended-overlay]")).to_be_visible(timeout=3000)
    shot(page_a, "session-ended-elsewhere")
    page_a.wait_for_url(f"{live_app.url}/session-end/*", timeout=10_000)
    expect(page_a.locator("[data-testid=session-summary]")).to_contain_text("Слот освободил администратор")


def test_favourite_star_persists_across_reloads(live_app, new_context, account):
    anna = account("Анна")
    page = new_context().new_page()
    login(page, live_app.url, anna)
    expect(page.locator("[data-testid=favourite-chip]")).to_have_count(0)
    _card(page, "gpt-1").locator("[data-testid=favourite-toggle]").click()
    expect(page.locator("[data-testid=favourite-chip]")).to_have_count(1)
    page.reload()
    expect(page.locator("[data-testid=favourite-chip]")).to_contain_text("ChatGPT Pro")


def test_phone_screen_shows_one_column(live_app, new_context, account):
    anna = account("Анна")
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    login(page, live_app.url, anna)
    cards = page.locator("[data-testid=slot-card]")
    expect(cards).to_have_count(10)
    xs = {round(cards.nth(i).bounding_box()["x"]) for i in range(3)}
    assert len(xs) == 1
    width = cards.first.bounding_box()["width"]
    assert width > 300
    shot(page, "dashboard-phone")


def test_a_tab_that_reconnects_catches_up(live_app, new_context, account):
    anna, boris = account("Анна"), account("Борис")
    ctx_b = new_context()
    page_a, page_b = new_context().new_page(), ctx_b.new_page()
    login(page_a, live_app.url, anna)
    login(page_b, live_app.url, boris)
    ctx_b.set_offline(True)
    _card(page_a, "lov-1").get_by_role("button", name="Занять").click()
    page_a.wait_for_url(f"{live_app.url}/session/lov-1")
    ctx_b.set_offline(False)
    expect(_card(page_b, "lov-1")).to_have_attribute("data-busy", "true", timeout=15_000)


def test_logout_revokes_the_login_on_the_server(live_app, new_context, account):
    from services import auth

    anna = account("Анна")
    ctx = new_context()
    page = ctx.new_page()
    login(page, live_app.url, anna)
    token = next(c["value"] for c in ctx.cookies() if c["name"] == "vdi_token")
    assert auth.resolve_token(token) is not None
    page.get_by_role("button", name="Выйти").click()
    page.wait_for_url(f"{live_app.url}/login")
    assert auth.resolve_token(token) is None
    # Even a copy of the old cookie no longer opens the dashboard.
    ctx.add_cookies([{"name": "vdi_token", "value": token, "url": live_app.url}])
    page.goto(f"{live_app.url}/")
    page.wait_for_url(f"{live_app.url}/login")
