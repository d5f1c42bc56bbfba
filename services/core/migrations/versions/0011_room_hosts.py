"""rooms: the Docker host each room is placed on, and whether an admin pinned it there

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-26 22:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        # Rooms created before this column existed live on the first (then only) host: NULL says so.
        batch_op.add_column(sa.Column('host', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('host_pinned', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_column('host_pinned')
        batch_op.drop_column('host')
