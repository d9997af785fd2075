"""Reminders and escalation, end to end: signed requests in, DMs out through the fake Slack Web API.

The clock is fixed and moved by the test; each `bot.sweep()` is one run of the scheduler's job.
"""

from __future__ import annotations

import asyncio
import io
from contextlib import redirect_stdout
from datetime import UTC, datetime, timedelta

import pytest

from bot.cli import main
from bot.messages.ids import ActionId
from tests.fakes.clock import ManualClock
from tests.fakes.signing import block_action, event_callback
from tests.slack.clocked import start_clocked_bot
from tests.slack.harness import CONFIG, everything_said, stop_bot

H = timedelta(hours=1)
ESCALATING = CONFIG.replace(
    'remind_after = "24h"            # used by reminders (a later issue); accept it now',
    'remind_after = "24h"\nescalate_after = 2',
)
QUIET = CONFIG.replace(
    'check_every = "1m"              # durations: "90s", "15m", "24h", "2d"',
    'check_every = "1m"\nquiet_hours = "20:00-07:00"\ntimezone = "America/Edmonton"',
)


@pytest.fixture
async def bot(slack, database_url, tmp_path, clock):
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock)
    yield bot
    await stop_bot(bot)


def permalink_of(card) -> str:
    return f"https://test.slack.com/archives/{card.channel}/p{card.ts.replace('.', '')}"


