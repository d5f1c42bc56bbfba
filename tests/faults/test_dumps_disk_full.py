"""Fault: the dumps directory is on a filesystem with no space left (a small tmpfs mounted for
the test). The session still ends, the room is still reset, the failure is recorded and
shown, and everything else goes on."""

from __future__ import annotations

import errno
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from services import dumps, scheduler, session_views, sessions
from services.core import clock
from services.core.db import session_scope
from services.core.models import AuditEvent, Dump, Notification, SlotSession
from services.core.settings import get_settings
from services.rooms.demo import DemoRoomProvider


class WatchedRoom(DemoRoomProvider):
    """The demo room, noting which rooms were reset and which downloads cleared."""

    def __init__(self) -> None:
        self.resets: list[str] = []
        self.cleared: list[str] = []

    def after_session(self, slot_id: str) -> None:
        self.resets.append(slot_id)

    def clear_downloads(self, slot_id: str, names: list[str]) -> None:
        self.cleared.append(slot_id)


@pytest.fixture
def full_dumps_dir(demo_slots) -> Iterator[Path]:
    target = get_settings().data_dir / "dumps"
    target.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(target)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        with open(target / "filler", "wb", buffering=0) as fh:  # fill it to the last byte
            try:
                while True:
                    fh.write(b"\0" * 4096)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
        yield target
    finally:
        subprocess.run(["umount", "-l", str(target)], check=True)


def test_a_full_dumps_disk_still_ends_the_session_resets_the_room_and_says_what_failed(full_dumps_dir: Path, make_user):
    anna, boris = make_user("anna"), make_user("boris")
    room = WatchedRoom()
    work = sessions.take_slot(anna.id, "gpt-1", provider=room)
    assert sessions.end_session(work.id, "manual", ended_by=anna.id, provider=room)

    # The session ended and the room was reset for the next person.
    assert session_views.get_session(work.id).ended_at is not None
    assert room.resets == ["gpt-1"] and room.cleared == ["gpt-1"]
    # The failure is recorded, shown on the end page, and the person told.
    view = dumps.dump_view(work.id)
    assert view is not None and view.status == "failed"
    assert view.missing == "архив не сохранён: на диске сервера нет места"
    assert view.download_url == ""
    with session_scope() as session:
        journal = session.exec(select(AuditEvent).where(AuditEvent.kind == "dump_failed")).all()
        told = session.exec(select(Notification).where(Notification.dedupe_key == f"dump:{work.id}")).all()
    assert [e.subject for e in journal] == [str(work.id)]
    assert len(told) == 1 and "нет места" in told[0].text and told[0].document_path is None
    assert [p.name for p in full_dumps_dir.iterdir()] == ["filler"]  # no half-written zip left

    # Nothing else stops: the next person takes the same slot, the scheduler runs, and the
    # failed dump is not retried over and over.
    again = sessions.take_slot(boris.id, "gpt-1", provider=room)
    assert again.slot_id == "gpt-1"
    done = scheduler.run_due(clock.now() + timedelta(minutes=15))
    assert done["dumps"] == 0
    with session_scope() as session:
        assert session.exec(select(Dump.status).where(Dump.session_id == work.id)).one() == "failed"
        assert session.exec(select(SlotSession).where(SlotSession.ended_at.is_(None))).one().user_id == boris.id

    # With space back, the next session's dump is written as usual.
    (full_dumps_dir / "filler").unlink()
    sessions.end_session(again.id, "manual", ended_by=boris.id, provider=room)
    assert dumps.dump_view(again.id).status == "ready"
