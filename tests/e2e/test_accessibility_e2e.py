"""People who use a screen reader, and people who read only Russian.

Every page, as an employee and as an admin, is checked by axe-core (vendored in tests/e2e/vendor,
MPL-2.0) for serious or critical violations and scanned for English or technical text that Reflex,
the browser or our own code could leak. Every form is filled by its labels alone, as a screen reader
user (or anyone who cannot see the layout) would find its fields.
"""

from __future__ import annotations

import re
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from services import bookings, dates, sessions, templates, users
from services.journal import KIND_LABELS
from tests.e2e.conftest import Account, login, shot
from tests.e2e.test_admin_templates_e2e import _free

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
# What Reflex, the browser or a raw identifier would show; none of it may reach a person.
ENGLISH = (
    "Cannot connect",
    "Connection Error",
    "Check if server",
    "websocket",
    "Page not found",
    "404: ",
    "Oops",
    "Notifications",
    "Close toast",
    "Return to Home",
    "Please fill",
    "Please match",
    "Please lengthen",
    "Backend is",
    "undefined",
    "NaN",
    "[object Object]",
    "demo",
    "vm:",
    *(kind for kind in KIND_LABELS if "_" in kind),
)
# Lets a test cut the page's event socket as a server restart would: the open socket closes and new
# ones fail to connect (they go to an address the server refuses) until the connection is restored.
CUTTABLE_SOCKET = """
(() => {
  const Native = window.WebSocket;
  const live = new Set();
  let cut = false;
  function Cuttable(url, protocols) {
    const ws = new Native(cut ? String(url).replace("/_event", "/_cut_event") : url, protocols);
    live.add(ws);
    ws.addEventListener("close", () => live.delete(ws));
    return ws;
  }
  Cuttable.prototype = Native.prototype;
  Object.assign(Cuttable, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = Cuttable;
  window.__cutConnection = () => { cut = true; live.forEach((ws) => ws.close()); };
  window.__restoreConnection = () => { cut = false; };
})();
"""
# A date the browser or Python would print in its own format (2026-11-26, 11/26/2026).
FOREIGN_DATE = re.compile(r"\b\d{4}-\d\d-\d\d\b|\b\d{1,2}/\d{1,2}/\d{4}\b")
# A dd.MM date without its year (26.11): every date a person reads is dd.MM.yyyy. Neither part of a
# whole date nor a price ($12.10) nor an address (10.10.0.1) matches.
YEARLESS_DATE = re.compile(r"(?<![\d.$])(?:0[1-9]|[12]\d|3[01])\.(?:0[1-9]|1[0-2])(?![\d]|\.\d)")


def _axe(page: Page) -> list[str]:
    """Serious and critical axe-core violations of the page as it is now, one line per rule."""
    found = page.evaluate(
        """async () => {
            const result = await axe.run(document, {resultTypes: ['violations']});
            return result.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' — '
                    + v.nodes.slice(0, 4).map(n => n.html.slice(0, 160) + ' [' + n.failureSummary + ']').join(' | '));
        }"""
    )
    return list(found)


def _foreign_text(page: Page) -> list[str]:
    # What is on the screen, and what a screen reader says for controls and regions.
    names = page.eval_on_selector_all(
        "[aria-label], [title], [placeholder]",
        "els => els.map(e => "
        "[e.getAttribute('aria-label'), e.getAttribute('title'), e.getAttribute('placeholder')].join(' '))",
    )
    text = page.locator("body").inner_text() + "\n" + "\n".join(names)
    found = [s for s in ENGLISH if s in text]
    found += FOREIGN_DATE.findall(text)
    found += [f"{d} without its year" for d in YEARLESS_DATE.findall(text)]
    # The browser's own English validation bubbles come from these attributes: validation is the server's.
    bubbles = page.locator("[required], [minlength], [pattern]").count()
    if bubbles:
        found.append(f"{bubbles} field(s) with browser validation attributes")
    return found


