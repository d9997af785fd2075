"""Verifying the audit trail's hash chain (storage/chain.py) from the stored bytes alone.

Fast path, 50,000 entries at a time through the raw driver: hash each stored canonical text,
check that each names the hash of the one before it ("after", at a fixed place: the first key),
that the stored hashes are those hashes and that the numbers have no gap; nothing is decoded or
encoded again. Alongside, on its own connection (SQLite does it in C, PostgreSQL on the server),
one query checks that every row's columns say what its canonical bytes say: an edited `reason`
column is caught too. Only where something fails are rows read one by one, to name the first
entry that breaks and how (classify()).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import make_url

from storage.chain import GENESIS
from storage.db import urls

CHUNK = 50_000
_AFTER = slice(10, 74)  # {"after":"<64 hex>", … : the previous hash, always at these bytes


@dataclass(frozen=True)
class Anchor:
    seq: int
    hash: str
    at: datetime
    source: str  # "recorded", "export …", "Slack"

    def named(self) -> str:
        return f"the anchor of {self.at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    line: str  # "intact: …" or the first break, e.g. "entry 17: edited"
    head_seq: int
    head_hash: str


class SeqRows(Protocol):
    def rows_from(self, seq: int, limit: int) -> list[tuple[int, bytes, str]]:
        """(seq, canonical bytes, stored hash) of up to `limit` entries from `seq` on, in seq order."""
        ...


class Rows(Protocol):
    def start(self) -> tuple[int, str]: ...
    def in_id_order(self, after_id: int, limit: int) -> tuple[list[bytes], int, str]: ...
    def rows_from(self, seq: int, limit: int) -> list[tuple[int, bytes, str]]: ...
    def next_seq(self, after: int) -> int | None: ...
    def first_seq(self) -> int | None: ...
    def hash_at(self, seq: int) -> str | None: ...
    def anchors(self) -> list[Anchor]: ...
    def close(self) -> None: ...


SQLITE_COLUMNS_DIFFER = """
SELECT min(seq) FROM audit_log WHERE canonical IS NOT ('{"after":"' || substr(canonical, 11, 64) || '","entry":'
  || json_object('action', action, 'actor', actor, 'at', replace(at, ' ', 'T') || 'Z', 'from_state', from_state,
                 'reason', reason, 'subject', subject, 'team_id', team_id, 'to_state', to_state)
  || ',"seq":' || seq || '}')
"""
POSTGRES_COLUMNS_DIFFER = """
SELECT min(seq) FROM audit_log WHERE (canonical::jsonb) -> 'entry' IS DISTINCT FROM jsonb_build_object(
  'action', action, 'actor', actor, 'at', to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
  'from_state', from_state, 'reason', reason, 'subject', subject, 'team_id', team_id, 'to_state', to_state)
  OR ((canonical::jsonb) ->> 'seq')::bigint IS DISTINCT FROM seq
"""


class SqliteRows:
    def __init__(self, path: str) -> None:
        self.path = path
        self._db = _sqlite(path)
        self._db.execute("BEGIN")  # one snapshot (WAL) for the whole walk

    def start(self) -> tuple[int, str]:
        row = self._db.execute("SELECT seq, hash FROM audit_anchors WHERE kind = 'start' ORDER BY seq DESC LIMIT 1")
        found = row.fetchone()
        return (int(found[0]), found[1].decode()) if found else (0, GENESIS)

    def in_id_order(self, after_id: int, limit: int) -> tuple[list[bytes], int, str]:
        """The canonical bytes of the next `limit` rows by id; the last row's id and stored hash."""
        cursor = self._db.execute(
            "SELECT canonical, id FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", (after_id, limit)
        )
        rows = cursor.fetchall()
        if not rows:
            return [], after_id, ""
        last_id = rows[-1][1]
        digest = self._db.execute("SELECT hash FROM audit_log WHERE id = ?", (last_id,)).fetchone()[0]
        return [row[0] for row in rows], last_id, digest.decode()

    def rows_from(self, seq: int, limit: int) -> list[tuple[int, bytes, str]]:
        cursor = self._db.execute(
            "SELECT seq, canonical, hash FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?", (seq, limit)
        )
        return [(s, c, h.decode()) for s, c, h in cursor.fetchall()]

    def next_seq(self, after: int) -> int | None:
        return self._db.execute("SELECT min(seq) FROM audit_log WHERE seq > ?", (after,)).fetchone()[0]  # type: ignore[no-any-return]

    def first_seq(self) -> int | None:
        return self._db.execute("SELECT min(seq) FROM audit_log").fetchone()[0]  # type: ignore[no-any-return]

    def hash_at(self, seq: int) -> str | None:
        found = self._db.execute("SELECT hash FROM audit_log WHERE seq = ?", (seq,)).fetchone()
        return found[0].decode() if found else None

    def anchors(self) -> list[Anchor]:
        cursor = self._db.execute("SELECT seq, hash, at FROM audit_anchors WHERE kind = 'anchor' ORDER BY seq")
        return [
            Anchor(s, h.decode(), datetime.fromisoformat(a.decode()).replace(tzinfo=UTC), "recorded")
            for s, h, a in cursor.fetchall()
        ]

    def columns_differ(self) -> int | None:
        db = _sqlite(self.path)
        try:
            return db.execute(SQLITE_COLUMNS_DIFFER).fetchone()[0]  # type: ignore[no-any-return]
        finally:
            db.close()

    def close(self) -> None:
        self._db.close()


