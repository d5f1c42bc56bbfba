"""Load time of the admin «Загрузка» tab over a year of history (10 slots, 15 people).

Generates a year of sessions, queue waits and no-shows, then measures the report in the
service layer and in a real browser (page open to table rendered, and a period switch).
Run: bash bench/run.sh, or directly:
    python -m bench.usage --rounds 5
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, start_live_app

PEOPLE = 15


def populate(now: datetime, days: int = 365, seed: int = 7) -> dict[str, int]:
    """A year of plausible use: busy and idle slots, weekday peaks, some queues and no-shows."""
    from services import users
    from services.core.db import session_scope
    from services.core.models import Booking, QueueEntry, Slot, SlotSession
    from services.core.settings import get_settings

    rng = random.Random(seed)
    tz = get_settings().tz
    people = [users.create_user(f"worker{n:02d}", f"Сотрудник {n}", "bench-pass-1").id for n in range(PEOPLE)]
    with session_scope() as session:
        slot_ids = [s.id for s in session.exec(Slot.__table__.select()).all()]
    popularity = {
        sid: p for sid, p in zip(slot_ids, [0.9, 0.7, 0.5, 0.6, 0.3, 0.4, 0.2, 0.55, 0.08, 0.05], strict=False)
    }
    works, waits, missed = [], [], []
    today = now.astimezone(tz).date()
    for back in range(days, -1, -1):
        day = today - timedelta(days=back)
        weekend = day.isoweekday() > 5
        opening = datetime(day.year, day.month, day.day, 9, tzinfo=tz)
        for sid in slot_ids:
            p = popularity[sid] * (0.2 if weekend else 1.0)
            cursor = opening + timedelta(minutes=rng.choice((0, 30, 60)))
            while cursor.hour < 21:
                if rng.random() < p:
                    length = timedelta(minutes=rng.choice((30, 45, 60, 90, 120, 180)))
                    end = cursor + length
                    if end.astimezone(UTC) > now:
                        break
                    works.append(
                        {
                            "slot_id": sid,
                            "user_id": rng.choice(people),
                            "seat": 1,
                            "via_template": False,
                            "started_at": cursor.astimezone(UTC),
                            "ended_at": end.astimezone(UTC),
                            "end_reason": "released",
                            "extended": False,
                        }
                    )
                    if p > 0.6 and rng.random() < 0.3:
                        joined = cursor + length / 3
                        waits.append(
                            {
                                "slot_id": sid,
                                "user_id": rng.choice(people),
                                "joined_at": joined.astimezone(UTC),
                                "status": "claimed",
                                "offered_at": end.astimezone(UTC),
                                "ended_at": (end + timedelta(minutes=1)).astimezone(UTC),
                            }
                        )
                    cursor = end
                else:
                    cursor += timedelta(minutes=rng.choice((30, 60, 120)))
            if not weekend and rng.random() < 0.04:
                start = opening + timedelta(hours=rng.randrange(0, 11))
                if start.astimezone(UTC) < now:
                    missed.append(
                        {
                            "slot_id": sid,
                            "user_id": rng.choice(people),
                            "starts_at": start.astimezone(UTC),
                            "ends_at": (start + timedelta(hours=1)).astimezone(UTC),
                            "status": "expired",
                            "seat": 1,
                            "created_at": (start - timedelta(days=1)).astimezone(UTC),
                        }
                    )
    # Timestamps go through the model's column type (naive UTC) via the ORM's insert.
    with session_scope() as session:
        session.execute(insert(SlotSession), works)
        session.execute(insert(QueueEntry), waits)
        session.execute(insert(Booking), missed)
    return {"sessions": len(works), "queue_waits": len(waits), "no_shows": len(missed)}


def measure_service(rounds: int) -> dict[str, float]:
    from services import analytics
    from services.core import clock

    out = {}
    for period in analytics.PERIODS:
        samples = []
        for _ in range(rounds):
            t = time.perf_counter()
            analytics.compute(period, clock.now())
            samples.append((time.perf_counter() - t) * 1000)
        out[period] = statistics.median(samples)
        print(f"  service, {period:>5}: median {out[period]:.0f} ms")
    return out


def measure_browser(url: str, rounds: int) -> dict[str, float]:
    import pyotp
    from playwright.sync_api import sync_playwright

    from services import analytics, auth, users
    from services.core import clock

    boss = users.create_user("boss", "Админ Бенч", "bench-pass-1", is_admin=True)
    users.mark_onboarded(boss.id)
    secret = auth.begin_enrolment(boss.id).secret
    auth.confirm_enrolment(boss.id, pyotp.TOTP(secret).at(clock.now() - timedelta(seconds=30)))
    token = auth.login("boss", "bench-pass-1", pyotp.TOTP(secret).now()).token
    month_hours = analytics.compute("month", clock.now()).work_hours
    host = url.split("//", 1)[1].split(":", 1)[0]
    opened, switched = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1280, "height": 900})
        ctx.add_cookies([{"name": "vdi_token", "value": token, "domain": host, "path": "/"}])
        page = ctx.new_page()
        page.goto(f"{url}/")  # warm the build's static files into the browser cache
        for _ in range(rounds):
            t = time.perf_counter()
            page.goto(f"{url}/admin")
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=usage-row]').length === 10"
                " && document.querySelectorAll('.recharts-bar-rectangle').length > 0",
                timeout=60_000,
            )
            opened.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            page.get_by_role("radio", name="30 дней").click()
            page.get_by_text(f"Рабочих часов в периоде: {month_hours:g}").wait_for(timeout=60_000)
            switched.append((time.perf_counter() - t) * 1000)
        page.screenshot(path=str(ROOT / "bench-results" / "usage-tab.png"), full_page=True)
        browser.close()
    result = {"open_ms": statistics.median(opened), "switch_to_month_ms": statistics.median(switched)}
    opened_ms, switched_ms = result["open_ms"], result["switch_to_month_ms"]
    print(f"  browser: /admin open to charts {opened_ms:.0f} ms, switch to 30 days {switched_ms:.0f} ms")
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    (ROOT / "bench-results").mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp, start_live_app(Path(tmp), ROOT / "bench-results" / "app.log") as app:
        os.environ["VDI_DATA_DIR"] = app.env["VDI_DATA_DIR"]
        os.environ["VDI_SECRET_KEY"] = app.env["VDI_SECRET_KEY"]
        os.environ["VDI_BCRYPT_ROUNDS"] = "4"
        from services.core import clock

        t = time.perf_counter()
        counts = populate(clock.now())
        print(f"  generated {counts} in {time.perf_counter() - t:.1f} s")
        results = {"history": counts, "service_ms": measure_service(args.rounds)}
        results["browser"] = measure_browser(app.url, args.rounds)
    (ROOT / "bench-results" / "usage.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