class Walk:
    """Checks each page it is shown and reports every problem at the end, not just the first."""

    def __init__(self, who: str) -> None:
        self.who = who
        self.problems: list[str] = []

    def check(self, page: Page, name: str) -> None:
        shot(page, f"a11y-{self.who}-{name}")
        self.problems += [f"{name}: {p}" for p in _axe(page)]
        self.problems += [f"{name}: text «{p}»" for p in _foreign_text(page)]

    def assert_clean(self) -> None:
        assert not self.problems, "\n".join(self.problems)


def _new_page(new_context) -> Page:
    ctx = new_context(viewport={"width": 1280, "height": 900})
    ctx.add_init_script(path=str(AXE))  # injected by the browser itself, so the page's CSP allows it
    return ctx.new_page()


def _card(page: Page, slot_id: str):
    return page.locator(f"[data-testid=slot-card][data-slot={slot_id}]")


def _user_id(acc: Account) -> int:
    return next(u.id for u in users.list_users() if u.username == acc.username)


def _common_pages(walk: Walk, page: Page, base: str) -> None:
    expect(page.locator("[data-testid=slot-card]").first).to_be_visible()
    walk.check(page, "dashboard")
    page.goto(f"{base}/calendar")
    expect(page.locator("[data-testid=calendar-day]")).to_be_visible()
    walk.check(page, "calendar")
    page.get_by_role("radio", name="Неделя").click()
    expect(page.locator("[data-testid=week-day]").first).to_be_visible()
    walk.check(page, "calendar-week")
    page.goto(f"{base}/profile")
    expect(page.locator("[data-testid=telegram-card]")).to_be_visible()
    walk.check(page, "profile")
    page.goto(f"{base}/no-such-page")
    expect(page.get_by_role("heading", name="Страница не найдена")).to_be_visible()
    walk.check(page, "404")


def test_every_page_as_an_employee_passes_axe_and_speaks_russian(live_app, new_context, account):
    _free("nb-drive")
    anna = account("Анна")
    walk = Walk("employee")
    page = _new_page(new_context)
    page.goto(f"{live_app.url}/login")
    expect(page.get_by_role("button", name="Войти")).to_be_visible()
    walk.check(page, "login")
    page.get_by_role("button", name="Войти").click()  # empty form: the server answers, in Russian
    expect(page.get_by_role("alert")).to_have_text("Введите логин")
    walk.check(page, "login-error")
    login(page, live_app.url, anna)
    _common_pages(walk, page, live_app.url)

    page.goto(f"{live_app.url}/")
    _card(page, "nb-drive").locator("[data-testid=book-button]").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    walk.check(page, "booking-dialog")
    page.keyboard.press("Escape")

    sessions.take_slot(_user_id(anna), "nb-drive")
    page.goto(f"{live_app.url}/session/nb-drive")
    expect(page.get_by_role("button", name="Освободить")).to_be_visible()
    walk.check(page, "session")
    page.get_by_role("button", name="Освободить").click()
    page.get_by_role("button", name="Да, завершить").click()
    expect(page.get_by_text("Сессия завершена").first).to_be_visible()
    walk.check(page, "session-end")
    walk.assert_clean()


def test_every_page_as_an_admin_passes_axe_and_speaks_russian(live_app, new_context, account):
    boss = account("Админ", admin=True, with_2fa=True)
    walk = Walk("admin")
    page = _new_page(new_context)
    login(page, live_app.url, boss)
    _common_pages(walk, page, live_app.url)
    page.goto(f"{live_app.url}/admin")
    expect(page.locator("[data-testid=usage-row]").first).to_be_visible()
    walk.check(page, "admin-usage")
    for tab, marker in (
        ("Сервисы", "service-row"),
        ("Пользователи", "user-row"),
        ("Шаблоны", "template-row"),
        ("Здоровье", "room-row"),
        ("Журнал", "audit-row"),
    ):
        page.get_by_role("tab", name=tab).click()
        expect(page.locator(f"[data-testid={marker}]").first).to_be_visible()
        walk.check(page, f"admin-{marker}")
    page.get_by_role("tab", name="Сервисы").click()
    page.get_by_role("button", name="+ Добавить сервис").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    walk.check(page, "admin-service-dialog")
    walk.assert_clean()


def _fill_by_labels(scope, values: dict[str, str]) -> None:
    for label, value in values.items():
        scope.get_by_label(label, exact=True).fill(value)


