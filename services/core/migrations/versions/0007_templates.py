"""templates

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26 10:16:28.091586
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.core.models


revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('templates',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('icon', sqlmodel.sql.sqltypes.AutoString(length=8), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('created_by', sa.Integer(), nullable=True),
    sa.Column('created_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('usage_count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by'], ['users.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_templates_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index('uq_templates_personal_name', ['owner_id', 'name'], unique=True, sqlite_where=sa.text('owner_id IS NOT NULL'), postgresql_where=sa.text('owner_id IS NOT NULL'))
        batch_op.create_index('uq_templates_shared_name', ['name'], unique=True, sqlite_where=sa.text('owner_id IS NULL'), postgresql_where=sa.text('owner_id IS NULL'))

    op.create_table('template_slots',
    sa.Column('template_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.String(length=32), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['template_id'], ['templates.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('template_id', 'slot_id')
    )


def downgrade() -> None:
    op.drop_table('template_slots')
    with op.batch_alter_table('templates', schema=None) as batch_op:
        batch_op.drop_index('uq_templates_shared_name', sqlite_where=sa.text('owner_id IS NULL'), postgresql_where=sa.text('owner_id IS NULL'))
        batch_op.drop_index('uq_templates_personal_name', sqlite_where=sa.text('owner_id IS NOT NULL'), postgresql_where=sa.text('owner_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_templates_owner_id'))

    op.drop_table('templates')
