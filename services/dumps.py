"""Session dumps: the work a session left in its room, packed as one zip for its owner.

Collected in the background right after the session ends and before the room is
reset; a failure in one part (no screenshot, history locked) still delivers the
rest and says what is missing. Kept VDI_DUMP_KEEP_DAYS, then removed.
"""

from __future__ import annotations

import csv
import errno
import html
import io
import json
import logging
import secrets
import shutil
import threading
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from services.core import audit, clock, files, outbox
from services.core.db import bump_board_version, session_scope
from services.core.files import dump_download_path
from services.core.models import Dump, SlotSession
from services.core.settings import get_settings
from services.rooms import base as rooms
from services.rooms import room_files
from services.rooms.base import Artifacts, RoomProvider
from services.session_views import get_session

log = logging.getLogger(__name__)
STALE_COLLECTING = timedelta(minutes=10)
# Tests switch this off to run the after-session work inline and deterministically.
RUN_IN_BACKGROUND = True


@dataclass(frozen=True)
class DumpView:
    status: str
    pages: int
    files: int
    missing: str
    size_label: str
    download_url: str


def dumps_dir() -> Path:
    data_dir = files.private_dir(get_settings().data_dir)
    return files.private_dir(data_dir / "dumps")


def _claim(session_id: int) -> bool:
    """One collector per session, even across processes; a stale claim can be taken over."""
    now = clock.now()
    try:
        with session_scope() as session:
            session.add(Dump(session_id=session_id, status="collecting", created_at=now))
        return True
    except IntegrityError:
        with session_scope() as session:
            result = session.exec(
                update(Dump)
                .where(
                    Dump.session_id == session_id, Dump.status == "collecting", Dump.created_at < now - STALE_COLLECTING
                )
                .values(created_at=now)
            )
            return result.rowcount == 1


def _index_html(info, found: Artifacts, file_names: list[str], tz) -> str:
    def t(dt: datetime) -> str:
        return f"{dt.astimezone(tz):%d.%m.%Y %H:%M:%S}"

    rows = (
        "".join(
            f"<tr><td>{t(v.at)}</td><td>{html.escape(v.title or '—')}</td>"
            f'<td><a href="{html.escape(v.url)}">{html.escape(v.url)}</a></td></tr>'
            for v in found.visits
        )
        or "<tr><td colspan=3>Страниц не найдено</td></tr>"
    )
    files = "".join(
        f'<li><a href="files/{html.escape(room_files.archive_name(n))}">{html.escape(n)}</a></li>' for n in file_names
    )
    missing = "".join(f"<li>{html.escape(m)}</li>" for m in found.missing)
    clipboard = f"<pre>{html.escape(found.clipboard)}</pre>" if found.clipboard else "<p>—</p>"
    shot = '<img src="screenshot.jpg" alt="Скриншот" style="max-width:100%">' if found.screenshot else "<p>—</p>"
    return f"""<!doctype html><html lang="ru"><head><meta charset="utf-8">
<title>Сессия {html.escape(info.service_name)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:960px;margin:2em auto;padding:0 1em;color:#111}}
table{{border-collapse:collapse;width:100%}}td,th{{border-bottom:1px solid #ddd;padding:6px;text-align:left;
font-size:14px;vertical-align:top}}pre{{background:#f3f4f6;padding:1em;white-space:pre-wrap}}</style></head><body>
<h1>🔚 Сессия завершена</h1>
<p><b>Сервис:</b> {html.escape(info.service_name)}<br><b>Сотрудник:</b> {html.escape(info.user_name)}<br>
<b>Время:</b> {t(info.started_at)} – {t(info.ended_at) if info.ended_at else "—"} ({info.duration_label})<br>
<b>Причина:</b> {html.escape(info.end_reason_label)}</p>
<h2>Посещённые страницы ({len(found.visits)})</h2><table><tr><th>Время</th><th>Заголовок</th><th>Адрес</th></tr>
{rows}</table>
<h2>Скачанные файлы ({len(file_names)})</h2><ul>{files or "<li>—</li>"}</ul>
<h2>Буфер обмена</h2>{clipboard}
<h2>Скриншот</h2>{shot}
{f"<h2>Не удалось собрать</h2><ul>{missing}</ul>" if missing else ""}
</body></html>"""