def _sqlite(path: str) -> sqlite3.Connection:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None, check_same_thread=False)
    db.text_factory = bytes  # stored text as bytes, as it is hashed: no decoding per row
    return db


class PostgresRows:
    def __init__(self, url: str) -> None:
        import psycopg

        self.url = url
        self._db = psycopg.connect(url, autocommit=True)
        self._db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def _one(self, sql: str, args: Iterable[Any] = ()) -> Any:
        return self._db.execute(sql, tuple(args)).fetchone()

    def start(self) -> tuple[int, str]:
        found = self._one("SELECT seq, hash FROM audit_anchors WHERE kind = 'start' ORDER BY seq DESC LIMIT 1")
        return (int(found[0]), found[1]) if found else (0, GENESIS)

    def in_id_order(self, after_id: int, limit: int) -> tuple[list[bytes], int, str]:
        cursor = self._db.execute(
            "SELECT id, convert_to(canonical, 'UTF8'), hash FROM audit_log WHERE id > %s ORDER BY id LIMIT %s",
            (after_id, limit),
        )
        rows = cursor.fetchall()
        if not rows:
            return [], after_id, ""
        return [bytes(r[1]) for r in rows], rows[-1][0], rows[-1][2]

    def rows_from(self, seq: int, limit: int) -> list[tuple[int, bytes, str]]:
        cursor = self._db.execute(
            "SELECT seq, convert_to(canonical, 'UTF8'), hash FROM audit_log WHERE seq >= %s ORDER BY seq LIMIT %s",
            (seq, limit),
        )
        return [(s, bytes(c), h) for s, c, h in cursor.fetchall()]

    def next_seq(self, after: int) -> int | None:
        return self._one("SELECT min(seq) FROM audit_log WHERE seq > %s", (after,))[0]  # type: ignore[no-any-return]

    def first_seq(self) -> int | None:
        return self._one("SELECT min(seq) FROM audit_log")[0]  # type: ignore[no-any-return]

    def hash_at(self, seq: int) -> str | None:
        found = self._one("SELECT hash FROM audit_log WHERE seq = %s", (seq,))
        return found[0] if found else None

    def anchors(self) -> list[Anchor]:
        cursor = self._db.execute("SELECT seq, hash, at FROM audit_anchors WHERE kind = 'anchor' ORDER BY seq")
        return [Anchor(s, h, a.astimezone(UTC), "recorded") for s, h, a in cursor.fetchall()]

    def columns_differ(self) -> int | None:
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as db:
            try:
                return db.execute(POSTGRES_COLUMNS_DIFFER).fetchone()[0]  # type: ignore[index,no-any-return]
            except psycopg.DataError:  # a canonical text that is not JSON at all: find it the slow way
                return _first_unreadable(db)

    def close(self) -> None:
        self._db.close()


def _first_unreadable(db: Any) -> int | None:
    for seq, canonical in db.execute("SELECT seq, canonical FROM audit_log ORDER BY seq"):
        try:
            orjson.loads(canonical)
        except orjson.JSONDecodeError:
            return int(seq)
    return None


def open_rows(database_url: str) -> SqliteRows | PostgresRows:
    sync_url = urls(database_url)[1]
    if sync_url.startswith("sqlite"):
        return SqliteRows(make_url(sync_url).database or "")
    return PostgresRows(make_url(sync_url).set(drivername="postgresql").render_as_string(hide_password=False))


def verify(database_url: str, extra_anchors: Iterable[Anchor] = ()) -> Verdict:
    rows = open_rows(database_url)
    try:
        return verify_rows(rows, [*rows.anchors(), *extra_anchors])
    finally:
        rows.close()


