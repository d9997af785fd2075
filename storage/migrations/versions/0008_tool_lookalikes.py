"""tools' look-alike forms, indexed: a name is filed under its tool without reading the registry

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 09:40:00
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
    # The forms of the tools already registered, by the rule the code applies now (derived data:
    # a later change to that rule needs a migration like this one to fill the table again).
    from workflows.registry import tool_lookalikes

    connection = op.get_bind()
    aliases: dict[int, set[str]] = {}
    for alias, tool_id in connection.execute(sa.text("SELECT alias, tool_id FROM tool_aliases")):
        aliases.setdefault(tool_id, set()).add(alias)
    rows = [
        {"form": form, "tool_id": tool_id}
        for tool_id, name, key in connection.execute(sa.text("SELECT id, name, key FROM tools ORDER BY id"))
        for form in sorted(tool_lookalikes(name, key, aliases.get(tool_id, ())))
    ]
    if rows:
        connection.execute(sa.text("INSERT INTO tool_lookalikes (form, tool_id) VALUES (:form, :tool_id)"), rows)


def downgrade() -> None:
    op.drop_table("tool_lookalikes")
