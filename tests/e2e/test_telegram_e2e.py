"""Link Telegram from the profile, release a slot, and the session's work arrives in the chat."""

from __future__ import annotations

import io
import zipfile

import httpx
from playwright.sync_api import expect

from tests.e2e.conftest import login, shot

CHAT = 5550001


def test_release_sends_the_summary_and_the_zip_to_the_linked_chat(live_app, new_context, account, fake_telegram):
    anna = account("Анна")
    page = new_context().new_page()
    login(page, live_app.url, anna)

    page.goto(f"{live_app.url}/profile")
    # The profile names the bot, as getMe reported it, with its t.me link.
    expect(page.locator("[data-testid=bot-name]")).to_have_text(f"@{fake_telegram.bot_username}")
    expect(page.locator("[data-testid=bot-name]")).to_have_attribute(
        "href", f"https://t.me/{fake_telegram.bot_username}"
    )
    page.get_by_role("button", name="Получить код привязки").click()
    command = page.locator("[data-testid=link-command]").inner_text()
    assert command.startswith("/start ")
    expect(page.locator("[data-testid=bot-link]")).to_have_attribute(
        "href", f"https://t.me/{fake_telegram.bot_username}?start={command.removeprefix('/start ')}"
    )
    expect(page.locator("[data-testid=telegram-card]")).to_contain_text(f"Отправьте боту @{fake_telegram.bot_username}")
    shot(page, "profile-telegram-code")
    fake_telegram.push_message(CHAT, command)
    expect(page.get_by_text("✓ Привязан")).to_be_visible(timeout=15_000)
    fake_telegram.wait_for(lambda m: m.chat_id == CHAT and m.text.startswith("✅ Аккаунт привязан!"))
    shot(page, "profile-telegram")

    page.goto(f"{live_app.url}/")
    page.locator("[data-testid=slot-card][data-slot=nb-drive]").get_by_role("button", name="Занять").click()
    page.wait_for_url(f"{live_app.url}/session/nb-drive")
    page.get_by_role("button", name="Освободить").click()
    # As in v4, the confirmation says where the session's work goes.
    expect(page.get_by_role("alertdialog")).to_contain_text("придут в Telegram")
    page.get_by_role("button", name="Да, завершить").click()
    page.wait_for_url(f"{live_app.url}/session-end/*")

    card = page.locator("[data-testid=dump-card]")
    expect(card).to_contain_text("Вкладок сохранено", timeout=15_000)
    expect(card).to_contain_text("Отправлено в Telegram", timeout=15_000)
    shot(page, "session-end-dump")

    summary = fake_telegram.wait_for(lambda m: m.chat_id == CHAT and m.text.startswith("🔚 Сессия завершена"))[0]
    assert "Слот: NotebookLM + Drive" in summary.text
    doc = fake_telegram.wait_for(lambda m: m.chat_id == CHAT and m.method == "sendDocument")[0]
    with zipfile.ZipFile(io.BytesIO(doc.content)) as zf:
        index = zf.read("index.html").decode()
    assert "NotebookLM + Drive" in index and "Анна" in index and "https://notebooklm.google.com/" in index

    # The owner can download the same archive from the page.
    href = page.locator("[data-testid=dump-download]").get_attribute("href")
    downloaded = httpx.get(live_app.url + href)
    assert downloaded.status_code == 200 and downloaded.content == doc.content
    assert httpx.get(live_app.url + href.replace(".zip", "0.zip")).status_code == 404

    # The profile's history lists the session with its dump.
    page.goto(f"{live_app.url}/profile")
    row = page.locator("[data-testid=history-row]").first
    expect(row).to_contain_text("NotebookLM + Drive")
    expect(row).to_contain_text("Вы завершили сессию")
    expect(row.get_by_role("link").first).to_have_attribute("href", href)
    shot(page, "profile-history")
