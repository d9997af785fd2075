"""SqlFollowUps: the `follow_ups` table (workflows.followups.kind.FollowUpRows).

The bookkeeping of every timed follow-up kind with no column of its own: one row per (kind,
subject), read by (kind, due_at) from its index and claimed with one conditional UPDATE (``…
WHERE kind = :kind AND subject = :subject AND due_at = :expected``): whoever changes the row first
wins, everyone else's UPDATE matches no row. On PostgreSQL the due rows are locked as they are
read, skipping rows another sweep holds; SQLite runs one write transaction at a time.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.sql import rowcount
from storage.tables import FollowUpRow
from workflows.followups.kind import Claim, FollowUp


class SqlFollowUps:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def due(self, kind: str, now: datetime, limit: int) -> list[FollowUp]:
        rows = await self._session.execute(
            select(FollowUpRow)
            .where(col(FollowUpRow.kind) == kind, col(FollowUpRow.due_at) <= now)
            .order_by(col(FollowUpRow.due_at), col(FollowUpRow.subject))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [FollowUp(r.kind, r.subject, r.due_at, r.count, r.state) for r in rows.scalars()]

    async def peek(self, now: datetime, limit: int) -> list[tuple[str, int]]:
        """(kind, subject) of every kind's due rows, nothing locked: is there anything to sweep?"""
        rows = await self._session.execute(
            select(col(FollowUpRow.kind), col(FollowUpRow.subject))
            .where(col(FollowUpRow.due_at) <= now)
            .order_by(col(FollowUpRow.due_at))
            .limit(limit)
        )
        return [(kind, subject) for kind, subject in rows]

    async def claim(self, claim: Claim) -> bool:
        expected = col(FollowUpRow.due_at)
        result = await self._session.execute(
            update(FollowUpRow)
            .where(
                col(FollowUpRow.kind) == claim.kind,
                col(FollowUpRow.subject) == claim.item_id,
                expected.is_(None) if claim.expected_next_at is None else expected == claim.expected_next_at,
            )
            .values(due_at=claim.new_next_at, count=claim.new_reminders_sent, state=claim.state)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def schedule(self, kind: str, subject: int, due_at: datetime | None, state: str = "") -> None:
        found = (
            await self._session.execute(
                select(FollowUpRow).where(col(FollowUpRow.kind) == kind, col(FollowUpRow.subject) == subject)
            )
        ).scalar_one_or_none()
        if found is None:
            self._session.add(FollowUpRow(kind=kind, subject=subject, due_at=due_at, count=0, state=state))
            await self._session.flush()
            return
        await self._session.execute(
            update(FollowUpRow)
            .where(col(FollowUpRow.id) == found.id)
            .values(due_at=due_at, count=0, state=state)
            .execution_options(synchronize_session=False)
        )

    async def get(self, kind: str, subject: int) -> FollowUp | None:
        r = (
            await self._session.execute(
                select(FollowUpRow).where(col(FollowUpRow.kind) == kind, col(FollowUpRow.subject) == subject)
            )
        ).scalar_one_or_none()
        return None if r is None else FollowUp(r.kind, r.subject, r.due_at, r.count, r.state)
