"""Booking creation latency with 10 000 existing bookings (SQLite and PostgreSQL), and
the calendar for a day with 10 slots and 100 bars: building it, and rendering it in Chromium.
    python -m bench.bookings [--postgres URL]
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
import uuid
from datetime import date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path

from sqlalchemy import create_engine, insert, text

from tests.live_server import CHROMIUM, CHROMIUM_ARGS, ROOT, start_live_app

DAY = date(2027, 3, 10)


def _fill(n: int, user_ids: list[int], slot_ids: list[str]) -> None:
    """n bookings over the year before and after DAY, one row per half hour in booking_cells."""
    from services.core import db
    from services.core.models import Booking, BookingCell, UserBookingCell

    rng = random.Random(7)
    taken: set[tuple[str, datetime]] = set()
    bookings, cells, lanes = [], [], []
    lanes_used: dict[tuple[int, datetime], int] = {}
    now = datetime.now().astimezone()
    while len(bookings) < n:
        slot = rng.choice(slot_ids)
        day = DAY + timedelta(days=rng.randint(-200, 200))
        start = datetime.combine(day, dtime(9), tzinfo=now.tzinfo) + timedelta(minutes=30 * rng.randint(0, 21))
        length = rng.choice([1, 2, 4])
        halves = [start + timedelta(minutes=30 * i) for i in range(length)]
        if any((slot, h) in taken for h in halves):
            continue
        taken.update((slot, h) for h in halves)
        booking_id = len(bookings) + 1
        status = "completed" if day < DAY else "active"
        user_id = rng.choice(user_ids)
        bookings.append(
            dict(
                id=booking_id,
                slot_id=slot,
                user_id=user_id,
                starts_at=start,
                ends_at=halves[-1] + timedelta(minutes=30),
                status=status,
                seat=100 + booking_id,
                created_at=now,
            )
        )
        if status == "active":
            cells += [dict(slot_id=slot, cell_start=h, booking_id=booking_id) for h in halves]
            for h in halves:  # the person's lanes too (an overlap made up here gets a higher lane)
                lane = lanes_used[(user_id, h)] = lanes_used.get((user_id, h), 0) + 1
                lanes.append(dict(user_id=user_id, cell_start=h, lane=lane, booking_id=booking_id))
    with db.session_scope() as session:
        session.exec(insert(Booking), params=bookings)
        for i in range(0, len(cells), 5000):
            session.exec(insert(BookingCell), params=cells[i : i + 5000])
        for i in range(0, len(lanes), 5000):
            session.exec(insert(UserBookingCell), params=lanes[i : i + 5000])
        if session.get_bind().dialect.name == "postgresql":
            # Ids were given explicitly: move the sequence past them, or every new booking's
            # insert would hit a taken id and the bench would time the refusal.
            session.exec(text("SELECT setval('bookings_id_seq', (SELECT max(id) FROM bookings))"))


def _creation_latency(label: str, env: dict[str, str]) -> dict:
    os.environ.update(env)
    from services import bookings, runtime, seed, users
    from services.core import clock, db, settings

    runtime.reset()
    db.migrate()
    seed.seed_demo()
    people = [users.create_user(f"b{label}{i}", f"Бенч {i}", "bench-pass-1") for i in range(15)]
    _fill(10_000, [p.id for p in people], [s[0] for s in seed.DEMO_SLOTS])
    clock.freeze(datetime.combine(DAY - timedelta(days=1), dtime(12), tzinfo=settings.get_settings().tz))
    samples = []
    refused = 0
    rng = random.Random(1)
    for i in range(60):
        day = (DAY + timedelta(days=rng.randint(0, 12))).isoformat()
        start = f"{rng.randint(9, 19):02d}:{rng.choice(['00', '30'])}"
        began = time.perf_counter()
        try:
            b = bookings.create_booking(people[i % 15].id, rng.choice(["ppx-1", "ppx-2", "nbp"]), day, start, 30)
        except Exception:  # a conflict with a generated booking is answered just as fast
            b = None
            refused += 1
        samples.append((time.perf_counter() - began) * 1000)
        if b is not None:
            bookings.cancel_booking(b.user_id, b.id)  # keep every user under the future-booking limit
    clock.freeze(None)
    return {
        "median_ms": round(statistics.median(samples), 2),
        "p95_ms": round(sorted(samples)[56], 2),
        "refused": refused,
    }


def _calendar(tmp: Path) -> dict:
    from playwright.sync_api import sync_playwright

    data = tmp / "cal"
    with start_live_app(data, ROOT / "bench-results" / "calendar-app.log", web_dir="bench-cal") as app:
        os.environ.update({k: v for k, v in app.env.items() if k.startswith("VDI_")})
        from services import auth, calendar, runtime, seed, users
        from services.core import clock, db, settings

        runtime.reset()
        viewer = users.create_user("calviewer", "Зритель", "bench-pass-1")
        users.mark_onboarded(viewer.id)
        from services.core.models import Booking, BookingCell

        tomorrow = (datetime.now(settings.get_settings().tz) + timedelta(days=1)).date()
        rows, cells = [], []
        for s_index, (slot_id, *_rest) in enumerate(seed.DEMO_SLOTS):
            for k in range(10):  # 10 bars per slot, 30 min each, every other half hour
                start = datetime.combine(tomorrow, dtime(9), tzinfo=settings.get_settings().tz) + timedelta(
                    minutes=60 * k + 30 * (s_index % 2)
                )
                bid = s_index * 10 + k + 1
                rows.append(
                    dict(
                        id=bid,
                        slot_id=slot_id,
                        user_id=viewer.id,
                        starts_at=start,
                        ends_at=start + timedelta(minutes=30),
                        status="active",
                        seat=1000 + bid,
                        created_at=clock.now(),
                    )
                )
                cells.append(dict(slot_id=slot_id, cell_start=start, booking_id=bid))
        with db.session_scope() as session:
            session.exec(insert(Booking), params=rows)
            session.exec(insert(BookingCell), params=cells)
        build = []
        for _ in range(20):
            began = time.perf_counter()
            day_rows = calendar.calendar_day(tomorrow, viewer.id)
            build.append((time.perf_counter() - began) * 1000)
        assert sum(len(r.bars) for r in day_rows) == 100
        token = auth.login("calviewer", "bench-pass-1").token
        render = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            ctx = browser.new_context()
            ctx.add_cookies([{"name": "vdi_token", "value": token, "url": app.url}])
            page = ctx.new_page()
            page.goto(f"{app.url}/calendar")
            page.wait_for_selector("[data-testid=calendar-row]")
            for _ in range(5):
                began = time.perf_counter()
                page.get_by_role("button", name="Следующий день").click()
                page.wait_for_function("document.querySelectorAll('[data-testid=calendar-bar]').length === 100")
                render.append((time.perf_counter() - began) * 1000)
                page.get_by_role("button", name="Предыдущий день").click()
                page.wait_for_function("document.querySelectorAll('[data-testid=calendar-bar]').length === 0")
            browser.close()
    return {
        "build_day_ms": round(statistics.median(build), 2),
        "switch_to_day_with_100_bars_in_browser_ms": round(statistics.median(render), 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", default=os.environ.get("VDI_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        base = {"VDI_ENV": "test", "VDI_BCRYPT_ROUNDS": "4", "VDI_DATA_DIR": str(Path(tmp) / "sqlite")}
        results["create_booking_with_10k_existing_sqlite"] = _creation_latency("s", base)
        if args.postgres:
            name = f"vdi_bench_{uuid.uuid4().hex[:8]}"
            admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
            try:
                url = args.postgres.rsplit("/", 1)[0] + f"/{name}"
                results["create_booking_with_10k_existing_postgresql"] = _creation_latency(
                    "p", {**base, "VDI_DATABASE_URL": url}
                )
            finally:
                from services.core import db

                db.dispose_engines()
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        os.environ.pop("VDI_DATABASE_URL", None)
        results["calendar"] = _calendar(Path(tmp))
    for key, value in results.items():
        print(f"{key}: {value}")
    out = ROOT / "bench-results" / "bookings.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
