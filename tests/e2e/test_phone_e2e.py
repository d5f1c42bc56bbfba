"""The main journeys on a phone (390 px, touch, 3x pixels), and every page at 360/390/430 px:
no sideways scroll, and every button, link and field on screen and at least 40 px high."""

from __future__ import annotations

import itertools
from datetime import timedelta

from playwright.sync_api import Page, expect

from services import dates, sessions, users
from services.core import clock
from tests.e2e.conftest import login, shot
from tests.e2e.test_accessibility_e2e import YEARLESS_DATE
from tests.e2e.test_admin_templates_e2e import _free

PHONE_WIDTHS = (360, 390, 430)
DESKTOP = {"viewport": {"width": 1366, "height": 800}}
# Each admin tab, and a row that shows its data has arrived.
ADMIN_TABS = (
    ("Загрузка", "usage", "usage-row"),
    ("Сервисы", "services", "service-row"),
    ("Пользователи", "users", "user-row"),
    ("Шаблоны", "templates", "template-row"),
    ("Здоровье", "health", "room-row"),
    ("Журнал", "audit", "audit-row"),
)

# Everything a finger may need: the tap target of a radio or checkbox is its label, of a text field its frame.
LAYOUT_PROBLEMS = """() => {
  const problems = [];
  const width = window.innerWidth;
  const scroll = document.scrollingElement.scrollWidth;
  if (scroll > width) problems.push(`page scrolls sideways: ${scroll} > ${width}`);
  const scrollsInside = (el) => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const o = getComputedStyle(p).overflowX;
      if (o === 'auto' || o === 'scroll') return true;
    }
    return false;
  };
  const selector = 'button, a[href], input:not([type=hidden]), select, textarea, [role=tab], [role=combobox]';
  for (const el of document.querySelectorAll(selector)) {
    if (el.closest('[aria-hidden=true]')) continue;
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') continue;
    const own = el.getBoundingClientRect();
    if (own.width < 2 || own.height < 2) continue;  // not rendered, or a visually hidden native control
    const target = el.closest('label') || el.closest('.rt-TextFieldRoot') || el;
    const r = target.getBoundingClientRect();
    const name = (el.getAttribute('aria-label') || el.innerText || el.value || el.tagName).trim().slice(0, 40);
    if (r.height < 39.5) problems.push(`${name}: ${Math.round(r.height)} px high`);
    if ((r.left < -1 || r.right > width + 1) && !scrollsInside(el)) {
      problems.push(`${name}: off screen (${Math.round(r.left)}..${Math.round(r.right)})`);
    }
  }
  return problems;
}"""


def _phone(width: int) -> dict:
    return {"viewport": {"width": width, "height": 844}, "is_mobile": True, "has_touch": True, "device_scale_factor": 3}


def _settle(page: Page) -> None:
    """The page has drawn its content (no loading spinner left) and its fonts."""
    expect(page.get_by_text("Загрузка…")).to_have_count(0)
    page.evaluate("document.fonts.ready.then(() => true)")


def _check(page: Page, where: str, width: int | None, problems: dict[str, list[str]]) -> None:
    _settle(page)
    yearless = YEARLESS_DATE.findall(page.locator("body").inner_text())
    if yearless:
        problems[f"{where} @ {width or 'desktop'}"] = [f"{d}: a date without its year" for d in yearless]
    if width is None:
        shot(page, f"page-{where}-desktop")
        return
    found = page.evaluate(LAYOUT_PROBLEMS)
    if found:
        problems[f"{where} @ {width}"] = sorted(set(found))
    if width == 390:
        shot(page, f"page-{where}-phone")


