"""calendar: per-person booking lanes (no overlapping bookings beyond the limit), slot creation time

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 10:00:00.000000
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

import services.core.models


revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CELL = timedelta(minutes=30)


def upgrade() -> None:
    cells = op.create_table('user_booking_cells',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('cell_start', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('lane', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('booking_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['booking_id'], ['bookings.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'cell_start', 'lane')
    )
    with op.batch_alter_table('user_booking_cells', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_booking_cells_booking_id'), ['booking_id'], unique=False)

    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('created_at', services.core.models.UTCDateTime(), nullable=True))

    # Active bookings made before this revision get their lanes; an overlap that already
    # exists is kept (in a higher lane) rather than cancelled behind its owner's back.
    bookings = sa.table(
        'bookings',
        sa.column('id', sa.Integer()),
        sa.column('user_id', sa.Integer()),
        sa.column('starts_at', services.core.models.UTCDateTime()),
        sa.column('ends_at', services.core.models.UTCDateTime()),
        sa.column('status', sa.String()),
    )
    conn = op.get_bind()
    taken: dict[tuple[int, object], set[int]] = {}
    rows = []
    active = conn.execute(
        sa.select(bookings.c.id, bookings.c.user_id, bookings.c.starts_at, bookings.c.ends_at)
        .where(bookings.c.status == 'active')
        .order_by(bookings.c.id)
    )
    for booking_id, user_id, starts_at, ends_at in active:
        t = starts_at
        while t < ends_at:
            lanes = taken.setdefault((user_id, t), set())
            lane = next(n for n in range(1, len(lanes) + 2) if n not in lanes)
            lanes.add(lane)
            rows.append({'user_id': user_id, 'cell_start': t, 'lane': lane, 'booking_id': booking_id})
            t += CELL
    if rows:
        op.bulk_insert(cells, rows)


def downgrade() -> None:
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('created_at')

    with op.batch_alter_table('user_booking_cells', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_booking_cells_booking_id'))

    op.drop_table('user_booking_cells')
