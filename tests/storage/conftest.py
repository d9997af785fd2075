"""Fixtures of the storage tests that more than one module uses."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from storage.db import create_engine, session_factory
from storage.group_commit import GroupCommit
from storage.uow import SqlUnitOfWork
from tests.conftest import BACKENDS, throwaway_postgres


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


@pytest.fixture(params=BACKENDS)
def empty_url(request, tmp_path):
    """A database with no schema at all (a migration test migrates it), on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'before.db'}"
        return
    with throwaway_postgres("clearance_empty") as url:
        yield url


@pytest.fixture
def uows(engine, clock):
    """Units of work of their own (each its own transaction) on the test database."""
    return lambda: SqlUnitOfWork(session_factory(engine), clock)


@pytest.fixture
def statements(engine):
    """Every statement the engine sends, in order (for counting round trips)."""
    seen: list[str] = []
    listen = lambda _c, _cur, statement, *_: seen.append(statement)  # noqa: E731
    event.listen(engine.sync_engine, "before_cursor_execute", listen)
    yield seen
    event.remove(engine.sync_engine, "before_cursor_execute", listen)
