"""Pages of a session, read from a real Chromium History database by time span."""

from __future__ import annotations

import http.server
import threading
import time
from datetime import UTC, datetime

from playwright.sync_api import sync_playwright

from services.rooms.chromium_history import read_visits
from tests.live_server import CHROMIUM, CHROMIUM_ARGS


class _Pages(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        body = f"<html><head><title>Страница {self.path.strip('/')}</title></head><body>ok</body></html>".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def test_visits_within_the_session_span_are_extracted(tmp_path):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    profile = tmp_path / "profile"
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                str(profile),
                executable_path=CHROMIUM,
                args=[a for a in CHROMIUM_ARGS if a != "--headless"],
                headless=True,
            )
            page = ctx.new_page()
            page.goto(f"{base}/before")
            time.sleep(1.2)
            start = datetime.now(UTC)
            for name in ("one", "two", "three"):
                page.goto(f"{base}/{name}")
                page.wait_for_load_state()
            end = datetime.now(UTC)
            time.sleep(1.2)
            page.goto(f"{base}/after")
            ctx.close()  # Chromium writes History on close
    finally:
        server.shutdown()
    visits = read_visits(profile / "Default" / "History", start, end)
    assert [v.url.rsplit("/", 1)[1] for v in visits] == ["one", "two", "three"]
    assert visits[0].title == "Страница one"
    assert all(start <= v.at <= end for v in visits)
