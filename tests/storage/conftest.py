"""Fixtures of the storage tests that more than one module uses."""

from __future__ import annotations

import pytest

from storage.db import create_engine, session_factory
from storage.group_commit import GroupCommit
from storage.uow import SqlUnitOfWork


@pytest.fixture
async def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def group(engine, clock):
    """A group commit over the test database, as the bot builds it (units of work in its transaction)."""
    group = GroupCommit(session_factory(engine), lambda session: SqlUnitOfWork.over(session, clock))
    yield group
    await group.stop()
