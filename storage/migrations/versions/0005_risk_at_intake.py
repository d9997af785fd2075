"""risk at intake: a request's tier, assessment, route and extended approval; answers in versions

Existing requests get NULLs: no answers, no tier, and route NULL means "the policy's stage
order", which is how they were routed before.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 03:54:49.058200
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "request_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("answers", storage.types.JSONText(), nullable=False),
        sa.Column("changed_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("changed_at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["tool_requests.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_id", "number", name="uq_request_answers_request_number"),
    )
    with op.batch_alter_table("request_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_request_answers_request_id"), ["request_id"], unique=False)

    with op.batch_alter_table("tool_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column("assessment", storage.types.JSONText(), nullable=True))
        batch_op.add_column(sa.Column("route", storage.types.JSONText(), nullable=True))
        batch_op.add_column(sa.Column("extends", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True))
        batch_op.create_index(batch_op.f("ix_tool_requests_tier"), ["tier"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tool_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_tool_requests_tier"))
        batch_op.drop_column("extends")
        batch_op.drop_column("route")
        batch_op.drop_column("assessment")
        batch_op.drop_column("tier")

    with op.batch_alter_table("request_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_request_answers_request_id"))

    op.drop_table("request_answers")
