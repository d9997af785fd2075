"""A record populated through the real services (tests/pages/seed.py), on each database backend."""

from __future__ import annotations

import pytest

from storage.db import open_database
from storage.public_record import SqlPublicRecord
from tests.pages.seed import Clock, populate


@pytest.fixture
async def populated(database_url):
    made = await populate(database_url)
    return database_url, made


@pytest.fixture
async def reader(populated):
    database = open_database(populated[0])
    yield SqlPublicRecord(database.read_sessions, Clock())
    await database.dispose()
