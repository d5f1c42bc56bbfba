"""A room cannot get app-side files into its dump by planting links in its downloads."""

from __future__ import annotations

import os
import shutil
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from services import dumps, runtime
from services.core.db import session_scope
from services.core.models import Dump, Slot, SlotSession
from services.rooms import base as rooms
from services.rooms.docker import DockerRoomProvider


@pytest.fixture
def docker_provider(monkeypatch, tmp_path, database) -> DockerRoomProvider:
    # No Docker engine is needed to read the room's directories: the engine calls fail and say so.
    monkeypatch.setenv("VDI_ROOM_PROVIDER", "docker")
    monkeypatch.setenv("VDI_DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    monkeypatch.setenv("VDI_ROOM_DATA_DIR", str(tmp_path / "rooms"))
    runtime.reset()
    provider = rooms.current()
    assert isinstance(provider, DockerRoomProvider)
    return provider


def _plant(downloads: Path, secret: Path) -> None:
    downloads.mkdir(parents=True, exist_ok=True)
    (downloads / "report.pdf").write_bytes(b"%PDF-1.4 real work")
    (downloads / "secret-key.txt").symlink_to(secret)  # a link to an app-side file
    outside = secret.parent
    (downloads / "appdir").symlink_to(outside, target_is_directory=True)
    (downloads / ".. ").symlink_to(secret)  # looks like the parent directory in a listing
    (downloads / "..\\..\\evil.txt").write_bytes(b"windows traversal name")
    os.mkfifo(downloads / "pipe")  # would hang a naive reader


def test_collect_takes_only_regular_files_and_never_follows_a_link(docker_provider, tmp_path):
    secret = tmp_path / "app" / "secret_key"
    secret.parent.mkdir()
    secret.write_text("TOP-SECRET-KEY")
    downloads = docker_provider.downloads_dir("ppx-1")
    _plant(downloads, secret)
    profile = docker_provider.profile_dir("ppx-1") / "Default"
    profile.mkdir(parents=True)
    (profile / "History").symlink_to(secret)
    start = datetime.now(UTC) - timedelta(minutes=1)
    found = docker_provider.collect("ppx-1", start, datetime.now(UTC))
    try:
        names = sorted(name for name, _ in found.files)
        assert names == ["..\\..\\evil.txt", "report.pdf"]
        for _, path in found.files:
            assert found.staging is not None and path.is_relative_to(found.staging)
            assert b"TOP-SECRET" not in path.read_bytes()
        assert any("история" in m for m in found.missing)
    finally:
        if found.staging:
            shutil.rmtree(found.staging)


def test_a_dump_of_a_room_with_planted_links_holds_no_app_side_file(docker_provider, tmp_path, make_user):
    with session_scope() as session:
        session.add(Slot(id="ppx-1", service_name="Perplexity", category="РЕСЕРЧ", sort_order=0))
    secret = tmp_path / "app" / "secret_key"
    secret.parent.mkdir()
    secret.write_text("TOP-SECRET-KEY")
    _plant(docker_provider.downloads_dir("ppx-1"), secret)
    anna = make_user("anna")
    with session_scope() as session:
        row = SlotSession(slot_id="ppx-1", user_id=anna.id, started_at=datetime.now(UTC) - timedelta(minutes=5))
        row.ended_at = datetime.now(UTC)
        row.end_reason = "released"
        session.add(row)
        session.flush()
        session_id = row.id
    dumps.collect_for_session(session_id, docker_provider)
    with session_scope() as session:
        dump = session.get(Dump, session_id)
    with zipfile.ZipFile(dump.path) as zf:
        members = zf.namelist()
        assert sorted(m for m in members if m.startswith("files/")) == ["files/_.._evil.txt", "files/report.pdf"]
        assert all(b"TOP-SECRET" not in zf.read(m) for m in members)
    assert secret.read_text() == "TOP-SECRET-KEY"  # clearing downloads never touched the target
