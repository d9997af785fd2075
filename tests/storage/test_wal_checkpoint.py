"""SQLite's WAL as the bot opens the file (storage/wal_checkpoint.py): no commit checkpoints; once
a commit takes the WAL past 1,000 pages a thread writes it back, and nothing committed is lost."""

from __future__ import annotations

import asyncio
import os
import sqlite3

from sqlalchemy import text

from storage.db import migrate, open_database

ROWS = 6000  # ~1 KB each: a WAL of well over 1,000 pages of 4 KB


async def _insert(database, first: int, count: int) -> None:
    async with database.sessions() as session, session.begin():
        await session.execute(
            text("INSERT INTO handled_events (event_id, handled_at) VALUES (:k, CURRENT_TIMESTAMP)"),
            [{"k": f"{i:06d}" + "x" * 1000} for i in range(first, first + count)],
        )


def _size(path) -> int:
    return os.path.getsize(path)


async def _wait_for(predicate) -> bool:
    for _ in range(100):
        if predicate():
            return True
        await asyncio.sleep(0.05)
    return False


async def test_a_big_commit_is_checkpointed_by_the_thread_not_by_itself(tmp_path):
    path = tmp_path / "clearance.db"
    url = f"sqlite:///{path}"
    migrate(url)
    database = open_database(url)
    assert database.checkpoints is not None
    try:
        async with database.sessions() as session:
            assert (await session.scalar(text("PRAGMA wal_autocheckpoint"))) == 0  # the writer never checkpoints
        await _insert(database, 0, 10)  # a small commit: the WAL far below the line, nothing to do
        await asyncio.sleep(0.1)
        assert database.checkpoints.runs == 0
        await _insert(database, 10, ROWS)
        assert _size(f"{path}-wal") > 1000 * 4096  # committed to the WAL
        assert await _wait_for(lambda: database.checkpoints.runs == 1)
        assert _size(path) > ROWS * 1000  # and written back into the database file
        await _insert(database, 10 + ROWS, 10)  # the writer goes on; its WAL starts again, cut short
        await asyncio.sleep(0.1)
        assert _size(f"{path}-wal") < 1000 * 4096
        assert database.checkpoints.runs == 1  # small commits after it wake nobody
        async with database.read_sessions() as reader:
            assert await reader.scalar(text("SELECT count(*) FROM handled_events")) == ROWS + 20
    finally:
        await database.dispose()
    # Nothing was lost: the last connection's close wrote the rest back.
    raw = sqlite3.connect(path)
    try:
        assert raw.execute("SELECT count(*) FROM handled_events").fetchone()[0] == ROWS + 20
    finally:
        raw.close()
