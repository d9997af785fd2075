"""Acknowledgements assumed new in a group-commit batch (storage/pending.py: add_assumed,
storage/assumed.py): one INSERT per batch, and exactly the outcome of one INSERT per click,
whoever clicked before, twice, or in the same batch."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import timedelta

import pytest
from sqlalchemy import event

from storage.pending import AssumptionFailed
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import Acknowledged, Acknowledgement
from workflows.directives import acknowledge

from .test_directives_storage import issue as issue_any


async def issue(uows, clock, **changes) -> int:
    """A directive acknowledged with one click (a cease-use is attested: test_attestations_storage.py)."""
    return await issue_any(uows, clock, **{"kind": DirectiveKind.RESTRICTED, **changes})


@pytest.fixture
def inserts(engine):
    """Every INSERT INTO acknowledgements the engine runs."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_):
        if statement.startswith("INSERT INTO acknowledgements"):
            seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", record)


def click(group, clock, directive_id, user):
    return group.run(lambda uow: acknowledge(uow, directive_id, user, clock(), in_audience=True))


async def stored(uows, directive_id) -> tuple[set[str], int]:
    async with uows() as uow:
        trail = await uow.audit.for_subject(f"DIR-{directive_id:04d}")
        return await uow.acks.users(directive_id), sum(e.action == "directive:acknowledged" for e in trail)


async def test_a_batch_of_acknowledgements_is_one_insert(group, uows, clock, inserts):
    directive_id = await issue(uows, clock)
    users = [f"U{n:04d}" for n in range(30)]
    results = await asyncio.gather(*(click(group, clock, directive_id, u) for u in users))
    assert [e.already for (e,) in results] == [False] * 30
    assert len(inserts) == group.batches < 30
    assert await stored(uows, directive_id) == (set(users), 30)


async def test_someone_who_acknowledged_before_is_told_so_and_not_recorded_twice(group, uows, clock, inserts):
    directive_id = await issue(uows, clock)
    await click(group, clock, directive_id, "U0EARLY")
    first_at = clock()
    clock.advance(timedelta(minutes=5))
    inserts.clear()
    users = ["U0A", "U0EARLY", "U0B", "U0C"]
    results = await asyncio.gather(*(click(group, clock, directive_id, u) for u in users))
    by_user = {e.ack.user_id: e for (e,) in results}
    assert by_user["U0EARLY"].already and by_user["U0EARLY"].ack.at == first_at
    assert not any(by_user[u].already for u in ("U0A", "U0B", "U0C"))
    assert await stored(uows, directive_id) == (set(users), 4)


async def test_two_clicks_of_one_person_in_one_batch(group, uows, clock):
    directive_id = await issue(uows, clock)
    results = await asyncio.gather(*(click(group, clock, directive_id, u) for u in ["U0A", "U0A", "U0B", "U0A"]))
    assert [e.already for (e,) in results] == [False, True, False, True]
    assert await stored(uows, directive_id) == ({"U0A", "U0B"}, 2)


async def test_a_read_in_the_same_batch_sees_the_assumed_rows(group, uows, clock):
    directive_id = await issue(uows, clock)

    async def acknowledge_then_count(uow, user):
        await acknowledge(uow, directive_id, user, clock(), in_audience=True)
        return await uow.acks.count(directive_id)

    counts = await asyncio.gather(*(group.run(lambda uow, u=u: acknowledge_then_count(uow, u)) for u in "ABCD"))
    assert sorted(counts) == [1, 2, 3, 4]


async def test_a_change_that_swallows_the_failure_does_not_keep_its_batch(group, uows, clock):
    """A change that catches every error cannot make the batch commit on a wrong assumption."""
    directive_id = await issue(uows, clock)
    await click(group, clock, directive_id, "U0EARLY")

    async def careless(uow, user):
        added = await uow.acks.add(Acknowledgement(directive_id, user, clock()))
        with contextlib.suppress(AssumptionFailed):
            await uow.acks.count(directive_id)  # writes the assumed rows: U0EARLY's fails
        return added

    results = await asyncio.gather(*(group.run(lambda uow, u=u: careless(uow, u)) for u in ["U0A", "U0EARLY"]))
    assert results == [True, False]  # as run again, assuming nothing
    async with uows() as uow:
        assert await uow.acks.users(directive_id) == {"U0A", "U0EARLY"}


async def test_outside_a_batch_each_insert_answers_at_once(uows, clock, inserts):
    directive_id = await issue(uows, clock)
    async with uows() as uow:
        (event_,) = await acknowledge(uow, directive_id, "U0A", clock(), in_audience=True)
        assert isinstance(event_, Acknowledged) and not event_.already
        assert len(inserts) == 1
        await uow.commit()
