"""The outbox: Slack calls owed, stored with the change that implies them, sent by bot/delivery/sender.py.

Rows in one queue (e.g. every message about one request) go out strictly in order, so a card
is always posted before it is updated. A row is claimed with a lease before sending, so two
`clearance serve` processes never send the same row, and a crashed sender's claim expires.

A claim that expired without an outcome (the sender died mid-call), like a time-out after the
request went out, leaves the row *in doubt* (`doubt_since`): Slack may already have the message,
so the sender looks for it before posting again (bot/delivery/sender.py).
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

import orjson
from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session
from sqlmodel import col

from storage.outbox_claim import claim as claim_statement
from storage.pending import BEFORE_INSERT, pending
from storage.sql import rowcount, table_of
from storage.tables import OutboxRow, SlackMessageRow
from workflows.outbox import BULK, URGENT, OutboundMessage, OutboxStatus  # noqa: F401  (also imported from here)


@dataclass(frozen=True)
class Delivery:
    id: int
    queue: str
    method: str
    body: str  # the call's JSON payload as stored: sent as it is (bot/delivery/web_api.py)
    store_as: str | None
    target: str | None
    attempts: int
    # Set when an earlier attempt's outcome is unknown: since when (the first such attempt).
    doubt_since: datetime | None = None

    @functools.cached_property
    def payload(self) -> dict:
        """The payload decoded, for the few who read it (a failure report, a look-up in doubt)."""
        payload: dict = orjson.loads(self.body)
        return payload


PENDING, SENT, FAILED, DROPPED = OutboxStatus.PENDING, OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.DROPPED


@dataclass(frozen=True)
class Settled:
    """What became of one claimed row: SENT (with where it landed), FAILED, or PENDING again at `at`."""

    delivery: Delivery
    status: OutboxStatus
    at: datetime
    error: str = ""
    channel: str = ""
    ts: str = ""
    doubt_since: datetime | None = None  # set: this attempt's outcome is unknown too (since then)


@dataclass(frozen=True)
class Claimed:
    deliveries: list[Delivery]
    where: dict[str, tuple[str, str]]  # target -> (channel, ts) of the messages they update, if posted


def _replace_pending(targeted: bool):
    """UPDATE a still-pending, unclaimed call of the same kind with a newer payload (built once: it runs
    for every card a change updates)."""
    outbox = table_of(OutboxRow)
    target = outbox.c.target == bindparam("_target") if targeted else outbox.c.target.is_(None)
    return (
        update(outbox)
        .where(
            outbox.c.queue == bindparam("_queue"),
            target,
            outbox.c.method == bindparam("_method"),
            outbox.c.status == PENDING,
            outbox.c.claimed_until.is_(None),
        )
        .values(payload=bindparam("_payload"))
    )


_REPLACE_PENDING, _REPLACE_PENDING_UNTARGETED = _replace_pending(True), _replace_pending(False)
_FOLD = "_fold"  # a pending row's mark: replace a stored call of its kind instead, if there is one
_OUTBOX = table_of(OutboxRow)
_FOLDABLE = select(_OUTBOX.c.queue, _OUTBOX.c.target, _OUTBOX.c.method).where(
    _OUTBOX.c.queue.in_(bindparam("_queues", expanding=True)),
    _OUTBOX.c.status == PENDING,
    _OUTBOX.c.claimed_until.is_(None),
)


def _fold_into_stored(session: Session, rows: list[dict]) -> list[dict]:
    """The outbox rows to insert: a coalescing call replaces the payload of a still-pending, unclaimed
    stored call of the same kind instead. One SELECT for the whole batch finds which kinds have one
    (usually none: the card was sent long ago); only those are updated, one UPDATE each, and a row
    whose UPDATE matched nothing after all (a sender claimed it meanwhile) is inserted."""
    folding = [row for row in rows if row.pop(_FOLD, False)]
    if not folding:
        return rows
    queues = sorted({row["queue"] for row in folding})
    stored = {tuple(found) for found in session.execute(_FOLDABLE, {"_queues": queues})}
    folded = []
    for row in folding:
        if (row["queue"], row["target"], row["method"]) not in stored:
            continue
        replace = _REPLACE_PENDING if row["target"] else _REPLACE_PENDING_UNTARGETED
        bound = {"_queue": row["queue"], "_target": row["target"], "_method": row["method"]}
        if rowcount(session.execute(replace, {**bound, "_payload": row["payload"]})):
            folded.append(row)
    return [row for row in rows if not any(row is f for f in folded)]


BEFORE_INSERT[_OUTBOX.name] = _fold_into_stored


class SqlOutbox:
    """The outbox as seen inside a unit of work: add messages to the current transaction."""

    def __init__(self, session: AsyncSession, now: datetime) -> None:
        self._session = session
        self._now = now

    async def add(self, message: OutboundMessage) -> None:
        rows = pending(self._session)
        if message.coalesce:
            # Replace a still-pending, unclaimed call of the same kind instead of queueing another:
            # first among the rows this transaction has not written yet, then in the table (when the
            # rows are written: one look for the whole batch, see _fold_into_stored).
            same = (message.queue, message.target, message.method)
            earlier = rows.find(_OUTBOX, lambda row: (row["queue"], row["target"], row["method"]) == same)
            if earlier is not None:
                earlier["payload"] = message.payload
                return
        # Written with the change's other rows at its end (storage/pending.py), in this order.
        rows.add(
            _OUTBOX,
            {
                _FOLD: message.coalesce,
                "queue": message.queue,
                "method": message.method,
                "payload": message.payload,
                "store_as": message.store_as,
                "target": message.target,
                "status": PENDING,
                "priority": message.priority,
                "attempts": 0,
                "next_attempt_at": self._now,
                "claimed_until": None,
                "last_error": "",
                "created_at": self._now,
                "sent_at": None,
            },
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
        """Claim the oldest due row of each queue whose earlier rows are all sent or failed."""
        return (await self.claim(now, limit=limit, lease=lease, worker=worker)).deliveries

    async def claim(self, now: datetime, *, limit: int, lease: timedelta, worker: str) -> Claimed:
        """claim_due, and where the messages the claimed rows update landed, in one transaction.

        One UPDATE … WHERE id IN (the due rows) … RETURNING for the whole batch: the conditional
        UPDATE is the claim, so only one worker's update matches a row (PostgreSQL re-checks the
        conditions on a row another transaction changed meanwhile). RETURNING reads the rows as
        claimed: a coalescing update may have replaced a payload since (READ COMMITTED), and the
        newest must go out.

        A row still carrying a claim (expired, or it would not match) was claimed by a sender that
        never recorded an outcome: it died, maybe while Slack was posting. The same UPDATE marks it
        in doubt since that claim began (SET reads the row's values from before the update).
        """
        async with self._sessions() as session, session.begin():
            claim = {"_now": now, "_limit": limit, "_until": now + lease}
            statement = claim_statement(session.get_bind().dialect.name)
            rows = sorted((await session.execute(statement, claim)).all(), key=lambda r: (r.priority, r.id))
            deliveries = [Delivery(*row[:8]) for row in rows]
            targets = sorted({d.target for d in deliveries if d.target})
            where: dict[str, tuple[str, str]] = {}
            for start in range(0, len(targets), 500):
                found = await session.execute(_WHERE_POSTED, {"_keys": targets[start : start + 500]})
                where.update((key, (channel, ts)) for key, channel, ts in found)
            return Claimed(deliveries, where)

    async def settle(self, outcomes: list[Settled]) -> None:
        """Record what happened to a batch of claimed rows, in one transaction."""
        if not outcomes:
            return
        changes = []
        for o in outcomes:
            values: dict = {
                "id": o.delivery.id,
                "attempts": o.delivery.attempts,  # the claim it settles (see _settled)
                "claimed_until": None,
                "last_error": o.error[:500],
            }
            if o.status == PENDING:
                values["next_attempt_at"] = o.at
            if o.doubt_since is not None:
                values["doubt_since"] = o.doubt_since
            else:
                values.update(status=o.status, sent_at=o.at)
            changes.append(values)
        posted = {o.delivery.store_as: o for o in outcomes if o.status == SENT and o.delivery.store_as and o.ts}
        async with self._sessions() as session, session.begin():
            # Grouped by the columns they set: one executemany per shape (Core statements: the ORM's
            # bulk machinery cost more than the database did).
            for keys in {tuple(sorted(c)) for c in changes}:
                shaped = [{f"_{k}": v for k, v in c.items()} for c in changes if tuple(sorted(c)) == keys]
                await session.execute(_settled(keys), shaped)
            if posted:  # one upsert: a message posted again (its first post failed for good) moves
                await session.execute(
                    _remember_messages(session.get_bind().dialect.name),
                    [{"key": key, "channel": o.channel, "ts": o.ts, "posted_at": o.at} for key, o in posted.items()],
                )

    async def message(self, key: str) -> tuple[str, str] | None:
        async with self._readers() as session:
            row = await session.get(SlackMessageRow, key)
            return (row.channel, row.ts) if row else None

    async def messages(self, keys: Collection[str]) -> dict[str, tuple[str, str]]:
        """Where each of the stored messages `keys` landed (those posted), in one read per 500."""
        keys = sorted(set(keys))
        found: dict[str, tuple[str, str]] = {}
        if not keys:
            return found
        async with self._readers() as session:
            for start in range(0, len(keys), 500):
                rows = await session.execute(_WHERE_POSTED, {"_keys": keys[start : start + 500]})
                found.update((key, (channel, ts)) for key, channel, ts in rows)
        return found

    async def awaiting_post(self, key: str) -> bool:
        """Whether the post stored as `key` is still to be sent (an update of it must wait)."""
        async with self._readers() as session:
            return (await session.scalar(_AWAITING_POST, {"_key": key})) is not None

    async def counts(self) -> dict[str, int]:
        async with self._readers() as session:
            rows = await session.execute(select(col(OutboxRow.status), func.count()).group_by(col(OutboxRow.status)))
            return {status: n for status, n in rows}

    async def oldest_waiting(self) -> datetime | None:
        """When the oldest message still waiting to be sent was queued (None: nothing waits)."""
        async with self._readers() as session:
            oldest: datetime | None = await session.scalar(
                select(func.min(col(OutboxRow.created_at))).where(col(OutboxRow.status) == PENDING)
            )
            return oldest

    async def in_doubt(self) -> int:
        """Pending rows an earlier attempt of which may have reached Slack (looked up before posting)."""
        async with self._readers() as session:
            return (
                await session.scalar(
                    select(func.count()).where(
                        col(OutboxRow.status) == PENDING, col(OutboxRow.doubt_since).is_not(None)
                    )
                )
                or 0
            )

    async def failures(self, limit: int = 50) -> list[tuple[int, str, str, str]]:
        async with self._readers() as session:
            rows = await session.execute(
                select(col(OutboxRow.id), col(OutboxRow.method), col(OutboxRow.queue), col(OutboxRow.last_error))
                .where(col(OutboxRow.status) == FAILED)
                .order_by(col(OutboxRow.id).desc())
                .limit(limit)
            )
            return [tuple(r) for r in rows]


# --- the sender's statements, built once (SQL compiled once, values bound at each batch) -----------

_OUTBOX, _MESSAGES = table_of(OutboxRow), table_of(SlackMessageRow)


_WHERE_POSTED = select(_MESSAGES.c.key, _MESSAGES.c.channel, _MESSAGES.c.ts).where(
    _MESSAGES.c.key.in_(bindparam("_keys", expanding=True))
)
_AWAITING_POST = (
    select(_OUTBOX.c.id).where(_OUTBOX.c.store_as == bindparam("_key"), _OUTBOX.c.status == PENDING).limit(1)
)


@functools.cache
def _remember_messages(dialect: str):
    """INSERT … ON CONFLICT (key) DO UPDATE: where each stored message now is, in one statement."""
    upsert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(_MESSAGES)
    moved = {c: upsert.excluded[c] for c in ("channel", "ts", "posted_at")}
    return upsert.on_conflict_do_update(index_elements=[_MESSAGES.c.key], set_=moved)


@functools.cache
def _settled(keys: tuple[str, ...]):
    """UPDATE of a settled row's `keys` (its id and attempts among them), one statement per shape
    of outcome. Only the latest claim settles: every claim counts an attempt, so a sender whose
    claim lapsed and was taken over by another process finds `attempts` moved on and changes
    nothing (the other decides, after looking in Slack for what this one may have posted)."""
    return (
        update(_OUTBOX)
        .where(_OUTBOX.c.id == bindparam("_id"), _OUTBOX.c.attempts == bindparam("_attempts"))
        .values({k: bindparam(f"_{k}") for k in keys if k not in ("id", "attempts")})
    )
