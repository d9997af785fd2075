"""A licence's expiry end to end (issue 18), with the fixed clock: its owner reminded at each
`[licences] remind_before` offset (30d, 7d, 1d by default), one catch-up DM after downtime, quiet
hours respected, and at the exact instant it expires the tool is Suspended — approval lapsed, each
authorised user told once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.messages.ids import ActionId
from tests.fakes.clock import ManualClock
from tests.slack.clocked import start_clocked_bot
from tests.slack.harness import CONFIG, everything_said, stop_bot
from tests.slack.test_licence_status import ask

H = timedelta(hours=1)
DAY = 24 * H
QUIET_UTC = CONFIG.replace(
    'check_every = "1m"              # durations: "90s", "15m", "24h", "2d"',
    'check_every = "1m"\nquiet_hours = "20:00-07:00"\ntimezone = "UTC"',
)


# Early in the year: the outbox's sender runs on real time, so what the sweep queues must not be
# dated after today (the review reminders' tests stay within November 2026 for the same reason).
START = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def bot(slack, database_url, tmp_path, clock):
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock)
    yield bot
    await stop_bot(bot)


async def licensed(bot, last_day: datetime) -> datetime:
    """Clearview AI approved for U0OFFICER (the requester) and U0DET1, valid through `last_day`;
    returns the instant it expires (the midnight after it)."""
    await bot.request_tool()
    licence = {
        "scope": {"selected_option": {"value": "people"}},
        "people": {"selected_users": ["U0OFFICER", "U0DET1"]},
        "expires_at": {"selected_date": last_day.date().isoformat()},
        "no_expiry": {"selected_options": []},
    }
    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1"), ("C0CMD", "U0CHIEF")):
        await bot.click(bot.card(channel), ActionId.APPROVE, reviewer, licence=licence)
        await bot.settle()
    return datetime.combine(last_day.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


def expiring(bot, user: str) -> list[dict]:
    return [d for d in bot.dms(user) if "expire soon" in d.get("text", "")]


def lapsed(bot, user: str) -> list[dict]:
    return [d for d in bot.dms(user) if "Suspended — approval lapsed" in d.get("text", "")]


async def test_reminded_at_each_offset_once_then_lapsed_at_the_exact_instant(bot, slack):
    expiry = await licensed(bot, bot.clock() + 40 * DAY)
    bot.clock.set(expiry - 31 * DAY)
    await bot.sweep()
    assert expiring(bot, "U0OFFICER") == []
    bot.clock.set(expiry - 30 * DAY)
    await bot.sweep()
    await bot.sweep()  # the same moment again: nothing new
    [first] = expiring(bot, "U0OFFICER")
    said = everything_said(first)
    assert "Clearview AI" in said and "LIC-0001" in said and "Suspended — approval lapsed" in said
    assert expiring(bot, "U0DET1") == []  # reminders go to the owner only
    # Down from 29 days before to 12 hours before: the 7-day and 1-day reminders were both missed.
    bot.clock.set(expiry - 12 * H)
    await bot.sweep()
    assert len(expiring(bot, "U0OFFICER")) == 2  # one catch-up DM, not two
    bot.clock.set(expiry - timedelta(seconds=1))
    await bot.sweep()
    assert lapsed(bot, "U0OFFICER") == [] and "You may use it" in await ask(bot, "U0DET1")
    bot.clock.set(expiry)
    await bot.sweep()
    await bot.sweep()
    for user in ("U0OFFICER", "U0DET1"):
        [told] = lapsed(bot, user)
        assert "Stop using it" in everything_said(told)
    said = await ask(bot, "U0DET1")
    assert "Suspended — approval lapsed" in said and "You are not authorised to use it" in said
    assert len(expiring(bot, "U0OFFICER")) == 2
    async with bot.c.uow() as uow:
        trail = [e.action for e in await uow.audit.for_subject("REQ-0001")]
    assert trail.count("licence:lapsed") == 1


async def test_quiet_hours_defer_reminders_but_not_the_lapse(slack, database_url, tmp_path):
    clock = ManualClock(START)
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock, QUIET_UTC)
    try:
        expiry = await licensed(bot, clock() + 3 * DAY)  # midnight UTC: inside quiet hours
        bot.clock.set(expiry - DAY)  # the 1-day reminder falls due at midnight: deferred
        await bot.sweep()
        assert expiring(bot, "U0OFFICER") == []
        bot.clock.set(expiry - DAY + 7 * H)  # quiet hours end
        await bot.sweep()
        assert len(expiring(bot, "U0OFFICER")) == 1
        bot.clock.set(expiry)  # midnight, quiet hours: the lapse happens all the same
        await bot.sweep()
        assert len(lapsed(bot, "U0OFFICER")) == 1 and len(lapsed(bot, "U0DET1")) == 1
    finally:
        await stop_bot(bot)


async def test_members_of_a_licensed_group_are_told_of_the_lapse(bot, slack):
    slack.usergroups["S0MAJOR"] = ["U0DET3"]
    await bot.request_tool()
    last_day = bot.clock() + 2 * DAY
    licence = {
        "scope": {"selected_option": {"value": "groups"}},
        "groups": {"selected_options": [{"value": "S0MAJOR", "text": {"type": "plain_text", "text": "@major"}}]},
        "expires_at": {"selected_date": last_day.date().isoformat()},
        "no_expiry": {"selected_options": []},
    }
    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1"), ("C0CMD", "U0CHIEF")):
        await bot.click(bot.card(channel), ActionId.APPROVE, reviewer, licence=licence)
        await bot.settle()
    bot.clock.set(datetime.combine(last_day.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC))
    await bot.sweep()
    assert len(lapsed(bot, "U0DET3")) == 1 and len(lapsed(bot, "U0OFFICER")) == 1
