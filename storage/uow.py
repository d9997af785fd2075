"""SqlUnitOfWork: one database transaction holding the repositories (workflows.ports.UnitOfWork).

The application never commits one of its own: every change runs in a unit `SqlUnitOfWork.over` a
group-commit batch's session (storage/group_commit.py, reached through bot/wiring/changes.py
`Changes.handle`), whose owner commits the batch; reads use one over the read sessions, never
committed. Entered with `async with` and committed by hand only by tests' set-up and the
benchmarks' bulk loaders; leaving the block without commit() rolls everything back.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Collection
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.anchors import SqlAuditAnchors
from storage.assumed import BatchedAcknowledgements
from storage.attestations import SqlAttestations
from storage.audit import SqlAudit
from storage.directives import SqlDirectivePosts, SqlDirectives
from storage.home import SqlHomeTabs
from storage.licences import SqlLicences
from storage.outbox import SqlOutbox
from storage.pending import PendingRows, flush_pending, may_assume_new_rows, pending
from storage.reminders import SqlReminderStore
from storage.requests import SqlRequests
from storage.sql import insert_once, is_unavailable, table_of
from storage.tables import HandledEventRow
from storage.tools import SqlTools
from storage.usage import SqlUsage
from workflows.errors import StoreUnavailable
from workflows.policy import ReminderSettings

_HANDLED, _HANDLED_KEY = table_of(HandledEventRow), ("event_id",)


class SqlUnitOfWork:
    def __init__(
        self, sessions: async_sessionmaker | None, clock: Callable[[], datetime], team_id: str | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._team_id = team_id  # the installed Slack workspace: recorded with every audit entry
        self._session: AsyncSession | None = None
        self._borrowed = False

    @property
    def session(self) -> AsyncSession:
        """The transaction's session; there is one only inside `async with`."""
        assert self._session is not None, "the unit of work is not entered"
        return self._session

    @classmethod
    def over(cls, session: AsyncSession, clock: Callable[[], datetime], team_id: str | None = None) -> SqlUnitOfWork:
        """A unit of work inside a transaction someone else owns (storage.group_commit): it
        neither begins nor commits; the owner commits the whole batch."""
        uow = cls(None, clock, team_id)
        uow._borrowed = True
        uow._open(session)
        return uow

    async def __aenter__(self) -> SqlUnitOfWork:
        assert self._sessions is not None, "a borrowed unit of work is not entered"
        session = self._sessions()
        await session.begin()
        self._open(session)
        return self

    def _open(self, session: AsyncSession) -> None:
        self._session = session
        self.requests = SqlRequests(session)
        self.audit = SqlAudit(session, self._team_id)
        self.audit_anchors = SqlAuditAnchors(session)  # the chain's head, witnessed (workflows/audit_anchors.py)
        self.outbox = SqlOutbox(session, self._clock())
        # Directives and the tool registry (workflows.ports_directives.DirectiveUnitOfWork).
        self.tools = SqlTools(session)
        self.directives = SqlDirectives(session)
        self.acks = BatchedAcknowledgements(session)  # one INSERT per group-commit batch
        self.directive_posts = SqlDirectivePosts(session)
        self.attestations = SqlAttestations(session)  # cease-use answers (workflows/attesting.py)
        # Who has opened their Home tab, and what the reminder sweep reads and claims.
        self.home_tabs = SqlHomeTabs(session)
        self.licences = SqlLicences(session)  # who may use each approved tool, until when (migration 0012)
        self.usage = SqlUsage(session)  # who is linked to a tool (/tool-usage): reads only

    def reminders(
        self,
        settings: ReminderSettings | None = None,
        *,
        skip_stages: Collection[str] = (),
        skip_directives: Collection[int] = (),
    ) -> SqlReminderStore:
        """The reminder bookkeeping of this transaction (see storage/reminders.py)."""
        return SqlReminderStore(self.session, settings, skip_stages=skip_stages, skip_directives=skip_directives)

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        except Exception:
            if exc is None:
                raise
        finally:
            with contextlib.suppress(Exception):
                await self.session.close()
        if exc is not None and is_unavailable(exc):
            raise StoreUnavailable(type(exc).__name__) from exc

    async def commit(self) -> None:
        if self._borrowed:
            raise RuntimeError("this unit of work is part of a group commit; its owner commits")
        await flush_pending(self.session)
        await self.session.commit()

    async def rollback(self) -> None:
        await self.session.rollback()

    async def first_delivery(self, event_id: str) -> bool:
        """Record an Events API delivery; False if it was handled before (a Slack retry).

        In a group-commit batch the key is assumed new and written with the batch's others at its
        end (storage/pending.py, lazy: nothing but these two methods reads handled_events)."""
        values = {"event_id": event_id, "handled_at": self._clock()}
        rows = pending(self.session)
        if may_assume_new_rows(self.session) and rows.add_assumed(_HANDLED, values, _HANDLED_KEY, lazy=True):
            return True
        await self._keys_written(rows)
        return await insert_once(self.session, HandledEventRow, **values)

    async def handled_before(self, event_id: str) -> bool:
        """Whether a delivery key is recorded (first_delivery), without recording it."""
        await self._keys_written(pending(self.session))
        return await self.session.get(HandledEventRow, event_id) is not None

    async def _keys_written(self, rows: PendingRows) -> None:
        """The keys this batch assumed new, written (and checked) before a look-up of their table."""
        if rows.has_assumed():
            await self.session.run_sync(functools.partial(rows.write_assumed, lazy=True))


def uow_factory(
    sessions: async_sessionmaker, clock: Callable[[], datetime], team_id: str | None = None
) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(sessions, clock, team_id)