async def test_reviewers_are_reminded_with_a_link_to_the_card_then_every_remind_every(bot, slack):
    request_id = await bot.request_tool("U0OFFICER")
    ref = f"REQ-{request_id:04d}"
    card = bot.card("C0ITSEC", ref)

    bot.clock.advance(23 * H)
    await bot.sweep()
    assert bot.reminders_to("U0SEC1") == []

    bot.clock.advance(H)  # 24 h: IT security's remind_after
    await bot.sweep()
    for reviewer in ("U0SEC1", "U0SEC2"):  # U0SEC2 through the S0SECGRP user group
        [dm] = bot.reminders_to(reviewer)
        said = everything_said(dm)
        for fact in (ref, "Clearview AI", "<@U0OFFICER>", "1 day", "IT security", permalink_of(card)):
            assert fact in said, (fact, said)
        assert "approve, reject or ask for more information" in said
    assert bot.reminders_to("U0OFFICER") == []  # the requester is not a reviewer
    assert [c.args["channel"] for c in slack.calls_to("chat.getPermalink")] == ["C0ITSEC"]

    await bot.sweep()  # the same moment again: nothing new
    assert len(bot.reminders_to("U0SEC1")) == 1

    bot.clock.advance(24 * H)  # remind_every
    await bot.sweep()
    second = everything_said(bot.reminders_to("U0SEC1")[-1])
    assert len(bot.reminders_to("U0SEC1")) == 2 and "2 days" in second and "Reminder 2" in second
    assert len(slack.calls_to("chat.getPermalink")) == 1  # the card's link is remembered

    # IT security decides: their reminders stop; Privacy's clock starts now.
    await bot.click(bot.card("C0ITSEC", ref), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    bot.clock.advance(24 * H)
    await bot.sweep()
    assert len(bot.reminders_to("U0SEC1")) == 2
    [privacy] = bot.reminders_to("U0PRIV1")
    assert permalink_of(bot.card("C0PRIV", ref)) in everything_said(privacy)


async def open_reason(bot, slack, action_id, user):
    before = len(slack.calls_to("views.open"))
    await bot.click(bot.card("C0ITSEC"), action_id, user)
    opened = await slack.wait_for("views.open", count=before + 1)
    return opened[-1].args["view"]


async def withdraw(bot):
    button = next(
        e
        for b in bot.dms("U0OFFICER")[0]["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ActionId.WITHDRAW
    )
    await bot.http.action(block_action(ActionId.WITHDRAW, button["value"], "U0OFFICER", channel_id="DU0OFFICER"))


@pytest.mark.parametrize("move", ["withdraw", "ask", "reject"])
async def test_reminders_stop_the_moment_the_stage_is_decided_withdrawn_or_waits_for_an_answer(bot, slack, move):
    request_id = await bot.request_tool("U0OFFICER")
    bot.clock.advance(24 * H)
    await bot.sweep()
    assert len(bot.reminders_to("U0SEC1")) == 1
    if move == "withdraw":
        await withdraw(bot)
    else:
        view = await open_reason(bot, slack, ActionId.ASK_INFO if move == "ask" else ActionId.REJECT, "U0SEC1")
        assert await bot.submit_view(view, "U0SEC1", reason="Which case is it for?") is None
    await bot.settle()
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).next_reminder_at is None
    for _ in range(5):
        bot.clock.advance(24 * H)
        await bot.sweep()
    assert len(bot.reminders_to("U0SEC1")) == 1 and bot.reminders_to("U0PRIV1") == []


async def test_after_downtime_one_reminder_per_request_not_one_per_missed_interval(bot, slack):
    ids = [await bot.request_tool("U0OFFICER", tool_name=f"Tool {n}") for n in range(3)]
    bot.clock.advance(10 * 24 * H)  # ten days without a sweep
    await bot.sweep()
    reminders = [everything_said(d) for d in bot.reminders_to("U0SEC1")]
    assert len(reminders) == 3
    assert all(any(f"REQ-{i:04d}" in r for r in reminders) for i in ids)
    assert all("10 days" in r for r in reminders)
    await bot.sweep()
    assert len(bot.reminders_to("U0SEC1")) == 3


async def test_many_requests_due_at_once_come_as_one_digest_per_reviewer(bot, slack):
    ids = [await bot.request_tool("U0OFFICER", tool_name=f"Tool <{n}>") for n in range(5)]
    cards = {i: bot.card("C0ITSEC", f"REQ-{i:04d}") for i in ids}
    bot.clock.advance(24 * H)
    await bot.sweep()
    for reviewer in ("U0SEC1", "U0SEC2"):
        [digest] = bot.reminders_to(reviewer)
        said = everything_said(digest)
        assert "5 requests are waiting for your review" in said
        for request_id, card in cards.items():
            assert f"REQ-{request_id:04d}" in said and permalink_of(card) in said
        assert "Tool &lt;3&gt;" in said and "<@U0OFFICER>" in said and "1 day" in said
    bot.clock.advance(24 * H)
    await bot.sweep()
    assert len(bot.reminders_to("U0SEC1")) == 2


async def test_escalation_goes_once_to_command_staff_and_the_card_notes_it(slack, database_url, tmp_path, clock):
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock, ESCALATING)
    try:
        request_id = await bot.request_tool("U0OFFICER")
        ref = f"REQ-{request_id:04d}"
        bot.clock.advance(24 * H)
        await bot.sweep()
        assert bot.escalations_to("U0CHIEF") == []
        assert "Escalated" not in bot.card("C0ITSEC", ref).text

        bot.clock.advance(24 * H)  # the second reminder: escalate_after = 2
        await bot.sweep()
        [escalation] = bot.escalations_to("U0CHIEF")
        said = everything_said(escalation)
        for fact in (ref, "Clearview AI", "2 days", "IT security", "<@U0SEC1>", "<@U0SEC2>", "command staff"):
            assert fact in said, (fact, said)
        assert permalink_of(bot.card("C0ITSEC", ref)) in said
        card = bot.card("C0ITSEC", ref)
        assert "Escalated" in card.text and "<@U0CHIEF>" in card.text
        assert ActionId.APPROVE in card.buttons  # still decidable

        bot.clock.advance(24 * H)
        await bot.sweep()
        assert len(bot.reminders_to("U0SEC1")) == 3 and len(bot.escalations_to("U0CHIEF")) == 1

        # Deciding clears the note from the card; the audit trail keeps the escalation.
        await bot.click(card, ActionId.APPROVE, "U0SEC1")
        await bot.settle()
        assert "Escalated" not in bot.card("C0ITSEC", ref).text
        async with bot.c.uow() as uow:
            trail = [(e.action, e.actor, e.reason) for e in await uow.audit.for_subject(ref)]
        assert [a for a, _, _ in trail] == ["submitted", "escalated:it_security", "approved:it_security"]
        _, actor, reason = trail[1]
        assert actor == "system" and "waited 2 days at IT security (reminder 2); told U0CHIEF" in reason
    finally:
        await stop_bot(bot)


