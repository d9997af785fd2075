"""SqlFollowUps: the `follow_ups` table (workflows.followups.kind.FollowUpRows).

The bookkeeping of every timed follow-up kind with no column of its own: one row per (kind,
subject), read by (kind, due_at) from its index and claimed with one conditional UPDATE (``…
WHERE kind = :kind AND subject = :subject AND due_at = :expected``): whoever changes the row first
wins, everyone else's UPDATE matches no row. On PostgreSQL the due rows are locked as they are
read, skipping rows another sweep holds; SQLite runs one write transaction at a time.
"""

from __future__ import annotations

import json
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.sql import rowcount, table_of
from storage.tables import FollowUpRow
from storage.types import UTCDateTime
from workflows.followups.kind import Claim, FollowUp

CLAIM_BATCH = 1000  # claims per UPDATE
_SET_AND_MATCH = (
    "UPDATE follow_ups SET due_at = v.next_at, count = v.count, state = v.state FROM v "
    "WHERE follow_ups.kind = v.kind AND follow_ups.subject = v.subject AND follow_ups.due_at {same} v.expected "
    "RETURNING follow_ups.kind, follow_ups.subject"
)
_PG_CLAIMS = text(
    "WITH v AS (SELECT * FROM unnest(CAST(:kinds AS TEXT[]), CAST(:subjects AS INTEGER[]), "
    "CAST(:expected AS TIMESTAMPTZ[]), CAST(:next_at AS TIMESTAMPTZ[]), CAST(:counts AS INTEGER[]), "
    "CAST(:states AS TEXT[])) AS v (kind, subject, expected, next_at, count, state)) "
    + _SET_AND_MATCH.format(same="IS NOT DISTINCT FROM")
)
_SQLITE_CLAIMS = text(
    "WITH v AS (SELECT json_extract(value, '$[0]') AS kind, json_extract(value, '$[1]') AS subject, "
    "json_extract(value, '$[2]') AS expected, json_extract(value, '$[3]') AS next_at, "
    "json_extract(value, '$[4]') AS count, json_extract(value, '$[5]') AS state FROM json_each(:data)) "
    + _SET_AND_MATCH.format(same="IS")
)


class SqlFollowUps:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def due(self, kind: str, now: datetime, limit: int) -> list[FollowUp]:
        # Columns, not ORM objects: a sweep reads a thousand rows it never saves through the session.
        t = table_of(FollowUpRow)
        rows = await self._session.execute(
            select(t.c.kind, t.c.subject, t.c.due_at, t.c.count, t.c.state)
            .where(t.c.kind == kind, t.c.due_at <= now)
            .order_by(t.c.due_at, t.c.subject)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [FollowUp(k, subject, due_at, count, state) for k, subject, due_at, count, state in rows]

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

    async def claim_many(self, claims: list[Claim]) -> list[bool]:
        """The conditions of `claim` for many rows (distinct kind and subject) in one UPDATE per
        CLAIM_BATCH; one bool per claim, in order. The claims travel as a handful of arrays
        (PostgreSQL) or one JSON array (SQLite), so the statement's text stays the same."""
        won: set[tuple[str, int]] = set()
        for start in range(0, len(claims), CLAIM_BATCH):
            won |= await self._claim_batch(claims[start : start + CLAIM_BATCH])
        return [(c.kind, c.item_id) in won for c in claims]

    async def _claim_batch(self, claims: list[Claim]) -> set[tuple[str, int]]:
        if not claims:
            return set()
        dialect = self._session.get_bind().dialect
        if dialect.name == "postgresql":
            statement = _PG_CLAIMS.bindparams(
                kinds=[c.kind for c in claims],
                subjects=[c.item_id for c in claims],
                expected=[c.expected_next_at for c in claims],
                next_at=[c.new_next_at for c in claims],
                counts=[c.new_reminders_sent for c in claims],
                states=[c.state for c in claims],
            )
        else:
            stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)  # text, as SQLite stores it
            assert stored is not None  # a TypeDecorator that converts values always has one
            rows = [
                [c.kind, c.item_id, stored(c.expected_next_at), stored(c.new_next_at), c.new_reminders_sent, c.state]
                for c in claims
            ]
            statement = _SQLITE_CLAIMS.bindparams(data=json.dumps(rows))
        return {(kind, subject) for kind, subject in await self._session.execute(statement)}

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
