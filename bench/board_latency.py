"""Take-to-every-tab latency: one person takes a slot, N other tabs must show it busy.

Each observer tab records (in the browser) when the card flips; the taker's tab
records the click. All clocks are this machine's, so the difference is the latency
a person would see. Run: bash bench/run.sh, or directly:
    python -m bench.board_latency --tabs 2 20 --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

from services import sessions
from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, start_live_app

WATCH_JS = """(slot) => {
  window.__flips = [];
  const seen = new Map();
  const check = () => {
    document.querySelectorAll('[data-testid=slot-card]').forEach((el) => {
      const id = el.getAttribute('data-slot'), busy = el.getAttribute('data-busy');
      if (seen.get(id) !== busy) { seen.set(id, busy); window.__flips.push([id, busy, Date.now()]); }
    });
  };
  check();
  new MutationObserver(check).observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def _login_context(browser, url: str, token: str):
    ctx = browser.new_context()
    host = url.split("//", 1)[1].split(":", 1)[0]
    ctx.add_cookies([{"name": "vdi_token", "value": token, "domain": host, "path": "/"}])
    return ctx


def measure(url: str, tabs: int, rounds: int) -> list[float]:
    from services import auth, users

    taker = users.create_user(f"taker{tabs}", "Такси Бенч", "bench-pass-1")
    users.mark_onboarded(taker.id)
    watcher = users.create_user(f"watch{tabs}", "Наблюдатель", "bench-pass-2")
    users.mark_onboarded(watcher.id)
    samples: list[float] = []
    first_tab: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        taker_page = _login_context(browser, url, auth.login(taker.username, "bench-pass-1").token).new_page()
        watch_ctx = _login_context(browser, url, auth.login(watcher.username, "bench-pass-2").token)
        pages = [watch_ctx.new_page() for _ in range(tabs)]
        for page in [taker_page, *pages]:
            page.goto(f"{url}/")
            page.wait_for_selector("[data-testid=slot-card][data-slot=ppx-1]", timeout=30_000)
        for _ in range(rounds):
            for page in pages:
                page.evaluate(WATCH_JS, "ppx-1")
            clicked = taker_page.evaluate(
                "() => { const t = Date.now(); "
                "document.querySelector('[data-slot=ppx-1] button.rt-Button').click(); return t; }"
            )
            for page in pages:
                page.wait_for_function(
                    "() => window.__flips.some(f => f[0] === 'ppx-1' && f[1] === 'true')", timeout=10_000
                )
            arrivals = sorted(
                next(f[2] for f in page.evaluate("window.__flips") if f[0] == "ppx-1" and f[1] == "true") - clicked
                for page in pages
            )
            samples.append(arrivals[-1])
            first_tab.append(arrivals[0])
            taker_page.wait_for_url(f"{url}/session/ppx-1")
            sessions.release_slot(taker.id, "ppx-1")
            for page in pages:
                page.wait_for_selector("[data-slot=ppx-1][data-busy=false]", timeout=10_000)
            taker_page.goto(f"{url}/")
            taker_page.wait_for_selector("[data-slot=ppx-1][data-busy=false]", timeout=10_000)
        browser.close()
    print(f"    first tab updated after {statistics.median(first_tab):.0f} ms (median)")
    return samples


def _busy_in(message: str, slot_id: str) -> bool:
    try:
        delta = json.loads(message).get("delta", {})
    except ValueError:
        return False
    for name, values in delta.items():
        if name.endswith("board_feed"):
            card = values.get(f"c_{slot_id}") or {}
            if card.get("busy"):
                return True
    return False


def measure_server_only(url: str, clients: int, rounds: int) -> list[float]:
    """The same take, watched by raw Socket.IO clients: the server's share of the latency."""
    from services import auth, users
    from state.board import BoardFeed
    from state.dashboard import DashboardState
    from tests.reflex_client import RawClient

    taker = users.create_user(f"rawtaker{clients}", "Такси Сервер", "bench-pass-1")
    watcher = users.create_user(f"rawwatch{clients}", "Наблюдатель", "bench-pass-2")
    watch_token = auth.login(watcher.username, "bench-pass-2").token
    watchers = []
    for _ in range(clients):
        c = RawClient(url)
        c.log_in(watch_token)
        c.send(f"{BoardFeed.get_full_name()}.join", {})
        c.wait_for('"layout"')
        watchers.append(c)
    taker_client = RawClient(url)
    taker_client.log_in(auth.login(taker.username, "bench-pass-1").token)
    samples = []
    for _ in range(rounds):
        start = time.time()
        taker_client.send(f"{DashboardState.get_full_name()}.take", {"slot_id": "ppx-2"})
        deadline = time.monotonic() + 10
        last = 0.0
        for c in watchers:
            while True:
                hit = next((t for t, m in c.arrivals if t >= start and _busy_in(m, "ppx-2")), None)
                if hit is not None:
                    last = max(last, hit)
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError("a watcher never saw the take")
                time.sleep(0.005)
        samples.append((last - start) * 1000)
        sessions.release_slot(taker.id, "ppx-2")
        time.sleep(1.0)
    for c in [*watchers, taker_client]:
        c.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tabs", type=int, nargs="+", default=[2, 20])
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp, start_live_app(Path(tmp), ROOT / "bench-results" / "app.log") as app:
        os.environ["VDI_DATA_DIR"] = app.env["VDI_DATA_DIR"]
        os.environ["VDI_SECRET_KEY"] = app.env["VDI_SECRET_KEY"]
        os.environ["VDI_BCRYPT_ROUNDS"] = "4"
        for tabs in args.tabs:
            samples = measure(app.url, tabs, args.rounds)
            results[tabs] = {
                "median_ms": statistics.median(samples),
                "max_ms": max(samples),
                "samples_ms": samples,
            }
            print(f"{tabs:>3} tabs: median {statistics.median(samples):.0f} ms, max {max(samples):.0f} ms")
            raw = measure_server_only(app.url, tabs, args.rounds)
            results[f"{tabs}_raw_clients"] = {"median_ms": statistics.median(raw), "max_ms": max(raw)}
            print(f"{tabs:>3} raw clients (no browser): median {statistics.median(raw):.0f} ms, max {max(raw):.0f} ms")
    out = ROOT / "bench-results" / "board_latency.json"
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
