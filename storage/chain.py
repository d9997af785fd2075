"""The audit trail's hash chain: every entry numbered and sealed to the one before it.

An entry's canonical bytes are RFC 8785 JSON (sorted keys, no spaces, UTF-8; orjson with sorted
keys writes exactly that for the strings, integers and nulls stored here, tests/storage/test_chain.py):

    {"after":"<hash of entry seq-1, 64 hex>","entry":{"action":…,"actor":…,"at":"…Z",…},"seq":17}

and its hash is SHA-256 of those bytes. Both are stored with the row (`canonical`, `hash`), so
verifying (storage/chain_verify.py) hashes stored bytes and never encodes anything again. The
first entry comes "after" the chain's start: 64 zeros, or the last hash of a segment archived
away (docs/audit.md).

Numbers and hashes are given out under one lock per transaction, taken at its first audit write
(storage/pending.py writes a group-commit batch's entries together): PostgreSQL's
pg_advisory_xact_lock, held to the commit, so two replicas' batches get one order with no gap
and no fork; on SQLite the write lock every write transaction takes (BEGIN IMMEDIATE) does it.
The head (last number, last hash) is then kept in the session until the transaction ends.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import event, text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
# The entry's fields, as stored in audit_log's columns (canonical keys are sorted anyway).
FIELDS = ("action", "actor", "at", "from_state", "reason", "subject", "team_id", "to_state")
# Any number will do, as long as nothing else takes the same transaction-level advisory lock.
LOCK_KEY = 0x19A0D17
_HEAD = "clearance_audit_chain_head"


def at_text(at: datetime) -> str:
    """The entry's time in its canonical form: UTC, microseconds, a Z (same text on both databases)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, after: str, values: dict[str, Any]) -> bytes:
    entry = {name: values.get(name) for name in FIELDS}
    entry["at"] = at_text(values["at"])
    return orjson.dumps({"after": after, "entry": entry, "seq": seq}, option=orjson.OPT_SORT_KEYS)


def seal(rows: list[dict[str, Any]], head: tuple[int, str]) -> tuple[int, str]:
    """Number and hash `rows` in order after `head`; returns the new head."""
    seq, after = head
    for row in rows:
        seq += 1
        encoded = canonical(seq, after, row)
        after = hashlib.sha256(encoded).hexdigest()
        row["seq"], row["canonical"], row["hash"] = seq, encoded.decode(), after
    return seq, after


def seal_in(session: Session, rows: list[dict[str, Any]]) -> None:
    """Seal rows about to be inserted in this session's transaction (the lock taken once)."""
    head = session.info.get(_HEAD)
    if head is None:
        head = read_head(session, lock=True)
    session.info[_HEAD] = seal(rows, head)


def read_head(session: Session | Any, *, lock: bool) -> tuple[int, str]:
    """(last seq, last hash): the newest entry, else the start of the chain. `lock`: take the
    chain's lock first (PostgreSQL; a statement of its own, so the read after it sees every
    commit made while it waited)."""
    if lock and session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    row = session.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).first()
    if row is not None:
        return int(row[0]), str(row[1])
    return start_of(session)


def start_of(session: Session | Any) -> tuple[int, str]:
    """Where the chain starts: after the last archived entry, or at the beginning."""
    row = session.execute(
        text("SELECT seq, hash FROM audit_anchors WHERE kind = 'start' ORDER BY seq DESC LIMIT 1")
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)


def append(connection: Any, rows: list[dict[str, Any]]) -> None:
    """Append entries through a plain (sync) connection: migrations, scripts and tests."""
    from sqlalchemy import insert

    from storage.tables import AuditRow

    for row in rows:
        for name in ("from_state", "to_state", "reason"):
            row.setdefault(name, "")
        row.setdefault("team_id", None)
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    seal(rows, read_head(connection, lock=False))
    connection.execute(insert(AuditRow.__table__), rows)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, *_: object) -> None:
    # Undone (a savepoint too) or committed: the next write reads the head again, under the lock.
    session.info.pop(_HEAD, None)
