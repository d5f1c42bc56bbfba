"""rooms

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 07:39:06.210722
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.core.models


revision: str = '0002'
down_revision: str | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('leases',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('holder', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('expires_at', services.core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    op.create_table('system_status',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('updated_at', services.core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('rooms',
    sa.Column('slot_id', sa.String(length=32), nullable=False),
    sa.Column('room_index', sa.Integer(), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('container_id', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=True),
    sa.Column('api_token_enc', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
    sa.Column('restarts', sa.Integer(), nullable=False),
    sa.Column('backoff_until', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('updated_at', services.core.models.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('slot_id'),
    sa.UniqueConstraint('room_index')
    )
    with op.batch_alter_table('room_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
        batch_op.add_column(sa.Column('member_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('room_grants', schema=None) as batch_op:
        batch_op.drop_column('member_name')
        batch_op.drop_column('member_id')

    op.drop_table('rooms')
    op.drop_table('system_status')
    op.drop_table('leases')
