"""Templates from the admin tab to the dashboard launch; the utilisation tab; users created by an admin."""

from __future__ import annotations

import csv
import io
import re

from playwright.sync_api import expect
from sqlmodel import select

from services import auth, board, queue, session_views, sessions, templates, users
from services.core.db import session_scope
from services.core.models import SlotSession
from tests.e2e.conftest import login, shot

TEMPLATE_SLOTS = ("gem-veo", "gpt-1", "hf-1")


def _free(*slot_ids: str) -> None:
    """Earlier tests may have left these slots taken; start from free ones."""
    with session_scope() as session:
        running = session.exec(
            select(SlotSession.id).where(SlotSession.slot_id.in_(slot_ids), SlotSession.ended_at.is_(None))
        ).all()
    for session_id in running:
        sessions.end_session(session_id, "released")


def test_admin_creates_a_template_and_a_user_launches_it_with_one_busy_slot(live_app, new_context, account):
    _free(*TEMPLATE_SLOTS)
    boss, anna, boris = account("Админ", admin=True, with_2fa=True), account("Анна"), account("Борис")
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, live_app.url, boss)
    page.goto(f"{live_app.url}/admin")
    page.get_by_role("tab", name="Шаблоны").click()
    expect(page.locator("[data-testid=template-row]")).to_have_count(3)  # the demo ones
    page.get_by_role("button", name="+ Создать шаблон").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Создать").click()
    expect(dialog.get_by_role("alert")).to_contain_text("Введите название")
    dialog.locator("input[name=name]").fill("Видео-презентация")
    dialog.get_by_role("radio", name="🎬").click()
    for name in ("Veo + Flow (видео)", "ChatGPT Pro — o3-pro", "Higgsfield Ultimate"):
        dialog.get_by_role("checkbox", name=name).click()
    dialog.locator("input[name=url]").fill("ftp://nope")
    dialog.get_by_role("button", name="Создать").click()
    expect(dialog.get_by_role("alert")).to_contain_text("http://")
    dialog.locator("input[name=url]").fill("https://example.org/brief")
    dialog.get_by_role("button", name="Создать").click()
    row = page.locator("[data-testid=template-row]", has_text="Видео-презентация")
    expect(row).to_contain_text("Veo + Flow (видео) + ChatGPT Pro — o3-pro + Higgsfield Ultimate")
    shot(page, "admin-templates")
    boss_id = next(u.id for u in users.list_users() if u.username == boss.username)
    template = next(t for t in templates.all_templates(boss_id) if t.name == "Видео-презентация")
    assert template.owner_id is None  # made in the admin panel: shared
    assert (template.icon, template.url, template.slot_ids) == ("🎬", "https://example.org/brief", list(TEMPLATE_SLOTS))

    boris_id = auth.login(boris.username, boris.password).user.id
    sessions.take_slot(boris_id, "hf-1")
    anna_page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(anna_page, live_app.url, anna)
    card = anna_page.locator("[data-testid=template-card]", has_text="Видео-презентация")
    card.get_by_role("button", name="Запустить").click()
    report = anna_page.get_by_role("dialog")
    expect(report).to_contain_text("Занято слотов: 2")
    expect(report.locator("[data-testid=skipped-slot]")).to_contain_text("Higgsfield Ultimate")
    expect(report.locator("[data-testid=skipped-slot]")).to_contain_text("Борис")
    shot(anna_page, "template-launch-report")
    report.get_by_role("button", name="Встать в очередь на занятые").click()
    anna_page.wait_for_url(re.compile(rf"{live_app.url}/session/gem-veo\?template={template.id}$"))
    expect(anna_page.get_by_text("Вы в очереди")).to_be_visible()
    anna_id = auth.login(anna.username, anna.password).user.id
    with session_scope() as session:
        assert queue.position(session, "hf-1", anna_id) == 1
    assert {w.slot_id for w in session_views.active_sessions_of(anna_id)} == {"gem-veo", "gpt-1"}

    switcher = anna_page.locator("[data-testid=slot-switcher]")
    expect(switcher.locator("[data-testid=switch-slot]")).to_have_count(2)
    expect(switcher).to_contain_text("https://example.org/brief")
    expect(anna_page.locator("[data-testid=room-frame]")).to_be_visible()
    shot(anna_page, "session-switcher")
    switcher.get_by_text("ChatGPT Pro — o3-pro").click()
    anna_page.wait_for_url(re.compile(rf"{live_app.url}/session/gpt-1\?template={template.id}$"))
    expect(anna_page.locator("[data-testid=room-frame]")).to_be_visible()
    expect(switcher.locator("[aria-current=page]")).to_contain_text("ChatGPT Pro")
    # Releasing one of them leads back to the other from the summary.
    anna_page.get_by_role("button", name="Освободить").click()
    anna_page.get_by_role("alertdialog").get_by_role("button", name="Да, завершить").click()
    anna_page.wait_for_url(re.compile(rf"{live_app.url}/session-end/\d+"))
    still_open = anna_page.locator("[data-testid=still-open]")
    expect(still_open).to_contain_text("Veo + Flow (видео)")
    shot(anna_page, "session-end-still-open")
    still_open.get_by_role("button", name="Veo + Flow (видео)").click()
    anna_page.wait_for_url(f"{live_app.url}/session/gem-veo")
    expect(anna_page.locator("[data-testid=room-frame]")).to_be_visible()

    page.reload()
    page.get_by_role("tab", name="Шаблоны").click()
    row = page.locator("[data-testid=template-row]", has_text="Видео-презентация")
    expect(row.locator("td").nth(4)).to_have_text("1")
    row.get_by_role("button", name="Удалить").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Удалить").click()
    expect(page.locator("[data-testid=template-row]", has_text="Видео-презентация")).to_have_count(0)
    # Leave the line first: otherwise freeing hf-1 would offer it to Anna and keep it from others.
    queue.leave_queue(anna_id, "hf-1")
    _free(*TEMPLATE_SLOTS)


