"""The outbox: Slack calls owed, stored with the change that implies them, sent by bot/sender.py.

Rows in one queue (e.g. every message about one request) go out strictly in order, so a card
is always posted before it is updated. A row is claimed with a lease before sending, so two
`clearance serve` processes never send the same row, and a crashed sender's claim expires.

A claim that expired without an outcome (the sender died mid-call), like a time-out after the
request went out, leaves the row *in doubt* (`doubt_since`): Slack may already have the message,
so the sender looks for it before posting again (bot/sender.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from storage.tables import OutboxRow, SlackMessageRow


@dataclass(frozen=True)
class OutboundMessage:
    """One Web API call: `method` with `payload`.

    `store_as` names the posted message so a later call can `target` it (chat.update,
    chat.getPermalink…): the sender fills in its channel and ts. `coalesce` lets a newer
    pending call replace an older one that has not gone out yet: the same `method` on the same
    `target` in the same queue, or, without a target, the same `method` in the same queue (e.g.
    views.publish in a queue per user: many changes, one publish of the latest Home tab).
    `priority` BULK marks calls that may wait (reminder DMs, Home tab refreshes) so that a burst
    of thousands never holds back a review card or a directive: URGENT rows are always sent first.
    """

    queue: str
    method: str
    payload: dict = field(default_factory=dict)
    store_as: str | None = None
    target: str | None = None
    coalesce: bool = False
    priority: int = 0


URGENT, BULK = 0, 1


@dataclass(frozen=True)
class Delivery:
    id: int
    queue: str
    method: str
    payload: dict
    store_as: str | None
    target: str | None
    attempts: int
    # Set when an earlier attempt's outcome is unknown: since when (the first such attempt).
    doubt_since: datetime | None = None


PENDING, SENT, FAILED = "pending", "sent", "failed"


@dataclass(frozen=True)
class Settled:
    """What became of one claimed row: SENT (with where it landed), FAILED, or PENDING again at `at`."""

    delivery: Delivery
    status: str
    at: datetime
    error: str = ""
    channel: str = ""
    ts: str = ""
    doubt_since: datetime | None = None  # set: this attempt's outcome is unknown too (since then)


class SqlOutbox:
    """The outbox as seen inside a unit of work: add messages to the current transaction."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    async def add(self, message: OutboundMessage) -> None:
        if message.coalesce:
            # Replace a still-pending, unclaimed call of the same kind instead of queueing another.
            same_target = OutboxRow.target == message.target if message.target else OutboxRow.target.is_(None)
            result = await self._session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.queue == message.queue,
                    same_target,
                    OutboxRow.method == message.method,
                    OutboxRow.status == PENDING,
                    OutboxRow.claimed_until.is_(None),
                )
                .values(payload=message.payload)
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:
                return
        self._session.add(
            OutboxRow(
                queue=message.queue,
                method=message.method,
                payload=message.payload,
                store_as=message.store_as,
                target=message.target,
                priority=message.priority,
                next_attempt_at=self._now,
                created_at=self._now,
            )
        )

    async def add_all(self, messages: list[OutboundMessage]) -> None:
        for message in messages:
            await self.add(message)


