"""The schema comes from migrations, and they go down and up again cleanly."""

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import inspect, text

from services import bookings
from services.core import clock, db


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


def test_active_bookings_made_before_the_lanes_get_them_on_upgrade(database, make_user, demo_slots):
    clock.freeze(datetime(2026, 11, 25, 7, 5, tzinfo=UTC))
    anna = make_user("anna")
    first = bookings.create_booking(anna.id, "ppx-1", "2026-11-26", "14:00", 60)
    cfg = db.alembic_config()
    command.downgrade(cfg, "0008")
    db.dispose_engines()
    # An overlap that the old schema allowed: kept, in a second lane.
    with db.get_engine().begin() as conn:
        conn.execute(
            text(
                "INSERT INTO bookings (slot_id, user_id, starts_at, ends_at, status, seat, created_at)"
                " VALUES ('nbp', :u, '2026-11-26 11:30:00', '2026-11-26 12:30:00', 'active', 2, '2026-11-25')"
            ),
            {"u": anna.id},
        )
    db.dispose_engines()
    command.upgrade(cfg, "head")
    db.dispose_engines()
    with db.get_engine().connect() as conn:
        lanes = conn.execute(text("SELECT booking_id, lane FROM user_booking_cells ORDER BY cell_start, lane")).all()
    second = lanes[-1][0]
    assert [tuple(r) for r in lanes] == [(first.id, 1), (first.id, 1), (second, 2), (second, 1)]