def test_usage_tab_shows_charts_heat_map_and_exports_csv(live_app, new_context, account):
    boss = account("Админ", admin=True, with_2fa=True)
    anna = account("Анна")
    anna_id = auth.login(anna.username, anna.password).user.id
    _free("gem-veo")
    sessions.take_slot(anna_id, "gem-veo")
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, live_app.url, boss)
    page.goto(f"{live_app.url}/admin")
    expect(page.locator("[data-testid=usage-row]")).to_have_count(10)
    expect(page.locator(".recharts-surface").first).to_be_visible()
    expect(page.locator("[data-testid=heat-map]")).to_contain_text("Пн")
    # The demo slots were added today: too little history to judge them, and the tab says so.
    expect(page.locator("[data-testid=usage-history]")).to_contain_text("Рекомендаций пока нет")
    expect(page.get_by_text("рассмотрите отказ")).to_have_count(0)
    page.get_by_role("radio", name="30 дней").click()
    expect(page.get_by_role("radio", name="30 дней")).to_be_checked()
    shot(page, "admin-usage")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="CSV").click()
    download = download_info.value
    assert download.suggested_filename.startswith("vdi-taxi-usage-month-")
    text = download.path().read_text(encoding="utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[1][:2] == ["slot_id", "Сервис"]
    assert {r[0] for r in rows[2:]} >= {"ppx-1", "gem-veo", "lov-1"}
    sessions.release_slot(anna_id, "gem-veo")


def test_admin_adds_a_user_who_can_then_log_in(live_app, new_context, account):
    boss = account("Админ", admin=True, with_2fa=True)
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    login(page, live_app.url, boss)
    page.goto(f"{live_app.url}/admin")
    expect(page.locator("[data-testid=usage-row]").first).to_be_visible()
    # Nothing wider than the phone's screen but the tables, which scroll inside their box.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "admin-usage-phone")
    page.get_by_role("tab", name="Пользователи").click()
    page.get_by_role("button", name="+ Добавить пользователя").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=username]").fill("новичок")
    dialog.locator("input[name=name]").fill("Новый Сотрудник")
    dialog.get_by_role("button", name="Создать").click()
    expect(dialog.get_by_role("alert")).to_contain_text("латинские буквы")
    dialog.locator("input[name=username]").fill("new.hire")
    dialog.get_by_role("button", name="Создать").click()
    password = page.locator("[data-testid=issued-password]").inner_text()
    assert len(password) >= 12
    shot(page, "admin-user-password-phone")
    page.get_by_role("button", name="Готово").click()
    expect(page.locator("[data-testid=user-row]", has_text="new.hire")).to_contain_text("Новый Сотрудник")
    assert auth.login("new.hire", password).user.name == "Новый Сотрудник"
    assert not any(u.username == "new.hire" and u.is_admin for u in users.list_users())


