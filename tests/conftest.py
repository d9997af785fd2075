"""Shared fixtures: a migrated database on SQLite and, when a URL is given, on PostgreSQL.

Set CLEARANCE_TEST_POSTGRES_URL (e.g. postgresql://postgres@127.0.0.1:5432/test) to run the
storage and end-to-end tests on PostgreSQL too; .ci/run does. A throwaway database is created
next to the given one and dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from storage.db import create_engine, migrate, session_factory
from tests.fakes.clock import ManualClock

PG_URL = os.environ.get("CLEARANCE_TEST_POSTGRES_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@contextmanager
def throwaway_postgres(prefix: str) -> Iterator[str]:
    """A new, empty PostgreSQL database next to CLEARANCE_TEST_POSTGRES_URL, dropped afterwards."""
    base = make_url(PG_URL)
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = base.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield base.set(drivername="postgresql", database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_database():
    """A fresh PostgreSQL database for this test session, migrated to head."""
    if not PG_URL:
        yield None
        return
    with throwaway_postgres("clearance_test") as url:
        migrate(url)
        yield url


@pytest.fixture(scope="session")
def sqlite_migrated(tmp_path_factory) -> Path:
    """One SQLite file migrated to head for the whole session: each test gets a copy of it, a
    thousandth of a second instead of the second or so a migration takes."""
    path = tmp_path_factory.mktemp("migrated") / "clearance.db"
    migrate(f"sqlite:///{path}")
    # Closed, so the file holds everything (WAL mode included, a property of the file itself).
    assert not [p.name for p in path.parent.iterdir() if p != path], "the migrated file is not whole"
    return path


# What TRUNCATE … RESTART IDENTITY did, in a tenth of its time: every row deleted (the tables of
# a test are nearly empty, and TRUNCATE makes new files for every table) and the sequences the
# tables own started again. The audit trail's triggers refuse both; a test's clean slate is not an
# attack, so triggers (foreign keys' included) are off for this transaction. The chain's head
# row is put back as a migration leaves it (storage/chain.py).
EMPTY_EVERY_TABLE = """
DO $$
DECLARE r record;
BEGIN
  SET LOCAL session_replication_role = replica;
  FOR r IN SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'alembic_version' LOOP
    EXECUTE format('DELETE FROM public.%I', r.tablename);
  END LOOP;
  FOR r IN
    SELECT s.relname FROM pg_class s JOIN pg_depend d ON d.objid = s.oid AND d.deptype IN ('a', 'i')
    WHERE s.relkind = 'S' AND s.relnamespace = 'public'::regnamespace
  LOOP
    EXECUTE format('ALTER SEQUENCE public.%I RESTART', r.relname);
  END LOOP;
  INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, repeat('0', 64));  -- as migrated: the chain's start
END $$;
"""


@pytest.fixture(params=BACKENDS)
async def database_url(request, tmp_path, pg_database, sqlite_migrated):
    """A migrated, empty database; parametrised over the backends available."""
    if request.param == "sqlite":
        shutil.copyfile(sqlite_migrated, tmp_path / "clearance.db")
        yield f"sqlite:///{tmp_path / 'clearance.db'}"
        return
    engine = create_engine(pg_database)
    async with engine.begin() as conn:
        await conn.execute(text(EMPTY_EVERY_TABLE))
    await engine.dispose()
    yield pg_database


@pytest.fixture
async def sessions(database_url):
    engine = create_engine(database_url)
    yield session_factory(engine)
    await engine.dispose()
