"""The portal installs as an app and shows an offline page without network."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.e2e.conftest import login, shot
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT
from vdi_taxi.build import build_id


def test_chromium_reports_the_app_installable_and_offline_page_works(live_app, browser, account, tmp_path):
    anna = account("Анна")
    # Installability is only judged outside incognito: a persistent profile, like a real browser.
    ctx = browser.browser_type.launch_persistent_context(
        str(tmp_path / "profile"),
        executable_path=CHROMIUM,
        args=[a for a in CHROMIUM_ARGS if a != "--headless"],
        headless=True,
        locale="ru-RU",
    )
    page = ctx.new_page()
    login(page, live_app.url, anna)
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=15_000)

    cdp = ctx.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"].endswith("/manifest.json") and not manifest.get("errors")
    assert cdp.send("Page.getInstallabilityErrors")["installabilityErrors"] == []

    # Live data is never served from the cache: the API answers from the network only.
    assert page.evaluate("fetch('/api/health').then(r => r.ok)")

    # Everything cached belongs to this build: the cache's name and every URL in it carry its id.
    build = build_id()
    assert page.evaluate("navigator.serviceWorker.controller.scriptURL").endswith(f"/sw.js?v={build}")
    page.wait_for_function(f"caches.keys().then(k => k.length === 1 && k[0] === 'vdi-taxi-{build}')")
    cached = page.evaluate(f"caches.open('vdi-taxi-{build}').then(c => c.keys()).then(r => r.map(q => q.url))")
    assert any(u.endswith(f"/clock.js?v={build}") for u in cached)
    assert all(f"?v={build}" in u or "/assets/" in u for u in cached), cached
    assert page.locator(f"script[src='/clock.js?v={build}']").count() == 1

    # A new deploy: its pages register the worker of the new build, which drops this build's cache.
    page.evaluate("navigator.serviceWorker.register('/sw.js?v=nextbuild01')")
    page.wait_for_function(
        "navigator.serviceWorker.controller && navigator.serviceWorker.controller.scriptURL.endsWith('v=nextbuild01')",
        timeout=15_000,
    )
    page.wait_for_function("caches.keys().then(k => k.length === 1 && k[0] === 'vdi-taxi-nextbuild01')")
    # A file of the old build is fetched afresh, not served from a cache.
    fresh = page.evaluate(f"fetch('/clock.js?v={build}').then(r => r.text())")
    assert fresh == (ROOT / "assets" / "clock.js").read_text()

    ctx.set_offline(True)
    page.goto(f"{live_app.url}/calendar")
    expect(page.locator("#offline-title")).to_have_text("Нет соединения")
    shot(page, "offline")
    ctx.set_offline(False)
    page.goto(f"{live_app.url}/")
    expect(page.locator("[data-testid=slot-card]")).to_have_count(10)
    ctx.close()
