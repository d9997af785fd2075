"""attestations (a cease-use answered with facts) and self-reports (/report-use)

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-07 09:40:00

An attestation answers a directive (cease use, suspended) or, after a self-reported use was
rejected or prohibited, the request: one per person per directive and per request (NULLs are
distinct, so each unique constraint holds only for its own kind). A self-report is a request's
`self_report` (NULL for every request made with /request-tool). A directive's running count now
names the answers ("3 never used · 2 stopped and deleted · …"): count_shown is wider.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attestations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("directive_id", sa.Integer(), nullable=True),
        sa.Column("request_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("case_numbers", storage.types.JSONText(), nullable=False),
        sa.Column("held", sa.Text(), nullable=False),
        sa.Column("at", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["directive_id"], ["directives.id"]),
        sa.ForeignKeyConstraint(["request_id"], ["tool_requests.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("directive_id", "user_id", name="uq_attestations_directive_user"),
        sa.UniqueConstraint("request_id", "user_id", name="uq_attestations_request_user"),
    )
    with op.batch_alter_table("tool_requests", schema=None) as batch_op:
        batch_op.add_column(sa.Column("self_report", storage.types.JSONText(), nullable=True))
    with op.batch_alter_table("directive_posts", schema=None) as batch_op:
        batch_op.alter_column(
            "count_shown",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=64),
            type_=sqlmodel.sql.sqltypes.AutoString(length=200),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("directive_posts", schema=None) as batch_op:
        batch_op.alter_column(
            "count_shown",
            existing_type=sqlmodel.sql.sqltypes.AutoString(length=200),
            type_=sqlmodel.sql.sqltypes.AutoString(length=64),
            existing_nullable=False,
        )
    with op.batch_alter_table("tool_requests", schema=None) as batch_op:
        batch_op.drop_column("self_report")
    op.drop_table("attestations")
