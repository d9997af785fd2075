"""SqlAuditAnchors: the chain's head, and the anchors of it (workflows.audit_anchors.AuditAnchors)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.chain import read_head
from storage.pending import flush_pending
from storage.tables import AuditAnchorRow
from workflows.audit_anchors import Anchored, ChainHead

ANCHOR = "anchor"  # audit_anchors.kind of a witnessed head ("start": where an archived chain resumes)


class SqlAuditAnchors:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def head(self) -> ChainHead:
        # This transaction's entries are sealed and written first; then the newest row is the head.
        # No lock needed: numbers are given out under the chain's lock, held to each commit, so
        # what is committed is always a chain's whole prefix.
        await flush_pending(self._session)
        seq, digest = await self._session.run_sync(lambda session: read_head(session, lock=False))
        return ChainHead(seq, digest)

    async def latest(self, posted_to: str) -> Anchored | None:
        row = await self._session.scalar(
            select(AuditAnchorRow)
            .where(col(AuditAnchorRow.kind) == ANCHOR, col(AuditAnchorRow.posted_to) == posted_to)
            .order_by(col(AuditAnchorRow.seq).desc())
            .limit(1)
        )
        return None if row is None else Anchored(row.seq, row.hash, row.at, row.posted_to)

    async def record(self, anchor: Anchored) -> None:
        self._session.add(
            AuditAnchorRow(kind=ANCHOR, seq=anchor.seq, hash=anchor.hash, at=anchor.at, posted_to=anchor.posted_to)
        )
        await self._session.flush()