async def test_escalation_goes_to_the_stage_escalate_to_when_set(slack, database_url, tmp_path, clock):
    config = ESCALATING.replace("escalate_after = 2", 'escalate_after = 1\nescalate_to = ["U0DEPUTY"]')
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock, config)
    try:
        await bot.request_tool("U0OFFICER")
        bot.clock.advance(24 * H)
        await bot.sweep()
        assert "escalation contact for IT security" in everything_said(bot.escalations_to("U0DEPUTY")[0])
        assert bot.escalations_to("U0CHIEF") == []
    finally:
        await stop_bot(bot)


async def test_no_reminders_in_quiet_hours_one_when_they_end(slack, database_url, tmp_path):
    # 22:00 in Edmonton (MST, UTC-7) on 2 November 2026: due 22:00 the next evening, inside 20:00-07:00.
    clock = ManualClock(datetime(2026, 11, 3, 5, 0, tzinfo=UTC))
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock, QUIET)
    try:
        await bot.request_tool("U0OFFICER")
        bot.clock.advance(24 * H)
        for _ in range(18):  # a sweep every half hour through the night
            await bot.sweep()
            bot.clock.advance(H / 2)
        assert bot.clock() == datetime(2026, 11, 4, 14, 0, tzinfo=UTC)  # 07:00 local
        assert bot.reminders_to("U0SEC1") == []
        await bot.sweep()
        assert len(bot.reminders_to("U0SEC1")) == 1
        bot.clock.advance(H)
        await bot.sweep()
        assert len(bot.reminders_to("U0SEC1")) == 1
    finally:
        await stop_bot(bot)


async def test_rate_limits_and_dropped_connections_delay_a_reminder_but_never_drop_or_double_it(bot, slack):
    await bot.request_tool("U0OFFICER")
    slack.fail_next("chat.postMessage", status=429, retry_after=1, where=lambda a: a.get("channel") == "U0SEC1")
    slack.drop_next("chat.postMessage", where=lambda a: a.get("channel") == "U0SEC2")
    bot.clock.advance(24 * H)
    await bot.c.reminders.run_once()
    await bot.settle(timeout=15)
    attempts = {
        reviewer: [
            c.attempt_status for c in slack.all_calls_to("chat.postMessage") if c.args.get("channel") == reviewer
        ]
        for reviewer in ("U0SEC1", "U0SEC2")
    }
    assert attempts == {"U0SEC1": [429, 200], "U0SEC2": [0, 200]}  # 0: the connection was dropped
    assert len(bot.reminders_to("U0SEC1")) == 1 and len(bot.reminders_to("U0SEC2")) == 1


async def test_the_sweep_runs_every_check_every_and_at_start_up_after_downtime(slack, database_url, tmp_path, clock):
    first = await start_clocked_bot(slack, database_url, tmp_path, clock)
    [job] = first.c.reminders._scheduler.get_jobs()
    assert job.trigger.interval == timedelta(minutes=1)  # [reminders] check_every = "1m"
    assert job.coalesce is True and job.max_instances == 1
    await first.request_tool("U0OFFICER")
    await stop_bot(first)
    clock.advance(3 * 24 * H)  # down for three days
    second = await start_clocked_bot(slack, database_url, tmp_path, clock)
    try:  # nobody calls the sweep: the scheduler's first run, at start-up, sends the one reminder due
        await slack.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "U0SEC1")
        await second.settle()
        [reminder] = second.reminders_to("U0SEC1")
        assert "3 days" in everything_said(reminder) and "Reminder 1" in everything_said(reminder)
    finally:
        await stop_bot(second)


async def test_a_restart_loses_no_reminder_and_sends_none_twice(slack, database_url, tmp_path, clock):
    first = await start_clocked_bot(slack, database_url, tmp_path, clock)
    await first.request_tool("U0OFFICER")
    slack.fail_next("chat.postMessage", status=503, times=100)  # Slack is down when they fall due
    first.clock.advance(24 * H)
    report = await first.c.reminders.run_once()
    assert report.counts["review reminder"] == 1
    await stop_bot(first)
    slack.clear_failures()
    second = await start_clocked_bot(slack, database_url, tmp_path, clock)
    try:
        await second.sweep()  # a new sweep finds nothing due: the first one's claim was committed
        await second.settle(timeout=15)
        assert len(second.reminders_to("U0SEC1")) == 1 and len(second.reminders_to("U0SEC2")) == 1
    finally:
        await stop_bot(second)


