"""A record populated through the real services (tests/pages/seed.py), on each database backend."""

from __future__ import annotations

import pytest

from storage.db import open_database
from storage.public_record import SqlPublicRecord
from tests.fakes.clock import ManualClock
from tests.pages.seed import START, populate


@pytest.fixture
async def populated(database_url):
    made = await populate(database_url)
    return database_url, made


@pytest.fixture
async def reader(populated):
    database = open_database(populated[0])
    yield SqlPublicRecord(database.read_sessions, ManualClock(START))
    await database.dispose()