def test_every_form_is_filled_by_its_labels_alone(live_app, new_context, account):
    boss = account("Админ", admin=True, with_2fa=True)
    anna = account("Анна")
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()

    # Login: the server validates, in v4's words; the browser adds no English bubble of its own.
    page.goto(f"{live_app.url}/login")
    _fill_by_labels(page, {"Логин": boss.username, "Пароль": "123"})
    page.get_by_role("button", name="Войти").click()
    expect(page.get_by_role("alert")).to_have_text("Пароль минимум 4 символа")
    _fill_by_labels(page, {"Пароль": boss.password})
    page.get_by_label("Код 2FA").fill(boss.code())
    page.get_by_role("button", name="Войти").click()
    page.wait_for_url(f"{live_app.url}/")

    # Admin: a user, a service, a template.
    page.goto(f"{live_app.url}/admin")
    page.get_by_role("tab", name="Пользователи").click()
    page.get_by_role("button", name="+ Добавить пользователя").click()
    dialog = page.get_by_role("dialog")
    _fill_by_labels(dialog, {"Логин": "label.only", "Имя": "Лейбл Только", "Пароль": "label-only-pass"})
    admin_box = dialog.get_by_label("Администратор")
    admin_box.click()
    expect(admin_box).to_be_checked()
    dialog.get_by_role("button", name="Создать").click()
    expect(page.locator("[data-testid=user-row]", has_text="label.only")).to_contain_text("админ")

    # The service form: every field found by its label gets its value (not saved: the live app's slots
    # are shared by the other tests; saving is covered in tests/test_admin.py).
    page.get_by_role("tab", name="Сервисы").click()
    page.get_by_role("button", name="+ Добавить сервис").click()
    dialog = page.get_by_role("dialog")
    service = {
        "ID слота": ("id", "lbl-1"),
        "Название": ("service_name", "Label Service"),
        "Тариф": ("tier", "Pro"),
        "$/мес": ("monthly_cost", "20"),
        "Категория": ("category", "Код"),
        "Цвет": ("category_accent", "#22c55e"),
        "URL": ("url", "https://example.org/"),
        "Продление": ("renewal_date", "2026-12-31"),
        "Макс. сессия, мин": ("max_session_minutes", "120"),
        "Простой, мин": ("idle_minutes", "10"),
        "Логин подписки": ("login", "team@example.org"),
        "Пароль подписки": ("password", "subscription-pass"),
    }
    _fill_by_labels(dialog, {label: value for label, (_, value) in service.items()})
    for name, value in service.values():
        expect(dialog.locator(f"input[name={name}]")).to_have_value(value)
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog.get_by_role("alert")).to_contain_text("ДД.ММ.ГГГГ")  # the date as people write it
    dialog.get_by_role("button", name="Отмена").click()

    page.get_by_role("tab", name="Шаблоны").click()
    page.get_by_role("button", name="+ Создать шаблон").click()
    dialog = page.get_by_role("dialog")
    _fill_by_labels(dialog, {"Название": "По меткам", "URL (опционально)": "https://example.org/brief"})
    dialog.get_by_role("radio", name="🎬").click()
    lovable = dialog.get_by_role("group", name="Слоты").get_by_label("Lovable Team")
    lovable.click()  # checked by the server's answer, so click and wait rather than check()
    expect(lovable).to_be_checked()
    dialog.get_by_role("button", name="Создать").click()
    expect(page.locator("[data-testid=template-row]", has_text="По меткам")).to_contain_text("Lovable Team")
    boss_id = _user_id(boss)
    made = next(t for t in templates.all_templates(boss_id) if t.name == "По меткам")
    templates.delete_template(boss_id, made.id)  # other tests count the shared templates

    # An employee: the booking dialog and the profile's 2FA.
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, live_app.url, anna)
    anna_id = _user_id(anna)
    day, start = bookings.next_free_start("ppx-2", anna_id)
    _card(page, "ppx-2").locator("[data-testid=book-button]").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Дата").click()
    page.get_by_role("button", name=dates.spoken(day)).click()
    dialog.get_by_label("Время начала").click()
    page.get_by_role("option", name=start, exact=True).click()
    dialog.get_by_label("30 мин").click()
    expect(dialog.get_by_label("30 мин")).to_be_checked()
    dialog.get_by_role("button", name="Забронировать").click()
    expect(page.locator("[data-testid=my-booking]", has_text="Perplexity Max #2")).to_contain_text(
        f"{dates.numeric(day)} {start}"
    )
    for booking in bookings.my_bookings(anna_id):
        bookings.cancel_booking(anna_id, booking.id)

    page.goto(f"{live_app.url}/profile")
    page.get_by_role("button", name="Подключить 2FA").click()
    expect(page.locator("[data-testid=totp-secret]")).not_to_be_empty()
    secret = page.locator("[data-testid=totp-secret]").inner_text().replace(" ", "")
    page.get_by_label("Код из приложения").fill(pyotp.TOTP(secret).now())
    page.get_by_role("button", name="Подтвердить").click()
    expect(page.locator("[data-testid=two-factor-on]")).to_be_visible()