def test_admin_adds_a_service_sees_its_credentials_on_demand_and_checks_room_health(live_app, new_context, account):
    boss = account("Админ", admin=True, with_2fa=True)
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, live_app.url, boss)
    page.goto(f"{live_app.url}/admin")
    page.get_by_role("tab", name="Сервисы").click()
    page.get_by_role("button", name="+ Добавить сервис").click()
    dialog = page.get_by_role("dialog")
    dialog.locator("input[name=id]").fill("cl-7")
    dialog.locator("input[name=category]").fill("Reasoning")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog.get_by_role("alert")).to_have_text("Введите название")
    dialog.locator("input[name=service_name]").fill("Claude Max #7")
    dialog.locator("input[name=monthly_cost]").fill("сто")
    dialog.get_by_role("button", name="Сохранить").click()
    expect(dialog.get_by_role("alert")).to_have_text("Введите стоимость")
    dialog.locator("input[name=monthly_cost]").fill("100")
    dialog.locator("input[name=login]").fill("team@example.org")
    dialog.locator("input[name=password]").fill("s3cret-subscription")
    shot(page, "admin-service-dialog")
    dialog.get_by_role("button", name="Сохранить").click()
    row = page.locator("[data-testid=service-row]", has_text="Claude Max #7")
    expect(row).to_contain_text("REASONING")
    row.get_by_role("button", name="Доступы").click()
    expect(page.locator("[data-testid=creds-password]")).to_have_text("s3cret-subscription")
    page.keyboard.press("Escape")
    expect(page.locator("[data-testid=creds-password]")).to_have_count(0)

    page.get_by_role("tab", name="Здоровье").click()
    expect(page.locator("[data-testid=room-row]", has_text="Claude Max #7")).to_contain_text("демо-комната")
    expect(page.get_by_text("Планировщик")).to_be_visible()
    expect(page.locator("[data-testid=health-checked]")).to_contain_text(re.compile(r"Обновлено: \d\d:\d\d:\d\d"))
    shot(page, "admin-health")
    page.get_by_role("tab", name="Журнал").click()
    expect(page.locator("[data-testid=audit-row]", has_text="Просмотр доступов").first).to_contain_text("cl-7")
    shot(page, "admin-audit")

    # Switched off again (nobody is in it, so no question asked): it leaves the dashboard.
    page.get_by_role("tab", name="Сервисы").click()
    row.get_by_role("switch").click()
    expect(row).to_contain_text("Выкл")
    assert "cl-7" not in board.cards()


def test_a_user_keeps_a_personal_template_that_nobody_else_sees(live_app, new_context, account):
    vera, oleg = account("Вера"), account("Олег")
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    login(page, live_app.url, vera)
    page.get_by_role("button", name="+ Создать шаблон").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_contain_text("Создать личный шаблон")
    dialog.locator("input[name=name]").fill("Мои картинки")
    dialog.get_by_role("radio", name="💡").click()
    dialog.get_by_role("checkbox", name="Nano Banana Pro").click()
    dialog.get_by_role("button", name="Создать").click()
    card = page.locator("[data-testid=template-card]", has_text="Мои картинки")
    expect(card).to_contain_text("личный")
    expect(card).to_contain_text("Nano Banana Pro")
    shot(page, "dashboard-personal-template")
    card.get_by_role("button", name="Изменить шаблон").click()
    dialog.locator("input[name=name]").fill("Картинки и видео")
    dialog.get_by_role("checkbox", name="Veo + Flow (видео)").click()
    dialog.get_by_role("button", name="Сохранить").click()
    expect(page.locator("[data-testid=template-card]", has_text="Картинки и видео")).to_contain_text(
        "Nano Banana Pro + Veo + Flow (видео)"
    )

    other = new_context().new_page()
    login(other, live_app.url, oleg)
    expect(other.locator("[data-testid=template-card]")).not_to_have_count(0)
    expect(other.locator("[data-testid=template-card]", has_text="Картинки и видео")).to_have_count(0)

    card = page.locator("[data-testid=template-card]", has_text="Картинки и видео")
    card.get_by_role("button", name="Удалить шаблон").click()
    page.get_by_role("alertdialog").get_by_role("button", name="Удалить").click()
    expect(page.locator("[data-testid=template-card]", has_text="Картинки и видео")).to_have_count(0)