def _walk(page: Page, url: str, width: int | None, slot: str, problems: dict[str, list[str]]) -> None:
    """Every page an admin can open, the session page included, and its release dialog."""
    page.goto(f"{url}/")
    expect(page.locator("[data-testid=slot-card]")).to_have_count(10)
    _check(page, "dashboard", width, problems)

    page.locator(f"[data-testid=slot-card][data-slot={slot}]").get_by_role("button", name="Занять").click()
    page.wait_for_url(f"{url}/session/{slot}")
    expect(page.locator("[data-testid=room-frame]")).to_be_visible()
    _check(page, "session", width, problems)
    page.get_by_role("button", name="Освободить").click()
    expect(page.get_by_role("button", name="Да, завершить")).to_be_visible()
    page.wait_for_timeout(300)  # the dialog's opening animation (a slight zoom), then measure
    found = page.evaluate(LAYOUT_PROBLEMS) if width else []
    if found:
        problems[f"release dialog @ {width}"] = sorted(set(found))
    shot(page, f"page-release-dialog-{'phone' if width == 390 else width or 'desktop'}", full_page=False)
    page.get_by_role("button", name="Да, завершить").click()
    page.wait_for_url(f"{url}/session-end/*")
    expect(page.locator("[data-testid=session-summary]")).to_be_visible()
    _check(page, "session-end", width, problems)

    page.goto(f"{url}/calendar")
    expect(page.locator("[data-testid=calendar-row]")).to_have_count(10)
    _check(page, "calendar", width, problems)
    page.get_by_role("radio", name="Неделя").click()
    expect(page.locator("[data-testid=calendar-week-view]")).to_be_visible()
    if width:  # the day strip shows day numbers; the day shown is named in full above its column
        expect(page.locator("[data-testid=phone-day-date]")).to_have_text(f"{dates.short(clock.today())}")
    _check(page, "calendar-week", width, problems)

    page.goto(f"{url}/profile")
    expect(page.get_by_role("heading", name="Профиль")).to_be_visible()
    _check(page, "profile", width, problems)

    page.goto(f"{url}/admin")
    for label, tab, row in ADMIN_TABS:
        page.get_by_role("tab", name=label).click()
        expect(page.get_by_role("tabpanel").locator(f"[data-testid={row}]").first).to_be_visible()
        _check(page, f"admin-{tab}", width, problems)

    page.goto(f"{url}/no-such-page")
    _check(page, "404", width, problems)


def test_every_page_fits_a_phone_and_every_target_is_tappable(live_app, new_context, account):
    problems: dict[str, list[str]] = {}
    for width in (*PHONE_WIDTHS, None):
        boss = account("Админ Телефонов", admin=True, with_2fa=True)
        page = new_context(**(_phone(width) if width else DESKTOP)).new_page()
        page.goto(f"{live_app.url}/login")
        _check(page, "login", width, problems)
        login(page, live_app.url, boss)
        _walk(page, live_app.url, width, "ppx-1", problems)

        # A newcomer's first run: the guide.
        newcomer = account("Новичок", onboarded=False)
        fresh = new_context(**(_phone(width) if width else DESKTOP)).new_page()
        login(fresh, live_app.url, newcomer, expect_path="/onboarding")
        _check(fresh, "onboarding", width, problems)
    assert not problems, "\n".join(f"{where}: {p}" for where, found in problems.items() for p in found)