def _pack(info, found: Artifacts, target: Path) -> list[str]:
    tz = get_settings().tz
    names: list[str] = []
    # 0600 from creation: a dump holds the owner's pages, files and clipboard.
    with files.create_private(target) as fh, zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, path in found.files:
            try:
                zf.write(path, f"files/{room_files.archive_name(name)}")
                names.append(name)
            except OSError as exc:
                found.missing.append(f"файл {name} ({exc.__class__.__name__})")
        pages = io.StringIO()
        writer = csv.writer(pages)
        writer.writerow(["time", "title", "url"])
        for v in found.visits:
            writer.writerow([v.at.astimezone(tz).isoformat(), v.title, v.url])
        zf.writestr("pages.csv", pages.getvalue())
        if found.clipboard:
            zf.writestr("clipboard.txt", found.clipboard)
        if found.screenshot:
            zf.writestr("screenshot.jpg", found.screenshot)
        meta = {
            "session_id": info.id,
            "slot": info.slot_id,
            "service": info.service_name,
            "user": info.user_name,
            "started_at": info.started_at.isoformat(),
            "ended_at": info.ended_at.isoformat() if info.ended_at else None,
            "end_reason": info.end_reason,
            "pages": len(found.visits),
            "files": names,
            "missing": found.missing,
        }
        zf.writestr("meta.json", json.dumps(meta, ensure_ascii=False, indent=2))
        zf.writestr("index.html", _index_html(info, found, names, tz))
    return names


def summary_text(info, pages: int, files: int, missing: list[str]) -> str:
    lines = [
        "🔚 Сессия завершена",
        f"Слот: {info.service_name}",
        f"Время: {clock.hhmm(info.started_at)}–{clock.hhmm(info.ended_at) if info.ended_at else '—'}"
        f" ({info.duration_label})",
    ]
    # Always say why: a session cut by the clock, an admin or idleness must not look like one's own click.
    lines.append(f"Причина: {info.end_reason_label}")
    if pages:
        lines.append(f"📎 Вкладок: {pages}")
    if files:
        lines.append(f"📁 Файлов: {files}")
    if missing:
        lines.append("⚠️ Не собрано: " + "; ".join(missing))
    return "\n".join(lines)


def collect_for_session(session_id: int, provider: RoomProvider | None = None) -> DumpView | None:
    """Collect, pack, store and queue the dump of an ended session (once)."""
    if not _claim(session_id):
        return dump_view(session_id)
    provider = provider or rooms.current()
    info = get_session(session_id)
    try:
        found = provider.collect(info.slot_id, info.started_at, info.ended_at or clock.now())
    except Exception as exc:  # a broken room still yields a dump that says so
        log.exception("collecting session %s failed", session_id)
        found = Artifacts(missing=[f"данные комнаты ({exc.__class__.__name__})"])
    stamp = f"{info.started_at.astimezone(get_settings().tz):%Y%m%d-%H%M}"
    # The random part makes the file name a capability: it is the download link's secret.
    target = dumps_dir() / f"{session_id}-{secrets.token_hex(16)}.zip"
    try:
        names = _pack(info, found, target)
        size = target.stat().st_size
    except OSError as exc:  # the disk is full or read-only: the session has ended all the same
        target.unlink(missing_ok=True)  # a half-written zip would only take more space
        _clear_downloads(provider, info.slot_id, [name for name, _ in found.files])
        _record_failure(info, exc)
        return dump_view(session_id)
    finally:
        if found.staging is not None:
            shutil.rmtree(found.staging, ignore_errors=True)
    _clear_downloads(provider, info.slot_id, names)
    keep = timedelta(days=get_settings().telegram.dump_keep_days)
    with session_scope() as session:
        dump = session.get(Dump, session_id)
        assert dump is not None
        dump.status, dump.path, dump.size_bytes = "ready", str(target), size
        dump.pages, dump.files, dump.missing = len(found.visits), len(names), "; ".join(found.missing)[:500]
        dump.ready_at, dump.expires_at = clock.now(), clock.now() + keep
        session.add(dump)
        outbox.enqueue(
            info.user_id,
            "dump",
            summary_text(info, len(found.visits), len(names), found.missing),
            f"dump:{session_id}",
            session=session,
            document=(str(target), f"vdi-taxi-{info.slot_id}-{stamp}.zip"),
        )
        bump_board_version(session)
    return dump_view(session_id)


