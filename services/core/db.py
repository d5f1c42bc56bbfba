"""Engine, sessions and migrations.

The schema is only ever created by Alembic (``migrate()``), never by
``create_all``, so a production database and a test database are the same shape.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlmodel import Session, create_engine

from services.core import board_signal, files
from services.core.errors import Unavailable
from services.core.models import BoardVersion
from services.core.settings import get_settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers run beside the one writer; busy_timeout makes writers queue.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute(f"PRAGMA busy_timeout={get_settings().db_busy_seconds * 1000}")
    cur.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            # Created owner-only before SQLite opens it; its -wal and -shm files copy the mode.
            files.private_dir(Path(path).parent)
            files.private_file(Path(path))
        busy = get_settings().db_busy_seconds
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": busy})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().database_url
    with _lock:
        if url not in _engines:
            _engines[url] = make_engine(url)
        return _engines[url]


def dispose_engines() -> None:
    with _lock:
        for engine in _engines.values():
            engine.dispose()
        _engines.clear()


DB_DOWN = "База данных временно недоступна. Ничего не изменено — попробуйте ещё раз через минуту."
DB_BUSY = "База данных занята другой операцией. Ничего не изменено — попробуйте ещё раз через минуту."


def unavailable_reason(exc: BaseException, dialect: str) -> str | None:
    """The Russian message for a database that is down or locked; None for any other error
    (a bug such as a missing table must not pass for an outage)."""
    if not isinstance(exc, OperationalError | InterfaceError):
        return None  # an IntegrityError and the like is an answer, not an outage
    text = str(exc.orig or exc).lower()
    if "database is locked" in text or "database table is locked" in text or "busy" in text:
        return DB_BUSY
    if exc.connection_invalidated or isinstance(exc, InterfaceError):
        return DB_DOWN
    if isinstance(exc, OperationalError) and dialect != "sqlite":
        return DB_DOWN  # PostgreSQL: refused, restarting, connection lost mid-query
    return None


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work: committed when the block ends, rolled back on error.

    A database that is down or locked becomes `Unavailable` with a message for people, so every
    caller that shows DomainErrors shows it, and the request can simply be repeated."""
    engine = get_engine()
    with Session(engine, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException as exc:
            with suppress(DBAPIError):  # the connection may be gone: its rollback fails too
                session.rollback()
            reason = unavailable_reason(exc, engine.dialect.name)
            if reason is not None:
                raise Unavailable(reason) from exc
            raise


def alembic_config(url: str | None = None) -> Config:
    # Imported here: only the operator's commands migrate, and the served app would otherwise carry
    # Alembic (with Mako and Pygments, about 11 MB) in each of its processes.
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return cfg


def migrate(url: str | None = None) -> None:
    """Bring the database to the newest schema (creating it when empty)."""
    from alembic import command

    command.upgrade(alembic_config(url), "head")


def bump_board_version(session: Session) -> None:
    """Mark the live board stale; every process re-reads it on its next poll, or at once once
    the commit has rung the board bell (several workers on Redis)."""
    session.exec(update(BoardVersion).where(BoardVersion.id == 1).values(version=BoardVersion.version + 1))
    session.info[_BOARD_BUMPED] = True


_BOARD_BUMPED = "vdi_board_bumped"


@event.listens_for(Session, "after_commit")
def _ring_after_board_commit(session: Session) -> None:
    # After the commit, never before: a worker woken earlier would read the old board.
    if session.info.pop(_BOARD_BUMPED, False):
        board_signal.ring()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back_bump(session: Session) -> None:
    session.info.pop(_BOARD_BUMPED, None)


def board_version() -> int:
    with Session(get_engine()) as session:
        row = session.get(BoardVersion, 1)
        return row.version if row else 0
