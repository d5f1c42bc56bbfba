"""The real app, built and served in production mode, driven by headless Chromium."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from services import auth, runtime, users
from services.core import clock
from tests.fake_telegram import FakeTelegram
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, LiveApp, log_tail, start_live_app

ARTIFACTS = ROOT / "test-artifacts"
expect.set_options(timeout=10_000)
NETWORK_CHANGED = "net::ERR_NETWORK_CHANGED"
_page_goto = Page.goto


def _goto_through_network_changes(self: Page, url: str, **kwargs):
    """The Docker engines the tests start add and remove network interfaces, and Chromium aborts
    a navigation in flight when it sees one (as on a laptop switching networks). A person would
    reload; so does the test, at most twice. Any other navigation error fails as before."""
    for attempt in range(3):
        try:
            return _page_goto(self, url, **kwargs)
        except PlaywrightError as exc:
            if NETWORK_CHANGED not in str(exc) or attempt == 2:
                raise
    return None


Page.goto = _goto_through_network_changes  # type: ignore[method-assign]
TELEGRAM_TOKEN = "424242:E2E-token"


@pytest.fixture(scope="session")
def fake_telegram() -> Iterator[FakeTelegram]:
    server = FakeTelegram(TELEGRAM_TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def live_app(tmp_path_factory: pytest.TempPathFactory, fake_telegram: FakeTelegram) -> Iterator[LiveApp]:
    telegram_env = {
        "VDI_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "VDI_TELEGRAM_API_URL": fake_telegram.base_url,
        "VDI_TELEGRAM_FILE_URL": fake_telegram.file_url,
    }
    with start_live_app(tmp_path_factory.mktemp("live-data"), ARTIFACTS / "live-app.log", **telegram_env) as app:
        yield app


@pytest.fixture(autouse=True)
def _use_live_database(live_app: LiveApp, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Point this test process's services at the live app's database and secret."""
    # An app on PostgreSQL names its database (one on SQLite keeps it in its data dir); one on Redis
    # names it, so a change this process commits rings the board bell as the scheduler's would.
    for key in ("VDI_DATA_DIR", "VDI_SECRET_KEY", "VDI_BCRYPT_ROUNDS", "VDI_DATABASE_URL", "REFLEX_REDIS_URL"):
        if key in live_app.env:
            monkeypatch.setenv(key, live_app.env[key])
    runtime.reset()
    yield


def use_app_settings(app: LiveApp, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point this test process's services at every VDI_* setting of an app a module started itself."""
    for key, value in app.env.items():
        if key.startswith("VDI_"):
            monkeypatch.setenv(key, value)
    runtime.reset()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def new_context(browser: Browser) -> Iterator:
    contexts: list[BrowserContext] = []

    def factory(**kwargs) -> BrowserContext:
        ctx = browser.new_context(locale="ru-RU", timezone_id="Europe/Moscow", **kwargs)
        contexts.append(ctx)
        return ctx

    yield factory
    for ctx in contexts:
        ctx.close()


@dataclass
class Account:
    username: str
    password: str
    name: str
    secret: str | None

    def code(self) -> str:
        assert self.secret
        return pyotp.TOTP(self.secret).at(clock.now())


@pytest.fixture
def account(live_app: LiveApp):
    """Create a fresh account in the live app's database."""

    def factory(name: str, *, admin: bool = False, with_2fa: bool = False, onboarded: bool = True) -> Account:
        username = f"u{secrets.token_hex(4)}"
        password = "pass-" + secrets.token_hex(4)
        info = users.create_user(username, name, password, is_admin=admin)
        secret = None
        if with_2fa:
            enrolment = auth.begin_enrolment(info.id)
            # Confirm with the previous step's code so the current one stays free for the login.
            auth.confirm_enrolment(info.id, pyotp.TOTP(enrolment.secret).at(clock.now() - timedelta(seconds=30)))
            secret = enrolment.secret
        if onboarded:
            users.mark_onboarded(info.id)
        return Account(username, password, name, secret)

    return factory


def login(page: Page, base_url: str, acc: Account, *, expect_path: str = "/") -> None:
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("framenavigated", lambda f: errors.append(f"(navigated to {f.url})") if f == page.main_frame else None)
    page.goto(f"{base_url}/login")
    page.locator("#username").fill(acc.username)
    page.locator("#password").fill(acc.password)
    if acc.secret:
        page.locator("#totp_code").fill(acc.code())
    page.get_by_role("button", name="Войти").click()
    try:
        try:
            page.wait_for_url(f"{base_url}{expect_path}")
        except PlaywrightTimeoutError:
            if not page.url.startswith("chrome-error://"):
                raise
            # The sign-in navigation itself was cut by a network change (see above): the person
            # reloads the error page, which asks for the sign-in address again.
            page.reload()
            page.wait_for_url(f"{base_url}{expect_path}")
    except PlaywrightTimeoutError as exc:
        # Say where the login stopped and what the page showed, not just "timeout".
        shown = page.locator("body").inner_text(timeout=5_000)[:600]
        raise AssertionError(
            f"login of {acc.username} stopped at {page.url}; the page shows: {shown!r}; "
            f"browser errors and navigations: {errors[-20:]!r}\nthe app's log ends:\n{log_tail(base_url)}"
        ) from exc


def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    """A screenshot in test-artifacts/; a dialog reads better on the screen as it is (full_page=False)."""
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=full_page)
