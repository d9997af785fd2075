"""What the write path has just seen: a write the database refused counts at once for /healthz.

The health probe (storage/probe.py) only reads on SQLite and checks permissions, so a full disk
that refuses every write looked healthy. Here the engine that writes reports each failure that
means "the database cannot be reached or written" (storage.sql.is_unavailable), and each commit
of a transaction that wrote something reports success: /healthz says 503 from the first refused
write until a write succeeds.
"""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import Session

from storage.sql import is_unavailable

# Session.info key: this transaction wrote something, and how many refusals had been seen when it
# last did. Its commit clears a refusal only if it wrote after it: a transaction that wrote before
# the refusal and commits just after (the outbox sender's claim, say) says nothing of the disk now.
_WROTE = "clearance_wrote"


class WriteHealth:
    def __init__(self) -> None:
        self.failure: str | None = None  # the kind of the last refused write, until one succeeds
        self._refusals = 0  # refused writes seen so far: a write is stamped with it (_WROTE)

    def problem(self) -> str | None:
        return None if self.failure is None else f"writes failing: {self.failure}"

    def watch(self, engine: AsyncEngine, sessions: async_sessionmaker) -> WriteHealth:
        """Follow the writes of `engine` through the sessions of `sessions`."""

        @event.listens_for(engine.sync_engine, "handle_error")
        def _failed(context) -> None:
            if context.is_disconnect or context.connection is None:
                # The server is gone (a lost connection, or none to be had: `connection` is None when
                # connecting failed), not refusing writes: the probe's fresh connection says when it
                # is back (a write failure kept here would hold /healthz at 503 until the next click).
                return
            error = context.sqlalchemy_exception or context.original_exception
            if is_unavailable(error) or is_unavailable(context.original_exception):
                self.failure = type(context.original_exception).__name__
                self._refusals += 1

        # A session class of this database's own, so that only its sessions are followed.
        sync_session = type("WatchedSession", (sessions.kw.get("sync_session_class", Session),), {})
        sessions.configure(sync_session_class=sync_session)

        @event.listens_for(sync_session, "do_orm_execute")
        def _executed(state) -> None:
            if state.is_insert or state.is_update or state.is_delete:
                state.session.info[_WROTE] = self._refusals

        @event.listens_for(sync_session, "after_flush")
        def _flushed(session, _context) -> None:
            session.info[_WROTE] = self._refusals

        @event.listens_for(sync_session, "after_commit")
        def _committed(session) -> None:
            if session.info.pop(_WROTE, None) == self._refusals:
                self.failure = None

        @event.listens_for(sync_session, "after_rollback")
        def _rolled_back(session) -> None:
            session.info.pop(_WROTE, None)

        return self
