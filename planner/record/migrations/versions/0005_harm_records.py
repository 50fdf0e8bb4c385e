"""Harm records after an operation, each linked to a recorded assessment and COA, and every step of their
workflow (initial review, assessment, decision, response) kept as its own row.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"


def upgrade() -> None:
    op.create_table(
        "harm_records",
        sa.Column("id", sa.String(40), primary_key=True),
        sa.Column("assessment_id", sa.String(40), sa.ForeignKey("assessments.id"), nullable=False),
        sa.Column("coa", sa.String(40), nullable=False),
        sa.Column("element", sa.String(100), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_table(
        "harm_steps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("harm_id", sa.String(40), sa.ForeignKey("harm_records.id"), nullable=False),
        sa.Column("step", sa.String(20), nullable=False),
        sa.Column("status", sa.String(30), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("details", sa.Text, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
    )
    op.create_index("harm_records_by_assessment", "harm_records", ["assessment_id"])
    op.create_index("harm_steps_by_harm", "harm_steps", ["harm_id"])


def downgrade() -> None:
    op.drop_index("harm_steps_by_harm", "harm_steps")
    op.drop_index("harm_records_by_assessment", "harm_records")
    op.drop_table("harm_steps")
    op.drop_table("harm_records")
