"""The smoke path on PostgreSQL: the app started on a fresh PostgreSQL database, driven by Chromium."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import expect

from services import auth, session_views
from tests.conftest import POSTGRES_ADMIN_URL, create_pg_database, drop_pg_database
from tests.e2e.conftest import ARTIFACTS, login
from tests.live_server import LiveApp, start_live_app

pytestmark = pytest.mark.skipif(
    not POSTGRES_ADMIN_URL, reason="VDI_TEST_POSTGRES_URL is not set (deploy/test.sh sets it)"
)


@pytest.fixture(scope="module")
def live_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApp]:
    """This module's app: on an empty PostgreSQL database, which the app's start-up migrates and seeds."""
    url = create_pg_database()
    try:
        with start_live_app(
            tmp_path_factory.mktemp("pg-data"),
            ARTIFACTS / "live-app-postgres.log",
            web_dir="postgres",
            VDI_DATABASE_URL=url,
        ) as app:
            yield app
    finally:
        drop_pg_database(url)


def _card(page, slot_id: str):
    return page.locator(f"[data-testid=slot-card][data-slot={slot_id}]")


def test_on_postgresql_a_take_shows_in_another_tab_and_a_release_frees_the_slot(live_app, new_context, account):
    anna, boris = account("Анна"), account("Борис")
    page_a, page_b = new_context().new_page(), new_context().new_page()
    login(page_a, live_app.url, anna)
    login(page_b, live_app.url, boris)
    expect(_card(page_b, "nbp")).to_have_attribute("data-busy", "false")

    _card(page_a, "nbp").get_by_role("button", name="Занять").click()
    page_a.wait_for_url(f"{live_app.url}/session/nbp")
    expect(_card(page_b, "nbp")).to_have_attribute("data-busy", "true", timeout=1000)
    expect(_card(page_b, "nbp")).to_contain_text("Занято: Анна")

    page_a.get_by_role("button", name="Освободить").click()
    page_a.get_by_role("button", name="Да, завершить").click()
    page_a.wait_for_url(f"{live_app.url}/session-end/*")
    expect(page_a.locator("[data-testid=session-summary]")).to_contain_text("Вы завершили сессию")
    expect(_card(page_b, "nbp")).to_have_attribute("data-busy", "false", timeout=1000)
    # The session is on record in PostgreSQL, where this test process reads it too.
    assert live_app.env["VDI_DATABASE_URL"].startswith("postgresql")
    anna_id = auth.login(anna.username, anna.password).user.id
    assert [item.service_name for item in session_views.history_of(anna_id)] == ["Nano Banana Pro"]