async def test_remind_dry_run_prints_what_the_next_sweep_would_send(bot, slack, tmp_path, monkeypatch):
    request_id = await bot.request_tool("U0OFFICER")
    monkeypatch.setenv("DATABASE_URL", bot.c.settings.database_url)
    monkeypatch.setenv("CLEARANCE_CONFIG", str(bot.c.settings.config_path))
    monkeypatch.chdir(tmp_path)
    due_at = bot.clock() + 24 * H

    async def dry_run(*args: str) -> str:
        out = io.StringIO()
        with redirect_stdout(out):  # the command runs its own event loop: give it a thread
            assert await asyncio.to_thread(main, ["remind", "--dry-run", *args]) == 0
        return out.getvalue()

    assert "Nothing is due" in await dry_run("--at", (due_at - H).isoformat())
    printed = await dry_run("--at", due_at.isoformat())
    assert f"REQ-{request_id:04d}" in printed and "IT security" in printed and "reminder 1" in printed
    assert "U0SEC1" in printed and "S0SECGRP" in printed and "1 day" in printed
    assert "1 review reminder" in printed
    # Nothing was claimed or sent.
    bot.clock.advance(24 * H)
    await bot.sweep()
    assert len(bot.reminders_to("U0SEC1")) == 1


# --- directives -------------------------------------------------------------------------------

PATROL = ["U0OFF001", "U0OFF002", "U0OFF003"]


@pytest.fixture
async def directive_bot(slack, database_url, tmp_path, clock):
    slack.channel_members["C0PATROL"] = [*PATROL, "U0BOT"]
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock)
    yield bot
    await stop_bot(bot)


def acknowledge_button(message: dict) -> dict:
    return next(
        e
        for b in message.get("blocks") or []
        for e in b.get("elements") or []
        if e.get("action_id") == ActionId.ACKNOWLEDGE
    )


async def test_members_who_have_not_acknowledged_are_reminded_after_the_due_time_until_they_do(directive_bot, slack):
    from tests.slack.test_directives import issue

    bot = directive_bot
    ref = await issue(bot, "U0CHIEF", channels=("C0PATROL",), due=bot.clock() + 2 * H)
    posted = bot.card("C0PATROL", ref)
    await bot.http.action(
        block_action(
            ActionId.ACKNOWLEDGE, acknowledge_button(posted.message)["value"], "U0OFF001", channel_id="C0PATROL"
        )
    )
    await bot.settle()

    bot.clock.advance(2 * H - timedelta(minutes=1))
    await bot.sweep()
    assert all(bot.reminders_to(u) == [] for u in PATROL)

    bot.clock.advance(timedelta(minutes=1))  # the due time
    await bot.sweep()
    assert bot.reminders_to("U0OFF001") == [] and bot.reminders_to("U0BOT") == []  # acknowledged; a bot
    for officer in PATROL[1:]:
        [dm] = bot.reminders_to(officer)
        said = everything_said(dm)
        assert f"Please acknowledge {ref}" in said and "Clearview AI" in said and "<#C0PATROL>" in said
        assert "Stop using Clearview AI" in said and "<@U0CHIEF>" in said
        assert acknowledge_button(dm)  # acknowledging straight from the DM
    await bot.sweep()
    assert len(bot.reminders_to("U0OFF002")) == 1

    # One acknowledges from the reminder itself; the next day only the other is reminded.
    dm = bot.reminders_to("U0OFF002")[0]
    await bot.http.action(
        block_action(ActionId.ACKNOWLEDGE, acknowledge_button(dm)["value"], "U0OFF002", channel_id="DU0OFF002")
    )
    await bot.settle()
    bot.clock.advance(24 * H)  # directive_every
    await bot.sweep()
    assert len(bot.reminders_to("U0OFF002")) == 1 and len(bot.reminders_to("U0OFF003")) == 2

    # The last one acknowledges: nobody is reminded any more...
    await bot.http.action(
        block_action(ActionId.ACKNOWLEDGE, acknowledge_button(dm)["value"], "U0OFF003", channel_id="DU0OFF003")
    )
    await bot.settle()
    for _ in range(3):
        bot.clock.advance(24 * H)
        await bot.sweep()
    assert len(bot.reminders_to("U0OFF003")) == 2

    # ...until someone joins the channel: they owe it too, and are reminded like the others were.
    slack.channel_members["C0PATROL"].append("U0NEWBIE")
    joined = {"type": "member_joined_channel", "user": "U0NEWBIE", "channel": "C0PATROL", "channel_type": "C"}
    await bot.http.event(event_callback(joined))
    await bot.settle()
    bot.clock.advance(24 * H)
    await bot.sweep()
    [newcomer] = bot.reminders_to("U0NEWBIE")
    assert f"Please acknowledge {ref}" in everything_said(newcomer)
    assert len(bot.reminders_to("U0OFF003")) == 2


