"""Which database errors people see as «temporarily unavailable», and which stay what they are."""

import sqlite3

from sqlalchemy.exc import IntegrityError, OperationalError

from services.core.db import DB_BUSY, DB_DOWN, unavailable_reason


def _wrap(kind, message: str):
    return kind("INSERT ...", {}, sqlite3.Error(message))


def test_a_locked_or_unreachable_database_is_unavailable_and_nothing_else_is():
    assert unavailable_reason(_wrap(OperationalError, "database is locked"), "sqlite") == DB_BUSY
    assert unavailable_reason(_wrap(OperationalError, "connection refused"), "postgresql") == DB_DOWN
    # A bug or a refused duplicate is not an outage, whatever its text says.
    assert unavailable_reason(_wrap(OperationalError, "no such table: slots"), "sqlite") is None
    assert unavailable_reason(_wrap(IntegrityError, "Key (name)=(busy) already exists"), "postgresql") is None
    assert unavailable_reason(ValueError("database is locked"), "sqlite") is None
