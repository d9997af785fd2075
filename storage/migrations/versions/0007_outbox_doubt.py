"""outbox rows remember when they were claimed and since when their outcome is unknown

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 04:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: a row never claimed has neither; a row in doubt from before this migration is
    # recognised by its expired claim (claimed_until) and dated by its created_at.
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claimed_at", storage.types.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("doubt_since", storage.types.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("doubt_since")
        batch_op.drop_column("claimed_at")
