"""Repositories for directives, acknowledgements and directive posts (the tool registry's is
storage/tools.py).

SqlDirectives and SqlAcknowledgements implement workflows.ports_directives;
SqlDirectivePosts is the bot's record of where each directive was posted and what count its
message shows. Acknowledgements are inserted with ON CONFLICT DO NOTHING against a unique
(directive_id, user_id), so racing clicks record one row and never abort the transaction.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.mapping import DIRECTIVE, RowMap
from storage.pending import batch_cache
from storage.sql import insert_once, rowcount, save_versioned
from storage.tables import AcknowledgementRow, DirectivePostRow, DirectiveRow, OutboxRow, SlackMessageRow
from workflows.directive_model import Acknowledgement, Directive, DirectivePost, DirectiveStatus, PostOutcome
from workflows.outbox import OutboxStatus

# --- directives -------------------------------------------------------------------------------


class SqlDirectives:
    """workflows.ports_directives.DirectiveRepository."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # Within a group-commit batch (storage/group_commit.py) 50 acknowledgements read the same
        # directive: the batch reads it once. Every write here updates that copy, and a rollback
        # drops it (storage/pending.py), so a change never sees a directive its batch did not.
        self._known = batch_cache(session, "directives")

    async def add(self, directive: Directive) -> Directive:
        row = DirectiveRow(**DIRECTIVE.values(directive), version=0)
        self._session.add(row)
        await self._session.flush()
        directive.id, directive.version = row.id, 0
        self._remember(directive)
        return directive

    async def get(self, directive_id: int) -> Directive | None:
        if self._known is not None and directive_id in self._known:
            known = self._known[directive_id]
            return dataclasses.replace(known) if known else None
        row = await self._session.get(DirectiveRow, directive_id, populate_existing=True)
        directive = DIRECTIVE.build(row) if row else None
        if self._known is not None:
            self._known[directive_id] = dataclasses.replace(directive) if directive else None
        return directive

    async def save(self, directive: Directive) -> None:
        assert directive.id is not None, "save() is for stored directives; use add()"
        await save_versioned(self._session, DirectiveRow, directive, DIRECTIVE.values(directive))
        self._remember(directive)

    def _remember(self, directive: Directive) -> None:
        if self._known is not None and directive.id is not None:
            self._known[directive.id] = dataclasses.replace(directive)

    async def lock(self, directive_id: int) -> Directive | None:
        """Load the directive holding its row lock until the transaction ends.

        A no-op UPDATE takes the lock on PostgreSQL (SQLite's BEGIN IMMEDIATE already serialises
        writers); a concurrent revoke then commits strictly before or after this transaction.
        """
        await self._session.execute(
            update(DirectiveRow)
            .where(col(DirectiveRow.id) == directive_id)
            .values(version=col(DirectiveRow.version))
            .execution_options(synchronize_session=False)
        )
        if self._known is not None:
            self._known.pop(directive_id, None)  # read it as locked
        return await self.get(directive_id)

    async def active_for_tool(self, tool_key: str) -> list[Directive]:
        return await self._fetch(
            select(DirectiveRow).where(
                col(DirectiveRow.status) == DirectiveStatus.ACTIVE.value, col(DirectiveRow.tool_key) == tool_key
            )
        )

    async def list_active(self) -> list[Directive]:
        return await self._fetch(select(DirectiveRow).where(col(DirectiveRow.status) == DirectiveStatus.ACTIVE.value))

    async def every(self) -> list[Directive]:
        """Every directive, in force or not, oldest first (the public pages and reports read them)."""
        return await self._fetch(select(DirectiveRow))

    async def for_channel(self, channel: str, *, ack_required: bool = True) -> list[Directive]:
        """Active directives sent to `channel` (that ask for acknowledgement), oldest first."""
        directives = await self.list_active()
        return [d for d in directives if channel in d.channels and (d.ack_required or not ack_required)]

    async def _fetch(self, query) -> list[Directive]:
        query = query.order_by(col(DirectiveRow.issued_at), col(DirectiveRow.id)).execution_options(
            populate_existing=True
        )
        return [DIRECTIVE.build(row) for row in await self._session.scalars(query)]


# --- acknowledgements -------------------------------------------------------------------------

_ACK = RowMap(Acknowledgement, AcknowledgementRow, row_only=("id",))