async def test_no_directive_reminders_after_it_is_revoked(directive_bot, slack):
    from tests.slack.test_directives import issue
    from workflows.commands import RevokeDirective

    bot = directive_bot
    ref = await issue(bot, "U0CHIEF", channels=("C0PATROL",), due=bot.clock() + 2 * H)
    async with bot.c.uow() as uow:
        [directive] = await uow.directives.list_active()
    await bot.c.changes.handle(RevokeDirective(directive.id, "U0CHIEF", True, bot.c.clock(), "Error."))
    await bot.settle()
    bot.clock.advance(3 * 24 * H)
    await bot.sweep()
    assert all(bot.reminders_to(u) == [] for u in PATROL), ref


async def test_directive_reminders_wait_while_slack_cannot_list_the_channel(directive_bot, slack):
    from tests.slack.test_directives import issue

    bot = directive_bot
    await issue(bot, "U0CHIEF", channels=("C0PATROL",), due=bot.clock() + 2 * H)
    bot.c.members.forget("C0PATROL")
    slack.fail_next("conversations.members", status=200, error="channel_not_found", times=100)
    bot.clock.advance(3 * H)
    await bot.sweep()
    assert all(bot.reminders_to(u) == [] for u in PATROL)
    slack.clear_failures()
    await bot.sweep()  # Slack answers again: the reminder that waited goes out now
    assert all(len(bot.reminders_to(u)) == 1 for u in PATROL)


# --- reminders overtaken while they wait in the outbox ----------------------------------------


async def test_a_reminder_still_waiting_when_its_stage_is_decided_is_not_sent(bot, slack):
    """Reminders go out behind everything else, and a rate limit can hold them longer: by their
    turn the stage may be decided. That one is dropped, not sent; the others went as usual."""
    request_id = await bot.request_tool("U0OFFICER")
    slack.fail_next("chat.postMessage", status=429, retry_after=1, where=lambda args: args.get("channel") == "U0SEC2")
    bot.clock.advance(24 * H)
    await bot.c.reminders.run_once()
    await slack.wait_for("chat.postMessage", where=lambda call: call.args.get("channel") == "U0SEC1")
    assert bot.reminders_to("U0SEC2") == []  # held back by the rate limit
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC1")
    await bot.settle(timeout=20)
    assert bot.reminders_to("U0SEC2") == []
    assert (await bot.c.outbox.counts()).get("dropped") == 1
    async with bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).stage_key == "privacy"


async def test_a_directive_reminder_is_not_sent_once_acknowledged_or_once_revoked(directive_bot, slack):
    from tests.slack.test_directives import issue
    from workflows.commands import RevokeDirective

    bot = directive_bot
    ref = await issue(bot, "U0CHIEF", channels=("C0PATROL",), due=bot.clock() + 2 * H)
    posted = bot.card("C0PATROL", ref)
    in_patrol = lambda args: args.get("channel") in PATROL  # noqa: E731
    slack.fail_next("chat.postMessage", status=429, retry_after=1, times=3, where=in_patrol)
    bot.clock.advance(2 * H)
    await bot.c.reminders.run_once()  # three reminders, held back by the rate limit
    await bot.http.action(
        block_action(
            ActionId.ACKNOWLEDGE, acknowledge_button(posted.message)["value"], "U0OFF001", channel_id="C0PATROL"
        )
    )
    async with bot.c.uow() as uow:
        [directive] = await uow.directives.list_active()
    await bot.c.changes.handle(RevokeDirective(directive.id, "U0CHIEF", True, bot.c.clock()))
    await bot.settle(timeout=20)
    assert all(bot.reminders_to(officer) == [] for officer in PATROL)
    assert (await bot.c.outbox.counts()).get("dropped") == 3
