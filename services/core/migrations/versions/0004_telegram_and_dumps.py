"""telegram and dumps

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 08:16:35.233455
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.core.models


revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('telegram_link_codes',
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('expires_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('used_at', services.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash')
    )
    op.create_table('dumps',
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('size_bytes', sa.Integer(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=False),
    sa.Column('files', sa.Integer(), nullable=False),
    sa.Column('missing', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('created_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('ready_at', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('expires_at', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('notification_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('session_id')
    )
    with op.batch_alter_table('dumps', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_dumps_expires_at'), ['expires_at'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('chat_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('document_path', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('document_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
        batch_op.alter_column('user_id',
               existing_type=sa.INTEGER(),
               nullable=True)

    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('telegram_chat_id', sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column('telegram_linked_at', services.core.models.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('telegram_error', sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False, server_default=''))
        batch_op.create_unique_constraint('uq_users_telegram_chat_id', ['telegram_chat_id'])



def downgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        # WARNING: constraint name is None; this directive will fail as
        # rendered.  Add a name, or use a naming convention; see
        # https://alembic.sqlalchemy.org/en/latest/naming.html
        batch_op.drop_constraint('uq_users_telegram_chat_id', type_='unique')
        batch_op.drop_column('telegram_error')
        batch_op.drop_column('telegram_linked_at')
        batch_op.drop_column('telegram_chat_id')

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.alter_column('user_id',
               existing_type=sa.INTEGER(),
               nullable=False)
        batch_op.drop_column('document_name')
        batch_op.drop_column('document_path')
        batch_op.drop_column('chat_id')

    with op.batch_alter_table('dumps', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_dumps_expires_at'))

    op.drop_table('dumps')
    op.drop_table('telegram_link_codes')
