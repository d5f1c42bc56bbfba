"""idle release: presence stamps and a per-slot idle limit

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 15:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.core.models


revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idle_minutes', sa.Integer(), nullable=True))

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room_seen_at', services.core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('idle_warned_at', services.core.models.UTCDateTime(), nullable=True))

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('portal_seen_at', services.core.models.UTCDateTime(), nullable=True))

    with op.batch_alter_table('room_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('seen_at', services.core.models.UTCDateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('room_grants', schema=None) as batch_op:
        batch_op.drop_column('seen_at')

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('portal_seen_at')

    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('idle_warned_at')
        batch_op.drop_column('room_seen_at')

    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('idle_minutes')
