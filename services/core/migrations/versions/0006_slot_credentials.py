"""slot credentials

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26 08:51:10.261616
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import services.core.models


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.add_column(sa.Column('login_enc', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=True))
        batch_op.add_column(sa.Column('password_enc', sqlmodel.sql.sqltypes.AutoString(length=600), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('slots', schema=None) as batch_op:
        batch_op.drop_column('password_enc')
        batch_op.drop_column('login_enc')

