"""Dumps: collected once, caught up after a crash, removed after the keep period."""

from datetime import timedelta
from pathlib import Path

from services import dumps, scheduler, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.models import Dump


def test_a_dump_missed_by_a_crashed_process_is_collected_by_the_scheduler(make_user, demo_slots, monkeypatch):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "gpt-1")
    # The process "dies" between ending the session and collecting its dump.
    monkeypatch.setattr(dumps, "start_after_session", lambda *args: None)
    sessions.release_slot(anna.id, "gpt-1")
    assert dumps.dump_view(work.id) is None
    assert scheduler.run_due(clock.now() + timedelta(minutes=2))["dumps"] == 1
    view = dumps.dump_view(work.id)
    assert view.status == "ready" and view.pages == 1


def test_dumps_expire_after_the_keep_period_and_their_files_go(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "gpt-1")
    sessions.release_slot(anna.id, "gpt-1")
    with session_scope() as session:
        path = Path(session.get(Dump, work.id).path)
    assert path.exists() and dumps.path_for_download(path.name) == path
    scheduler.run_due(clock.now() + timedelta(days=13))
    assert path.exists()
    scheduler.run_due(clock.now() + timedelta(days=14, minutes=1))
    assert not path.exists()
    assert dumps.dump_view(work.id).status == "expired"
    assert dumps.path_for_download(path.name) is None


def test_a_dump_is_collected_once(make_user, demo_slots):
    anna = make_user("anna")
    work = sessions.take_slot(anna.id, "gpt-1")
    sessions.release_slot(anna.id, "gpt-1")
    first = dumps.dump_view(work.id)
    again = dumps.collect_for_session(work.id)
    assert again == first
    assert len(list(dumps.dumps_dir().glob(f"{work.id}-*.zip"))) == 1
