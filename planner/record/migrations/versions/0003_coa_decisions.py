"""A sign-off names the course of action it decides on, and a decision that supersedes another says why.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    # Earlier sign-offs decided on the whole assessment: they keep an empty COA, and their hashes still verify
    with op.batch_alter_table("signoffs") as batch:
        batch.add_column(sa.Column("coa", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("note", sa.Text, nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("signoffs") as batch:
        batch.drop_column("note")
        batch.drop_column("coa")
