"""What the production server sends for the frontend: compressed assets and a light login page."""

from __future__ import annotations

import gzip
import re
import urllib.request

from playwright.sync_api import Browser

from tests.live_server import LiveApp

LOGIN_BUDGET = 200 * 1024


def _get(url: str, accept_encoding: str | None) -> tuple[dict[str, str], bytes]:
    headers = {"Accept-Encoding": accept_encoding} if accept_encoding else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as resp:
        return {k.lower(): v for k, v in resp.headers.items()}, resp.read()


def _largest_login_script(base: str) -> str:
    _, html = _get(f"{base}/login", None)
    scripts = re.findall(r'"(/assets/[^"]+\.js)"', html.decode())
    assert scripts, "the login page names no built script"
    return max(set(scripts), key=lambda path: len(_get(base + path, None)[1]))


def test_a_built_script_is_sent_as_brotli_to_browsers_that_take_it_and_as_gzip_to_the_others(live_app: LiveApp):
    url = live_app.url + _largest_login_script(live_app.url)
    plain_headers, plain = _get(url, None)
    br_headers, br_body = _get(url, "gzip, deflate, br")
    gz_headers, gz_body = _get(url, "gzip, deflate")

    assert "content-encoding" not in plain_headers
    assert br_headers["content-encoding"] == "br"
    assert gz_headers["content-encoding"] == "gzip"
    assert gzip.decompress(gz_body) == plain
    assert len(br_body) < len(gz_body) < len(plain) / 2
    for headers in (plain_headers, br_headers, gz_headers):
        # Caches keep one copy per encoding (the CORS layer adds Origin to the list).
        assert "Accept-Encoding" in headers["vary"].split(", ")
        assert headers["content-type"].startswith("text/javascript")


def test_the_login_page_downloads_at_most_200_kib_of_js_and_css_and_no_chart_code(live_app: LiveApp, browser: Browser):
    ctx = browser.new_context(service_workers="block")
    page = ctx.new_page()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    page.goto(f"{live_app.url}/login", wait_until="networkidle")
    page.get_by_role("button", name="Войти").wait_for()

    weight, charts = 0, []
    for request in finished:
        path = request.url.split("?")[0]
        if not path.endswith((".js", ".css")):
            continue
        weight += request.sizes()["responseBodySize"]
        if b"recharts" in request.response().body():
            charts.append(path)
    ctx.close()

    assert weight <= LOGIN_BUDGET, f"login page JS+CSS is {weight / 1024:.1f} KiB"
    assert not charts, f"chart code on the login page: {charts}"
