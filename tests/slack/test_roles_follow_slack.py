"""Roles change the moment Slack says so: a user group's cached members are dropped when Slack
sends subteam_members_changed / subteam_updated; otherwise they are kept for at most `ttl`, and
when Slack cannot be asked after that the action is refused rather than decided on an old answer."""

from __future__ import annotations

import pytest

from bot.messages.ids import ActionId
from tests.fakes.clock import ManualClock
from tests.fakes.signing import event_callback
from tests.slack.harness import everything_said
from tests.slack.test_review_rules import decisions


@pytest.fixture
def seconds(bot) -> ManualClock:
    clock = ManualClock()
    bot.c.directory.clock = clock.monotonic
    return clock


async def _warm(bot) -> None:
    """U0SEC2 (a member of S0SECGRP) opens a reason form: the group's members are now cached."""
    before = len(bot.slack.calls_to("views.open"))
    await bot.click(bot.card("C0ITSEC"), ActionId.REJECT, "U0SEC2")
    await bot.slack.wait_for("views.open", count=before + 1)


def _lookups(slack) -> int:
    return len(slack.calls_to("usergroups.users.list"))


@pytest.mark.parametrize(
    "event",
    [
        {
            "type": "subteam_members_changed",
            "subteam_id": "S0SECGRP",
            "team_id": "T0001",
            "date_previous_update": 1446670362,
            "date_update": 1492906952,
            "added_users": [],
            "added_users_count": "0",
            "removed_users": ["U0SEC2"],
            "removed_users_count": "1",
            "event_ts": "1492906952.000001",
        },
        {
            "type": "subteam_updated",
            "subteam": {"id": "S0SECGRP", "team_id": "T0001", "is_usergroup": True, "users": [], "user_count": 0},
            "event_ts": "1492906952.000001",
        },
    ],
    ids=["members_changed", "updated"],
)
async def test_a_reviewer_removed_in_slack_is_refused_at_the_next_click(bot, slack, seconds, event):
    request_id = await bot.request_tool()
    await _warm(bot)
    slack.usergroups["S0SECGRP"] = []  # removed in Slack; the clock has not moved at all
    response = await bot.http.event(event_callback(event))
    assert response.status_code == 200
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC2")
    await bot.settle()
    assert await decisions(bot, request_id) == []
    assert "Only IT security reviewers" in everything_said(bot.ephemerals("U0SEC2")[-1])


async def test_cached_members_expire_after_ttl(bot, slack, seconds):
    request_id = await bot.request_tool()
    await _warm(bot)
    calls = _lookups(slack)
    slack.usergroups["S0SECGRP"] = []  # removed in Slack, and Slack's event never arrived
    seconds.advance(bot.c.directory.ttl)
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC2")
    await bot.settle()
    assert _lookups(slack) == calls + 1  # asked Slack again
    assert await decisions(bot, request_id) == []
    assert "Only IT security reviewers" in everything_said(bot.ephemerals("U0SEC2")[-1])


async def test_a_burst_of_clicks_within_ttl_asks_slack_once(bot, slack, seconds):
    await bot.request_tool()
    await _warm(bot)
    calls = _lookups(slack)
    seconds.advance(bot.c.directory.ttl - 1)
    await _warm(bot)
    assert _lookups(slack) == calls


async def test_slack_unreachable_after_expiry_refuses_with_could_not_check(bot, slack, seconds):
    request_id = await bot.request_tool()
    await _warm(bot)
    seconds.advance(bot.c.directory.ttl)
    slack.fail_next("usergroups.users.list", status=500, times=5)
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC2")
    await bot.settle()
    assert await decisions(bot, request_id) == []
    assert "could not check your reviewer role" in everything_said(bot.ephemerals("U0SEC2")[-1])
    assert bot.card("C0ITSEC").buttons  # nothing decided; they can try again
