"""The schema comes from migrations, and they go down and up again cleanly."""

import pytest
from alembic import command
from sqlalchemy import inspect

from services import db


@pytest.mark.parametrize("database", ["sqlite", "postgresql"], indirect=True)
def test_migrations_downgrade_to_nothing_and_upgrade_again(database):
    engine = db.get_engine()
    assert {"users", "sessions", "bookings", "booking_cells", "queue_entries", "rooms"} <= set(
        inspect(engine).get_table_names()
    )
    cfg = db.alembic_config()
    command.downgrade(cfg, "base")
    db.dispose_engines()
    assert set(inspect(db.get_engine()).get_table_names()) <= {"alembic_version"}
    command.upgrade(cfg, "head")
    db.dispose_engines()
    assert "bookings" in inspect(db.get_engine()).get_table_names()
