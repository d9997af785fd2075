"""Engines and migrations for SQLite (default) and PostgreSQL.

`DATABASE_URL` may be given in its plain form (`sqlite:///clearance.db`,
`postgresql://user@host/db`); the async driver is chosen here (aiosqlite, asyncpg). Migrations
run on the matching sync driver (sqlite3, psycopg), before the event loop starts serving (for
`clearance serve`, in a child process: bot/cli.py).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlalchemy.pool import NullPool

from storage.wal_checkpoint import WalCheckpoints

if TYPE_CHECKING:  # Alembic is imported where it runs: `clearance serve` migrates in a child process
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
DEFAULT_URL = "sqlite:///clearance.db"


class DatabaseUrlError(ValueError):
    pass


def urls(raw: str) -> tuple[str, str]:
    """(async url, sync url) for a plain or driver-qualified database URL."""
    try:
        url = make_url(raw)
    except Exception as exc:  # sqlalchemy raises ArgumentError with the URL in it
        raise DatabaseUrlError("DATABASE_URL is not a database URL (e.g. sqlite:///clearance.db)") from exc
    backend = url.get_backend_name()
    if backend == "sqlite":
        return (
            url.set(drivername="sqlite+aiosqlite").render_as_string(hide_password=False),
            url.set(drivername="sqlite").render_as_string(hide_password=False),
        )
    if backend in ("postgresql", "postgres"):
        sync = url.set(drivername="postgresql+psycopg")
        return _asyncpg_url(sync).render_as_string(hide_password=False), sync.render_as_string(hide_password=False)
    raise DatabaseUrlError(f"DATABASE_URL uses {backend!r}; Clearance supports sqlite:// and postgresql://")


def _asyncpg_url(url: URL) -> URL:
    """The serving engine's URL on PostgreSQL: asyncpg, whose statements cost some 80 µs of CPU
    where psycopg's cost 110-135 µs (a quarter of a submission's CPU, scripts/bench_load.py).

    Migrations, exports and the checks of the CLI stay on psycopg (sync). asyncpg takes libpq's
    `sslmode` as `ssl`; a URL with any other libpq option (which asyncpg would refuse) keeps
    psycopg for serving too, so whatever URL the operator gives still connects."""
    query = dict(url.query)
    if "sslmode" in query:
        query["ssl"] = query.pop("sslmode")
    if set(query) - {"ssl"}:
        return url
    return url.set(drivername="postgresql+asyncpg", query=query)


@dataclass(frozen=True)
class Database:
    """One database as the application uses it: sessions that write, sessions that only read."""

    engine: AsyncEngine
    read_engine: AsyncEngine  # the same engine, but on SQLite (see open_database)
    sessions: async_sessionmaker
    read_sessions: async_sessionmaker
    checkpoints: WalCheckpoints | None = None  # SQLite: the WAL written back off the commits

    async def dispose(self) -> None:
        if self.checkpoints is not None:
            self.checkpoints.stop()
        await self.engine.dispose()
        if self.read_engine is not self.engine:
            await self.read_engine.dispose()


def open_database(raw_url: str) -> Database:
    """On SQLite, writes go through one connection: SQLite has one writer whatever we do, and a
    transaction waiting for that connection waits its turn on the event loop, first come first
    served, where one waiting inside SQLite sleeps in its busy handler (1, 2, 5 … 100 ms at a
    time): under a crowd that sleep was most of a click's p99. Reads get their own engine and
    pool, so they never wait for the writer (WAL: a reader sees the last commit)."""
    engine = create_engine(raw_url, writer=True)
    if engine.dialect.name != "sqlite":
        return Database(engine, engine, session_factory(engine), read_session_factory(engine))
    read_engine = create_engine(raw_url)
    checkpoints = None
    if (path := engine.url.database) and path != ":memory:":  # the WAL off the writer's commits
        checkpoints = WalCheckpoints(path)
        checkpoints.attach(engine)
    return Database(engine, read_engine, session_factory(engine), read_session_factory(read_engine), checkpoints)


def create_engine(raw_url: str, *, writer: bool = False) -> AsyncEngine:
    """`writer`: on SQLite, one connection that every write transaction queues for (open_database)."""
    async_url, _ = urls(raw_url)
    if async_url.startswith("sqlite"):
        pool = {"pool_size": 1, "max_overflow": 0, "pool_timeout": 30} if writer else {}
        engine = create_async_engine(async_url, connect_args={"timeout": 30}, hide_parameters=True, **pool)
        _make_sqlite_serialise_writers(engine)
        _make_sqlite_statements_one_hop(engine)
        return engine
    if async_url.startswith("postgresql+asyncpg"):
        engine = create_async_engine(async_url, pool_size=10, max_overflow=10, hide_parameters=True)
        connect_failures_as_driver_errors(engine)
        return engine
    # hide_parameters: SQL errors end up in logs, and their parameters are people's words.
    # No pre-ping (a SELECT 1 before every transaction, a round trip each): a connection that died
    # fails its first statement as a disconnect, which invalidates the whole pool at once (SQLAlchemy
    # drops every connection older than it) and reaches the caller as StoreUnavailable, answered like
    # any outage ("nothing was saved, try again"); the next transaction gets a fresh connection.
    return create_async_engine(async_url, pool_size=10, max_overflow=10, hide_parameters=True)


def connect_failures_as_driver_errors(engine: AsyncEngine) -> None:
    """asyncpg lets a failed connect through as it came (ConnectionRefusedError, a time-out, a DNS
    error): raised here as the driver's OperationalError instead, SQLAlchemy's OperationalError is
    what reaches the code above, as it is from psycopg and sqlite3 (a store-down answer, a one-line
    CLI error), never a bare OSError."""
    if engine.dialect.driver != "asyncpg":
        return
    failed = engine.dialect.loaded_dbapi.OperationalError

    async def connect(*args: Any, **kwargs: Any) -> Any:
        import asyncpg  # type: ignore[import-untyped]  # no stubs; only its connect() is called

        try:
            return await asyncpg.connect(*args, **kwargs)
        except (OSError, TimeoutError) as exc:
            raise failed(f"could not connect: {type(exc).__name__}", exc) from exc

    @event.listens_for(engine.sync_engine, "do_connect")
    def _on_do_connect(_dialect, _record, _cargs, cparams) -> None:
        cparams["async_creator_fn"] = connect


def _make_sqlite_serialise_writers(engine: AsyncEngine) -> None:
    """Take SQLite's write lock when a transaction begins (BEGIN IMMEDIATE).

    With the default deferred BEGIN, two transactions that read and then write can fail with
    "database is locked" instead of waiting; taking the lock up front makes them queue
    (busy_timeout) and keeps check-then-write sequences atomic. This is SQLAlchemy's recipe.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy, not the driver, emit BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA journal_mode=WAL")  # already so after `migrate`: then a no-op
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn) -> None:
        # Readers (read_session_factory) need no write lock: in WAL mode they see a snapshot and
        # never wait for, or hold up, the writer.
        conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get(READ_ONLY) else "BEGIN IMMEDIATE")


