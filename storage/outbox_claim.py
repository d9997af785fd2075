"""The outbox sender's claim statement (storage/outbox.py, OutboxStore.claim), one form per database:
which rows are due and not held back by an earlier pending row of their queue, and the UPDATE that
leases them."""

from __future__ import annotations

import functools
from datetime import datetime

from sqlalchemy import BindParameter, Text, any_, bindparam, case, func, select, type_coerce, update
from sqlalchemy.dialects import postgresql

from storage.sql import table_of
from storage.tables import OutboxRow
from workflows.outbox import OutboxStatus

_OUTBOX = table_of(OutboxRow)
PENDING = OutboxStatus.PENDING


@functools.cache
def claim(dialect: str):
    """The claim (see OutboxStore.claim). PostgreSQL re-checks the UPDATE's own conditions on a row
    another transaction changed meanwhile, so they are repeated there; SQLite's one writer runs the
    subquery in the claim's own write transaction, and without them it finds the rows by id. The
    due rows are found in one form per database: PostgreSQL's must not depend on its statistics
    (_due_heads)."""
    outbox = _OUTBOX
    now: BindParameter[datetime] = bindparam("_now", type_=outbox.c.next_attempt_at.type)
    claimable = outbox.c.claimed_until.is_(None) | (outbox.c.claimed_until < now)
    postgres = dialect == "postgresql"
    recheck = (outbox.c.status == PENDING, claimable) if postgres else ()
    chosen = outbox.c.id == any_(func.array(_due_heads(now))) if postgres else outbox.c.id.in_(_due_not_blocked(now))
    return (
        update(outbox)
        .where(chosen, *recheck)
        .values(
            claimed_until=bindparam("_until", type_=outbox.c.claimed_until.type),
            claimed_at=now,
            attempts=outbox.c.attempts + 1,
            doubt_since=case(
                (
                    outbox.c.claimed_until.is_not(None),
                    func.coalesce(outbox.c.doubt_since, outbox.c.claimed_at, outbox.c.created_at),
                ),
                else_=outbox.c.doubt_since,
            ),
        )
        .returning(
            outbox.c.id,
            outbox.c.queue,
            outbox.c.method,
            type_coerce(outbox.c.payload, Text).label("payload"),  # the JSON text, not decoded
            outbox.c.store_as,
            outbox.c.target,
            outbox.c.attempts,
            outbox.c.doubt_since,
            outbox.c.priority,
        )
    )


def _due_not_blocked(now: BindParameter[datetime]):
    """SQLite: the due rows no earlier pending row of their queue holds back, oldest first."""
    row, earlier = _OUTBOX.alias("due"), _OUTBOX.alias("earlier")  # aliases: not correlated to the UPDATE
    blocked = (
        select(earlier.c.id)
        .where(earlier.c.queue == row.c.queue, earlier.c.status == PENDING, earlier.c.id < row.c.id)
        .exists()
    )
    return (
        select(row.c.id)
        .where(
            row.c.status == PENDING,
            row.c.next_attempt_at <= now,
            row.c.claimed_until.is_(None) | (row.c.claimed_until < now),
            ~blocked,
        )
        .order_by(row.c.priority, row.c.id)
        .limit(bindparam("_limit"))
        .scalar_subquery()
    )


def _due_heads(now: BindParameter[datetime]):
    """PostgreSQL: the same rows, as the due ones among each queue's oldest pending row, in a form
    whose cost no plan can multiply. With statistics taken while nothing was pending (autovacuum's,
    between two bursts) the planner expected one pending row, and the NOT EXISTS form became loops
    over every pending row for every pending row, run again for each (1-3 s a claim of 50 in
    scripts/bench_load.py, next-stage cards 4-12 s late). Here the heads are one pass over the
    pending rows (DISTINCT ON), and ARRAY(…) is computed once, before the UPDATE finds its ids."""
    row = _OUTBOX.alias("due")
    heads = (
        select(row.c.id, row.c.priority, row.c.next_attempt_at, row.c.claimed_until)
        .where(row.c.status == PENDING)
        .ext(postgresql.distinct_on(row.c.queue))
        .order_by(row.c.queue, row.c.id)
        .subquery("heads")
    )
    return (
        select(heads.c.id)
        .where(heads.c.next_attempt_at <= now, heads.c.claimed_until.is_(None) | (heads.c.claimed_until < now))
        .order_by(heads.c.priority, heads.c.id)
        .limit(bindparam("_limit"))
        .scalar_subquery()
    )
