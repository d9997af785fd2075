"""The audit trail's hash chain: append-only, and every kind of tampering named by `clearance audit verify`.

Tampering is done as an attacker with the database administrator's rights would: the triggers
that refuse UPDATE and DELETE are switched off first (dropped on SQLite, disabled on PostgreSQL).
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import orjson
import pytest
import rfc8785
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

from bot.cli import main
from storage.chain import GENESIS, canonical, seal
from storage.chain import append as append_entries
from storage.db import urls
from storage.pending import pending
from storage.sql import table_of
from storage.tables import AuditRow, OutboxRow
from storage.uow import uow_factory
from tests.storage.test_requests_storage import DRAFT, POLICY
from workflows.submission import submit_request

START = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)


def entries(n: int, first: int = 1) -> list[dict]:
    return [
        {
            "subject": f"REQ-{i:04d}",
            "action": "approved:it_security",
            "actor": "U0REVIEWER",
            "at": START + timedelta(minutes=i),
            "from_state": "in_review",
            "to_state": "approved",
            "reason": f'entry {i}: looks fine — «ok» "quoted" \\ \n tab\t',
            "team_id": "T0TEAM",
        }
        for i in range(first, first + n)
    ]


@pytest.fixture
def sync(database_url):
    engine = create_engine(urls(database_url)[1])
    yield engine
    engine.dispose()


@pytest.fixture
def trail(sync, database_url):
    """50 chained entries."""
    with sync.begin() as conn:
        append_entries(conn, entries(50))
    return database_url


def tamper(engine, *statements: str, params: dict | None = None) -> None:
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_update"))
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
        for statement in statements:
            conn.execute(text(statement), params or {})
        if engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))


def renumber(engine, first: int, by: int) -> list[str]:
    """Statements moving every entry from `first` on by `by` (via negatives: the numbers are unique)."""
    return [
        f"UPDATE audit_log SET seq = -(seq + {by}) WHERE seq >= {first}",
        "UPDATE audit_log SET seq = -seq WHERE seq < 0",
    ]


def hash_of(engine, seq: int) -> str:
    with engine.connect() as conn:
        return conn.execute(text("SELECT hash FROM audit_log WHERE seq = :s"), {"s": seq}).scalar_one()


def verify_says(database_url, monkeypatch, capsys, *args: str) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    code = main(["audit", "verify", *args])
    out = capsys.readouterr()
    return code, (out.out + out.err).strip()


def test_the_canonical_bytes_are_rfc_8785_json():
    row = entries(1)[0] | {"reason": 'é漢😀\u2028/ "q" \\ \x01\x1f\x7f \b\f\n\r\t', "team_id": None}
    encoded = canonical(7, "ab" * 32, row)
    decoded = orjson.loads(encoded)
    assert encoded == rfc8785.dumps(decoded)
    assert decoded["entry"]["at"] == "2026-11-02T15:01:00.000000Z" and decoded["seq"] == 7
    assert encoded[10:74] == b"ab" * 32  # "after" is the first key: verify reads it in place


async def test_entries_written_by_the_bot_are_numbered_and_chained(sessions, database_url, clock, monkeypatch, capsys):
    uows = uow_factory(sessions, clock)
    for _ in range(3):
        async with uows() as uow:
            await submit_request(uow, POLICY, DRAFT, "U0OFFICER", clock())
            await uow.commit()
    async with sessions() as session:
        rows = (await session.execute(text("SELECT seq, canonical, hash FROM audit_log ORDER BY id"))).all()
    assert [r[0] for r in rows] == list(range(1, len(rows) + 1)) and len(rows) >= 3
    after = GENESIS
    for seq, stored, digest in rows:
        assert orjson.loads(stored)["after"] == after and orjson.loads(stored)["seq"] == seq
        assert hashlib.sha256(stored.encode()).hexdigest() == digest
        after = digest
    code, line = verify_says(database_url, monkeypatch, capsys)
    assert code == 0 and line.startswith(f"intact: {len(rows)} entries"), line


async def test_a_transactions_audit_entries_are_its_last_insert(sessions, clock):
    # The chain's lock is taken at the first audit write and held to the commit (two replicas'
    # batches queue on it), so every other row of the transaction goes in before it.
    inserts: list[str] = []

    def seen(_conn, _cursor, statement: str, *_args) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO"):
            inserts.append(statement.split()[2].strip('"'))

    now = clock()
    outbox_row = {"queue": "q", "method": "chat.postMessage", "payload": {}, "target": None, "store_as": None}
    outbox_row |= {"status": "pending", "priority": 0, "attempts": 0, "next_attempt_at": now, "claimed_until": None}
    outbox_row |= {"last_error": "", "created_at": now, "sent_at": None}
    event.listen(Engine, "before_cursor_execute", seen)
    try:
        async with sessions() as session, session.begin():
            rows = pending(session)
            rows.add(table_of(AuditRow), entries(1)[0])  # the entry first…
            rows.add(table_of(OutboxRow), outbox_row)  # …then a message
    finally:
        event.remove(Engine, "before_cursor_execute", seen)
    assert inserts == ["outbox", "audit_log"], inserts


def test_the_database_refuses_to_change_or_delete_an_entry(trail, sync):
    for statement in ("UPDATE audit_log SET reason = 'x' WHERE seq = 3", "DELETE FROM audit_log WHERE seq = 50"):
        with pytest.raises(DBAPIError, match="append-only"), sync.begin() as conn:
            conn.execute(text(statement))
    # TRUNCATE on PostgreSQL; SQLite has none, its equivalent is a DELETE of every row.
    everything = "TRUNCATE audit_log" if sync.dialect.name == "postgresql" else "DELETE FROM audit_log"
    with pytest.raises(DBAPIError, match="append-only"), sync.begin() as conn:
        conn.execute(text(everything))
    with sync.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one() == 50


def test_an_intact_trail_passes(trail, monkeypatch, capsys):
    code, line = verify_says(trail, monkeypatch, capsys)
    assert code == 0 and line.startswith("intact: 50 entries, 1–50, head ")


def forged(engine, seq: int, after: str, reason: str) -> dict:
    """A well-formed entry numbered `seq` coming after `after`, as a careful forger would write it."""
    row = entries(1, seq)[0] | {"reason": reason}
    seal([row], (seq - 1, after))
    return row


INSERT = (
    "INSERT INTO audit_log (subject, action, actor, at, from_state, to_state, reason, team_id, seq, canonical, hash) "
    "VALUES (:subject, :action, :actor, :at, :from_state, :to_state, :reason, :team_id, :seq, :canonical, :hash)"
)


def _params(engine, row: dict) -> dict:
    at = row["at"]
    # SQLite: the text SQLAlchemy writes for a time (the columns must say what the stored bytes say).
    return row | {"at": f"{at:%Y-%m-%d %H:%M:%S.%f}" if engine.dialect.name == "sqlite" else at}


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("edit a field", "entry 17: edited"),
        ("edit the stored bytes", "entry 17: edited"),
        ("edit and re-hash", "entry 17: edited"),
        ("delete", "entry 18: missing"),
        ("delete and renumber", "entry 18: missing"),
        ("insert", "entry 19: inserted"),
        ("swap", "entry 20: out of order"),
        ("forge the first entry", "entry 1: forged start"),
    ],
)
def test_each_kind_of_tampering_is_named(trail, sync, monkeypatch, capsys, kind, expected):
    if kind == "edit a field":
        tamper(sync, "UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 17")
    elif kind == "edit the stored bytes":
        tamper(sync, "UPDATE audit_log SET canonical = replace(canonical, 'U0REVIEWER', 'U0SOMEONE') WHERE seq = 17")
    elif kind == "edit and re-hash":
        row = forged(sync, 17, hash_of(sync, 16), "rewritten")
        tamper(
            sync,
            "UPDATE audit_log SET reason = :reason, canonical = :canonical, hash = :hash WHERE seq = 17",
            params=row,
        )
    elif kind == "delete":
        tamper(sync, "DELETE FROM audit_log WHERE seq = 18")
    elif kind == "delete and renumber":
        tamper(sync, "DELETE FROM audit_log WHERE seq = 18", *renumber(sync, 19, -1))
    elif kind == "insert":
        row = forged(sync, 19, hash_of(sync, 18), "an entry that never happened")
        tamper(sync, *renumber(sync, 19, 1), INSERT, params=_params(sync, row))
    elif kind == "swap":
        tamper(
            sync,
            "UPDATE audit_log SET seq = -1 WHERE seq = 20",
            "UPDATE audit_log SET seq = 20 WHERE seq = 21",
            "UPDATE audit_log SET seq = 21 WHERE seq = -1",
        )
    elif kind == "forge the first entry":
        row = forged(sync, 1, "ab" * 32, "the trail began later")
        tamper(
            sync,
            "UPDATE audit_log SET reason = :reason, canonical = :canonical, hash = :hash WHERE seq = 1",
            params=row,
        )
    code, line = verify_says(trail, monkeypatch, capsys)
    assert (code, line) == (1, expected)


def test_a_cut_off_tail_is_caught_by_the_latest_anchor(trail, sync, monkeypatch, capsys):
    with sync.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_anchors (kind, seq, hash, at, posted_to) VALUES ('anchor', 44, :h, :at, 'C0AUDIT')"
            ),
            {"h": hash_of(sync, 44), "at": datetime(2026, 12, 6, 6, 0) if sync.dialect.name == "sqlite" else START},
        )
    tamper(sync, "DELETE FROM audit_log WHERE seq > 41")
    code, line = verify_says(trail, monkeypatch, capsys)
    when = "2026-12-06 06:00" if sync.dialect.name == "sqlite" else "2026-11-02 15:00"
    assert (code, line) == (1, f"cut off after entry 41; the anchor of {when} UTC says 44")


def test_a_chain_rewritten_from_scratch_is_caught_by_an_anchor(trail, sync, monkeypatch, capsys):
    with sync.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO audit_anchors (kind, seq, hash, at, posted_to) VALUES ('anchor', 30, :h, :at, 'C0AUDIT')"
            ),
            {"h": hash_of(sync, 30), "at": START.replace(tzinfo=None) if sync.dialect.name == "sqlite" else START},
        )
    rows = entries(50)
    rows[9]["reason"] = "rewritten, and every hash after it recomputed"
    seal(rows, (0, GENESIS))
    with sync.begin() as conn:
        if sync.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
        else:
            conn.execute(text("DROP TRIGGER audit_log_no_delete"))
        conn.execute(text("DELETE FROM audit_log"))
        conn.execute(text(INSERT), [_params(sync, r) for r in rows])
        if sync.dialect.name == "postgresql":  # the database is the session's: its triggers back on
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
    code, line = verify_says(trail, monkeypatch, capsys)
    assert code == 1
    assert line == "entry 30: differs from the anchor of 2026-11-02 15:00 UTC; the chain was rewritten at or before it"