def _make_sqlite_statements_one_hop(engine: AsyncEngine) -> None:
    """Connect SQLite through OneHopConnection (same arguments SQLAlchemy would give aiosqlite)."""

    @event.listens_for(engine.sync_engine, "do_connect")
    def _on_do_connect(_dialect, _record, _cargs, cparams) -> None:
        cparams["async_creator_fn"] = _one_hop_connect  # the aiosqlite adapter calls it with cargs, cparams


def _one_hop_connect(database: str, **kwargs: Any) -> OneHopConnection:
    connection = OneHopConnection(lambda: sqlite3.connect(database, **kwargs), 64)
    connection._thread.daemon = True  # as SQLAlchemy does for aiosqlite: never hold up exit
    return connection


class OneHopConnection(aiosqlite.Connection):
    """aiosqlite, with each statement run in one call instead of four, and on the event loop itself
    whenever it cannot wait.

    aiosqlite runs every sqlite3 call on its own thread. Through SQLAlchemy a statement is four
    calls (open a cursor, execute, fetch, close), each a hand-off between threads that, while
    the event loop is busy answering clicks, waits for the GIL. The cursor here runs all four in
    one call and keeps the rows (every result is read in full anyway, as SQLAlchemy's adapter does).

    Even one hand-off (queue, wake the thread, wake the loop) cost about twice what SQLAlchemy and
    SQLite together spend on a statement: measured, 235 µs of CPU a statement through the thread
    against 75 µs run in place. So a statement runs in place, on the event loop, unless it can
    wait: BEGIN (IMMEDIATE takes the write lock, which another process may hold: SQLite then
    sleeps in its busy handler, up to busy_timeout) and PRAGMA go to the thread, as do COMMIT and
    ROLLBACK (the connection's own calls, and the fsync). Inside a transaction that began, no
    statement waits for a lock: the write lock is held (BEGIN IMMEDIATE), and WAL readers take none.
    Nothing runs in place while the thread still has work for this connection (a call cancelled
    while it was queued), so the two never use the connection at once.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Calls given to the thread, and calls it has finished: each written by one thread only.
        self._given = 0
        self._finished = 0

    async def _execute(self, fn, *args, **kwargs):
        if not self._running or not self._connection:
            return await super()._execute(fn, *args, **kwargs)  # refused: "Connection closed"

        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                self._finished += 1

        self._given += 1
        return await super()._execute(counted)

    @property
    def thread_idle(self) -> bool:
        return self._given == self._finished

    def cursor(self) -> OneHopCursor:  # type: ignore[override]  # used as `async with`/__aenter__ only
        return OneHopCursor(self)


def _may_wait(sql: str) -> bool:
    """Statements that can wait for another connection's lock (see OneHopConnection)."""
    return sql.lstrip()[:6].upper().startswith(("BEGIN", "PRAGMA"))


