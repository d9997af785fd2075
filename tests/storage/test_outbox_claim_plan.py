"""The sender's claim stays quick when the table's statistics are stale.

A burst (a review queue's approvals) puts hundreds of rows in an outbox whose statistics were
taken when every row was sent. PostgreSQL then expects one pending row, and planned the claim as
a nested loop that ran its due-rows subquery (itself a loop over the pending rows) once per
pending row: 1-2 s of CPU per batch of 50, next-stage cards 4-12 s late in scripts/bench_load.py.
"""

from __future__ import annotations

import time
from datetime import timedelta

from sqlalchemy import text

from storage.outbox import SENT, OutboundMessage, OutboxStore, Settled
from storage.uow import uow_factory

LEASE = timedelta(seconds=60)


async def queue_posts(sessions, clock, prefix: str, n: int) -> None:
    async with uow_factory(sessions, clock)() as uow:
        for i in range(n):
            await uow.outbox.add(OutboundMessage(f"{prefix}:{i}", "chat.postMessage", {"channel": "C1", "text": "hi"}))
        await uow.commit()


async def test_a_burst_after_statistics_of_an_all_sent_outbox_is_claimed_quickly(sessions, clock):
    store = OutboxStore(sessions)
    await queue_posts(sessions, clock, "earlier", 600)  # a first burst, all sent
    claimed = await store.claim_due(clock(), limit=600, lease=LEASE, worker="a")
    await store.settle([Settled(d, SENT, clock(), channel="C1", ts=f"1.{d.id:06d}") for d in claimed])
    async with sessions() as session, session.begin():
        await session.execute(text("ANALYZE outbox"))  # autovacuum's analyze, at that moment
    await queue_posts(sessions, clock, "burst", 600)  # the next burst, before the next analyze

    started = time.monotonic()
    batch = await store.claim_due(clock(), limit=50, lease=LEASE, worker="a")
    seconds = time.monotonic() - started

    assert [d.queue for d in batch] == [f"burst:{i}" for i in range(50)]  # the oldest, in order
    assert seconds < 0.5, f"a claim of 50 took {seconds:.2f} s"  # a few ms; the bad plan, seconds