class SqlAcknowledgements:
    """workflows.ports_directives.AcknowledgementRepository."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, ack: Acknowledgement) -> bool:
        return await insert_once(
            self._session, AcknowledgementRow, directive_id=ack.directive_id, user_id=ack.user_id, at=ack.at
        )

    async def get(self, directive_id: int, user_id: str) -> Acknowledgement | None:
        row = await self._session.scalar(
            select(AcknowledgementRow).where(
                col(AcknowledgementRow.directive_id) == directive_id, col(AcknowledgementRow.user_id) == user_id
            )
        )
        return _ACK.build(row) if row else None

    async def count(self, directive_id: int) -> int:
        query = select(func.count()).select_from(AcknowledgementRow)
        return await self._session.scalar(query.where(col(AcknowledgementRow.directive_id) == directive_id)) or 0

    async def users(self, directive_id: int) -> set[str]:
        rows = await self._session.scalars(
            select(col(AcknowledgementRow.user_id)).where(col(AcknowledgementRow.directive_id) == directive_id)
        )
        return set(rows)

    async def counts(self, directive_ids: list[int]) -> dict[int, int]:
        """Acknowledgements per directive, in one query."""
        if not directive_ids:
            return {}
        rows = await self._session.execute(
            select(col(AcknowledgementRow.directive_id), func.count())
            .where(col(AcknowledgementRow.directive_id).in_(directive_ids))
            .group_by(col(AcknowledgementRow.directive_id))
        )
        found = {directive_id: n for directive_id, n in rows}
        return {d: found.get(d, 0) for d in directive_ids}


# --- where each directive was posted ------------------------------------------------------------


_POST = RowMap(DirectivePost, DirectivePostRow, row_only=("created_at",))


class SqlDirectivePosts:
    """One row per (directive, channel): the outcome of posting there and the count it shows."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, directive_id: int, channel: str, now: datetime) -> None:
        await insert_once(
            self._session,
            DirectivePostRow,
            directive_id=directive_id,
            channel=channel,
            outcome=PostOutcome.PENDING,
            error="",
            created_at=now,
            updated_at=now,
            count_shown="",
        )

    async def for_directive(self, directive_id: int) -> list[DirectivePost]:
        query = select(DirectivePostRow).where(col(DirectivePostRow.directive_id) == directive_id)
        query = query.order_by(col(DirectivePostRow.id)).execution_options(populate_existing=True)
        return [_POST.build(row) for row in await self._session.scalars(query)]

    async def pending(self, limit: int = 200) -> list[DirectivePost]:
        query = (
            select(DirectivePostRow)
            .where(col(DirectivePostRow.outcome) == PostOutcome.PENDING)
            .order_by(col(DirectivePostRow.id))
        )
        rows = await self._session.scalars(query.limit(limit).execution_options(populate_existing=True))
        return [_POST.build(row) for row in rows]

    async def posted_for_active(self) -> list[DirectivePost]:
        """Posted messages of directives in force that ask for acknowledgement (those show a count)."""
        query = (
            select(DirectivePostRow)
            .join(DirectiveRow, col(DirectiveRow.id) == col(DirectivePostRow.directive_id))
            .where(
                col(DirectivePostRow.outcome) == PostOutcome.POSTED,
                col(DirectiveRow.status) == DirectiveStatus.ACTIVE.value,
                col(DirectiveRow.ack_required).is_(True),
            )
            .order_by(col(DirectivePostRow.id))
        )
        rows = await self._session.scalars(query.execution_options(populate_existing=True))
        return [_POST.build(row) for row in rows]

    async def set_outcome(
        self,
        directive_id: int,
        channel: str,
        outcome: PostOutcome,
        now: datetime,
        *,
        error: str = "",
        ts: str | None = None,
    ) -> bool:
        """Record a post's outcome; False if it was already recorded (another process did it)."""
        result = await self._session.execute(
            update(DirectivePostRow)
            .where(
                col(DirectivePostRow.directive_id) == directive_id,
                col(DirectivePostRow.channel) == channel,
                col(DirectivePostRow.outcome) != outcome,
            )
            .values(outcome=outcome, error=error[:500], ts=ts, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def claim_count(self, post_id: int, shown_at: datetime | None, count: str, now: datetime) -> bool:
        """Record that `count` is about to be shown; False if another process changed it since `shown_at`."""
        if shown_at is None:
            same: ColumnElement[bool] = col(DirectivePostRow.count_shown_at).is_(None)
        else:
            same = col(DirectivePostRow.count_shown_at) == shown_at
        result = await self._session.execute(
            update(DirectivePostRow)
            .where(col(DirectivePostRow.id) == post_id, same)
            .values(count_shown=count[:64], count_shown_at=now)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def outbox_outcomes(self, keys: list[str]) -> dict[str, tuple[OutboxStatus, str, str | None]]:
        """For posts whose outcome was never recorded: the outbox's (status, last error, ts) per key."""
        if not keys:
            return {}
        rows = await self._session.execute(
            select(col(OutboxRow.store_as), col(OutboxRow.status), col(OutboxRow.last_error))
            .where(col(OutboxRow.store_as).in_(keys), col(OutboxRow.method) == "chat.postMessage")
            .order_by(col(OutboxRow.id))
        )
        # The latest attempt wins; store_as matched one of `keys`, so it is never NULL here.
        found: dict[str, tuple[OutboxStatus, str, str | None]] = {
            key: (OutboxStatus(status), error, None) for key, status, error in rows if key is not None
        }
        for key, ts in await self._session.execute(
            select(col(SlackMessageRow.key), col(SlackMessageRow.ts)).where(col(SlackMessageRow.key).in_(keys))
        ):
            if key in found:
                found[key] = (found[key][0], found[key][1], ts)
        return found
