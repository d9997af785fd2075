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

import json
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from storage.follow_ups import SqlFollowUps
from storage.licences import SqlLicences
from storage.mapping import REQUEST
from storage.sql import row_id, rowcount, table_of
from storage.tables import DirectiveRow, RequestRow, SlackMessageRow
from storage.types import UTCDateTime
from workflows.directive_model import DirectiveStatus
from workflows.followups.directive import NAME as DIRECTIVE
from workflows.followups.directive import DueDirective, directive_first_due
from workflows.followups.kind import Claim
from workflows.followups.review import NAME as REVIEW
from workflows.policy import ReminderSettings
from workflows.requests import RequestStatus, ToolRequest

_OPEN = (RequestStatus.PENDING.value, RequestStatus.INFO_REQUESTED.value)


@dataclass(frozen=True)
class DueItem:
    """What a sweep is about to look at, without loading it: enough to prepare Slack look-ups."""

    kind: str  # a follow-up kind's name
    item_id: int
    stage_key: str | None = None  # requests
    channels: tuple[str, ...] = ()  # directives


class SqlReminderStore:
    """Reminder bookkeeping on one session (transaction); see the module docstring.

    `skip_stages` leaves requests at those stages out of `due_requests` (still due next time):
    the caller uses it when it cannot tell who a stage's reviewers are right now;
    `skip_directives` does the same for directives whose audience Slack could not list.
    `loaded` keeps every request `due_requests` returned, by id, for building the messages.
    """

    def __init__(
        self,
        session: AsyncSession,
        settings: ReminderSettings | None = None,
        *,
        skip_stages: Collection[str] = (),
        skip_directives: Collection[int] = (),
    ) -> None:
        self._session = session
        self._settings = settings or ReminderSettings()
        self._skip = frozenset(skip_stages)
        self._skip_directives = frozenset(skip_directives)
        self.loaded: dict[int, ToolRequest] = {}
        self.follow_ups = SqlFollowUps(session)  # every kind with no column of its own
        self.expiring = SqlLicences(session).expiring  # the licence-expiry kind's due licences, in one read

    # --- requests ------------------------------------------------------------------------------

    async def due_requests(self, now: datetime, limit: int) -> list[ToolRequest]:
        """Open requests with next_reminder_at <= now, earliest first.

        The requests carry their own columns only (no decisions or questions): that is all a
        reminder needs, and it keeps a sweep of a thousand due requests to one query.
        """
        table = table_of(RequestRow)
        query = (
            select(table)
            .where(*_due(now))
            .order_by(table.c.next_reminder_at, table.c.id)
            .limit(limit)
            # PostgreSQL: lock what this sweep will claim, and leave rows another sweep (or a
            # reviewer's click) holds to them; SQLite runs one write transaction at a time anyway.
            .with_for_update(skip_locked=True)
        )
        if self._skip:
            query = query.where(table.c.stage_key.not_in(self._skip))
        requests = [REQUEST.build(row) for row in await self._session.execute(query)]
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
        conditions = [col(RequestRow.id) == request_id, _equals(col(RequestRow.next_reminder_at), expected_next_at)]
        if (read := self.loaded.get(request_id)) is not None:
            # Not saved since the sweep read it either: a request that moved to another stage with,
            # by chance, the same next_reminder_at must not be claimed on its old stage's behalf.
            conditions.append(col(RequestRow.version) == read.version)
        result = await self._session.execute(
            update(RequestRow)
            .where(*conditions)
            .values(next_reminder_at=new_next_at, reminders_sent=reminders_sent, escalated_at=escalated_at)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def claim_all(self, claims: list[Claim]) -> list[bool]:
        """workflows.reminders.BatchClaims: requests read by this store, and follow_ups rows, in one
        UPDATE per CLAIM_BATCH; anything else one by one."""
        results: dict[int, bool] = {}
        batch = [(i, c) for i, c in enumerate(claims) if c.kind == REVIEW and c.item_id in self.loaded]
        for start in range(0, len(batch), CLAIM_BATCH):
            part = batch[start : start + CLAIM_BATCH]
            won = await self._claim_requests([c for _, c in part])
            results.update((i, c.item_id in won) for i, c in part)
        rows = [(i, c) for i, c in enumerate(claims) if i not in results and c.kind not in (REVIEW, DIRECTIVE)]
        results.update(zip((i for i, _ in rows), await self.follow_ups.claim_many([c for _, c in rows]), strict=True))
        for i, claim in enumerate(claims):
            if i in results:
                continue
            if claim.kind == REVIEW:
                results[i] = await self.claim_request(
                    claim.item_id,
                    claim.expected_next_at,
                    claim.new_next_at,
                    claim.new_reminders_sent,
                    claim.new_escalated_at,
                )
            elif claim.kind == DIRECTIVE:
                results[i] = await self.claim_directive(
                    claim.item_id, claim.expected_next_at, claim.new_next_at, claim.new_reminders_sent
                )
        return [results[i] for i in range(len(claims))]

    async def _claim_requests(self, claims: list[Claim]) -> set[int]:
        """The conditions of claim_request for many requests (distinct ids) in one UPDATE; the ids won.

        The claims travel as a handful of arrays (PostgreSQL) or one JSON array (SQLite), so the
        statement's text stays the same whatever their number.
        """
        dialect = self._session.get_bind().dialect
        columns = list(
            zip(
                *(
                    (
                        c.item_id,
                        c.expected_next_at,
                        c.new_next_at,
                        c.new_reminders_sent,
                        c.new_escalated_at,
                        self.loaded[c.item_id].version,
                    )
                    for c in claims
                ),
                strict=True,
            )
        )
        if dialect.name == "postgresql":
            names = ("ids", "expected", "next_at", "sent", "escalated", "versions")
            statement = _PG_CLAIMS.bindparams(
                **{name: list(values) for name, values in zip(names, columns, strict=True)}
            )
        else:
            stored = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)  # text, as SQLite stores it
            assert stored is not None  # a TypeDecorator that converts values always has one
            rows = [
                [i, stored(expected), stored(next_at), sent, stored(escalated), version]
                for i, expected, next_at, sent, escalated, version in zip(*columns, strict=True)
            ]
            statement = _SQLITE_CLAIMS.bindparams(data=json.dumps(rows))
        return set((await self._session.execute(statement)).scalars())

    async def peek(self, now: datetime, limit: int) -> list[DueItem]:
        """What is due at `now` (ids only, nothing claimed): for preparing look-ups before a sweep."""
        rows = await self._session.execute(
            select(col(RequestRow.id), col(RequestRow.stage_key))
            .where(*_due(now))
            .order_by(col(RequestRow.next_reminder_at), col(RequestRow.id))
            .limit(limit)
        )
        items = [DueItem(REVIEW, row_id(row), row.stage_key) for row in rows]
        for due, channels in await self._due_directive_rows(now, limit):
            items.append(DueItem(DIRECTIVE, due.directive_id, channels=channels))
        items += [DueItem(kind, subject) for kind, subject in await self.follow_ups.peek(now, limit)]
        return items

    async def stored_messages(self, keys: Collection[str]) -> dict[str, tuple[str, str]]:
        """Where the messages stored under `keys` (e.g. review cards) were posted: key -> (channel, ts)."""
        found: dict[str, tuple[str, str]] = {}
        keys = list(dict.fromkeys(keys))
        for start in range(0, len(keys), 500):
            rows = await self._session.execute(
                select(col(SlackMessageRow.key), col(SlackMessageRow.channel), col(SlackMessageRow.ts)).where(
                    col(SlackMessageRow.key).in_(keys[start : start + 500])
                )
            )
            found.update((key, (channel, ts)) for key, channel, ts in rows)
        return found

    async def escalated(self, limit: int = 50) -> list[ToolRequest]:
        """Open requests whose current stage was escalated, longest waiting first (the Home tab).
        Their own columns only, as for due_requests."""
        table = table_of(RequestRow)
        rows = await self._session.execute(
            select(table)
            .where(table.c.status.in_(_OPEN), table.c.escalated_at.is_not(None))
            .order_by(table.c.stage_entered_at, table.c.id)
            .limit(limit)
        )
        return [REQUEST.build(row) for row in rows]

    # --- directives ----------------------------------------------------------------------------

    async def due_directives(self, now: datetime, limit: int) -> list[DueDirective]:
        """Active directives requiring acknowledgement whose next_reminder_at <= now."""
        rows = await self._due_directive_rows(now, limit, lock=True)
        return [due for due, _ in rows if due.directive_id not in self._skip_directives]

    async def claim_directive(
        self,
        directive_id: int,
        expected_next_at: datetime | None,
        new_next_at: datetime | None,
        reminders_sent: int,
    ) -> bool:
        result = await self._session.execute(
            update(DirectiveRow)
            .where(col(DirectiveRow.id) == directive_id, _equals(col(DirectiveRow.next_reminder_at), expected_next_at))
            .values(next_reminder_at=new_next_at, reminders_sent=reminders_sent)
            .execution_options(synchronize_session=False)
        )
        return rowcount(result) == 1

    async def _due_directive_rows(
        self, now: datetime, limit: int, *, lock: bool = False
    ) -> list[tuple[DueDirective, tuple[str, ...]]]:
        query = (
            select(
                col(DirectiveRow.id),
                col(DirectiveRow.issued_at),
                col(DirectiveRow.ack_due),
                col(DirectiveRow.next_reminder_at),
                col(DirectiveRow.reminders_sent),
                col(DirectiveRow.channels),
            )
            .where(
                col(DirectiveRow.next_reminder_at) <= now,
                col(DirectiveRow.status) == DirectiveStatus.ACTIVE.value,
                col(DirectiveRow.ack_required).is_(True),
            )
            .order_by(col(DirectiveRow.next_reminder_at), col(DirectiveRow.id))
            .limit(limit)
        )
        if lock:  # as for requests: this sweep's to claim; rows another transaction holds are skipped
            query = query.with_for_update(of=table_of(DirectiveRow), skip_locked=True)
        found = []
        for directive_id, issued_at, ack_due, next_at, sent, channels in await self._session.execute(query):
            assert directive_id is not None  # a primary key
            first_due = directive_first_due(issued_at, ack_due, self._settings)
            found.append((DueDirective(directive_id, first_due, next_at, sent), tuple(channels or ())))
        return found