def verify_rows(rows: SqliteRows | PostgresRows, anchors: list[Anchor]) -> Verdict:
    differ: list[int | None] = []
    checker = threading.Thread(target=lambda: differ.append(rows.columns_differ()), daemon=True)
    checker.start()  # SQLite and psycopg release the GIL while their query runs: the second core
    start_seq, start_hash = rows.start()
    broken, head_seq, head_hash = _walk(rows, start_seq, start_hash)
    checker.join()
    edited = differ[0] if differ else None
    if edited is not None and broken is None:
        broken = _slow(rows, start_seq, start_hash)[0]  # named in seq order: a swap is "out of order"
    if edited is not None and (broken is None or edited < broken[0]):
        broken = (edited, "edited")
    if broken is not None:
        return Verdict(False, f"entry {broken[0]}: {broken[1]}", head_seq, head_hash)
    for anchor in sorted(anchors, key=lambda a: a.seq):
        if anchor.seq <= start_seq:
            continue  # archived: checked against the archive (docs/audit.md)
        if anchor.seq > head_seq:
            latest = max(anchors, key=lambda a: a.seq)
            return Verdict(
                False, f"cut off after entry {head_seq}; {latest.named()} says {latest.seq}", head_seq, head_hash
            )
        if rows.hash_at(anchor.seq) != anchor.hash:
            line = f"entry {anchor.seq}: differs from {anchor.named()}; the chain was rewritten at or before it"
            return Verdict(False, line, head_seq, head_hash)
    known = f"; checked against {len(anchors)} anchor(s)" if anchors else "; no anchor known"
    count = head_seq - start_seq
    return Verdict(
        True, f"intact: {count} entries, {start_seq + 1}–{head_seq}, head {head_hash}{known}", head_seq, head_hash
    )


def _walk(rows: SqliteRows | PostgresRows, seq: int, last: str) -> tuple[tuple[int, str] | None, int, str]:
    """(the first break or None, the last good entry's seq and hash).

    Fast: rows in id order (the order they were written in, under the chain's lock: the table's
    own order on SQLite, no index to follow), each named "after" the hash of the one before, the
    stored hash of each batch's last row the one computed. The columns check (run alongside)
    shows every row's seq is the one its bytes name, so a chain that holds in id order is the
    chain in seq order. Anything amiss: walk again in seq order, entry by entry, to name it."""
    start_seq, start_hash = seq, last
    first = rows.first_seq()
    if first is not None and first <= start_seq:
        return (first, "inserted"), seq, last
    sha = hashlib.sha256
    after_id = 0
    while True:
        cans, after_id, stored = rows.in_id_order(after_id, CHUNK)
        if not cans:
            return None, seq, last
        hashes = [sha(c).digest() for c in cans]
        expected = (bytes.fromhex(last) + b"".join(hashes)).hex()
        named = b"".join([c[_AFTER] for c in cans])
        if stored != expected[-64:] or named != expected[:-64].encode():
            return _slow(rows, start_seq, start_hash)
        seq, last = seq + len(cans), expected[-64:]


def _slow(rows: SeqRows, seq: int, last: str) -> tuple[tuple[int, str] | None, int, str]:
    """Walk entry by entry in seq order from the start to the first break, and name it (an export's
    audit_log.csv too: storage/export_check.py)."""
    start, before = seq + 1, None
    while batch := rows.rows_from(seq + 1, CHUNK + 2):
        broken, seq, last, before = _first_break(batch, seq, last, before, start)
        if broken is not None or len(batch) < CHUNK + 2:
            return broken, seq, last
    return None, seq, last


first_break = _slow


def _first_break(
    batch: list[tuple[int, bytes, str]], seq: int, last: str, before: str | None, start: int
) -> tuple[tuple[int, str] | None, int, str, str | None]:
    for i, (column_seq, canonical, stored) in enumerate(batch[:CHUNK]):
        n = seq + 1
        if column_seq != n:
            return (n, "missing"), seq, last, before
        claim = _claim(canonical)
        if claim is None or hashlib.sha256(canonical).hexdigest() != stored:
            return (n, "edited"), seq, last, before
        after, claimed = claim
        if after == last and claimed == n:
            seq, before, last = n, last, stored
            continue
        following = _claim(batch[i + 1][1]) if i + 1 < len(batch) else None
        if claimed == n:
            if n == start:
                return (n, "forged start"), seq, last, before
            if following is not None and following[0] == last:
                return (n, "inserted"), seq, last, before
            return (n - 1, "edited"), seq, last, before  # the one before was rewritten, with a new hash
        if claimed < n:
            return ((n - 1, "inserted") if after == before else (n, "out of order")), seq, last, before
        if following is not None and following[1] == n:
            return (n, "out of order"), seq, last, before
        return (n, "missing"), seq, last, before
    return None, seq, last, before


def _claim(canonical: bytes) -> tuple[str, int] | None:
    """What an entry says of itself: the hash it comes after, its number."""
    try:
        decoded = orjson.loads(canonical)
        return str(decoded["after"]), int(decoded["seq"])
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
