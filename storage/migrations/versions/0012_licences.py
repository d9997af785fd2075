"""licences: who may use an approved tool, under which conditions, until when (issue 18)

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-07 09:45:00

Every tool approved before this change (its decision of record Approved, or Approved with
conditions) becomes a licence valid for everyone with no expiry, with a note that says so
(shown by /tool-status); its conditions are the approval's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
import sqlmodel
from alembic import op

import storage.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

BEFORE_LICENCES = "Approved before licences existed: valid for everyone, with no expiry."  # workflows.licence_service


def upgrade() -> None:
    licences = op.create_table(
        "licences",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("tool_key", sa.Text(), nullable=False),
        sa.Column("request_ref", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("owner", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("conditions", storage.types.JSONText(), nullable=False),
        sa.Column("scope_kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("scope_people", storage.types.JSONText(), nullable=False),
        sa.Column("scope_groups", storage.types.JSONText(), nullable=False),
        sa.Column("scope_group_names", storage.types.JSONText(), nullable=False),
        sa.Column("valid_from", storage.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("list_publicly", sa.Boolean(), nullable=False),
        sa.Column("public_summary", sa.Text(), nullable=False),
        sa.Column("renewal_asked_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("renewal_ref", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=True),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=False),
        sa.Column("lapsed_at", storage.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("tier", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
        sa.Column("granted_by", sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_licences_tool_key"), "licences", ["tool_key"], unique=False)
    op.create_index(op.f("ix_licences_request_ref"), "licences", ["request_ref"], unique=False)
    op.create_index(op.f("ix_licences_expires_at"), "licences", ["expires_at"], unique=False)
    op.create_index(op.f("ix_licences_renewal_ref"), "licences", ["renewal_ref"], unique=False)
    _license_earlier_approvals(licences)


def _license_earlier_approvals(licences: sa.Table) -> None:
    """Requests approved before this change: one licence per approved tool, for everyone, no expiry."""
    bind = op.get_bind()
    tools = sa.table("tools", sa.column("key", sa.Text()), sa.column("decision", sa.Text()))
    requests = sa.table("tool_requests", sa.column("id", sa.Integer()), sa.column("requester_id", sa.Text()))
    rows = []
    for key, decision in bind.execute(sa.select(tools.c.key, tools.c.decision)).all():
        mark = json.loads(decision) if isinstance(decision, str) and decision else None
        if not isinstance(mark, dict) or mark.get("status") not in ("approved", "approved_with_conditions"):
            continue
        source = str(mark.get("source") or "")
        owner = str(mark.get("by") or "")
        if source.startswith("REQ-") and source[4:].isdigit():
            found = bind.execute(sa.select(requests.c.requester_id).where(requests.c.id == int(source[4:]))).scalar()
            owner = found or owner
        conditions = [c.strip() for c in str(mark.get("conditions") or "").split(";") if c.strip()]
        since = mark.get("since")
        valid_from = datetime.fromisoformat(since) if isinstance(since, str) else datetime.now(UTC)
        if valid_from.tzinfo is None:
            valid_from = valid_from.replace(tzinfo=UTC)
        rows.append(
            {
                "tool_key": key,
                "request_ref": source[:32],
                "owner": owner[:32],
                "conditions": conditions,
                "scope_kind": "everyone",
                "scope_people": [],
                "scope_groups": [],
                "scope_group_names": [],
                "valid_from": valid_from,
                "expires_at": None,
                "list_publicly": False,
                "public_summary": "",
                "renewal_asked_at": None,
                "renewal_ref": None,
                "extended": False,
                "extension_reason": "",
                "lapsed_at": None,
                "note": BEFORE_LICENCES,
                "tier": None,
                "granted_by": str(mark.get("by") or "")[:32],
                "version": 0,
            }
        )
    if rows:
        op.bulk_insert(licences, rows)


def downgrade() -> None:
    op.drop_index(op.f("ix_licences_renewal_ref"), table_name="licences")
    op.drop_index(op.f("ix_licences_expires_at"), table_name="licences")
    op.drop_index(op.f("ix_licences_request_ref"), table_name="licences")
    op.drop_index(op.f("ix_licences_tool_key"), table_name="licences")
    op.drop_table("licences")