def _clear_downloads(provider: RoomProvider, slot_id: str, names: list[str]) -> None:
    """The next person must not find this person's files in the room, packed or not."""
    try:
        provider.clear_downloads(slot_id, names)
    except OSError:
        log.warning("could not clear downloads of %s", slot_id)


def failure_reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "на диске сервера нет места"
    if exc.errno == errno.EROFS:
        return "папка архивов доступна только для чтения"
    return f"ошибка записи ({exc.strerror or exc.__class__.__name__})"


def _record_failure(info, exc: OSError) -> None:
    """A dump that could not be written: marked failed (shown on the session end page), written to
    the journal for the admins, and the person told in Telegram; never retried, as the room is
    reset right after and what it held is gone."""
    log.error("dump of session %s not written: %s", info.id, exc)
    reason = failure_reason(exc)
    with session_scope() as session:
        dump = session.get(Dump, info.id)
        assert dump is not None
        dump.status, dump.path, dump.size_bytes = "failed", None, 0
        dump.missing = f"архив не сохранён: {reason}"[:500]
        dump.ready_at = clock.now()
        session.add(dump)
        audit.record(session, "dump_failed", subject=str(info.id), detail=f"{info.slot_id}: {exc}"[:500])
        outbox.enqueue(
            info.user_id,
            "dump",
            f"🔚 Сессия завершена\nСлот: {info.service_name}\nПричина: {info.end_reason_label}\n"
            f"⚠️ Архив сессии не сохранён: {reason}. "
            "Администраторы видят это в журнале.",
            f"dump:{info.id}",
            session=session,
        )
        bump_board_version(session)


def start_after_session(session_id: int, slot_id: str, provider: RoomProvider) -> None:
    """Collect the dump, then reset the room — in the background, so releasing returns at once."""

    def run() -> None:
        try:
            collect_for_session(session_id, provider)
        except Exception:
            log.exception("dump of session %s failed; the scheduler retries", session_id)
        finally:
            try:
                provider.after_session(slot_id)
            except Exception:
                log.exception("resetting room %s failed", slot_id)

    if RUN_IN_BACKGROUND:
        threading.Thread(target=run, name=f"dump-{session_id}", daemon=True).start()
    else:
        run()


def dump_view(session_id: int) -> DumpView | None:
    with session_scope() as session:
        dump = session.get(Dump, session_id)
    if dump is None:
        return None
    size = dump.size_bytes
    label = f"{size / 1024 / 1024:.1f} МБ" if size >= 1024 * 1024 else f"{max(1, size // 1024)} КБ"
    url = dump_download_path(Path(dump.path).name) if dump.status == "ready" and dump.path else ""
    return DumpView(dump.status, dump.pages, dump.files, dump.missing, label, url)


def catch_up(now: datetime) -> int:
    """Scheduler step: dumps missed while a process was down are collected; old ones removed."""
    done = 0
    with session_scope() as session:
        have = select(Dump.session_id)
        missed = session.exec(
            select(SlotSession.id).where(
                SlotSession.ended_at.is_not(None),
                SlotSession.ended_at > now - timedelta(days=1),
                SlotSession.ended_at < now - timedelta(minutes=1),
                SlotSession.id.not_in(have),
            )
        ).all()
        stale = session.exec(
            select(Dump.session_id).where(Dump.status == "collecting", Dump.created_at < now - STALE_COLLECTING)
        ).all()
        expired = session.exec(select(Dump).where(Dump.status == "ready", Dump.expires_at <= now)).all()
        for dump in expired:
            if dump.path:
                Path(dump.path).unlink(missing_ok=True)
            dump.status, dump.path = "expired", None
            session.add(dump)
    for session_id in [*missed, *stale]:
        if collect_for_session(session_id) is not None:
            done += 1
    return done


# ---------------------------------------------------------------- downloads


def path_for_download(name: str) -> Path | None:
    """The zip behind a download link, if it exists and has not expired."""
    if not name.endswith(".zip") or "/" in name or len(name) > 80:
        return None
    session_part = name.split("-", 1)[0]
    if not session_part.isdigit():
        return None
    with session_scope() as session:
        dump = session.get(Dump, int(session_part))
    if dump is None or dump.status != "ready" or not dump.path:
        return None
    path = Path(dump.path)
    if path.name != name or not path.exists():
        return None
    return path
