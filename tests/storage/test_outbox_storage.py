"""The outbox remembers which rows may already be in Slack: a claim that expired with no outcome
(the sender died mid-call) or a recorded unknown outcome (a time-out after the request went out)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from bot.cli import main
from storage.outbox import FAILED, PENDING, SENT, OutboundMessage, OutboxStore, Settled
from storage.uow import uow_factory

LEASE = timedelta(seconds=60)


async def queue_post(sessions, clock) -> None:
    async with uow_factory(sessions, clock)() as uow:
        await uow.outbox.add(OutboundMessage("q", "chat.postMessage", {"channel": "C1", "text": "hi"}, store_as="k"))
        await uow.commit()


async def test_a_claim_that_expired_without_an_outcome_leaves_the_row_in_doubt_since_that_claim(sessions, clock):
    store = OutboxStore(sessions)
    await queue_post(sessions, clock)
    first_claim = clock()
    [first] = await store.claim_due(clock(), limit=5, lease=LEASE, worker="a")
    assert first.doubt_since is None and await store.in_doubt() == 0  # nothing unknown yet
    # Worker a dies: nothing is settled. Nobody else may take the row while its claim holds...
    assert await store.claim_due(clock.advance(LEASE / 2), limit=5, lease=LEASE, worker="b") == []
    # ...and once it expired, the row comes back in doubt since a's claim began.
    [again] = await store.claim_due(clock.advance(LEASE), limit=5, lease=LEASE, worker="b")
    assert again.id == first.id and again.attempts == 2 and again.doubt_since == first_claim
    assert await store.in_doubt() == 1
    # A third claim after another crash keeps the earliest doubtful moment: the look-up starts there.
    [third] = await store.claim_due(clock.advance(LEASE * 2), limit=5, lease=LEASE, worker="c")
    assert third.doubt_since == first_claim


async def test_an_unknown_outcome_is_recorded_and_a_settled_row_is_not_in_doubt(sessions, clock):
    store = OutboxStore(sessions)
    await queue_post(sessions, clock)
    [claimed] = await store.claim_due(clock(), limit=5, lease=LEASE, worker="a")
    attempt = clock()
    retry_at = clock.advance(timedelta(seconds=10))
    await store.settle([Settled(claimed, PENDING, retry_at, "no answer", doubt_since=attempt)])
    [retried] = await store.claim_due(clock(), limit=5, lease=LEASE, worker="a")
    assert retried.doubt_since == attempt  # settled normally: no crash, but the time-out is remembered
    await store.settle([Settled(retried, SENT, clock(), channel="C1", ts="1.000100")])
    assert await store.in_doubt() == 0
    assert await store.message("k") == ("C1", "1.000100")
    # The sender looks up every message a batch updates at once; unposted keys are simply absent.
    assert await store.messages(["k", "never-posted", "k"]) == {"k": ("C1", "1.000100")}
    assert await store.messages([]) == {}


async def test_a_sender_whose_claim_was_taken_over_cannot_undo_the_outcome_of_the_one_that_took_it(sessions, clock):
    store = OutboxStore(sessions)
    await queue_post(sessions, clock)
    [slow] = await store.claim_due(clock(), limit=5, lease=LEASE, worker="a")  # a's call outlives its claim
    [taken] = await store.claim_due(clock.advance(LEASE * 2), limit=5, lease=LEASE, worker="b")
    await store.settle([Settled(taken, SENT, clock(), channel="C1", ts="1.000100")])
    await store.settle([Settled(slow, FAILED, clock(), "an error of a's own")])  # a, late
    assert await store.counts() == {"sent": 1} and await store.failures() == []
    assert await store.message("k") == ("C1", "1.000100")


async def test_clearance_outbox_says_how_many_rows_wait_for_a_look_up(
    sessions, clock, database_url, monkeypatch, tmp_path, capsys
):
    store = OutboxStore(sessions)
    await queue_post(sessions, clock)
    await store.claim_due(clock(), limit=5, lease=LEASE, worker="a")  # a dies here
    await store.claim_due(clock.advance(LEASE * 2), limit=5, lease=LEASE, worker="b")  # b finds it in doubt
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    assert await asyncio.to_thread(main, ["outbox"]) == 0
    assert "1 pending whose last attempt got no answer: Slack is checked for them" in capsys.readouterr().out


async def test_the_oldest_waiting_message_is_when_the_first_unsent_one_was_queued(sessions, clock):
    store = OutboxStore(sessions)
    assert await store.oldest_waiting() is None
    first = clock()
    await queue_post(sessions, clock)
    clock.advance(timedelta(minutes=3))
    await queue_post(sessions, clock)
    assert await store.oldest_waiting() == first
