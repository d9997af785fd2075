"""Two replicas, one order: two OS processes, each with its own engine, group commit (two writers,
as the bot runs on PostgreSQL) and write path (`Changes.handle`), submit requests at the same
moment; the audit trail they write together has no gap and no fork, and `clearance audit verify`
passes."""

from __future__ import annotations

import asyncio
import multiprocessing
from datetime import UTC, datetime

import pytest
from sqlalchemy import create_engine, text

from bot.cli import main
from bot.wiring.changes import Changes
from storage.db import urls

PER_REPLICA = 120


def replica(database_url: str, name: str, start, done) -> None:
    """One replica's process: its own engine and group commit, the real write path."""
    done.put((name, asyncio.run(_submit_many(database_url, name, start))))


async def _submit_many(database_url: str, name: str, start) -> int:
    from storage.db import create_engine as async_engine
    from storage.db import session_factory
    from storage.group_commit import GroupCommit
    from storage.uow import SqlUnitOfWork
    from tests.storage.test_requests_storage import DRAFT, POLICY
    from workflows.commands import SubmitRequest

    engine = async_engine(database_url)
    now = lambda: datetime.now(UTC)  # noqa: E731
    group = GroupCommit(session_factory(engine), lambda session: SqlUnitOfWork.over(session, now), writers=2)
    changes = Changes(group, POLICY, sent=lambda: None, committed=lambda events: None)
    try:
        async with engine.connect() as conn:  # connected and warm before the race starts
            await conn.execute(text("SELECT 1"))
        await asyncio.get_running_loop().run_in_executor(None, start.wait)
        # In waves, so both replicas' batches keep coming while the other's do: one gather of all of
        # them can be one batch, over before the other replica's first.
        results: list[object] = []
        for _ in range(PER_REPLICA // 10):
            results += await asyncio.gather(
                *(changes.handle(SubmitRequest(DRAFT, name, now())) for _ in range(10)), return_exceptions=True
            )
            await asyncio.sleep(0.02)
        return sum(1 for r in results if not isinstance(r, BaseException))
    finally:
        await group.stop()
        await engine.dispose()


def test_two_processes_writing_at_once_make_one_chain_with_no_gap_and_no_fork(database_url, monkeypatch, capsys):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time whatever the processes; the race is PostgreSQL's")
    spawn = multiprocessing.get_context("spawn")  # fresh interpreters: nothing shared but the database
    start, done = spawn.Barrier(2), spawn.Queue()
    names = ("U0REPLICAONE", "U0REPLICATWO")
    processes = [spawn.Process(target=replica, args=(database_url, n, start, done)) for n in names]
    for p in processes:
        p.start()
    for p in processes:
        p.join(timeout=120)
        assert p.exitcode == 0, f"a replica's process failed (exit {p.exitcode})"
    assert dict(done.get(timeout=5) for _ in names) == dict.fromkeys(names, PER_REPLICA)

    engine = create_engine(urls(database_url)[1])
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT seq, actor, canonical FROM audit_log ORDER BY seq")).all()
    engine.dispose()
    seqs = [r[0] for r in rows]
    assert seqs == list(range(1, len(rows) + 1))  # no gap, no number given twice
    assert len(rows) >= 2 * PER_REPLICA
    actors = [r[1] for r in rows if r[1] in names]
    turns = sum(1 for a, b in zip(actors, actors[1:], strict=False) if a != b)
    assert turns >= 2, "the replicas did not write at the same time: the test proves nothing"
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert main(["audit", "verify"]) == 0  # every entry sealed to the one before it: no fork
    assert capsys.readouterr().out.startswith(f"intact: {len(rows)} entries")
