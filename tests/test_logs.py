"""The app log's set-up (vdi_taxi.logs) and what the lease log says when a job changes hands."""

from __future__ import annotations

import logging
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest

from services.core import leases
from services.core.settings import SettingsError, load_settings

SCRIPT = """
import logging
from vdi_taxi import logs
logs.configure({level!r})
logs.configure({level!r})  # the app module may be imported twice: still one line per record
logging.getLogger("services.demo").info("tab 123e4567-e89b-42d3-a456-426614174000 joined")
logging.getLogger("state.demo").debug("a debug line")
logging.getLogger("vdi_taxi.demo").warning("a warning")
logging.getLogger("some.library").info("library chatter")
"""


def _run(level: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT.format(level=level)], capture_output=True, text=True, check=True, timeout=60
    )
    return done.stderr


def test_info_lines_of_the_app_reach_stderr_once_with_client_tokens_redacted():
    err = _run("INFO")
    assert err.count("INFO services.demo: tab <client> joined") == 1
    assert "123e4567" not in err
    assert err.count("WARNING vdi_taxi.demo: a warning") == 1
    assert "a debug line" not in err and "library chatter" not in err


def test_the_level_is_a_setting():
    err = _run("WARNING")
    assert "joined" not in err and "WARNING vdi_taxi.demo: a warning" in err
    assert "DEBUG state.demo: a debug line" in _run("DEBUG")


def test_an_unknown_level_is_refused_with_its_variable_named(monkeypatch):
    monkeypatch.setenv("VDI_LOG_LEVEL", "chatty")
    with pytest.raises(SettingsError, match="VDI_LOG_LEVEL"):
        load_settings()
    monkeypatch.setenv("VDI_LOG_LEVEL", " warning ")
    assert load_settings().log_level == "WARNING"


def test_the_log_says_when_a_job_moves_to_another_process_not_on_every_renewal(database, caplog):
    caplog.set_level(logging.INFO, logger="services.core.leases")
    job = f"demo-job-{uuid.uuid4().hex[:8]}"  # what this process holds outlives one test
    ttl = timedelta(seconds=30)
    assert leases.acquire(job, ttl, holder="host-a:1")
    assert leases.acquire(job, ttl, holder="host-a:1")
    assert not leases.acquire(job, ttl, holder="host-b:2")
    assert [r.getMessage() for r in caplog.records] == [f"host-a:1 runs {job} now"]
    caplog.clear()
    # a stops renewing (its last renewal ran out at once); b takes over; a hears it on its next beat.
    assert leases.acquire(job, timedelta(0), holder="host-a:1")
    assert leases.acquire(job, ttl, holder="host-b:2")
    assert not leases.acquire(job, ttl, holder="host-a:1")
    assert [(r.levelname, r.getMessage()) for r in caplog.records] == [
        ("INFO", f"host-b:2 runs {job} now"),
        ("WARNING", f"host-a:1 no longer runs {job}: another process holds it"),
    ]
