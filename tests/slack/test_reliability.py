"""Slack being slow or down delays messages but never drops or doubles them, across restarts."""

from __future__ import annotations

from bot.messages.ids import ActionId
from tests.slack.harness import everything_said, start_bot, stop_bot


async def test_a_429_on_the_first_attempt_waits_retry_after_then_delivers(bot, slack):
    slack.fail_next("chat.postMessage", status=429, retry_after=1)
    started = bot.c.clock()
    await bot.request_tool()
    limited, *later = slack.all_calls_to("chat.postMessage")
    assert limited.attempt_status == 429 and all(a.attempt_status == 200 for a in later)
    assert [a.args for a in later].count(limited.args) == 1  # the same message, resent whole, once
    assert (bot.c.clock() - started).total_seconds() >= 1  # waited as told
    assert len(bot.dms("U0OFFICER")) == 1 and len(slack.messages_in("C0ITSEC")) == 1  # nothing doubled


async def test_a_decision_is_committed_even_while_slack_answers_5xx(bot, slack):
    request_id = await bot.request_tool()
    slack.fail_next("chat.update", status=503, times=2)
    slack.drop_next("chat.postMessage")
    response = await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    assert response.status_code == 200
    async with bot.c.uow() as uow:  # stored before the click was acknowledged
        assert len((await uow.requests.get(request_id)).decisions) == 1
    await bot.settle(timeout=15)
    assert [c.attempt_status for c in slack.all_calls_to("chat.update")] == [503, 503, 200]
    assert bot.card("C0ITSEC").buttons == {}
    assert len(slack.messages_in("C0PRIV")) == 1


async def test_a_restart_loses_nothing_and_old_buttons_still_work(slack, database_url, tmp_path):
    first = await start_bot(slack, database_url, tmp_path)
    request_id = await first.request_tool()
    card = first.card("C0ITSEC")
    # Slack goes away; the decision is taken but its messages cannot be sent yet.
    slack.fail_next("chat.update", status=503, times=100)
    slack.fail_next("chat.postMessage", status=503, times=100)
    await first.click(card, ActionId.APPROVE, "U0SEC1")
    await stop_bot(first)
    assert slack.messages_in("C0PRIV") == []

    slack.reset()  # Slack is back; a new process starts on the same database
    slack.clear_failures()
    second = await start_bot(slack, database_url, tmp_path)
    try:
        await second.settle(timeout=15)
        assert second.card("C0ITSEC").buttons == {}  # the old card was updated after the restart
        privacy = second.card("C0PRIV")
        # A button posted by the process before is handled by this one.
        await second.click(privacy, ActionId.APPROVE, "U0PRIV1")
        await second.settle()
        async with second.c.uow() as uow:
            assert [d.stage_key for d in (await uow.requests.get(request_id)).decisions] == ["it_security", "privacy"]
        assert ActionId.APPROVE in second.card("C0CMD").buttons
        dms = [everything_said(d) for d in second.dms("U0OFFICER")]
        assert len(dms) == 2 and "IT security" in dms[0] and "Privacy" in dms[1]  # each step once
    finally:
        await stop_bot(second)


async def test_a_message_slack_refuses_for_good_is_recorded_and_admins_are_told(bot, slack):
    slack.channel_errors["C0ITSEC"] = "channel_not_found"
    await bot.request_tool()
    failures = await bot.c.outbox.failures()
    assert [(method, error) for _, method, _, error in failures] == [("chat.postMessage", "channel_not_found")]
    alert = everything_said(bot.dms("U0ADMIN")[-1])
    assert "channel_not_found" in alert and "C0ITSEC" in alert
    assert len(bot.dms("U0OFFICER")) == 1  # the officer is still told


async def test_the_bot_joins_a_public_review_channel_it_is_not_in(bot, slack):
    slack.channel_errors["C0ITSEC"] = "not_in_channel"
    await bot.request_tool()
    assert slack.calls_to("conversations.join")[0].args["channel"] == "C0ITSEC"
    assert len(slack.messages_in("C0ITSEC")) == 1


async def test_calls_to_slack_reuse_kept_connections(bot, slack):
    """A new connection (and, to slack.com, a TLS handshake) for every call would cost more than the
    call: the bot's Web API calls go over connections kept open."""
    for _ in range(6):
        await bot.request_tool()
        await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    calls = [c for c in slack.all_calls_to("chat.postMessage") + slack.all_calls_to("chat.update")]
    assert len(calls) >= 24  # per request: card, DM, the card updated, the next card…
    # The sender sends at most 8 at once; anything above that would be one connection per call.
    assert len({c.connection for c in calls}) <= 8
