"""Reading what a person visited from a Chromium profile's History database."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

# Chromium stores times as microseconds since 1601-01-01 UTC.
EPOCH_1601 = datetime(1601, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Visit:
    url: str
    title: str
    at: datetime


def to_chromium(dt: datetime) -> int:
    return int((dt - EPOCH_1601) / timedelta(microseconds=1))


def from_chromium(value: int) -> datetime:
    return EPOCH_1601 + timedelta(microseconds=int(value))


def read_visits(history: Path, since: datetime, until: datetime) -> list[Visit]:
    """Visits in [since, until], oldest first. The live file may be locked by the browser,
    so a copy (with its WAL/journal) is read instead."""
    if not history.exists():
        raise FileNotFoundError(f"{history} does not exist")
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "History"
        shutil.copy2(history, copy)
        for suffix in ("-wal", "-journal"):
            side = history.with_name(history.name + suffix)
            if side.exists():
                shutil.copy2(side, copy.with_name(copy.name + suffix))
        conn = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
        try:
            rows = conn.execute(
                "SELECT urls.url, urls.title, visits.visit_time FROM visits JOIN urls ON urls.id = visits.url"
                " WHERE visits.visit_time BETWEEN ? AND ? ORDER BY visits.visit_time",
                (to_chromium(since), to_chromium(until)),
            ).fetchall()
        finally:
            conn.close()
    return [Visit(url=u, title=t or "", at=from_chromium(v)) for u, t, v in rows]
