"""Rows written at the end of a change (or of a whole batch) with one multi-row INSERT per table.

Audit entries and outbox messages are never read back by the change that writes them, so they
need not go to the database one statement at a time: under a crowd each statement costs a
round trip to the driver, and a batch of 50 acknowledgements becomes one INSERT of 50 audit rows.
Rows live in the session (shared by every unit of work of a group-commit batch) until `flush`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import Table, event, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

_KEY = "clearance_pending_rows"


class PendingRows:
    def __init__(self) -> None:
        self._rows: dict[Table, list[dict[str, Any]]] = defaultdict(list)

    def add(self, table: Table, values: dict[str, Any]) -> None:
        self._rows[table].append(values)

    def find(self, table: Table, matches: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
        """The newest row not yet written that `matches` (to coalesce a message into it)."""
        return next((row for row in reversed(self._rows.get(table, [])) if matches(row)), None)

    async def flush(self, session: AsyncSession) -> None:
        for table, values in self.take().items():
            if values:
                await session.execute(insert(table), values)

    def take(self) -> dict[Table, list[dict[str, Any]]]:
        rows, self._rows = self._rows, defaultdict(list)
        return rows


def pending(session: AsyncSession | Session) -> PendingRows:
    found = session.info.get(_KEY)
    if found is None:
        found = session.info[_KEY] = PendingRows()
    return found


_BATCH = "clearance_batch_cache"


def start_batch_cache(session: AsyncSession) -> None:
    """Mark a session as a group-commit batch: its repositories may share what they read."""
    session.info[_BATCH] = {}


def batch_cache(session: AsyncSession, name: str) -> dict[Any, Any] | None:
    """The batch's shared copies for one repository, or None outside a batch (read every time)."""
    caches = session.info.get(_BATCH)
    return None if caches is None else caches.setdefault(name, {})


@event.listens_for(Session, "after_rollback")
@event.listens_for(Session, "after_soft_rollback")
def _rolled_back(session: Session, *_: object) -> None:
    pending(session).take()  # rows of a change that was undone are never written
    if _BATCH in session.info:
        session.info[_BATCH] = {}  # nor is anything it read or wrote remembered


@event.listens_for(Session, "before_commit")
def _never_lost(session: Session) -> None:
    """Whoever commits a session (a unit of work, a group commit, a test) writes what is pending:
    a row handed to the outbox or the audit log can never be dropped by a commit that forgot it."""
    for table, values in pending(session).take().items():
        if values:
            session.execute(insert(table), values)


async def flush_pending(session: AsyncSession) -> None:
    await pending(session).flush(session)
