"""indexes for /tool-usage: requests by the tool's name (and vendor), directives by tool

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:10:00

Requests are filed under the name typed, so "who is linked to Clearview" reads the distinct
(tool name, vendor) pairs from an index and then the matching requests by name
(storage/usage.py); directives are found by their tool's key.
"""

from __future__ import annotations

from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tool_requests_tool_vendor", "tool_requests", ["tool_name", "vendor"], unique=False)
    op.create_index("ix_directives_tool_key", "directives", ["tool_key"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_directives_tool_key", table_name="directives")
    op.drop_index("ix_tool_requests_tool_vendor", table_name="tool_requests")
