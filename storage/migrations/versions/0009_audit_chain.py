"""the audit trail hash-chained and append-only; anchors of its head

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 06:30:00

Entries already stored are chained in their id order (storage/chain.py). Then triggers refuse
UPDATE, DELETE (and on PostgreSQL TRUNCATE) of audit_log. They are created after the batch
alteration below, which on SQLite copies the table (and would drop them).
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.chain import GENESIS, seal
from storage.types import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

REFUSAL = "audit_log is append-only"

SQLITE_TRIGGERS = [
    f"CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
    f"CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, '{REFUSAL}'); END",
]
POSTGRES_TRIGGERS = [
    "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    f"RAISE EXCEPTION '{REFUSAL}: % refused', TG_OP; END $$",
    "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()",
    "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()",
]


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("canonical", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))
    _chain_existing_entries()
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.alter_column("seq", existing_type=sa.BigInteger(), nullable=False)
        batch_op.alter_column("canonical", existing_type=sa.Text(), nullable=False)
        batch_op.alter_column("hash", existing_type=sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False)
        batch_op.create_unique_constraint("uq_audit_log_seq", ["seq"])
    op.create_table(
        "audit_anchors",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("posted_to", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    for statement in POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS:
        op.execute(statement)


def _chain_existing_entries() -> None:
    audit = sa.table(
        "audit_log",
        sa.column("id", sa.Integer()),
        *(sa.column(name, sa.Text()) for name in ("subject", "action", "actor", "from_state", "to_state", "reason")),
        sa.column("team_id", sa.Text()),
        sa.column("at", UTCDateTime()),
        sa.column("seq", sa.BigInteger()),
        sa.column("canonical", sa.Text()),
        sa.column("hash", sa.Text()),
    )
    bind = op.get_bind()
    rows = [dict(r._mapping) for r in bind.execute(sa.select(audit).order_by(audit.c.id))]
    seal(rows, (0, GENESIS))
    update = (
        sa.update(audit)
        .where(audit.c.id == sa.bindparam("row_id"))
        .values(seq=sa.bindparam("seq"), canonical=sa.bindparam("canonical"), hash=sa.bindparam("hash"))
    )
    for start in range(0, len(rows), 1000):
        chunk = rows[start : start + 1000]
        bind.execute(
            update,
            [{"row_id": r["id"], "seq": r["seq"], "canonical": r["canonical"], "hash": r["hash"]} for r in chunk],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_no_truncate ON audit_log")
        op.execute("DROP TRIGGER audit_log_no_change ON audit_log")
        op.execute("DROP FUNCTION audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER audit_log_no_update")
        op.execute("DROP TRIGGER audit_log_no_delete")
    op.drop_table("audit_anchors")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_constraint("uq_audit_log_seq", type_="unique")
        batch_op.drop_column("hash")
        batch_op.drop_column("canonical")
        batch_op.drop_column("seq")
