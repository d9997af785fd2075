"""SQLite through OneHopConnection (storage/db.py): one trip to aiosqlite's thread per statement,
and the same answers SQLAlchemy gets from plain aiosqlite (rows, counts, ids, errors)."""

from __future__ import annotations

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


async def test_a_statement_is_one_trip_to_the_thread(engine, monkeypatch):
    trips = []
    async with engine.connect() as conn:
        raw = (await conn.get_raw_connection()).driver_connection
        original = raw._execute

        async def counted(fn, *args, **kwargs):
            trips.append(fn)
            return await original(fn, *args, **kwargs)

        monkeypatch.setattr(raw, "_execute", counted)
        await conn.execute(text("INSERT INTO t (name) VALUES ('a'), ('b'), ('c')"))
        rows = (await conn.execute(text("SELECT name FROM t ORDER BY id"))).all()
        statements = len(trips)
    assert [r.name for r in rows] == ["a", "b", "c"]
    assert statements == 3  # BEGIN, INSERT, SELECT; not 12: open, execute, fetch and close in one call


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
