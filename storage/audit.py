"""SqlAudit: the append-only audit trail (workflows.ports.AuditLog)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.pending import flush_pending, pending
from storage.sql import table_of
from storage.tables import AuditRow
from workflows.audit import AuditEntry


class SqlAudit:
    def __init__(self, session: AsyncSession, team_id: str | None = None) -> None:
        self._session = session
        self._team_id = team_id  # the installed workspace, stamped on every entry

    async def record(self, entry: AuditEntry) -> None:
        # Written with the change's other rows at its end (storage/pending.py).
        pending(self._session).add(
            table_of(AuditRow),
            {
                "subject": entry.subject,
                "action": entry.action[:64],
                "actor": entry.actor,
                "at": entry.at,
                "from_state": entry.from_state[:128],
                "to_state": entry.to_state[:128],
                "reason": entry.reason,
                "team_id": self._team_id,
            },
        )

    async def for_subject(self, subject: str) -> list[AuditEntry]:
        await flush_pending(self._session)  # what this transaction recorded counts too
        return await self._for_subject(subject)

    async def _for_subject(self, subject: str) -> list[AuditEntry]:
        rows = await self._session.scalars(
            select(AuditRow).where(col(AuditRow.subject) == subject).order_by(col(AuditRow.id))
        )
        return [_entry(r) for r in rows]


def _entry(row: AuditRow) -> AuditEntry:
    return AuditEntry(row.subject, row.action, row.actor, row.at, row.from_state, row.to_state, row.reason, row.id)
