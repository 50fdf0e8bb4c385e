"""The mission's civilian officers as roles: role names up to 40 characters ('child_protection_officer').

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    # SQLite cannot alter a column in place: batch mode copies the table, keeping every row
    with op.batch_alter_table("users") as batch:
        batch.alter_column("role", type_=sa.String(40), existing_type=sa.String(20), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.alter_column("role", type_=sa.String(20), existing_type=sa.String(40), existing_nullable=False)