@pytest.mark.parametrize(
    "screen",
    [
        {"viewport": {"width": 1280, "height": 900}},
        {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3},
    ],
    ids=["desktop", "phone"],
)
def test_a_lost_connection_shows_our_banner_at_the_bottom_and_goes_when_it_returns(
    live_app, new_context, account, screen
):
    anna = account("Анна")
    ctx = new_context(**screen)
    ctx.add_init_script(CUTTABLE_SOCKET)
    page = ctx.new_page()
    login(page, live_app.url, anna)
    expect(page.locator("[data-testid=slot-card]").first).to_be_visible()
    page.evaluate("window.__cutConnection()")  # as on a server restart or a Wi-Fi drop
    banner = page.locator("[data-testid=connection-banner]")
    expect(banner).to_contain_text("Нет связи с сервером")  # it keeps trying, and says so
    height = screen["viewport"]["height"]
    box = banner.bounding_box()
    assert box is not None and box["y"] + box["height"] >= height - 1, "the banner belongs at the bottom of the screen"
    for control in ("Календарь", "Профиль", "Выйти"):
        found = page.get_by_label(control, exact=True).first.bounding_box()
        assert found is not None and found["y"] + found["height"] <= box["y"], f"the banner covers «{control}»"
    # Scrolled to its end, the page's last card comes out from under the banner.
    page.evaluate("window.scrollTo(0, document.scrollingElement.scrollHeight)")
    page.wait_for_function("Math.ceil(scrollY + innerHeight) >= document.scrollingElement.scrollHeight")
    last, box = page.locator("[data-testid=slot-card]").last.bounding_box(), banner.bounding_box()
    assert last["y"] + last["height"] <= box["y"], "the banner hides the end of the page"
    body = page.locator("body").inner_text()
    assert not [s for s in ENGLISH if s in body], body
    shot(page, f"connection-lost-{page.viewport_size['width']}", full_page=False)
    page.evaluate("window.__restoreConnection()")
    expect(banner).to_have_count(0)  # gone once the socket connects again


def test_an_unknown_address_shows_our_404_with_a_way_home(live_app, new_context):
    page = new_context().new_page()
    page.goto(f"{live_app.url}/no/such/page")
    expect(page.get_by_role("heading", name="Страница не найдена")).to_be_visible()
    expect(page).to_have_title(re.compile("Страница не найдена"))
    page.get_by_role("link", name="На главную").click()
    page.wait_for_url(f"{live_app.url}/login")  # home, which asks a stranger to log in first


def test_a_page_that_fails_to_render_gets_our_russian_screen(live_app, new_context):
    """Reflex's crash screen is English («An error occurred while rendering this page», a «Copy»
    button, a link to reflex.dev); the scripts a browser loads carry ours instead."""
    page = new_context().new_page()
    scripts: list[str] = []
    page.on("response", lambda r: scripts.append(r.text()) if r.url.endswith(".js") and r.ok else None)
    page.goto(f"{live_app.url}/login")
    expect(page.get_by_role("button", name="Войти")).to_be_visible()
    shipped = "\n".join(scripts)
    assert "Страница не смогла открыться" in shipped
    assert "An error occurred while rendering" not in shipped
