"""Group commit (storage/group_commit.py) on SQLite and PostgreSQL, through the request services.

Many changes share one transaction and one commit, each in its own savepoint: a refusal undoes
only itself, and a failed commit loses the whole batch with every caller told (none answered ok).
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

from storage.db import session_factory
from storage.group_commit import GroupCommit
from storage.uow import SqlUnitOfWork
from workflows.errors import ConcurrencyConflict, InvalidInput, NotAReviewer, StoreBusy
from workflows.requests import Outcome, RequestStatus
from workflows.review import record_decision
from workflows.submission import submit_request

from .test_requests_storage import DRAFT, POLICY


def submit(clock, requester: str, draft=DRAFT):
    return lambda uow: submit_request(uow, POLICY, draft, requester, clock())


async def stored_requests(engine, clock) -> list:
    async with SqlUnitOfWork(session_factory(engine), clock) as uow:
        return await uow.requests.for_requester("U0OFFICER") + await uow.requests.for_requester("U0OTHER")


async def test_concurrent_changes_share_one_commit(group, engine, clock):
    results = await asyncio.gather(*(group.run(submit(clock, "U0OFFICER")) for _ in range(20)))
    assert len({events[0].request.id for events in results}) == 20
    assert group.batches < 20  # they were grouped
    assert len(await stored_requests(engine, clock)) == 20


async def test_a_refusal_in_a_batch_does_not_affect_its_neighbours(group, engine, clock):
    bad = DRAFT.__class__(**{**DRAFT.__dict__, "purpose": "short"})  # refused: purpose too short
    outcomes = await asyncio.gather(
        group.run(submit(clock, "U0OFFICER")),
        group.run(submit(clock, "U0OTHER", bad)),
        group.run(submit(clock, "U0OFFICER")),
        return_exceptions=True,
    )
    assert group.batches == 1
    assert isinstance(outcomes[1], InvalidInput)
    assert not isinstance(outcomes[0], Exception) and not isinstance(outcomes[2], Exception)
    stored = await stored_requests(engine, clock)
    assert sorted(r.requester_id for r in stored) == ["U0OFFICER", "U0OFFICER"]


async def test_a_refused_decision_leaves_no_trace_and_the_next_one_in_the_batch_counts(group, engine, clock):
    [submitted] = await group.run(submit(clock, "U0OFFICER"))
    request_id = submitted.request.id

    def decide(actor: str, reviewers: frozenset[str]):
        return lambda uow: record_decision(
            uow, POLICY, request_id, "it_security", actor, Outcome.APPROVED, "", reviewers, clock()
        )

    outcomes = await asyncio.gather(
        group.run(decide("U0INTRUDER", frozenset())),  # not a reviewer: refused inside the batch
        group.run(decide("U0SEC1", frozenset({"U0SEC1"}))),
        return_exceptions=True,
    )
    assert isinstance(outcomes[0], NotAReviewer)
    async with SqlUnitOfWork(session_factory(engine), clock) as uow:
        request = await uow.requests.get(request_id)
        audit = await uow.audit.for_subject(request.ref)
    assert request.status is RequestStatus.PENDING and request.stage_key == "privacy"
    assert [d.by for d in request.decisions] == ["U0SEC1"]
    assert [a.actor for a in audit] == ["U0OFFICER", "U0SEC1"]


async def test_a_failed_commit_loses_the_whole_batch_and_tells_every_caller(group, engine, clock):
    class DiskGone(Exception):
        pass

    def fail_commit(_conn):
        raise DiskGone()

    event.listen(engine.sync_engine, "commit", fail_commit)
    try:
        outcomes = await asyncio.gather(
            *(group.run(submit(clock, "U0OFFICER")) for _ in range(5)), return_exceptions=True
        )
    finally:
        event.remove(engine.sync_engine, "commit", fail_commit)
    assert all(isinstance(o, Exception) for o in outcomes), outcomes  # no caller was answered "done"
    assert await stored_requests(engine, clock) == []
    # The writer carries on once the database commits again.
    [after] = await group.run(submit(clock, "U0OFFICER"))
    assert [r.id for r in await stored_requests(engine, clock)] == [after.request.id]


async def test_a_change_refused_in_a_batch_leaves_none_of_its_rows_behind(group, engine, clock):
    """A refused change's audit and outbox rows (written at the end) must not ride on a neighbour's."""
    from workflows.audit import AuditEntry
    from workflows.errors import InvalidInput as Refused

    async def writes_then_refuses(uow):
        await uow.audit.record(AuditEntry("REQ-9999", "half-done", "U0X", clock()))
        raise Refused({"x": "no"})

    outcomes = await asyncio.gather(
        group.run(submit(clock, "U0OFFICER")),
        group.run(writes_then_refuses),
        group.run(submit(clock, "U0OFFICER")),
        return_exceptions=True,
    )
    assert isinstance(outcomes[1], Refused)
    async with SqlUnitOfWork(session_factory(engine), clock) as uow:
        assert await uow.audit.for_subject("REQ-9999") == []
    assert len(await stored_requests(engine, clock)) == 2


# --- what one change does to the writer and its neighbours -----------------------------------


def insert_event(tag: str, clock):
    async def work(uow):
        await uow.session.execute(
            text("INSERT INTO handled_events (event_id, handled_at) VALUES (:e, :t)"), {"e": tag, "t": clock()}
        )
        return tag

    return work


async def stored_events(engine) -> list[str]:
    async with engine.connect() as conn:
        return sorted((await conn.execute(text("SELECT event_id FROM handled_events"))).scalars())


async def between_two_good_changes(group, clock, failing) -> BaseException:
    """Run `failing` in one batch between two changes that succeed; check they did; its error."""
    outcomes = await asyncio.gather(
        group.run(insert_event("a", clock)), group.run(failing), group.run(insert_event("b", clock)),
        return_exceptions=True,
    )  # fmt: skip
    assert outcomes[0] == "a" and outcomes[2] == "b"
    assert isinstance(outcomes[1], BaseException)
    return outcomes[1]


async def test_an_sql_error_of_one_change_does_not_sink_its_batch(group, engine, clock):
    """On SQLite a statement's own error ('no such table') is an OperationalError, the class a lost
    database raises too: only the change that made it may fail, not the batch."""

    async def broken(uow):
        await uow.session.execute(text("SELECT * FROM no_such_table"))

    assert isinstance(await between_two_good_changes(group, clock, broken), Exception)
    assert await stored_events(engine) == ["a", "b"]


async def test_a_change_that_raises_cancelled_error_fails_alone_and_the_writer_carries_on(group, engine, clock):
    """A change that awaited something cancelled elsewhere raises CancelledError: that change fails
    (an ordinary error for its caller), its neighbours commit, later changes and stop() still work."""

    async def interrupted(uow):
        raise asyncio.CancelledError()

    assert isinstance(await between_two_good_changes(group, clock, interrupted), RuntimeError)
    assert await asyncio.wait_for(group.run(insert_event("c", clock)), 5) == "c"
    with pytest.raises(RuntimeError):  # alone in its batch, too
        await asyncio.wait_for(group.run(interrupted), 5)
    assert await asyncio.wait_for(group.run(insert_event("d", clock)), 5) == "d"
    await asyncio.wait_for(group.stop(), 5)
    assert await stored_events(engine) == ["a", "b", "c", "d"]


async def test_what_follows_a_commit_runs_even_if_the_caller_has_gone(group, engine, clock):
    """A client that hangs up cancels its request's task; its change is committed all the same, and
    what must follow a commit (waking the sender) must follow it too."""
    release, followed = asyncio.Event(), []

    async def slow(uow):
        await release.wait()
        return await insert_event("kept", clock)(uow)

    caller = asyncio.create_task(group.run(slow, after=followed.append))
    await asyncio.sleep(0.05)
    caller.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await asyncio.wait_for(group.stop(), 5)
    assert followed == ["kept"]
    assert await stored_events(engine) == ["kept"]


async def two_writers_over_two_rows(engine, clock) -> GroupCommit:
    """Rows r1 and r2, and a group commit with two writers (as the bot runs on PostgreSQL)."""
    async with engine.begin() as conn:
        for tag in ("r1", "r2"):
            await conn.execute(
                text("INSERT INTO handled_events (event_id, handled_at) VALUES (:e, :t)"), {"e": tag, "t": clock()}
            )
    return GroupCommit(session_factory(engine), lambda session: SqlUnitOfWork.over(session, clock), writers=2)


def touch(first: str, then: str, clock):
    """A change that updates row `first`, waits while the other writer takes `then`, then updates it."""

    async def work(uow):
        update = text("UPDATE handled_events SET handled_at = :t WHERE event_id = :e")
        await uow.session.execute(update, {"e": first, "t": clock()})
        await asyncio.sleep(0.3)
        await uow.session.execute(update, {"e": then, "t": clock()})
        return f"{first}{then}"

    return work


async def test_a_deadlock_between_two_writers_loses_neither_batch(engine, clock, database_url):
    """PostgreSQL with two writers: two batches update the same two rows in opposite orders, and
    PostgreSQL aborts one of them (a deadlock, an OperationalError). That is no lost database: the
    victim's batch runs again once the other has committed, and every change in both is stored."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: its batches never overlap")

    async def deadlocks() -> int:
        async with engine.connect() as conn:
            query = text("SELECT deadlocks FROM pg_stat_database WHERE datname = current_database()")
            return (await conn.execute(query)).scalar_one()

    group = await two_writers_over_two_rows(engine, clock)

    before = await deadlocks()
    try:
        first = [asyncio.create_task(group.run(w)) for w in (insert_event("x", clock), touch("r1", "r2", clock))]
        await asyncio.sleep(0.1)  # writer 1 is inside its batch: the next ones are writer 2's
        second = [asyncio.create_task(group.run(w)) for w in (insert_event("y", clock), touch("r2", "r1", clock))]
        outcomes = await asyncio.gather(*first, *second, return_exceptions=True)
    finally:
        await group.stop()
    for _ in range(50):  # the statistics collector reports with a short delay
        if await deadlocks() > before:
            break
        await asyncio.sleep(0.1)
    assert await deadlocks() > before, "the scenario did not deadlock: the test proves nothing"
    assert outcomes == ["x", "r1r2", "y", "r2r1"]
    assert await stored_events(engine) == ["r1", "r2", "x", "y"]


