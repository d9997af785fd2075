"""Who may decide, and that every click makes at most one decision."""

from __future__ import annotations

import asyncio

from bot.messages.ids import ActionId
from tests.fakes.clock import ManualClock
from tests.slack.harness import everything_said


async def decisions(bot, request_id):
    async with bot.c.uow() as uow:
        return (await uow.requests.get(request_id)).decisions


async def test_a_non_reviewer_is_told_why_and_nothing_changes(bot, slack):
    request_id = await bot.request_tool()
    card = bot.card("C0ITSEC")
    response = await bot.click(card, ActionId.APPROVE, "U0PRIV1")  # a reviewer, but of another stage
    assert response.status_code == 200
    await bot.settle()
    assert await decisions(bot, request_id) == []
    [notice] = bot.ephemerals("U0PRIV1")
    assert notice["channel"] == "C0ITSEC"
    assert "Only IT security reviewers can decide" in everything_said(notice)
    assert bot.card("C0ITSEC").buttons  # card untouched


async def test_the_requester_cannot_approve_their_own_request(bot, slack):
    request_id = await bot.request_tool("U0SEC1")  # a reviewer asks for a tool themself
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    assert await decisions(bot, request_id) == []
    assert "cannot review your own request" in everything_said(bot.ephemerals("U0SEC1")[-1])


async def test_a_member_of_a_reviewer_user_group_can_decide(bot, slack):
    request_id = await bot.request_tool()
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC2")  # in S0SECGRP
    await bot.settle()
    [decision] = await decisions(bot, request_id)
    assert decision.by == "U0SEC2"
    assert slack.calls_to("usergroups.users.list")[0].args["usergroup"] == "S0SECGRP"


async def test_membership_is_checked_at_the_moment_of_the_click(bot, slack):
    seconds = ManualClock()
    bot.c.directory.clock = seconds.monotonic
    request_id = await bot.request_tool()
    slack.usergroups["S0SECGRP"] = []  # U0SEC2 left the group
    seconds.advance(bot.c.directory.ttl)  # no cached answer
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC2")
    await bot.settle()
    assert await decisions(bot, request_id) == []
    assert "Only IT security reviewers" in everything_said(bot.ephemerals("U0SEC2")[-1])


async def test_double_click_makes_one_decision_and_the_second_click_is_told(bot, slack):
    request_id = await bot.request_tool()
    card = bot.card("C0ITSEC")
    first, second = await asyncio.gather(
        bot.click(card, ActionId.APPROVE, "U0SEC1"), bot.click(card, ActionId.APPROVE, "U0SEC1")
    )
    assert first.status_code == second.status_code == 200
    await bot.settle()
    assert len(await decisions(bot, request_id)) == 1
    assert "already approved at IT security by <@U0SEC1>" in everything_said(bot.ephemerals("U0SEC1")[-1])
    assert len(slack.messages_in("C0PRIV")) == 1  # one card at the next stage, not two


async def test_two_reviewers_at_once_make_one_decision(bot, slack):
    request_id = await bot.request_tool()
    card = bot.card("C0ITSEC")
    await asyncio.gather(*(bot.click(card, ActionId.APPROVE, who) for who in ("U0SEC1", "U0SEC2") * 3))
    await bot.settle()
    assert len(await decisions(bot, request_id)) == 1
    assert len(slack.messages_in("C0PRIV")) == 1
    assert len(bot.ephemerals("U0SEC1") + bot.ephemerals("U0SEC2")) == 5


async def test_an_old_card_button_after_the_stage_moved_on_changes_nothing(bot, slack):
    request_id = await bot.request_tool()
    stale = bot.card("C0ITSEC")
    await bot.click(stale, ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    await bot.click(stale, ActionId.APPROVE, "U0SEC2")  # from a copy of the card with buttons
    await bot.settle()
    assert [d.by for d in await decisions(bot, request_id)] == ["U0SEC1"]


async def test_reject_and_ask_refuse_a_non_reviewer_before_opening_the_form(bot, slack):
    await bot.request_tool()
    await bot.click(bot.card("C0ITSEC"), ActionId.REJECT, "U0NOBODY")
    await bot.settle()
    assert len(slack.calls_to("views.open")) == 1  # only the request form, no reason form
    assert "Only IT security reviewers" in everything_said(bot.ephemerals("U0NOBODY")[-1])
