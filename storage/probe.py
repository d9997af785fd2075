"""DatabaseProbe: can the database be reached and written to right now? (for /healthz)

Each probe opens a fresh connection (no pool, so a connection cut since the last probe is seen).
Bounded by a short timeout: a health check must answer even when the database hangs.

PostgreSQL: a throwaway row is inserted and rolled back, so a server that refuses writes (a
read-only standby, a full disk) counts as unavailable.
SQLite: the files' permissions are checked, then a read. A write probe would queue behind the
bot's own writers (one writer at a time) and could time out under load; and SQLite reuses the
process's already-open read-write descriptors for a "fresh" connection, so a file made read-only
would still take it. access(2) sees chmod (and, for root, chattr +i) without opening the file
(opening and closing it here would drop SQLite's POSIX locks).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from storage.db import connect_failures_as_driver_errors, urls

_WRITE = text("INSERT INTO handled_events (event_id, handled_at) VALUES (:id, CURRENT_TIMESTAMP)")
_READ = text("SELECT 1 FROM handled_events LIMIT 1")


class DatabaseProbe:
    def __init__(self, raw_url: str, timeout: float = 2.0) -> None:
        async_url, _ = urls(raw_url)
        self.timeout = timeout
        wait = max(1, int(timeout))
        # connect_args: SQLite's busy wait and PostgreSQL's connect timeout, both short (asyncpg
        # calls it timeout, psycopg connect_timeout: storage/db.py picks the driver).
        psycopg = async_url.startswith("postgresql+psycopg")
        connect_args = {"connect_timeout": wait} if psycopg else {"timeout": wait}
        self._engine = create_async_engine(async_url, poolclass=NullPool, connect_args=connect_args)
        connect_failures_as_driver_errors(self._engine)
        self._sqlite = async_url.startswith("sqlite")
        database = make_url(async_url).database if self._sqlite else None
        self._sqlite_files = [] if database in (None, "", ":memory:") else [Path(database)]

    async def problem(self) -> str | None:
        """None if the database is usable; otherwise why not (the error's kind, never its text)."""
        for path in self._sqlite_files:
            if not path.exists():
                return "unreachable: the SQLite file is missing"
            for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                if file.exists() and not os.access(file, os.R_OK | os.W_OK):
                    return f"unwritable: {file.name} is read-only"
        try:
            await asyncio.wait_for(self._try_write(), self.timeout)
        except TimeoutError:
            return "unreachable: timed out"
        except Exception as exc:  # OperationalError, OSError, …: the kind is enough for an operator
            return f"unreachable: {type(exc).__name__}"
        return None

    async def _try_write(self) -> None:
        async with self._engine.connect() as conn:
            if self._sqlite:
                await conn.execute(_READ)
            else:
                await conn.execute(_WRITE, {"id": f"healthz:{uuid.uuid4().hex}"})
            await conn.rollback()

    async def close(self) -> None:
        await self._engine.dispose()
