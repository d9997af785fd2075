"""audit_head: the chain's head in one row, locked and read in one statement

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-07 16:00:00

A batch's audit entries are numbered after the head. Before, that took two statements: the
chain's advisory lock, then the newest entry read from audit_log. Now `SELECT … FROM audit_head
FOR UPDATE` is both (storage/chain.py). A trigger keeps the row at the newest entry as entries
are inserted (any INSERT: the bot's, a script's), in the same statement and transaction: on
PostgreSQL once per statement (its new rows as a transition table), on SQLite once per row.
The row is filled from the last entry already stored (or where the chain starts: an archived
segment's `start` anchor, else the beginning). The append-only triggers are audit_log's only:
audit_head is updated at every write. (On SQLite a batch alteration of audit_log copies the table
and drops its triggers: a migration doing one must create audit_log_head again.)
"""

from __future__ import annotations

import sqlalchemy as sa
import sqlmodel
from alembic import op

from storage.chain import GENESIS

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = None

POSTGRES_TRIGGER = [
    "CREATE FUNCTION audit_log_moves_head() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "UPDATE audit_head SET seq = newest.seq, hash = newest.hash "
    "FROM (SELECT seq, hash FROM added ORDER BY seq DESC LIMIT 1) AS newest "
    "WHERE audit_head.id = 1 AND newest.seq > audit_head.seq; RETURN NULL; END $$",
    "CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log REFERENCING NEW TABLE AS added "
    "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_moves_head()",
]
SQLITE_TRIGGER = [
    "CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log BEGIN "
    "UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1 AND NEW.seq > seq; END",
]
# The head now: the newest entry, else the start of the chain (storage/chain.py's start_of).
BACKFILL = (
    "INSERT INTO audit_head (id, seq, hash) SELECT 1, seq, hash FROM ("
    "SELECT seq, hash, 0 AS rank FROM (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS newest "
    "UNION ALL SELECT seq, hash, 1 FROM (SELECT seq, hash FROM audit_anchors WHERE kind = 'start' "
    "ORDER BY seq DESC LIMIT 1) AS archived "
    f"UNION ALL SELECT 0, '{GENESIS}', 2) AS candidates ORDER BY rank LIMIT 1"
)


def upgrade() -> None:
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("hash", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_head_one_row"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.execute(BACKFILL)
    for statement in POSTGRES_TRIGGER if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGER:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_log_head ON audit_log")
        op.execute("DROP FUNCTION audit_log_moves_head()")
    else:
        op.execute("DROP TRIGGER audit_log_head")
    op.drop_table("audit_head")