def test_a_day_on_a_phone_take_release_book_cancel_and_an_admin_action(live_app, new_context, account):
    _free("ppx-2")  # the live app is shared: an earlier test may have left the slot taken
    anna = account("Анна")
    page = new_context(**_phone(390)).new_page()
    login(page, live_app.url, anna)

    # Take a slot: the room gets the screen, the controls fit one compact bar.
    page.locator("[data-testid=slot-card][data-slot=ppx-2]").get_by_role("button", name="Занять").click()
    page.wait_for_url(f"{live_app.url}/session/ppx-2")
    expect(page.locator("[data-testid=room-frame]")).to_be_visible()
    bar = page.locator("[data-testid=session-bar]").bounding_box()
    assert bar["width"] <= 390 and bar["height"] <= 64
    name = page.locator("[data-testid=session-name]")
    expect(name).to_have_text("Perplexity Max #2")
    assert name.bounding_box()["height"] < 30  # one line
    room = page.locator("[data-testid=room-frame]").bounding_box()
    assert room["height"] >= 844 - 80 and room["width"] == 390
    for control in ("Во весь экран", "Освободить"):
        box = page.get_by_role("button", name=control).bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 40, control

    # Release from the compact bar; the confirmation is centred and whole.
    page.get_by_role("button", name="Освободить").tap()
    confirm = page.get_by_role("alertdialog")
    expect(confirm.get_by_role("button", name="Да, завершить")).to_be_visible()
    page.wait_for_timeout(300)  # its opening animation
    box = confirm.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    assert abs(box["x"] - (390 - box["x"] - box["width"])) <= 2  # centred
    yes = confirm.get_by_role("button", name="Да, завершить").bounding_box()
    assert yes["x"] + yes["width"] <= 390 and yes["height"] >= 40
    confirm.get_by_role("button", name="Да, завершить").tap()
    page.wait_for_url(f"{live_app.url}/session-end/*")
    expect(page.locator("[data-testid=session-summary]")).to_contain_text("Perplexity Max #2")

    # From the board too: the own slot offers release beside «Вернуться к сессии».
    page.goto(f"{live_app.url}/")
    card = page.locator("[data-testid=slot-card][data-slot=ppx-2]")
    card.get_by_role("button", name="Занять").tap()
    page.wait_for_url(f"{live_app.url}/session/ppx-2")
    page.locator("[data-testid=session-bar]").get_by_role("link", name="На дашборд").tap()
    page.wait_for_url(f"{live_app.url}/")
    expect(card.get_by_role("button", name="Вернуться к сессии")).to_be_visible()
    card.get_by_role("button", name="Освободить").tap()
    page.get_by_role("button", name="Да, завершить").tap()
    page.wait_for_url(f"{live_app.url}/session-end/*")
    expect(page.locator("[data-testid=session-summary]")).to_contain_text("Вы завершили сессию")
    page.goto(f"{live_app.url}/")
    expect(card).to_have_attribute("data-busy", "false")

    # Book tomorrow at 14:00 from the calendar, then cancel it from the board.
    tomorrow = (clock.local(clock.now()) + timedelta(days=1)).date()
    page.goto(f"{live_app.url}/calendar")
    page.get_by_role("button", name="Следующий день").tap()
    expect(page.locator("[data-testid=calendar-day]")).to_contain_text(f"{tomorrow:%d.%m.%Y}")
    row = page.locator("[data-testid=calendar-row][data-slot=ppx-2]")
    row.get_by_role("button", name="Забронировать Perplexity Max #2 с 14:00").tap()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_label("Дата")).to_contain_text(dates.numeric(tomorrow))
    expect(dialog.get_by_label("Время начала")).to_have_text("14:00")
    shot(page, "phone-booking-dialog", full_page=False)
    dialog.get_by_role("button", name="Забронировать").tap()
    expect(page.get_by_text("Бронь подтверждена")).to_be_visible()
    expect(row.locator("[data-testid=calendar-bar]")).to_contain_text("Анна")
    page.goto(f"{live_app.url}/")
    mine = page.locator("[data-testid=my-booking]")
    expect(mine).to_contain_text(f"{dates.numeric(tomorrow)} 14:00")
    mine.get_by_role("button", name="Отменить бронь").tap()
    page.get_by_role("alertdialog").get_by_role("button", name="Отменить бронь").tap()
    expect(page.get_by_text("Бронь отменена")).to_be_visible()
    expect(mine).to_have_count(0)

    # An admin, on a phone, switches an account off from the users' cards.
    boss = account("Админ", admin=True, with_2fa=True)
    victim = account("Отключаемый")
    admin = new_context(**_phone(390)).new_page()
    login(admin, live_app.url, boss)
    admin.goto(f"{live_app.url}/admin")
    admin.get_by_role("tab", name="Пользователи").tap()
    row = admin.locator("[data-testid=user-row]").filter(has_text=victim.username)
    expect(row).to_be_visible()
    row.get_by_role("button", name="Отключить").tap()
    admin.get_by_role("alertdialog").get_by_role("button", name="Да").tap()
    expect(row).to_contain_text("отключён")
    assert admin.evaluate("document.scrollingElement.scrollWidth <= innerWidth")
    shot(admin, "phone-admin-user-disabled")


