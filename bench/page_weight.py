"""JS + CSS that Chromium downloads for each page of the production build, first visit.

Builds and serves the app as people run it, opens every route in a fresh headless Chromium
context (empty cache, service worker blocked so each byte comes from the network) and records
every JS and CSS response of the page with its compressed body size as transferred and its
Content-Encoding. Each asset is fetched once more asking for gzip only, for browsers or
proxies that do not take brotli. Run: bash bench/run.sh, or directly:
    python -m bench.page_weight
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import urllib.request
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pyotp
from playwright.sync_api import sync_playwright
from sqlmodel import select

from services import auth, runtime, sessions, users
from services.core import clock
from services.core.db import session_scope
from services.core.models import Slot
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, start_live_app

KIB = 1024
# What the «Загрузка» tab draws once its charts have arrived.
CHARTS_DRAWN = "() => document.querySelectorAll('.recharts-surface').length > 0"


@dataclass
class Asset:
    path: str
    kind: str  # "js" or "css"
    transferred: int  # compressed body bytes Chromium received
    encoding: str  # Content-Encoding of that response ("" = none)
    gzip: int = 0  # the same asset's body when only gzip is accepted


@dataclass
class Route:
    name: str
    assets: list[Asset] = field(default_factory=list)

    def total(self, attr: str = "transferred", kind: str | None = None) -> int:
        return sum(getattr(a, attr) for a in self.assets if kind is None or a.kind == kind)


def _kind(path: str) -> str | None:
    if path.endswith((".js", ".mjs")):
        return "js"
    if path.endswith(".css"):
        return "css"
    return None


def gzip_size(url: str) -> int:
    """Body bytes of `url` for a client that accepts gzip but not brotli."""
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return len(resp.read())


def visit(browser, base: str, route: Route, path: str, token: str | None, then=None) -> None:
    """Open `path` in a fresh context and record each JS/CSS response of the page."""
    ctx = browser.new_context(service_workers="block", viewport={"width": 1280, "height": 900})
    if token:
        ctx.add_cookies([{"name": "vdi_token", "value": token, "domain": urlsplit(base).hostname, "path": "/"}])
    page = ctx.new_page()
    seen: list = []
    page.on("requestfinished", lambda request: seen.append(request))
    page.goto(f"{base}{path}", wait_until="networkidle")
    if urlsplit(page.url).path.rstrip("/") != path.rstrip("/"):
        raise RuntimeError(f"{path} redirected to {page.url}")
    if then is not None:
        then(page)
        page.wait_for_load_state("networkidle")
    for request in seen:
        url = urlsplit(request.url)
        kind = _kind(url.path)
        if kind is None or f"{url.scheme}://{url.netloc}" != base or request.frame.parent_frame is not None:
            continue
        response = request.response()
        encoding = (response.header_value("content-encoding") or "") if response else ""
        route.assets.append(Asset(url.path, kind, request.sizes()["responseBodySize"], encoding))
    ctx.close()


def charts_drawn(page) -> None:
    """The «Загрузка» tab opens first on /admin: its charts must be part of what is counted."""
    page.wait_for_function(CHARTS_DRAWN, timeout=60_000)


def measure(base: str) -> list[Route]:
    boss = users.create_user("weigher", "Админ Замер", "bench-pass-1", is_admin=True)
    users.mark_onboarded(boss.id)
    secret = auth.begin_enrolment(boss.id).secret
    auth.confirm_enrolment(boss.id, pyotp.TOTP(secret).at(clock.now() - timedelta(seconds=30)))
    token = auth.login("weigher", "bench-pass-1", pyotp.TOTP(secret).now()).token
    with session_scope() as session:
        slot_id = session.exec(select(Slot.id).where(Slot.is_active).order_by(Slot.sort_order)).first()
    sessions.take_slot(boss.id, slot_id)

    plan = [
        ("/login", "/login", None, None),
        ("/", "/", token, None),
        ("/session/<slot>", f"/session/{slot_id}", token, None),
        ("/admin", "/admin", token, charts_drawn),
        ("/calendar", "/calendar", token, None),
        ("/profile", "/profile", token, None),
    ]
    routes: list[Route] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for name, path, cookie, then in plan:
            route = Route(name)
            visit(browser, base, route, path, cookie, then)
            routes.append(route)
        browser.close()
    sizes: dict[str, int] = {}
    for route in routes:
        for asset in route.assets:
            if asset.path not in sizes:
                sizes[asset.path] = gzip_size(base + asset.path)
            asset.gzip = sizes[asset.path]
    return routes


def report(routes: list[Route]) -> str:
    head = f"{'route':<18}{'JS files':>9}{'CSS files':>10}{'JS KiB':>9}{'CSS KiB':>9}{'total KiB':>11}{'gzip-only':>11}"
    lines = [head, "-" * len(head)]
    for r in routes:
        js = [a for a in r.assets if a.kind == "js"]
        css = [a for a in r.assets if a.kind == "css"]
        lines.append(
            f"{r.name:<18}{len(js):>9}{len(css):>10}{r.total(kind='js') / KIB:>9.1f}{r.total(kind='css') / KIB:>9.1f}"
            f"{r.total() / KIB:>11.1f}{r.total('gzip') / KIB:>11.1f}"
        )
    encodings = sorted({a.encoding or "none" for r in routes for a in r.assets})
    lines.append(f"(compressed body bytes as Chromium received them; encodings seen: {', '.join(encodings)})")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--detail", action="store_true", help="also list every asset of /login")
    args = parser.parse_args()
    out_dir = ROOT / "bench-results"
    out_dir.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, start_live_app(Path(tmp), out_dir / "page-weight-app.log") as app:
        os.environ["VDI_DATA_DIR"] = app.env["VDI_DATA_DIR"]
        os.environ["VDI_SECRET_KEY"] = app.env["VDI_SECRET_KEY"]
        os.environ["VDI_BCRYPT_ROUNDS"] = "4"
        runtime.reset()
        routes = measure(app.url)
    print(report(routes))
    if args.detail:
        for a in sorted(routes[0].assets, key=lambda a: -a.transferred):
            print(f"  {a.transferred / KIB:7.1f} KiB {a.encoding or 'none':>5}  {a.path}")
    (out_dir / "page_weight.json").write_text(
        json.dumps({r.name: [asdict(a) for a in r.assets] for r in routes}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
