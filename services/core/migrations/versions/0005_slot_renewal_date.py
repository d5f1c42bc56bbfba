"""slot renewal date

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26 08:22:34.671709
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.core.models


revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewal_date', sa.Date(), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('renewal_date')

