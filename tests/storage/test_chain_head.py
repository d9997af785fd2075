"""The chain's head row (audit_head, migration 0017): where the next entry is numbered from.

It must always be the newest entry: filled from the trail by the migration, moved by every INSERT
into audit_log (the bot's and a script's alike), and made again from the trail if it is gone.
"""

from __future__ import annotations

import hashlib

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from bot.cli import main
from storage.chain import GENESIS, canonical, seal
from storage.chain import append as append_entries
from storage.db import alembic_config, migrate, urls
from storage.pending import pending
from storage.sql import table_of
from storage.tables import AuditRow
from storage.uow import uow_factory
from tests.storage.test_chain import INSERT, _params, entries
from tests.storage.test_requests_storage import DRAFT, POLICY
from workflows.submission import submit_request


@pytest.fixture
def sync(database_url):
    engine = create_engine(urls(database_url)[1])
    yield engine
    engine.dispose()


def head_and_newest(engine) -> tuple[tuple, tuple]:
    with engine.connect() as conn:
        head = tuple(conn.execute(text("SELECT seq, hash FROM audit_head")).one())
        newest = tuple(conn.execute(text("SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1")).one())
    return head, newest


def verify_says(database_url, monkeypatch, capsys) -> tuple[int, str]:
    monkeypatch.setenv("DATABASE_URL", database_url)
    code = main(["audit", "verify"])
    out = capsys.readouterr()
    return code, (out.out + out.err).strip()


async def submit(sessions, clock, times: int) -> None:
    uows = uow_factory(sessions, clock)
    for _ in range(times):
        async with uows() as uow:
            await submit_request(uow, POLICY, DRAFT, "U0OFFICER", clock())
            await uow.commit()


async def test_the_head_row_follows_every_insert(sessions, sync, clock):
    with sync.connect() as conn:
        assert tuple(conn.execute(text("SELECT seq, hash FROM audit_head")).one()) == (0, GENESIS)
    await submit(sessions, clock, 2)
    head, newest = head_and_newest(sync)
    assert head == newest and head[0] >= 2
    with sync.begin() as conn:
        append_entries(conn, entries(3))  # a script's entries move it too
    head, newest = head_and_newest(sync)
    assert head == newest and head[0] >= 5


async def test_a_deleted_head_row_is_made_again_from_the_trail(
    sessions, sync, clock, database_url, monkeypatch, capsys
):
    await submit(sessions, clock, 1)
    with sync.begin() as conn:
        conn.execute(text("DELETE FROM audit_head"))
    await submit(sessions, clock, 2)
    head, newest = head_and_newest(sync)
    assert head == newest
    code, line = verify_says(database_url, monkeypatch, capsys)
    assert code == 0 and line.startswith(f"intact: {head[0]} entries"), line


async def test_the_migration_starts_the_head_at_the_last_stored_entry(empty_url, clock, monkeypatch, capsys):
    from storage.db import create_engine as create_async_engine
    from storage.db import session_factory

    command.upgrade(alembic_config(empty_url), "0014")
    engine = create_engine(urls(empty_url)[1])
    rows = entries(7)
    seal(rows, (0, GENESIS))
    with engine.begin() as conn:  # entries stored before 0017, as the bot stored them
        conn.execute(text(INSERT), [_params(engine, r) for r in rows])
    migrate(empty_url)
    assert head_and_newest(engine) == ((7, rows[-1]["hash"]),) * 2
    db = create_async_engine(empty_url)
    try:
        await submit(session_factory(db), clock, 1)  # numbered after them
    finally:
        await db.dispose()
    head, newest = head_and_newest(engine)
    engine.dispose()
    assert head == newest and head[0] > 7
    code, line = verify_says(empty_url, monkeypatch, capsys)
    assert code == 0 and line.startswith(f"intact: {head[0]} entries"), line


def test_an_empty_trail_starts_the_head_at_the_beginning(tmp_path):
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    migrate(url)
    engine = create_engine(url)
    with engine.connect() as conn:
        assert tuple(conn.execute(text("SELECT id, seq, hash FROM audit_head")).one()) == (1, 0, GENESIS)
    engine.dispose()


async def test_entries_stored_behind_the_rows_back_are_numbered_after(
    sessions, sync, clock, database_url, monkeypatch, capsys
):
    # The row's trigger switched off for a while (a database administrator can): entries go in,
    # the row stays where it was. (On SQLite it stays off: the bot seals there, not the trigger.)
    postgres = sync.dialect.name == "postgresql"
    with sync.begin() as conn:
        conn.execute(
            text("ALTER TABLE audit_log DISABLE TRIGGER audit_log_head" if postgres else "DROP TRIGGER audit_log_head")
        )
        append_entries(conn, entries(4))
    if postgres:
        with pytest.raises(IntegrityError, match="seq"):  # the bot's entries are sealed by it: none unsealed
            await submit(sessions, clock, 1)
        with sync.begin() as conn:
            conn.execute(text("ALTER TABLE audit_log ENABLE TRIGGER audit_log_head"))
    await submit(sessions, clock, 2)  # numbered after the newest entry, not after the row
    with sync.connect() as conn:
        seqs = conn.execute(text("SELECT seq FROM audit_log ORDER BY seq")).scalars().all()
    assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) >= 6
    code, line = verify_says(database_url, monkeypatch, capsys)
    assert code == 0 and line.startswith(f"intact: {len(seqs)} entries"), line


async def test_the_bots_entries_have_the_bytes_the_chain_module_writes(sessions, sync, clock):
    # On PostgreSQL the INSERT's trigger frames and hashes them; on SQLite storage/chain.py does.
    row = entries(1)[0] | {"reason": 'é漢😀\u2028/ "q" \\ \x01\x1f\x7f \b\f\n\r\t', "team_id": None}
    async with sessions() as session, session.begin():
        pending(session).add(table_of(AuditRow), dict(row))
        pending(session).add(table_of(AuditRow), dict(row, actor="U0SECOND"))
    with sync.connect() as conn:
        stored = conn.execute(text("SELECT seq, canonical, hash FROM audit_log ORDER BY seq")).all()
    after = GENESIS
    for (seq, text_, digest), values in zip(stored, [row, dict(row, actor="U0SECOND")], strict=True):
        assert text_.encode() == canonical(seq, after, values)
        assert digest == hashlib.sha256(text_.encode()).hexdigest()
        after = digest
    assert [s for s, _, _ in stored] == [1, 2]
