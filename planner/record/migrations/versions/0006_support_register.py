"""The register of support to non-UN forces (HRDDP): each support given under a recorded assessment's plan, and
each follow-up review of the supported unit.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"


def upgrade() -> None:
    op.create_table(
        "support_records",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("assessment_id", sa.String(40), sa.ForeignKey("assessments.id"), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "support_reviews",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("support_id", sa.String(40), sa.ForeignKey("support_records.id"), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("next_due", sa.String(10), nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_index("support_reviews_by_support", "support_reviews", ["support_id"])


def downgrade() -> None:
    op.drop_index("support_reviews_by_support", "support_reviews")
    op.drop_table("support_reviews")
    op.drop_table("support_records")
