"""What /healthz learns from the write path (storage/write_health.py), on each database.

A refused write counts at once; only a write made after it and committed clears it. A transaction
that wrote before the refusal and commits just after (the outbox sender's claim, in flight when the
disk filled) says nothing of the disk now: it once made /healthz say 200 under a full disk.
"""

from __future__ import annotations

import contextlib

import pytest
from sqlalchemy import event, update

from storage.db import session_factory
from storage.tables import OutboxRow
from storage.write_health import WriteHealth

TOUCH = update(OutboxRow).where(OutboxRow.id == -1).values(attempts=OutboxRow.attempts)  # matches nothing


@contextlib.contextmanager
def writes_refused(engine):
    error = engine.sync_engine.dialect.loaded_dbapi.OperationalError

    def refuse(*_args):  # every statement: on SQLite the second writer's first is its BEGIN IMMEDIATE
        raise error("database or disk is full")

    event.listen(engine.sync_engine, "before_cursor_execute", refuse)
    try:
        yield
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", refuse)


async def write(sessions) -> None:
    async with sessions() as session, session.begin():
        await session.execute(TOUCH)


async def test_a_write_begun_before_the_refusal_does_not_clear_it_but_a_later_one_does(engine):
    sessions = session_factory(engine)
    health = WriteHealth().watch(engine, sessions)

    async with sessions() as in_flight:
        await in_flight.begin()
        await in_flight.execute(TOUCH)  # wrote before the disk filled
        with writes_refused(engine), pytest.raises(Exception, match="disk is full"):
            await write(sessions)
        assert health.problem() == "writes failing: OperationalError"
        await in_flight.commit()
    assert health.problem() == "writes failing: OperationalError"  # still: nothing new was written

    await write(sessions)
    assert health.problem() is None
