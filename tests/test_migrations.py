"""The schema comes from migrations, and they go down and up again cleanly."""

from alembic import command
from sqlalchemy import inspect

from services.core import db


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


def test_upgrading_a_database_with_data_keeps_the_data(database):
    from sqlalchemy import text

    cfg = db.alembic_config()
    command.downgrade(cfg, "0003")
    db.dispose_engines()
    with db.get_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT INTO users (username, name, password_hash, is_admin, is_active, onboarded,"
                " created_at) VALUES ('a', 'A', 'x', true, true, true, '2026-01-01')"
            )
        )
        conn.execute(
            text(
                "INSERT INTO slots (id, service_name, category, category_accent, monthly_cost, is_active,"
                " sort_order) VALUES ('s1', 'S', 'C', '#fff', 1, true, 0)"
            )
        )
        conn.execute(
            text(
                "INSERT INTO sessions (slot_id, user_id, seat, via_template, started_at, extended)"
                " SELECT 's1', id, 1, false, '2026-01-01', false FROM users"
            )
        )
        conn.execute(text("INSERT INTO favourites SELECT id, 's1' FROM users"))
    db.dispose_engines()
    command.upgrade(cfg, "head")
    db.dispose_engines()
    with db.get_engine().connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM sessions")).scalar() == 1
        assert conn.execute(text("SELECT count(*) FROM favourites")).scalar() == 1
        assert conn.execute(text("SELECT telegram_chat_id FROM users")).scalar() is None