CLAIM_BATCH = 1000  # claims per UPDATE
_SET_AND_MATCH = (
    "UPDATE tool_requests SET next_reminder_at = v.next_at, reminders_sent = v.sent, escalated_at = v.escalated "
    "FROM v WHERE tool_requests.id = v.id AND tool_requests.next_reminder_at {same} v.expected "
    "AND tool_requests.version = v.version RETURNING tool_requests.id"
)
_PG_CLAIMS = text(
    "WITH v AS (SELECT * FROM unnest(CAST(:ids AS INTEGER[]), CAST(:expected AS TIMESTAMPTZ[]), "
    "CAST(:next_at AS TIMESTAMPTZ[]), CAST(:sent AS INTEGER[]), CAST(:escalated AS TIMESTAMPTZ[]), "
    "CAST(:versions AS INTEGER[])) AS v (id, expected, next_at, sent, escalated, version)) "
    + _SET_AND_MATCH.format(same="IS NOT DISTINCT FROM")
)
_SQLITE_CLAIMS = text(
    "WITH v AS (SELECT json_extract(value, '$[0]') AS id, json_extract(value, '$[1]') AS expected, "
    "json_extract(value, '$[2]') AS next_at, json_extract(value, '$[3]') AS sent, "
    "json_extract(value, '$[4]') AS escalated, json_extract(value, '$[5]') AS version FROM json_each(:data)) "
    + _SET_AND_MATCH.format(same="IS")
)


def _due(now: datetime):
    """next_reminder_at <= now, and nothing else for the planner to prefer another index for: the
    review services keep it NULL on every request that is not pending (the domain re-checks)."""
    return (col(RequestRow.next_reminder_at) <= now,)


def _equals(column, value: datetime | None):
    return column.is_(None) if value is None else column == value
