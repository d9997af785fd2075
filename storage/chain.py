"""The audit trail's hash chain: every entry numbered and sealed to the one before it.

An entry's canonical bytes are RFC 8785 JSON (sorted keys, no spaces, UTF-8; orjson with sorted
keys writes exactly that for the strings, integers and nulls stored here, tests/storage/test_chain.py):

    {"after":"<hash of entry seq-1, 64 hex>","entry":{"action":…,"actor":…,"at":"…Z",…},"seq":17}

and its hash is SHA-256 of those bytes. Both are stored with the row (`canonical`, `hash`), so
verifying (storage/chain_verify.py) hashes stored bytes and never encodes anything again. The
first entry comes "after" the chain's start: 64 zeros, or the last hash of a segment archived
away (docs/audit.md).

Numbers and hashes are given out under one lock per transaction, taken at its first audit write
(storage/pending.py writes a group-commit batch's entries together, as the transaction's last
INSERT): the one row of audit_head (migration 0017), which holds the newest entry's number and
hash. Two replicas' batches so get one order with no gap and no fork.

- PostgreSQL: the entries go in with their `entry_bytes` only, and the INSERT's trigger seals
  each (locks the row, `SELECT … FOR UPDATE`, held to the commit; frames the bytes, hashes them
  with the database's sha256(), moves the row). No statement of its own, no result to wait for:
  the lock is held from that INSERT to the COMMIT, not across a round trip and the event loop.
- SQLite: the write lock every write transaction takes (BEGIN IMMEDIATE) is the lock; the row is
  read in one fixed statement and the entries sealed here (`seal`); a trigger moves the row.
- Scripts and tests (`append`, through a sync connection) lock the row the same way, seal here and
  insert numbered entries, which the PostgreSQL trigger lets through (moving the row).

The entries' own bytes are encoded before the lock: under it, only the framing and SHA-256. On
SQLite the head is then kept in the session until the transaction ends.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import Connection, event, text
from sqlalchemy.orm import Session

GENESIS = "0" * 64
# The entry's fields, as stored in audit_log's columns (canonical keys are sorted anyway).
FIELDS = ("action", "actor", "at", "from_state", "reason", "subject", "team_id", "to_state")
# The lock of the chain before audit_head (now only while that row is made again): any number
# will do, as long as nothing else takes the same transaction-level advisory lock.
LOCK_KEY = 0x19A0D17
_HEAD = "clearance_audit_chain_head"


def at_text(at: datetime) -> str:
    """The entry's time in its canonical form: UTC, microseconds, a Z (same text on both databases)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, after: str, values: dict[str, Any]) -> bytes:
    return framed(seq, after, entry_bytes(values))


def entry_bytes(values: dict[str, Any]) -> bytes:
    """The entry's own canonical JSON: all of its bytes that do not depend on the head."""
    entry = {name: values.get(name) for name in FIELDS}
    entry["at"] = at_text(values["at"])
    return orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)


def framed(seq: int, after: str, entry: bytes) -> bytes:
    # What orjson writes for {"after", "entry", "seq"} with sorted keys (a hash needs no escaping).
    return b'{"after":"%s","entry":%s,"seq":%d}' % (after.encode(), entry, seq)


def seal(rows: list[dict[str, Any]], head: tuple[int, str], encoded: list[bytes] | None = None) -> tuple[int, str]:
    """Number and hash `rows` in order after `head` (their `entry_bytes` if already `encoded`);
    returns the new head."""
    seq, after = head
    for row, entry in zip(rows, encoded or [entry_bytes(r) for r in rows], strict=True):
        seq += 1
        whole = framed(seq, after, entry)
        after = hashlib.sha256(whole).hexdigest()
        row["seq"], row["canonical"], row["hash"] = seq, whole.decode(), after
    return seq, after