async def test_a_change_that_loses_a_deadlock_alone_is_told_to_retry(engine, clock, database_url):
    """Alone in its batch (nothing to run again without it), the deadlock's victim is told
    ConcurrencyConflict, which the bot retries from a fresh read (bot/wiring/changes.py), not 'database
    unavailable'."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer: its batches never overlap")
    group = await two_writers_over_two_rows(engine, clock)

    try:
        one = asyncio.create_task(group.run(touch("r1", "r2", clock)))
        await asyncio.sleep(0.1)
        other = asyncio.create_task(group.run(touch("r2", "r1", clock)))
        outcomes = await asyncio.gather(one, other, return_exceptions=True)
    finally:
        await group.stop()
    conflicts = [o for o in outcomes if isinstance(o, ConcurrencyConflict)]
    assert len(conflicts) == 1 and set(outcomes) - set(conflicts) <= {"r1r2", "r2r1"}, outcomes


async def test_a_change_that_waited_too_long_for_its_turn_is_refused_not_run(engine, clock):
    """Past max_wait in the queue, Slack has stopped showing an answer: the change is refused
    (StoreBusy) without being run, while its neighbours in time are written as usual."""
    group = GroupCommit(session_factory(engine), lambda session: SqlUnitOfWork.over(session, clock), max_wait=0.2)
    release = asyncio.Event()

    async def slow(uow):
        await release.wait()
        return await insert_event("first", clock)(uow)

    try:
        first = asyncio.create_task(group.run(slow))
        await asyncio.sleep(0.05)  # the writer is inside the first batch
        late = asyncio.create_task(group.run(insert_event("late", clock)))
        await asyncio.sleep(0.3)  # it has waited longer than max_wait when the writer comes to it
        release.set()
        assert await first == "first"
        with pytest.raises(StoreBusy):
            await late
        assert await group.run(insert_event("next", clock)) == "next"
    finally:
        await group.stop()
    assert await stored_events(engine) == ["first", "next"]
