"""follow_ups: an index on (kind, due_at, subject) for each kind's due rows

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 13:00:00

A kind's sweep reads `WHERE kind = :kind AND due_at <= :now ORDER BY due_at, subject LIMIT n`
(storage/follow_ups.py). With only (kind, subject) and (due_at) to choose from, SQLite took the
unique (kind, subject) index and sorted every row of the kind: 100,000 licences' expiry rows read
for 1,000 due (scripts/bench_expiry.py). This index gives the due rows in order and stops at the
limit. ix_follow_ups_due stays: the scheduler's peek reads every kind by due_at.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_follow_ups_kind_due", "follow_ups", ["kind", "due_at", "subject"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_follow_ups_kind_due", table_name="follow_ups")
