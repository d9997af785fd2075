"""audit_head: the chain's head in one row, locked and read in one statement

Revision ID: 0017
Revises: 0016
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

from storage.chain import GENESIS, LOCK_KEY

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# The head now: the newest entry, else the start of the chain (storage/chain.py's start_of).
CANDIDATES = (
    "SELECT seq, hash, 0 AS rank FROM (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) AS newest "
    "UNION ALL SELECT seq, hash, 1 FROM (SELECT seq, hash FROM audit_anchors WHERE kind = 'start' "
    "ORDER BY seq DESC LIMIT 1) AS archived "
    f"UNION ALL SELECT 0, '{GENESIS}', 2"
)
HEAD_NOW = f"SELECT 1, seq, hash FROM ({CANDIDATES}) AS candidates ORDER BY rank LIMIT 1"
BACKFILL = f"INSERT INTO audit_head (id, seq, hash) {HEAD_NOW}"
# PostgreSQL: an entry inserted without a number (the bot's, storage/chain.py) is sealed here, the
# row locked by the first entry of the transaction and held to its commit; one inserted with its
# number (chain.append, sealed by the writer under the same lock) moves the head.
POSTGRES_TRIGGER = [
    "CREATE FUNCTION audit_log_seal() RETURNS trigger LANGUAGE plpgsql AS $$\n"
    "DECLARE head_seq bigint; head_hash text;\n"
    "BEGIN\n"
    "  IF NEW.seq IS NOT NULL THEN\n"
    "    UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1 AND NEW.seq > seq;\n"
    "    RETURN NEW;\n"
    "  END IF;\n"
    "  SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;\n"
    "  IF NOT FOUND THEN  -- the row was deleted: made again from the trail, under the old lock\n"
    f"    PERFORM pg_advisory_xact_lock({LOCK_KEY});\n"
    f"    INSERT INTO audit_head (id, seq, hash) {HEAD_NOW} ON CONFLICT (id) DO NOTHING;\n"
    "    SELECT seq, hash INTO head_seq, head_hash FROM audit_head WHERE id = 1 FOR UPDATE;\n"
    "  END IF;\n"
    # max(): an index probe whatever the statistics say (EXISTS … seq > n scanned a fresh table)
    "  IF (SELECT max(seq) FROM audit_log) > head_seq THEN  -- stored behind the row's back\n"
    "    SELECT seq, hash INTO head_seq, head_hash FROM audit_log ORDER BY seq DESC LIMIT 1;\n"
    "  END IF;\n"
    "  NEW.seq := head_seq + 1;\n"
    '  NEW.canonical := \'{"after":"\' || head_hash || \'","entry":\' || NEW.canonical\n'
    "    || ',\"seq\":' || NEW.seq || '}';  -- storage/chain.py's framed()\n"
    "  NEW.hash := encode(sha256(convert_to(NEW.canonical, 'UTF8')), 'hex');\n"
    "  UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1;\n"
    "  RETURN NEW;\n"
    "END $$",
    "CREATE TRIGGER audit_log_head BEFORE INSERT ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_seal()",
]
SQLITE_TRIGGER = [
    "CREATE TRIGGER audit_log_head AFTER INSERT ON audit_log BEGIN "
    "UPDATE audit_head SET seq = NEW.seq, hash = NEW.hash WHERE id = 1 AND NEW.seq > seq; END",
]


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
        op.execute("DROP FUNCTION audit_log_seal()")
    else:
        op.execute("DROP TRIGGER audit_log_head")
    op.drop_table("audit_head")
