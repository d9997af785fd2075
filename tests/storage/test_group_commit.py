"""Group commit (storage/group_commit.py) on SQLite and PostgreSQL, through the request services.

Many changes share one transaction and one commit, each in its own savepoint: a refusal undoes
only itself, and a failed commit loses the whole batch with every caller told (none answered ok).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import event

from storage.db import session_factory
from storage.uow import SqlUnitOfWork
from workflows.errors import InvalidInput, NotAReviewer
from workflows.requests import Outcome, RequestStatus
from workflows.review import record_decision, submit_request

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