class OneHopCursor:
    arraysize = 1

    def __init__(self, connection: OneHopConnection) -> None:
        self._connection = connection
        self._rows: deque[Any] = deque()
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None

    async def __aenter__(self) -> OneHopCursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def execute(self, sql: str, parameters: Any = None) -> OneHopCursor:
        return await self._run(sqlite3.Cursor.execute, sql, () if parameters is None else parameters)

    async def executemany(self, sql: str, parameters: Any) -> OneHopCursor:
        return await self._run(sqlite3.Cursor.executemany, sql, parameters)

    async def _run(self, method: Callable[..., Any], sql: str, parameters: Any) -> OneHopCursor:
        connection = self._connection

        def run() -> tuple[Any, int, int | None, list[Any]]:
            cursor = connection._conn.cursor()
            try:
                method(cursor, sql, parameters)
                rows = cursor.fetchall() if cursor.description else []
                return cursor.description, cursor.rowcount, cursor.lastrowid, rows
            finally:
                cursor.close()

        if connection.thread_idle and not _may_wait(sql):
            outcome = run()  # in place, on the event loop
        else:
            outcome = await connection._execute(run)
        self.description, self.rowcount, self.lastrowid, rows = outcome
        self._rows = deque(rows)
        return self

    async def fetchone(self) -> Any:
        return self._rows.popleft() if self._rows else None

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return [self._rows.popleft() for _ in range(min(size or self.arraysize, len(self._rows)))]

    async def fetchall(self) -> list[Any]:
        rows, self._rows = list(self._rows), deque()
        return rows

    async def close(self) -> None:
        self._rows.clear()


def session_factory(engine: AsyncEngine) -> async_sessionmaker:
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


READ_ONLY = "clearance_read_only"


def read_session_factory(engine: AsyncEngine) -> async_sessionmaker:
    """Sessions for reads that change nothing: on SQLite they do not take the write lock."""
    return async_sessionmaker(engine.execution_options(**{READ_ONLY: True}), expire_on_commit=False, autoflush=False)


def alembic_config(raw_url: str) -> Config:
    from alembic.config import Config

    _, sync_url = urls(raw_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["sqlalchemy_url"] = sync_url  # not via set_main_option: "%" in passwords
    return config


def migrate(raw_url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (creating a fresh SQLite file if there is none), then the
    derived look-alike index up to date with the code (storage/lookalike_index.py)."""
    from alembic import command

    command.upgrade(alembic_config(raw_url), revision)
    _, sync_url = urls(raw_url)
    if sync_url.startswith("sqlite"):
        # WAL is a property of the file: set once here, before the bot's connections open, so
        # none of them has to switch the mode (which needs the file to itself) while others connect.
        raw = sqlite3.connect(make_url(sync_url).database or ":memory:", timeout=30)
        try:
            raw.execute("PRAGMA journal_mode=WAL")
        finally:
            raw.close()
    if revision == "head":
        from storage.lookalike_index import refresh

        engine = sqlalchemy.create_engine(sync_url, poolclass=NullPool)
        try:
            with engine.begin() as connection:
                refresh(connection)
        finally:
            engine.dispose()
