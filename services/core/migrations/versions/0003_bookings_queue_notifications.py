"""bookings queue notifications

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 08:00:22.372652
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.core.models


revision: str = '0003'
down_revision: str | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bookings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('ends_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=False),
    sa.Column('created_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('cancelled_by', sa.Integer(), nullable=True),
    sa.Column('checked_in_session_id', sa.Integer(), nullable=True),
    sa.Column('reminder_sent_at', services.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bookings_ends_at'), ['ends_at'], unique=False)
        batch_op.create_index('ix_bookings_slot_start', ['slot_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_starts_at'), ['starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_bookings_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_bookings_active_seat', ['user_id', 'seat'], unique=True, sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))

    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=4000), nullable=False),
    sa.Column('dedupe_key', sa.String(length=200), nullable=False),
    sa.Column('created_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('sent_at', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('last_error', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notifications_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_notifications_user_id'), ['user_id'], unique=False)

    op.create_table('queue_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('joined_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('offered_at', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('offer_expires_at', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('ended_at', services.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_queue_entries_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index('uq_queue_one_offer', ['slot_id'], unique=True, sqlite_where=sa.text("status = 'offered'"), postgresql_where=sa.text("status = 'offered'"))
        batch_op.create_index('uq_queue_open_member', ['slot_id', 'user_id'], unique=True, sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))

    op.create_table('booking_cells',
    sa.Column('slot_id', sa.String(length=32), nullable=False),
    sa.Column('cell_start', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('slot_id', 'cell_start')
    )
    with op.batch_alter_table('booking_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_booking_cells_booking_id'), ['booking_id'], unique=False)

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline_at', services.core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('extended', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('warned_at', services.core.models.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_sessions_deadline_at'), ['deadline_at'], unique=False)

    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('max_session_minutes', sa.Integer(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ics_token', sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint('uq_users_ics_token', ['ics_token'])



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint('uq_users_ics_token', type_='unique')
        batch_op.drop_column('ics_token')

    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('max_session_minutes')

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_sessions_deadline_at'))
        batch_op.drop_column('warned_at')
        batch_op.drop_column('extended')
        batch_op.drop_column('deadline_at')

    with op.batch_alter_table('booking_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_booking_cells_booking_id'))

    op.drop_table('booking_cells')
    with op.batch_alter_table('queue_entries', schema=None) as batch_op:
        batch_op.drop_index('uq_queue_open_member', sqlite_where=sa.text("status IN ('waiting', 'offered')"), postgresql_where=sa.text("status IN ('waiting', 'offered')"))
        batch_op.drop_index('uq_queue_one_offer', sqlite_where=sa.text("status = 'offered'"), postgresql_where=sa.text("status = 'offered'"))
        batch_op.drop_index(batch_op.f('ix_queue_entries_slot_id'))

    op.drop_table('queue_entries')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notifications_user_id'))
        batch_op.drop_index(batch_op.f('ix_notifications_status'))
        batch_op.drop_index(batch_op.f('ix_notifications_created_at'))

    op.drop_table('notifications')
    with op.batch_alter_table('bookings', schema=None) as batch_op:
        batch_op.drop_index('uq_bookings_active_seat', sqlite_where=sa.text("status = 'active'"), postgresql_where=sa.text("status = 'active'"))
        batch_op.drop_index(batch_op.f('ix_bookings_user_id'))
        batch_op.drop_index(batch_op.f('ix_bookings_status'))
        batch_op.drop_index(batch_op.f('ix_bookings_starts_at'))
        batch_op.drop_index('ix_bookings_slot_start')
        batch_op.drop_index(batch_op.f('ix_bookings_ends_at'))

    op.drop_table('bookings')
