"""The audit chain's head is anchored on a schedule ([audit] anchor_every), by the timed follow-ups'
one sweep: posted to [audit] channel on the first sweep, then once per interval — once after a long
downtime, not once per missed interval — and not again while nothing new was written."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.messages.anchors import parse_anchor
from tests.slack.clocked import start_clocked_bot
from tests.slack.harness import CONFIG, stop_bot

AUDIT = "C0AUDIT"
H = timedelta(hours=1)
WITH_AUDIT = CONFIG + f'\n[audit]\nchannel = "{AUDIT}"\nanchor_every = "6h"\n'


@pytest.fixture
async def bot(slack, database_url, tmp_path, clock):
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock, config=WITH_AUDIT)
    yield bot
    await stop_bot(bot)


def anchors(slack) -> list[int]:
    return [parse_anchor(m["text"])[0] for m in slack.messages_in(AUDIT)]


async def test_the_chain_is_anchored_every_anchor_every_and_once_after_downtime(bot, slack):
    await bot.request_tool("U0OFFICER")  # the audit trail's first entries
    await bot.sweep()
    [first] = anchors(slack)
    assert first >= 1

    bot.clock.advance(5 * H)  # not yet its turn
    await bot.request_tool("U0OFFICER")
    await bot.sweep()
    assert anchors(slack) == [first]

    bot.clock.advance(30 * H)  # five intervals pass while nobody sweeps: one anchor, not five
    await bot.sweep()
    [_, second] = anchors(slack)
    assert second > first

    bot.clock.advance(6 * H)  # its turn, but nothing was written since: nothing to anchor
    await bot.sweep()
    assert anchors(slack) == [first, second]
