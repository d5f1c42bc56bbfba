"""A page whose code fails to arrive mid-load (the network changed: Wi-Fi to mobile data, a VPN,
on this machine a Docker engine adding a bridge) reloads itself once and works; a failure that
keeps happening shows a Russian notice with «Обновить» instead of a page that never comes alive."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Route, expect

from tests.e2e.conftest import login

# A module the login page cannot start without (its own route module).
LOGIN_MODULE = re.compile(r"/assets/_login_\._index-[^/]+\.js$")


def _cut_first(asked: list[str]) -> Callable[[Route], None]:
    """A route handler that cuts the first request it sees, as a network change does, and lets
    the rest through; `asked` collects every request's URL."""

    def handle(route: Route) -> None:
        asked.append(route.request.url)
        if len(asked) == 1:
            route.abort("internetdisconnected")
        else:
            route.continue_()

    return handle


def test_a_page_part_lost_to_a_network_change_is_fetched_again_and_the_login_works(live_app, new_context, account):
    anna = account("Анна")
    page = new_context().new_page()
    asked: list[str] = []
    drop_first = _cut_first(asked)

    page.route(LOGIN_MODULE, drop_first)
    login(page, live_app.url, anna)
    assert len(asked) == 2, "the page did not fetch its lost part again"
    expect(page.locator("#vdi-load-failed")).to_have_count(0)


def test_a_part_that_keeps_failing_gets_one_reload_then_a_russian_notice(live_app, new_context):
    page = new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    asked: list[str] = []

    def drop(route: Route) -> None:
        asked.append(route.request.url)
        route.abort("internetdisconnected")

    page.route(LOGIN_MODULE, drop)
    loads: list[str] = []
    # A load is a document request that is not a redirect's next hop (/login answers with /login/).
    page.on("request", lambda r: loads.append(r.url) if r.is_navigation_request() and not r.redirected_from else None)
    page.goto(f"{live_app.url}/login")
    notice = page.get_by_role("alert").filter(has_text="Страница загрузилась не полностью")
    expect(notice).to_be_visible()
    assert asked, "the test did not cut the page's module"
    assert len(loads) == 2, f"one automatic reload, no loop: {loads}"
    button = notice.get_by_role("button", name="Обновить")
    box = button.bounding_box()
    assert box is not None and box["height"] >= 40 and box["x"] >= 0 and box["x"] + box["width"] <= 390
    # Once the network is back, «Обновить» brings the page to life.
    page.unroute(LOGIN_MODULE)
    button.click()
    expect(page.get_by_label("Логин")).to_be_editable()
    expect(page.get_by_role("button", name="Войти")).to_be_enabled()


def test_a_page_part_lost_on_the_way_to_another_page_costs_one_more_tap_not_a_dead_link(live_app, new_context, account):
    """Moving between pages loads that page's part on demand. Cut, the router reloads the page the
    person is on (its module map would keep the failure); the next tap on the link opens it."""
    anna = account("Анна")
    # Without the service worker, whose cache would answer for the part instead of the network.
    page = new_context(service_workers="block").new_page()
    login(page, live_app.url, anna)
    asked: list[str] = []
    drop_first = _cut_first(asked)

    page.route(re.compile(r"/assets/_calendar_\._index-[^/]+\.js$"), drop_first)
    with page.expect_event("load", timeout=20_000):  # the reload
        page.get_by_role("link", name="Календарь").click()
    assert page.url == f"{live_app.url}/"
    expect(page.get_by_role("button", name="Занять").first).to_be_visible()
    page.get_by_role("link", name="Календарь").click()
    expect(page.get_by_role("heading", name="Календарь")).to_be_visible()
    assert len(asked) == 2
