from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.fake_slack import FakeSlack
from tests.slack.harness import start_bot, stop_bot


@pytest.fixture
async def slack():
    async with FakeSlack() as fake:
        fake.usergroups["S0SECGRP"] = ["U0SEC2"]
        yield fake
        # Every message and view the bot sent must pass slack_sdk.models validation.
        assert fake.invalid == [], fake.invalid


@pytest.fixture
async def bot(slack, database_url, tmp_path):
    bot = await start_bot(slack, database_url, tmp_path)
    yield bot
    await stop_bot(bot)


@pytest.fixture
async def client(slack: FakeSlack) -> AsyncIterator[AsyncWebClient]:
    """slack_sdk's client on the fake. retry_handlers=[]: slack_sdk's default handler retries a
    connection error once after 0.5-1.5 s, which would hide drop_next and slow the tests."""
    web = AsyncWebClient(base_url=slack.api_url, token="xoxb-test", retry_handlers=[])
    yield web
    if web.session is not None:
        await web.session.close()