def seal_in(session: Session, rows: list[dict[str, Any]]) -> None:
    """Seal rows about to be inserted in this session's transaction (the lock taken once)."""
    encoded = [entry_bytes(r) for r in rows]  # before the lock: other replicas' batches wait on it
    if session.get_bind().dialect.name == "postgresql":
        # The INSERT's trigger numbers, frames and hashes them, the head row locked in that same
        # statement: one round trip fewer, and the lock held only from it to the COMMIT.
        for row, entry in zip(rows, encoded, strict=True):
            row["seq"], row["canonical"], row["hash"] = None, entry.decode(), None
        return
    head = session.info.get(_HEAD)
    if head is None:
        head = locked_head(session.connection())
    session.info[_HEAD] = seal(rows, head, encoded)


# Fixed SQL sent as it is (nothing compiled per batch). `behind`: an entry newer than the row (its
# trigger was switched off meanwhile): max(), one probe of the seq index whatever the statistics.
_HEAD_ROW = (
    "SELECT seq, hash, coalesce((SELECT max(seq) FROM audit_log) > audit_head.seq, false) AS behind "
    "FROM audit_head WHERE id = 1"
)
_LOCK_HEAD = {
    "postgresql": f"{_HEAD_ROW} FOR UPDATE OF audit_head",
    "sqlite": _HEAD_ROW,  # the write lock is the database's
}
_NEWEST = "SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1"


def locked_head(connection: Connection) -> tuple[int, str]:
    """(last seq, last hash), the chain's lock held to the commit: one statement, which on
    PostgreSQL waits for the batch holding the row and then reads what it committed. The
    trail itself is read only if the row is not (or no longer) its head."""
    dialect = connection.dialect.name
    row = connection.exec_driver_sql(_LOCK_HEAD[dialect]).first()
    if row is None:  # the row was deleted (a test's clean slate): made again from the trail
        if dialect == "postgresql":  # under the old lock, so two writers cannot both make it
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({LOCK_KEY})")
        seq, digest = read_head(connection, lock=False)
        connection.execute(
            text("INSERT INTO audit_head (id, seq, hash) VALUES (1, :seq, :hash) ON CONFLICT (id) DO NOTHING"),
            {"seq": seq, "hash": digest},
        )
        row = connection.exec_driver_sql(_LOCK_HEAD[dialect]).first()
    assert row is not None
    if row[2]:  # the lock is held: the newest entry is the head (the INSERT's trigger moves the row)
        return read_head(connection, lock=False)
    return int(row[0]), str(row[1])


def read_head(session: Session | Connection, *, lock: bool) -> tuple[int, str]:
    """(last seq, last hash): the newest entry, else the start of the chain. `lock`: take the
    chain's lock (see locked_head)."""
    if lock:
        return locked_head(session.connection() if isinstance(session, Session) else session)
    row = session.execute(text(_NEWEST)).first()
    if row is not None:
        return int(row[0]), str(row[1])
    return start_of(session)


def start_of(session: Session | Connection) -> tuple[int, str]:
    """Where the chain starts: after the last archived entry, or at the beginning."""
    row = session.execute(
        text("SELECT seq, hash FROM audit_anchors WHERE kind = 'start' ORDER BY seq DESC LIMIT 1")
    ).first()
    return (int(row[0]), str(row[1])) if row is not None else (0, GENESIS)


def append(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Append entries through a plain (sync) connection: migrations, scripts and tests."""
    from sqlalchemy import insert

    from storage.tables import AuditRow

    for row in rows:
        for name in ("from_state", "to_state", "reason"):
            row.setdefault(name, "")
        row.setdefault("team_id", None)
    seal(rows, locked_head(connection))
    connection.execute(insert(AuditRow.__table__), rows)  # type: ignore[attr-defined]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _forget_head(session: Session, *_: object) -> None:
    # Undone (a savepoint too) or committed: the next write reads the head again, under the lock.
    session.info.pop(_HEAD, None)
