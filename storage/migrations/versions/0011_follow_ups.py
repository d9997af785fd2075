"""follow_ups: the bookkeeping of timed follow-up kinds with no column of their own

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 10:00:00

One row per (kind, subject): when it is next due (indexed), how many times it has fired, a small
state the kind keeps. Review and directive reminders keep theirs on their own rows
(tool_requests / directives ``next_reminder_at``), claimed together with the row's version; see
workflows/followups/review.py. A new kind (licence expiry, the audit anchor) needs no column.
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follow_ups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("subject", sa.Integer(), nullable=False),
        sa.Column("due_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("kind", "subject", name="uq_follow_ups_kind_subject"),
    )
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.create_index("ix_follow_ups_due", ["due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("follow_ups", schema=None) as batch_op:
        batch_op.drop_index("ix_follow_ups_due")
    op.drop_table("follow_ups")
