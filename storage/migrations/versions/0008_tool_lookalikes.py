"""tools' look-alike forms, indexed: a name is filed under its tool without reading the registry

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:40:00

The table is derived data, filled (and refilled whenever the rule or Unicode's data change) by
storage/lookalike_index.py, which storage.db.migrate runs after every upgrade.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tool_lookalikes",
        sa.Column("form", sa.Text(), nullable=False),
        sa.Column("tool_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["tool_id"], ["tools.id"]),
        sa.PrimaryKeyConstraint("form", "tool_id"),
    )
    op.create_index(op.f("ix_tool_lookalikes_tool_id"), "tool_lookalikes", ["tool_id"], unique=False)
    op.create_table(
        "derived_versions",
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("derived_versions")
    op.drop_index(op.f("ix_tool_lookalikes_tool_id"), table_name="tool_lookalikes")
    op.drop_table("tool_lookalikes")