def test_at_360_px_the_session_bar_shows_a_long_slot_name_whole(live_app, new_context, account):
    """The compact bar gives the name two lines of smaller type instead of «Perplexity M…»; it grows
    no taller than a thumb's row, and its controls stay whole and tappable."""
    anna = account("Анна")
    anna_id = next(u.id for u in users.list_users() if u.username == anna.username)
    page = new_context(**_phone(360)).new_page()
    login(page, live_app.url, anna)
    for slot_id, name in (("ppx-3", "Perplexity Max #3"), ("hf-1", "Higgsfield Ultimate")):
        _free(slot_id)
        sessions.take_slot(anna_id, slot_id)
        page.goto(f"{live_app.url}/session/{slot_id}")
        expect(page.locator("[data-testid=room-frame]")).to_be_visible()
        shown = page.locator("[data-testid=session-name]")
        expect(shown).to_have_text(name)
        _settle(page)
        clipped = shown.evaluate("e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1")
        assert not clipped, f"«{name}» is cut at 360 px"
        bar = page.locator("[data-testid=session-bar]").bounding_box()
        assert bar["height"] <= 64, f"the bar grew to {bar['height']} px"
        assert not page.evaluate(LAYOUT_PROBLEMS)
        shot(page, f"phone-360-session-{slot_id}", full_page=False)
        sessions.release_slot(anna_id, slot_id)


# Each usage chart as a phone shows it: its width, its plot's width, and its slot-name ticks.
USAGE_CHARTS = """() => [...document.querySelectorAll('.recharts-wrapper')].map(chart => {
  const box = chart.getBoundingClientRect();
  const grid = chart.querySelector('.recharts-cartesian-grid').getBoundingClientRect();
  const ticks = [...chart.querySelectorAll('.recharts-yAxis-tick-labels text')].map(t => {
    const r = t.getBoundingClientRect();
    const size = parseFloat(getComputedStyle(t).fontSize);
    const text = [...t.querySelectorAll('tspan')].map(l => l.textContent).join(' ') || t.textContent;
    return {text, top: r.top, bottom: r.bottom, left: r.left, size};
  });
  return {left: box.left, top: box.top, width: box.width, plot: grid.width, ticks};
})"""


def test_usage_charts_are_readable_on_a_phone(live_app, new_context, account):
    """At 390 px the admin's usage charts stand one under another across the screen, with room for the
    bars, and every slot name on the axis is legible and clear of its neighbours."""
    boss = account("Админ", admin=True, with_2fa=True)
    page = new_context(**_phone(390)).new_page()
    login(page, live_app.url, boss)
    page.goto(f"{live_app.url}/admin")
    expect(page.locator("[data-testid=usage-row]").first).to_be_visible()
    _settle(page)
    # The charts draw their axes once they have measured their box.
    page.wait_for_function(f"({USAGE_CHARTS})().filter(c => c.ticks.length).length === 3")
    charts = page.evaluate(USAGE_CHARTS)
    assert len(charts) == 3
    assert [c["left"] for c in charts] == [charts[0]["left"]] * 3, "the charts stand one under another"
    assert charts[0]["top"] < charts[1]["top"] < charts[2]["top"]
    problems = []
    for i, chart in enumerate(charts, 1):
        if chart["width"] < 390 - 2 * 16 - 2 * 14:
            problems.append(f"chart {i} is {chart['width']:.0f} px wide, not the screen's width")
        if chart["plot"] < chart["width"] * 0.5:
            problems.append(f"chart {i}: the bars get {chart['plot']:.0f} of {chart['width']:.0f} px")
        ticks = sorted(chart["ticks"], key=lambda t: t["top"])
        assert len(ticks) >= 10, ticks  # a name for each slot
        problems += [f"chart {i}: «{t['text']}» at {t['size']} px" for t in ticks if t["size"] < 12]
        crowded = [(a, b) for a, b in itertools.pairwise(ticks) if a["bottom"] > b["top"]]
        problems += [f"chart {i}: «{a['text']}» runs into «{b['text']}»" for a, b in crowded]
        problems += [f"chart {i}: «{t['text']}» leaves the screen" for t in ticks if t["left"] < 0]
    problems += page.evaluate(LAYOUT_PROBLEMS)
    shot(page, "phone-admin-usage")
    assert not problems, "\n".join(problems)
