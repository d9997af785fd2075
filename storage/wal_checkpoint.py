"""SQLite's WAL written back to the database file by a thread of its own, not by a commit.

SQLite's automatic checkpoint runs inside the COMMIT that takes the WAL past 1,000 pages: that
commit also copies every page in the WAL to the database file (random writes, then an fsync). The
licence-expiry sweep over a million licences writes about 1,060 pages, so every sweep paid a
checkpoint of its own: +20 ms, the whole difference between 100,000 and 1,000,000 licences
(scripts/bench_expiry.py, issue 18); a click's commit that happened to cross the line paid it too.

So the writer's connection has `wal_autocheckpoint=0`, and after each of its commits, once the
WAL has reached the same 1,000 pages, this thread runs a PASSIVE checkpoint on its own connection:
it copies what no reader still needs, waits for no reader or writer, and the writer goes on
committing meanwhile. Durability is unchanged: a commit is durable once its WAL frames are written
and synced (`synchronous` as it is); a checkpoint only moves committed pages, and a WAL left over by
a crash is replayed when the file is next opened.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

log = logging.getLogger(__name__)
PAGES = 1000  # SQLite's own default threshold: as many checkpoints as before, just elsewhere
SIZE_LIMIT = 1 << 20  # bytes a WAL is cut back to when it starts again: below the threshold


class WalCheckpoints:
    def __init__(self, database: str, pages: int = PAGES) -> None:
        self._database = database
        self._wal = database + "-wal"
        self._threshold = pages * 4096  # bytes; re-read from the file's page size on the first run
        self._wanted = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._pages = pages
        self.runs = 0  # checkpoints run (tests, the bench)

    def attach(self, engine: AsyncEngine) -> None:
        """The writer engine's connections stop checkpointing; their commits ask this thread."""

        @event.listens_for(engine.sync_engine, "connect")
        def _no_autocheckpoint(dbapi_connection, _record) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA wal_autocheckpoint=0")
            # A WAL keeps its size after a checkpoint; cut back to 1 MiB when it starts again, the
            # file's size says whether there is anything to write back (else every commit asks).
            cursor.execute(f"PRAGMA journal_size_limit={SIZE_LIMIT}")
            cursor.close()

        @event.listens_for(engine.sync_engine, "checkin")  # back in the pool: its transaction is over
        def _after_transaction(_dbapi_connection, _record) -> None:
            self.committed()

    def committed(self) -> None:
        try:
            big = os.path.getsize(self._wal) >= self._threshold
        except OSError:
            return
        if big and not self._stopping:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="clearance-wal-checkpoint", daemon=True)
                self._thread.start()
            self._wanted.set()

    def _run(self) -> None:
        connection = sqlite3.connect(self._database, timeout=30, check_same_thread=False)
        try:
            page_size = connection.execute("PRAGMA page_size").fetchone()[0]
            self._threshold = self._pages * page_size
            while True:
                self._wanted.wait()
                self._wanted.clear()
                if self._stopping:
                    return
                try:
                    connection.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.runs += 1
                except sqlite3.Error:  # busy or gone: the next commit past the line asks again
                    log.warning("WAL checkpoint failed", exc_info=True)
        finally:
            connection.close()

    def stop(self) -> None:
        self._stopping = True
        self._wanted.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
