"""indexes that answer /tool-usage from the index alone (requests, self-reports, acknowledgements)

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 16:20:00

/tool-usage's message counts every link and shows the newest (storage/usage.py), over 100,000
people (scripts/bench_usage.py). Read through ix_tool_requests_tool_vendor, every request under
the tool's names was a lookup of its whole row (purpose, notes, self-report…) for five short
columns; the acknowledgements' unique index lacked their time. These carry what the statements
read, so SQLite answers from the index alone (PostgreSQL too, for pages VACUUM has marked
all-visible). A self-report is the rare request: a partial index finds those few.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SELF_REPORTED = sa.text("self_report IS NOT NULL")


def upgrade() -> None:
    op.create_index(
        "ix_tool_requests_usage",
        "tool_requests",
        ["tool_name", "created_at", "requester_id", "prior_use", "status"],
        unique=False,
    )
    op.create_index(
        "ix_tool_requests_self_reports",
        "tool_requests",
        ["tool_name"],
        unique=False,
        sqlite_where=SELF_REPORTED,
        postgresql_where=SELF_REPORTED,
    )
    op.create_index("ix_acknowledgements_usage", "acknowledgements", ["directive_id", "at", "user_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_acknowledgements_usage", table_name="acknowledgements")
    op.drop_index("ix_tool_requests_self_reports", table_name="tool_requests")
    op.drop_index("ix_tool_requests_usage", table_name="tool_requests")
