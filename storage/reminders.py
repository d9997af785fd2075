"""SqlReminderStore: the reminder sweep's view of the database (workflows.reminders.ReminderStore).

The sweep's cost follows what is due, not the history: every query here starts from the index on
``next_reminder_at``, which is NULL for everything closed, waiting for a requester's answer, or
otherwise not to be chased. A claim is one conditional UPDATE (``… WHERE id = :id AND
next_reminder_at = :expected``): whoever changes the row first wins, and everyone else's UPDATE
matches no row. On PostgreSQL the loser's UPDATE waits for the winner's transaction and then
re-reads the row; on SQLite writers are serialised (BEGIN IMMEDIATE), so the loser's SELECT
already sees the new value. Claims do not bump the request's version, so a reviewer who loaded
the request before the claim can still save their decision; a request saved since the sweep read
it is not claimed (its plan may be stale), and is looked at afresh by the next sweep.

Use one store per transaction (it works on the session it is given): claim, write the reminder
messages to the outbox in the same session, and commit, so a crash loses neither.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.requests import _SCALARS
from storage.tables import DirectiveRow, RequestRow
from workflows.directives import DirectiveStatus
from workflows.policy import ReminderSettings
from workflows.reminders import DueDirective, directive_first_due
from workflows.requests import PriorUse, RequestStatus, ToolRequest

_OPEN = (RequestStatus.PENDING.value, RequestStatus.INFO_REQUESTED.value)


@dataclass(frozen=True)
class DueItem:
    """What a sweep is about to look at, without loading it: enough to prepare Slack look-ups."""

    kind: str  # "request" or "directive"
    item_id: int
    stage_key: str | None = None  # requests
    channels: tuple[str, ...] = ()  # directives


class SqlReminderStore:
    """Reminder bookkeeping on one session (transaction); see the module docstring.

    `skip_stages` leaves requests at those stages out of `due_requests` (still due next time):
    the caller uses it when it cannot tell who a stage's reviewers are right now.
    `loaded` keeps every request `due_requests` returned, by id, for building the messages.
    """

    def __init__(
        self,
        session: AsyncSession,
        settings: ReminderSettings | None = None,
        *,
        skip_stages: Collection[str] = (),
    ) -> None:
        self._session = session
        self._settings = settings or ReminderSettings()
        self._skip = frozenset(skip_stages)
        self.loaded: dict[int, ToolRequest] = {}

    # --- requests ------------------------------------------------------------------------------

    async def due_requests(self, now: datetime, limit: int) -> list[ToolRequest]:
        """Open requests with next_reminder_at <= now, earliest first.

        The requests carry their own columns only (no decisions or questions): that is all a
        reminder needs, and it keeps a sweep of a thousand due requests to one query.
        """
        query = (
            select(RequestRow)
            .where(*_due(now))
            .order_by(RequestRow.next_reminder_at, RequestRow.id)
            .limit(limit)
        )
        if self._skip:
            query = query.where(RequestRow.stage_key.not_in(self._skip))
        rows = (await self._session.scalars(query.execution_options(populate_existing=True))).all()
        requests = [_request(row) for row in rows]
        self.loaded.update((r.id, r) for r in requests)  # type: ignore[misc]
        return requests

    async def claim_request(
        self,
        request_id: int,
        expected_next_at: datetime | None,
        new_next_at: datetime | None,
        reminders_sent: int,
        escalated_at: datetime | None,
    ) -> bool:
        conditions = [RequestRow.id == request_id, _equals(RequestRow.next_reminder_at, expected_next_at)]
        if (read := self.loaded.get(request_id)) is not None:
            # Not saved since the sweep read it either: a request that moved to another stage with,
            # by chance, the same next_reminder_at must not be claimed on its old stage's behalf.
            conditions.append(RequestRow.version == read.version)
        result = await self._session.execute(
            update(RequestRow)
            .where(*conditions)
            .values(next_reminder_at=new_next_at, reminders_sent=reminders_sent, escalated_at=escalated_at)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def peek(self, now: datetime, limit: int) -> list[DueItem]:
        """What is due at `now` (ids only, nothing claimed): for preparing look-ups before a sweep."""
        rows = await self._session.execute(
            select(RequestRow.id, RequestRow.stage_key)
            .where(*_due(now))
            .order_by(RequestRow.next_reminder_at, RequestRow.id)
            .limit(limit)
        )
        items = [DueItem("request", request_id, stage_key) for request_id, stage_key in rows]
        for due, channels in await self._due_directive_rows(now, limit):
            items.append(DueItem("directive", due.directive_id, channels=channels))
        return items

    async def escalated(self, limit: int = 50) -> list[ToolRequest]:
        """Open requests whose current stage was escalated, longest waiting first (the Home tab)."""
        rows = (
            await self._session.scalars(
                select(RequestRow)
                .where(RequestRow.status.in_(_OPEN), RequestRow.escalated_at.is_not(None))
                .order_by(RequestRow.stage_entered_at, RequestRow.id)
                .limit(limit)
            )
        ).all()
        return [_request(row) for row in rows]

    # --- directives ----------------------------------------------------------------------------

    async def due_directives(self, now: datetime, limit: int) -> list[DueDirective]:
        """Active directives requiring acknowledgement whose next_reminder_at <= now."""
        return [due for due, _ in await self._due_directive_rows(now, limit)]

    async def claim_directive(
        self,
        directive_id: int,
        expected_next_at: datetime | None,
        new_next_at: datetime | None,
        reminders_sent: int,
    ) -> bool:
        result = await self._session.execute(
            update(DirectiveRow)
            .where(DirectiveRow.id == directive_id, _equals(DirectiveRow.next_reminder_at, expected_next_at))
            .values(next_reminder_at=new_next_at, reminders_sent=reminders_sent)
            .execution_options(synchronize_session=False)
        )
        return result.rowcount == 1

    async def _due_directive_rows(self, now: datetime, limit: int) -> list[tuple[DueDirective, tuple[str, ...]]]:
        rows = await self._session.execute(
            select(
                DirectiveRow.id,
                DirectiveRow.issued_at,
                DirectiveRow.ack_due,
                DirectiveRow.next_reminder_at,
                DirectiveRow.reminders_sent,
                DirectiveRow.channels,
            )
            .where(
                DirectiveRow.next_reminder_at <= now,
                DirectiveRow.status == DirectiveStatus.ACTIVE.value,
                DirectiveRow.ack_required.is_(True),
            )
            .order_by(DirectiveRow.next_reminder_at, DirectiveRow.id)
            .limit(limit)
        )
        found = []
        for directive_id, issued_at, ack_due, next_at, sent, channels in rows:
            first_due = directive_first_due(issued_at, ack_due, self._settings)
            found.append((DueDirective(directive_id, first_due, next_at, sent), tuple(channels or ())))
        return found


def _due(now: datetime):
    """next_reminder_at <= now, and nothing else for the planner to prefer another index for: the
    review services keep it NULL on every request that is not pending (the domain re-checks)."""
    return (RequestRow.next_reminder_at <= now,)


def _equals(column, value: datetime | None):
    return column.is_(None) if value is None else column == value


def _request(row: RequestRow) -> ToolRequest:
    return ToolRequest(
        **{name: getattr(row, name) for name in _SCALARS},
        data_kinds=tuple(row.data_kinds),
        prior_use=PriorUse(row.prior_use),
        status=RequestStatus(row.status),
        id=row.id,
        version=row.version,
    )
