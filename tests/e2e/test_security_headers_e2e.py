"""Every HTTP response of the built app carries the security headers, and the pages still work under them."""

from __future__ import annotations

import re

import httpx
from playwright.sync_api import expect
from sqlmodel import select

from services.core.db import session_scope
from services.core.models import AuditEvent
from state.login import LoginState
from tests.e2e.conftest import login
from tests.reflex_client import RawClient

REQUIRED = {"x-content-type-options": "nosniff", "referrer-policy": "no-referrer"}


def _check(response: httpx.Response) -> None:
    for name, value in REQUIRED.items():
        assert response.headers.get(name) == value, (response.url, name, response.headers.get(name))
    csp = response.headers.get("content-security-policy", "")
    assert "frame-ancestors 'self'" in csp, (response.url, csp)
    assert re.search(r"frame-src 'self'(;|$| )", csp), csp
    # The test app runs on plain http: no HSTS promise it could not keep.
    assert "strict-transport-security" not in response.headers


def test_pages_static_files_api_feeds_dumps_and_rooms_all_carry_the_security_headers(live_app):
    with httpx.Client(base_url=live_app.url, timeout=20, follow_redirects=True) as client:
        page = client.get("/login")
        assert page.status_code == 200
        for response in [*page.history, page]:  # the trailing-slash redirect too
            _check(response)
        scripts = re.findall(r'(?:src|href)="(/assets/[^"]+\.(?:js|css))"', page.text)
        assert scripts, "the login page references compiled assets"
        for path in [scripts[0], "/app.css", "/pwa.js", "/sw.js", "/manifest.json", "/favicon.ico"]:
            response = client.get(path)
            assert response.status_code == 200, path
            _check(response)
        for path, status in [
            ("/", 200),
            ("/api/health", 200),
            ("/calendar/feed/not-a-token.ics", 404),
            ("/dumps/1-nope.zip", 404),
            ("/room/demo/nbp?token=forged", 403),
            ("/no-such-page", 404),
        ]:
            response = client.get(path)
            assert response.status_code == status, path
            for hop in [*response.history, response]:
                _check(hop)


def test_the_app_works_under_the_policy_without_a_single_violation(live_app, new_context, account):
    anna = account("Анна")
    page = new_context().new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text or "Refused to" in m.text else None,
    )
    login(page, live_app.url, anna)
    card = page.locator("[data-testid=slot-card][data-slot=nbp]")
    card.get_by_role("button", name="Занять").click()
    page.wait_for_url(f"{live_app.url}/session/nbp")
    frame = page.frame_locator("[data-testid=room-frame]")
    expect(frame.locator("#room-title")).to_have_text("Nano Banana Pro")  # the room frame is allowed
    page.goto(f"{live_app.url}/calendar")
    expect(page.get_by_test_id("ics-link")).to_be_visible()
    old_feed = page.get_by_test_id("ics-link").get_attribute("href")
    page.goto(f"{live_app.url}/profile")
    page.get_by_role("button", name="Заменить ссылку календаря").click()
    expect(page.get_by_text("Новая ссылка — на странице «Календарь».")).to_be_visible()
    assert httpx.get(f"{live_app.url}{old_feed}").status_code == 404  # the old link stops working
    page.goto(f"{live_app.url}/calendar")
    expect(page.get_by_test_id("ics-link")).not_to_have_attribute("href", old_feed)
    assert violations == []


def test_a_client_cannot_choose_its_address_in_the_audit_log_with_a_forged_header(live_app, account):
    mallory = account("Мэллори")
    spoof = {"X-Forwarded-For": "10.66.6.6", "X-Real-IP": "10.66.6.7"}
    client = RawClient(live_app.url, headers=spoof)
    try:
        client.send(
            f"{LoginState.get_full_name()}.submit",
            {"form": {"username": mallory.username, "password": "wrong-password", "totp_code": ""}},
        )
        client.wait_for("Неверный логин или пароль")
    finally:
        client.close()
    with session_scope() as session:
        failed = session.exec(
            select(AuditEvent).where(AuditEvent.kind == "login_failed", AuditEvent.subject == mallory.username)
        ).all()
    # No proxy is trusted here: the direct peer's address is recorded, never the header's.
    assert [e.client_ip for e in failed] == ["127.0.0.1"]
