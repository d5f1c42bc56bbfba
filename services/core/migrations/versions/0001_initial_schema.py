"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-26 07:04:20.430027
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.core.models


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('detail', sqlmodel.sql.sqltypes.AutoString(length=1000), nullable=False),
    sa.Column('client_ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_audit_events_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_events_kind'), ['kind'], unique=False)

    op.create_table('board_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    # The live board's change counter is a single row that always exists.
    op.bulk_insert(
        sa.table('board_version', sa.column('id', sa.Integer), sa.column('version', sa.Integer)),
        [{'id': 1, 'version': 0}],
    )
    op.create_table('login_throttle',
    sa.Column('key', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('locked_until', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('updated_at', services.core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('key')
    )
    op.create_table('slots',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('service_name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('tier', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
    sa.Column('category', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('category_accent', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
    sa.Column('monthly_cost', sa.Float(), nullable=False),
    sa.Column('url', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('users',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('password_hash', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('totp_secret_enc', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
    sa.Column('totp_pending_enc', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=True),
    sa.Column('totp_last_step', sa.Integer(), nullable=True),
    sa.Column('onboarded', sa.Boolean(), nullable=False),
    sa.Column('created_at', services.core.models.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('username')
    )
    op.create_table('auth_tokens',
    sa.Column('jti', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('issued_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('expires_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('client_ip', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('jti')
    )
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_auth_tokens_user_id'), ['user_id'], unique=False)

    op.create_table('favourites',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'slot_id')
    )
    op.create_table('sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.String(length=32), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('seat', sa.Integer(), nullable=False),
    sa.Column('via_template', sa.Boolean(), nullable=False),
    sa.Column('started_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('ended_at', services.core.models.UTCDateTime(), nullable=True),
    sa.Column('end_reason', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
    sa.Column('ended_by', sa.Integer(), nullable=True),
    sa.Column('access_url_enc', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.ForeignKeyConstraint(['ended_by'], ['users.id'], ),
    sa.ForeignKeyConstraint(['slot_id'], ['slots.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_sessions_slot_id'), ['slot_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_started_at'), ['started_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_sessions_user_id'), ['user_id'], unique=False)
        batch_op.create_index('uq_sessions_active_seat', ['user_id', 'seat'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.create_index('uq_sessions_active_slot', ['slot_id'], unique=True, sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))

    op.create_table('room_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('session_id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', services.core.models.UTCDateTime(), nullable=False),
    sa.Column('revoked_at', services.core.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['session_id'], ['sessions.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('room_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_room_grants_session_id'), ['session_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_room_grants_slot_id'), ['slot_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('room_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_room_grants_slot_id'))
        batch_op.drop_index(batch_op.f('ix_room_grants_session_id'))

    op.drop_table('room_grants')
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_index('uq_sessions_active_slot', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index('uq_sessions_active_seat', sqlite_where=sa.text('ended_at IS NULL'), postgresql_where=sa.text('ended_at IS NULL'))
        batch_op.drop_index(batch_op.f('ix_sessions_user_id'))
        batch_op.drop_index(batch_op.f('ix_sessions_started_at'))
        batch_op.drop_index(batch_op.f('ix_sessions_slot_id'))

    op.drop_table('sessions')
    op.drop_table('favourites')
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_auth_tokens_user_id'))

    op.drop_table('auth_tokens')
    op.drop_table('users')
    op.drop_table('slots')
    op.drop_table('login_throttle')
    op.drop_table('board_version')
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_events_kind'))
        batch_op.drop_index(batch_op.f('ix_audit_events_at'))

    op.drop_table('audit_events')
