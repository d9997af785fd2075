"""SqlUnitOfWork: one database transaction holding the repositories (workflows.ports.UnitOfWork).

    async with uow_factory() as uow:
        events = await record_decision(uow, …)
        await uow.outbox.add_all(messages_for(events))
        await uow.commit()

Leaving the block without commit() rolls everything back.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.audit import SqlAudit
from storage.directives import SqlAcknowledgements, SqlDirectivePosts, SqlDirectives, SqlTools
from storage.outbox import SqlOutbox
from storage.requests import SqlRequests
from storage.sql import insert_once
from storage.tables import HandledEventRow


class SqlUnitOfWork:
    def __init__(self, sessions: async_sessionmaker, clock: Callable[[], datetime], team_id: str | None = None) -> None:
        self._sessions = sessions
        self._clock = clock
        self._team_id = team_id  # the installed Slack workspace: recorded with every audit entry
        self.session: AsyncSession | None = None

    async def __aenter__(self) -> SqlUnitOfWork:
        self.session = self._sessions()
        await self.session.begin()
        self.requests = SqlRequests(self.session)
        self.audit = SqlAudit(self.session, self._team_id)
        self.outbox = SqlOutbox(self.session, self._clock())
        self._extend(self.session)
        return self

    def _extend(self, session: AsyncSession) -> None:
        """Hook for repositories added by later features (directives, registry)."""
        # Directives and the tool registry (workflows.ports_directives.DirectiveUnitOfWork).
        self.tools = SqlTools(session)
        self.directives = SqlDirectives(session)
        self.acks = SqlAcknowledgements(session)
        self.directive_posts = SqlDirectivePosts(session)

    async def __aexit__(self, *exc_info) -> None:
        assert self.session is not None
        try:
            if self.session.in_transaction():
                await self.session.rollback()
        finally:
            await self.session.close()

    async def commit(self) -> None:
        assert self.session is not None
        await self.session.commit()

    async def rollback(self) -> None:
        assert self.session is not None
        await self.session.rollback()

    async def first_delivery(self, event_id: str) -> bool:
        """Record an Events API delivery; False if it was handled before (a Slack retry)."""
        assert self.session is not None
        return await insert_once(self.session, HandledEventRow, event_id=event_id, handled_at=self._clock())


def uow_factory(
    sessions: async_sessionmaker, clock: Callable[[], datetime], team_id: str | None = None
) -> Callable[[], SqlUnitOfWork]:
    return lambda: SqlUnitOfWork(sessions, clock, team_id)