class OutboxStore:
    """The sender's side: claim due rows, record outcomes, resolve stored messages."""

    def __init__(self, sessions: async_sessionmaker, readers: async_sessionmaker | None = None) -> None:
        self._sessions = sessions
        self._readers = readers or sessions

    async def claim_due(self, now: datetime, *, limit: int, lease: timedelta, worker: str) -> list[Delivery]:
        """Claim the oldest due row of each queue whose earlier rows are all sent or failed.

        One SELECT and one UPDATE … RETURNING for the whole batch. The conditional UPDATE is the
        claim: only one worker's update matches a row. RETURNING reads the rows as claimed, not as
        selected: a coalescing update may have replaced a payload in between (PostgreSQL, READ
        COMMITTED), and the newest must go out.

        A row still carrying a claim (expired, or it would not match) was claimed by a sender that
        never recorded an outcome: it died, maybe while Slack was posting. The same UPDATE marks it
        in doubt since that claim began (SET reads the row's values from before the update).
        """
        earlier = aliased(OutboxRow)
        blocked = (
            select(earlier.id)
            .where(earlier.queue == OutboxRow.queue, earlier.status == PENDING, earlier.id < OutboxRow.id)
            .exists()
        )
        claimable = (OutboxRow.claimed_until.is_(None)) | (OutboxRow.claimed_until < now)
        async with self._sessions() as session, session.begin():
            candidates = (
                await session.scalars(
                    select(OutboxRow.id)
                    .where(OutboxRow.status == PENDING, OutboxRow.next_attempt_at <= now, claimable, ~blocked)
                    .order_by(OutboxRow.priority, OutboxRow.id)
                    .limit(limit)
                )
            ).all()
            if not candidates:
                return []
            result = await session.execute(
                update(OutboxRow)
                .where(OutboxRow.id.in_(candidates), OutboxRow.status == PENDING, claimable)
                .values(
                    claimed_until=now + lease,
                    claimed_at=now,
                    attempts=OutboxRow.attempts + 1,
                    doubt_since=case(
                        (
                            OutboxRow.claimed_until.is_not(None),
                            func.coalesce(OutboxRow.doubt_since, OutboxRow.claimed_at, OutboxRow.created_at),
                        ),
                        else_=OutboxRow.doubt_since,
                    ),
                )
                .returning(
                    OutboxRow.id,
                    OutboxRow.queue,
                    OutboxRow.method,
                    OutboxRow.payload,
                    OutboxRow.store_as,
                    OutboxRow.target,
                    OutboxRow.attempts,
                    OutboxRow.doubt_since,
                    OutboxRow.priority,
                )
                .execution_options(synchronize_session=False)
            )
            rows = sorted(result.all(), key=lambda r: (r.priority, r.id))
            return [Delivery(*row[:8]) for row in rows]

    async def settle(self, outcomes: list[Settled]) -> None:
        """Record what happened to a batch of claimed rows, in one transaction."""
        if not outcomes:
            return
        changes = []
        for o in outcomes:
            values: dict = {"id": o.delivery.id, "claimed_until": None, "last_error": o.error[:500]}
            if o.status == PENDING:
                values["next_attempt_at"] = o.at
            if o.doubt_since is not None:
                values["doubt_since"] = o.doubt_since
            else:
                values.update(status=o.status, sent_at=o.at)
            changes.append(values)
        posted = {o.delivery.store_as: o for o in outcomes if o.status == SENT and o.delivery.store_as and o.ts}
        async with self._sessions() as session, session.begin():
            # Grouped by the columns they set: one executemany per shape.
            for keys in {tuple(sorted(c)) for c in changes}:
                await session.execute(update(OutboxRow), [c for c in changes if tuple(sorted(c)) == keys])
            if posted:
                await session.execute(delete(SlackMessageRow).where(SlackMessageRow.key.in_(list(posted))))
                session.add_all(
                    SlackMessageRow(key=key, channel=o.channel, ts=o.ts, posted_at=o.at) for key, o in posted.items()
                )

    async def message(self, key: str) -> tuple[str, str] | None:
        async with self._readers() as session:
            row = await session.get(SlackMessageRow, key)
            return (row.channel, row.ts) if row else None

    async def counts(self) -> dict[str, int]:
        async with self._readers() as session:
            rows = await session.execute(select(OutboxRow.status, func.count()).group_by(OutboxRow.status))
            return {status: n for status, n in rows}

    async def in_doubt(self) -> int:
        """Pending rows an earlier attempt of which may have reached Slack (looked up before posting)."""
        async with self._readers() as session:
            return (
                await session.scalar(
                    select(func.count()).where(OutboxRow.status == PENDING, OutboxRow.doubt_since.is_not(None))
                )
                or 0
            )

    async def failures(self, limit: int = 50) -> list[tuple[int, str, str, str]]:
        async with self._readers() as session:
            rows = await session.execute(
                select(OutboxRow.id, OutboxRow.method, OutboxRow.queue, OutboxRow.last_error)
                .where(OutboxRow.status == FAILED)
                .order_by(OutboxRow.id.desc())
                .limit(limit)
            )
            return [tuple(r) for r in rows]
