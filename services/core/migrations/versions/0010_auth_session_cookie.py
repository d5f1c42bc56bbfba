"""auth: the login's second-factor claim and the one-time ticket that sets the login cookie

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import services.core.models


revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        # Logins issued before this column existed did not record a second factor.
        batch_op.add_column(sa.Column('mfa', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('ticket_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('ticket_expires_at', services.core.models.UTCDateTime(), nullable=True))
        batch_op.create_unique_constraint('uq_auth_tokens_ticket_digest', ['ticket_digest'])


def downgrade() -> None:
    with op.batch_alter_table('auth_tokens', schema=None) as batch_op:
        batch_op.drop_constraint('uq_auth_tokens_ticket_digest', type_='unique')
        batch_op.drop_column('ticket_expires_at')
        batch_op.drop_column('ticket_digest')
        batch_op.drop_column('mfa')
