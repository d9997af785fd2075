from __future__ import annotations

import pytest

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
