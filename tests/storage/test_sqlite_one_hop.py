"""SQLite through OneHopConnection (storage/db.py): statements run in place on the event loop, only
what can wait for a lock goes to aiosqlite's thread (one trip each), and SQLAlchemy gets the same
answers as from plain aiosqlite (rows, counts, ids, errors)."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from sqlalchemy import exc, text

from storage.db import OneHopConnection, create_engine


@pytest.fixture
async def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'one-hop.db'}")
    async with engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL)"))
    yield engine
    await engine.dispose()


async def test_the_engine_connects_through_one_hop_connections(engine):
    async with engine.connect() as conn:
        raw = await conn.get_raw_connection()
        assert isinstance(raw.driver_connection, OneHopConnection)


def _count_trips(raw: OneHopConnection, monkeypatch) -> list:
    trips = []
    original = raw._execute

    async def counted(fn, *args, **kwargs):
        trips.append(fn)
        return await original(fn, *args, **kwargs)

    monkeypatch.setattr(raw, "_execute", counted)
    return trips


async def test_only_what_can_wait_goes_to_the_thread(engine, monkeypatch):
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        trips = _count_trips(raw, monkeypatch)
        await conn.execute(text("INSERT INTO t (name) VALUES ('a'), ('b'), ('c')"))
        rows = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).all()
        statements = len(trips)
        await conn.commit()
        assert len(trips) == statements + 1  # COMMIT (and its fsync) on the thread
    assert [r.name for r in rows] == ["a", "b", "c"]
    assert statements == 1  # BEGIN IMMEDIATE, in one call; INSERT and SELECT in place, not 12 calls


async def test_a_transaction_waiting_for_another_process_lock_does_not_hold_up_the_loop(engine):
    other = sqlite3.connect(engine.url.database, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:

        async def write() -> None:
            async with engine.begin() as conn:
                await conn.execute(text("INSERT INTO t (name) VALUES ('waited')"))

        writing = asyncio.create_task(write())
        ticks, started = 0, time.monotonic()
        while time.monotonic() - started < 0.3:
            await asyncio.sleep(0.01)
            ticks += 1
        assert not writing.done()  # still waiting for the lock: in SQLite's busy handler, on the thread
        assert ticks >= 10  # while the event loop went on
        other.execute("COMMIT")
        await asyncio.wait_for(writing, 5)
    finally:
        other.close()
    async with engine.connect() as conn:
        assert (await conn.execute(text("SELECT name FROM t"))).scalar() == "waited"


async def test_nothing_runs_in_place_while_the_thread_has_work_for_the_connection(engine, monkeypatch):
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        await conn.execute(text("SELECT 1"))  # begun
        trips = _count_trips(raw, monkeypatch)
        busy = asyncio.create_task(raw._execute(time.sleep, 0.2))  # e.g. a cancelled call still queued
        await asyncio.sleep(0)
        assert not raw.thread_idle
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
        assert len(trips) == 2  # the statement queued behind it, on the thread
        await busy
        assert raw.thread_idle
        await conn.execute(text("SELECT count(*) FROM t"))
        assert len(trips) == 2  # idle again: in place


async def test_counts_ids_returning_and_executemany(engine):
    async with engine.begin() as conn:
        first = await conn.execute(text("INSERT INTO t (name) VALUES ('x')"))
        assert first.lastrowid == 1
        await conn.execute(text("INSERT INTO t (name) VALUES (:name)"), [{"name": "y"}, {"name": "z"}])
        updated = await conn.execute(text("UPDATE t SET name = name || '!' WHERE name != 'x'"))
        assert updated.rowcount == 2
        returned = await conn.execute(
            text("INSERT INTO t (name) VALUES ('w'), ('x') ON CONFLICT DO NOTHING RETURNING name")
        )
        assert [r.name for r in returned] == ["w"]
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 4
        streamed = await conn.stream(text("SELECT name FROM t ORDER BY id"))
        assert [r.name async for r in streamed] == ["x", "y!", "z!", "w"]


async def test_errors_are_the_drivers_and_the_connection_goes_on(engine):
    async with engine.connect() as conn:
        await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
        with pytest.raises(exc.IntegrityError):
            await conn.execute(text("INSERT INTO t (name) VALUES ('dup')"))
        await conn.rollback()
        assert (await conn.execute(text("SELECT count(*) FROM t"))).scalar() == 0
