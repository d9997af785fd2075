"""Directives end to end: command staff issue them with /directive, the bot posts them to every
channel it can, officers acknowledge with one click, and command staff see who has and who has not.

Signed requests go to the real ASGI app; Slack is FakeSlack. What is asserted is what a person sees.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text as sql

from bot.blocks.directive_status import PENDING_PAGE
from bot.messages.ids import ActionId, CallbackId
from demo.slack_rules import message_errors
from tests.fakes.clock import ManualClock
from tests.fakes.fake_slack import RESPONSE_URL_METHOD, FakeSlack
from tests.fakes.signing import block_action, event_callback, view_submission
from tests.slack.harness import CONFIG, Bot, Card, everything_said, start_bot, stop_bot
from workflows.directives import acknowledge
from workflows.tool_services import record_request_outcome

CHIEF = "U0CHIEF"  # command staff by user id
DEPUTY = "U0DEPUTY"  # command staff through the user group S0CMD
OFFICERS = [f"U0OFF{n:03d}" for n in range(1, 6)]
STAFF_CONFIG = CONFIG.replace('command_staff = ["U0CHIEF"]', 'command_staff = ["U0CHIEF", "S0CMD"]')


# --- the harness for directives -----------------------------------------------------------------


def _fast(c) -> None:
    c.counts.tick_seconds = 0.05
    c.directory_seconds = ManualClock()  # cached roles expire when a test moves this clock
    c.directory.clock = c.directory_seconds.monotonic


# `settle` runs the count refresher at a time the test controls (the refresher takes `now`): each
# settle moves it a minute on, past the refresher's throttle (one update per message per 10 s, and
# 40 updates a minute in all), so the counts a test sees are current, with the throttle left on.
COUNT_STEP = timedelta(minutes=1)


def count_clock(bot: Bot) -> ManualClock:
    """The time `settle` last ran the count refresher at; never behind the wall clock, which the
    refresher's own background loop uses."""
    if not hasattr(bot, "count_clock"):
        bot.count_clock = ManualClock(datetime.now(UTC))  # type: ignore[attr-defined]
    return bot.count_clock  # type: ignore[attr-defined]


async def start(slack: FakeSlack, database_url: str, tmp_path) -> Bot:
    return await start_bot(slack, database_url, tmp_path, config=STAFF_CONFIG, configure=_fast)


stop = stop_bot


@pytest.fixture
async def staff_bot(slack, database_url, tmp_path):
    slack.usergroups["S0CMD"] = [DEPUTY]
    for channel in ("C0PATROL", "C0DETECT"):
        slack.channel_members[channel] = [*OFFICERS, CHIEF, "U0BOT"]
    bot = await start(slack, database_url, tmp_path)
    yield bot
    await stop(bot)


async def settle(bot: Bot, now: datetime | None = None, *, posts: bool = True) -> None:
    """Send everything due, let the relay record outcomes and counts, until nothing moves.

    Counts are refreshed at `now`, by default COUNT_STEP after the last settle (see count_clock)."""
    clock = count_clock(bot)
    if now is None:
        now = clock.set(max(clock(), datetime.now(UTC)) + COUNT_STEP)
    else:
        clock.set(max(clock(), now))
    for _ in range(500):
        await bot.settle()
        if posts:  # the sender records a post's outcome just after marking it sent: wait for that too
            async with bot.c.uow() as uow:
                if await uow.directive_posts.pending():
                    await asyncio.sleep(0.01)
                    continue
        queued = await bot.c.counts.run_once(now)
        counts = await bot.c.outbox.counts()
        if not queued and not counts.get("pending"):
            return
    raise AssertionError("directives did not settle")


def form_state(
    kind: str | None = "restricted",  # one click; a cease-use is attested (test_clearview_story.py)
    tool: str = "n:Clearview AI",
    text: str = "Stop using Clearview AI for any police work *now*.",
    channels: tuple[str, ...] = ("C0PATROL", "C0DETECT"),
    ack: bool = True,
    due: datetime | None = None,
) -> dict:
    option = {"type": "plain_text", "text": "x"}
    return {
        "kind": {
            "value": {"type": "radio_buttons", "selected_option": {"value": kind, "text": option} if kind else None}
        },
        "tool": {
            ActionId.DIRECTIVE_TOOL.value: {
                "type": "external_select",
                "selected_option": {"value": tool, "text": option} if tool else None,
            }
        },
        "text": {"value": {"type": "plain_text_input", "value": text}},
        "channels": {"value": {"type": "multi_conversations_select", "selected_conversations": list(channels)}},
        "ack": {
            "value": {
                "type": "checkboxes",
                "selected_options": [{"value": "required", "text": option}] if ack else [],
            }
        },
        "ack_due": {"value": {"type": "datetimepicker", "selected_date_time": int(due.timestamp()) if due else None}},
    }


async def submit_form(bot: Bot, user: str, metadata: str = "", **fields) -> dict | None:
    response = await bot.http.submit(
        view_submission(CallbackId.DIRECTIVE_FORM, form_state(**fields), user, private_metadata=metadata)
    )
    assert response.status_code == 200, response.text
    return json.loads(response.text) if response.text not in ("", "null") else None


async def issue(bot: Bot, user: str = CHIEF, **fields) -> str:
    """Type /directive, check the form opened, submit it; returns the new directive's reference."""
    opened = len(bot.slack.calls_to("views.open"))
    response = await bot.http.command("/directive", "", user)
    assert response.status_code == 200 and response.text in ("", "null"), response.text
    (call,) = (await bot.slack.wait_for("views.open", opened + 1))[opened:]
    assert call.args["view"]["callback_id"] == CallbackId.DIRECTIVE_FORM
    answer = await submit_form(bot, user, **fields)
    assert answer == {"response_action": "clear"}, answer
    await settle(bot)
    async with bot.c.uow() as uow:
        newest = max((d for d in await uow.directives.list_active()), key=lambda d: d.id)
    return newest.ref


def posted(bot: Bot, channel: str, ref: str) -> Card:
    return bot.card(channel, ref)


def report(bot: Bot, user: str, ref: str) -> Card:
    """The issuer's delivery report (a DM, updated in place)."""
    found = [
        (key, m)
        for key, m in bot.slack.messages.items()
        if key[0] == bot.slack.dm_with(user)
        and f"*{ref}* ·" in everything_said(m)
        and "your directive" in everything_said(m)
    ]
    assert found, f"no report of {ref} for {user}"
    (channel, ts), message = found[-1]
    return Card(channel, ts, message)


def said_to(bot: Bot, user: str) -> list[str]:
    """Everything said privately to `user` (ephemeral messages and DMs), oldest first."""
    out = []
    for call in bot.slack.calls:
        if not call.ok or call.method not in ("chat.postEphemeral", "chat.postMessage"):
            continue
        if call.args.get("user") == user or call.args.get("channel") == user:
            out.append(everything_said(call.args))
    return out


_clicks = itertools.count(1)


def press(bot: Bot, card: Card, action_id: str, user: str) -> dict:
    """A click on a message's button, as Slack sends it (with a response_url served by the fake)."""
    return block_action(
        action_id,
        card.buttons[action_id]["value"],
        user,
        channel_id=card.channel,
        message_ts=card.ts,
        message={
            "type": "message",
            "ts": card.ts,
            "text": card.message.get("text", ""),
            "blocks": card.message["blocks"],
        },
        response_url=bot.slack.new_response_url(f"{user}-{next(_clicks)}"),
    )


async def click(bot: Bot, card: Card, action_id: str, user: str):
    response = await bot.http.action(press(bot, card, action_id, user))
    assert response.status_code == 200, response.text
    await settle(bot)
    return response


async def answers(bot: Bot, user: str, count: int) -> list[str]:
    """The private answers sent back to `user` through their clicks' response_urls (waits for `count`)."""
    calls = await bot.slack.wait_for(
        RESPONSE_URL_METHOD, count, where=lambda c: c.path.startswith(f"/response/{user}-")
    )
    for call in calls:
        assert call.args["response_type"] == "ephemeral" and call.args["replace_original"] is False
    return [everything_said(c.args) for c in calls]


async def click_in_view(bot: Bot, view: dict, action_id: str, user: str) -> None:
    button = next(e for b in view["blocks"] for e in b.get("elements") or [] if e.get("action_id") == action_id)
    response = await bot.http.action(block_action(action_id, button["value"], user, view=view))
    assert response.status_code == 200, response.text
    await settle(bot)


def latest_view(bot: Bot) -> dict:
    return bot.slack.views[-1]


# --- issuing --------------------------------------------------------------------------------------


async def test_staff_issue_a_directive_and_it_reaches_every_channel(staff_bot, slack):
    bot = staff_bot
    due = datetime.now(UTC) + timedelta(days=2)
    ref = await issue(bot, due=due)
    assert ref == "DIR-0001"

    for channel in ("C0PATROL", "C0DETECT"):
        card = posted(bot, channel, ref)
        said = card.text
        for fact in (
            "Restricted: Clearview AI",
            "Stop using Clearview AI for any police work *now*.",
            ref,
            "<@U0CHIEF>",
        ):
            assert fact in said, (fact, said)
        assert "Acknowledge by" in said
        assert ActionId.ACKNOWLEDGE in card.buttons and ActionId.DIRECTIVE_DETAILS in card.buttons
        assert "0 of 6 acknowledged" in said  # the running count: officers and the chief, no bot

    # The issuer's report says where it went.
    said = report(bot, CHIEF, ref).text
    assert said.count("— posted") == 2 and "posted in 2 of 2 channels" in said and "every channel tried" in said

    # The status of record changed with the directive, and everything is on the record.
    async with bot.c.uow() as uow:
        tool = await uow.tools.get_by_key("clearview")
        trail = [e.action for e in await uow.audit.for_subject(ref)]
        tool_trail = [e.action for e in await uow.audit.for_subject("tool:clearview")]
    assert tool.status.value == "approved_with_conditions" and tool.status_source == ref
    assert trail == ["directive:issued"] and tool_trail == ["tool:registered"]


async def test_someone_not_in_command_staff_is_refused_privately(staff_bot, slack):
    bot = staff_bot
    response = await bot.http.command("/directive", "", OFFICERS[0])
    assert response.status_code == 200
    assert "Only command staff can issue" in response.json()["text"]
    assert slack.calls_to("views.open") == []

    # A forged submission of the form (never opened for them) is refused at submission too.
    answer = await submit_form(bot, OFFICERS[0])
    assert answer["response_action"] == "update"
    assert "Only command staff" in everything_said(answer["view"])
    await settle(bot)
    assert slack.calls_to("chat.postMessage") == []
    async with bot.c.uow() as uow:
        assert await uow.directives.list_active() == []


async def test_staff_through_a_user_group_lose_the_right_the_moment_they_leave_it(staff_bot, slack):
    bot = staff_bot
    response = await bot.http.command("/directive", "Clearview", DEPUTY)
    assert response.status_code == 200 and response.text in ("", "null")
    form = (await slack.wait_for("views.open"))[-1].args["view"]
    tool = next(b for b in form["blocks"] if b.get("block_id") == "tool")
    assert tool["element"]["initial_option"]["text"]["text"] == "New tool: “Clearview”"

    slack.usergroups["S0CMD"] = []  # removed from command staff while the form was open
    bot.c.directory_seconds.advance(bot.c.directory.ttl)  # …longer ago than any cached answer is kept
    answer = await submit_form(bot, DEPUTY)
    assert answer["response_action"] == "update" and "Only command staff" in everything_said(answer["view"])
    await settle(bot)
    assert slack.calls_to("chat.postMessage") == []


async def test_the_form_explains_what_is_missing(staff_bot, slack):
    bot = staff_bot
    answer = await submit_form(bot, CHIEF, kind=None, tool="", text="  ", channels=())
    assert answer["response_action"] == "errors"
    assert set(answer["errors"]) == {"kind", "tool", "text", "channels"}
    past = datetime.now(UTC) - timedelta(hours=1)
    answer = await submit_form(bot, CHIEF, due=past)
    assert answer == {"response_action": "errors", "errors": {"ack_due": "The due time must be in the future."}}
    assert slack.calls_to("chat.postMessage") == []


async def test_tool_picker_offers_known_tools_and_the_typed_name(staff_bot, slack):
    bot = staff_bot
    await issue(bot, tool="n:Clearview AI", kind="advisory", ack=False)
    await issue(bot, tool="n:ClearSky", kind="advisory", ack=False)

    async def options(typed: str) -> list[str]:
        payload = {
            "type": "block_suggestion",
            "user": {"id": CHIEF},
            "team": {"id": "T0TEAM"},
            "api_app_id": "A0APP",
            "token": "verification-token",
            "container": {"type": "view", "view_id": "V0FORM"},
            "action_id": ActionId.DIRECTIVE_TOOL.value,
            "block_id": "tool",
            "value": typed,
            "view": {"id": "V0FORM", "type": "modal", "callback_id": CallbackId.DIRECTIVE_FORM},
        }
        response = await bot.http.action(payload)
        assert response.status_code == 200, response.text
        return [o["text"]["text"] for o in response.json()["options"]]

    assert await options("clear") == ["ClearSky (Unknown)", "Clearview AI (Unknown)", "New tool: “clear”"]
    assert await options("clearveiw") == ["Clearview AI (Unknown)", "New tool: “clearveiw”"]
    assert await options("clearview.ai") == ["Clearview AI (Unknown)"]  # an exact match: nothing new to offer
    assert await options("") == ["ClearSky (Unknown)", "Clearview AI (Unknown)"]


# --- delivery -------------------------------------------------------------------------------------


async def test_a_directive_goes_everywhere_it_can_despite_429s_and_broken_channels(staff_bot, slack):
    bot = staff_bot
    slack.channel_errors["C0PUBLIC"] = "not_in_channel"  # public: the bot joins it
    slack.channel_errors["C0SECRET"] = "not_in_channel"  # private: it must be invited
    slack.private_channels.add("C0SECRET")
    slack.channel_errors["C0OLD"] = "is_archived"
    slack.channel_errors["C0GONE"] = "channel_not_found"
    slack.fail_next("chat.postMessage", status=429, retry_after=1, where=lambda a: a.get("channel") == "C0PATROL")
    channels = ("C0PATROL", "C0PUBLIC", "C0SECRET", "C0OLD", "C0GONE", "C0DETECT")
    started = time.monotonic()
    ref = await issue(bot, channels=channels)

    # Every channel that could take it has it; the rate limit was waited out, not skipped.
    for channel in ("C0PATROL", "C0PUBLIC", "C0DETECT"):
        assert ref in posted(bot, channel, ref).text
    attempts = [c for c in slack.all_calls_to("chat.postMessage") if c.args.get("channel") == "C0PATROL"]
    assert [c.attempt_status for c in attempts] == [429, 200]
    assert time.monotonic() - started >= 1.0  # Retry-After: 1
    public = [c for c in slack.all_calls_to("chat.postMessage") if c.args.get("channel") == "C0PUBLIC"]
    assert [(c.ok, (c.response or {}).get("error")) for c in public] == [(False, "not_in_channel"), (True, None)]
    assert "C0PUBLIC" in [c.args["channel"] for c in slack.calls_to("conversations.join")]  # joined in between

    # The issuer sees each channel's outcome and why the others failed.
    said = report(bot, CHIEF, ref).text
    assert "posted in 3 of 6 channels, 3 failed, every channel tried" in said
    assert "<#C0SECRET> — *not posted*: Clearance is not a member of this private channel" in said
    assert "<#C0OLD> — *not posted*: The channel is archived" in said
    assert "<#C0GONE> — *not posted*: Slack cannot find this channel" in said
    warnings = [s for s in said_to(bot, CHIEF) if "could not be posted" in s]
    assert len(warnings) == 3 and any("<#C0SECRET>" in w for w in warnings)

    # Once invited, a retry posts it there too.
    del slack.channel_errors["C0SECRET"]
    await click(bot, report(bot, CHIEF, ref), ActionId.DIRECTIVE_RETRY, CHIEF)
    assert ref in posted(bot, "C0SECRET", ref).text
    assert "posted in 4 of 6 channels, 2 failed" in report(bot, CHIEF, ref).text


async def test_officers_cannot_retry(staff_bot, slack):
    bot = staff_bot
    slack.channel_errors["C0OLD"] = "is_archived"
    ref = await issue(bot, channels=("C0PATROL", "C0OLD"))
    await click(bot, report(bot, CHIEF, ref), ActionId.DIRECTIVE_RETRY, OFFICERS[0])
    assert any("Only command staff" in s for s in said_to(bot, OFFICERS[0]))
    assert len([c for c in slack.all_calls_to("chat.postMessage") if c.args.get("channel") == "C0OLD"]) == 1


# --- acknowledging --------------------------------------------------------------------------------


async def test_one_click_acknowledges_and_a_second_says_it_is_recorded(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot)
    card = posted(bot, "C0PATROL", ref)
    officer = OFFICERS[0]
    await click(bot, card, ActionId.ACKNOWLEDGE, officer)
    (first,) = await answers(bot, officer, 1)
    assert f"You acknowledged *{ref}*" in first and "<!date^" in first

    await click(bot, card, ActionId.ACKNOWLEDGE, officer)
    (_, second) = await answers(bot, officer, 2)
    assert "You already acknowledged" in second and "recorded once" in second

    # Should the response_url fail, the answer still comes, as an ephemeral message through the outbox.
    slack.fail_next(RESPONSE_URL_METHOD, status=500)
    await click(bot, card, ActionId.ACKNOWLEDGE, officer)
    await settle(bot)
    (third,) = bot.ephemerals(officer)
    assert third["channel"] == "C0PATROL" and "You already acknowledged" in everything_said(third)

    # Should it get no answer (Slack may have shown it), it is not shown a second time another way.
    slack.drop_next(RESPONSE_URL_METHOD)
    await click(bot, card, ActionId.ACKNOWLEDGE, officer)
    await settle(bot)
    assert len(bot.ephemerals(officer)) == 1
    assert len(slack.all_calls_to(RESPONSE_URL_METHOD)) == 4  # tried once: not sent again

    # The running count moved, on both channels' messages.
    assert "1 of 6 acknowledged" in posted(bot, "C0PATROL", ref).text
    assert "1 of 6 acknowledged" in posted(bot, "C0DETECT", ref).text
    async with bot.c.uow() as uow:
        assert await uow.acks.users(1) == {officer}
        trail = [(e.action, e.actor) for e in await uow.audit.for_subject(ref)]
    assert trail == [("directive:issued", CHIEF), ("directive:acknowledged", officer)]


async def test_one_acknowledgement_whatever_the_retries_races_and_restarts(staff_bot, slack, database_url, tmp_path):
    bot = staff_bot
    ref = await issue(bot)
    card = posted(bot, "C0PATROL", ref)
    officer = OFFICERS[1]
    payload = press(bot, card, ActionId.ACKNOWLEDGE, officer)
    # Ten clicks at once (a double-click, Slack retrying, a second device)…
    responses = await asyncio.gather(*(bot.http.action(payload, retry_num=n if n % 2 else None) for n in range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    await settle(bot)
    # …and one more after a restart of the bot.
    await stop(bot)
    bot = await start(slack, database_url, tmp_path)
    try:
        response = await bot.http.action(payload)
        assert response.status_code == 200
        await settle(bot)
        async with bot.c.uow() as uow:
            assert await uow.acks.count(1) == 1
            assert [e.action for e in await uow.audit.for_subject(ref)].count("directive:acknowledged") == 1
        said = await answers(bot, officer, 11)
        assert len(said) == 11
        assert sum("You acknowledged" in s for s in said) == 1
        assert sum("You already acknowledged" in s for s in said) == 10
    finally:
        await stop(bot)
        # the fixture stops the first bot again; stopping twice is harmless


async def test_newcomers_are_asked_to_acknowledge_and_counted(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot, channels=("C0PATROL",))
    assert "0 of 6 acknowledged" in posted(bot, "C0PATROL", ref).text
    slack.channel_members["C0PATROL"].append("U0NEWBIE")
    response = await bot.http.event(
        event_callback(
            {"type": "member_joined_channel", "user": "U0NEWBIE", "channel": "C0PATROL", "channel_type": "C"}
        )
    )
    assert response.status_code == 200
    await settle(bot)
    (welcome,) = bot.ephemerals("U0NEWBIE")
    assert welcome["channel"] == "C0PATROL"
    said = everything_said(welcome)
    assert ref in said and "must acknowledge" in said
    assert any(e.get("action_id") == ActionId.ACKNOWLEDGE for b in welcome["blocks"] for e in b.get("elements") or [])
    assert "0 of 7 acknowledged" in posted(bot, "C0PATROL", ref).text

    # A bot joining is not asked, and not counted.
    slack.bots.add("U0OTHERBOT")
    slack.channel_members["C0PATROL"].append("U0OTHERBOT")
    await bot.http.event(event_callback({"type": "member_joined_channel", "user": "U0OTHERBOT", "channel": "C0PATROL"}))
    await settle(bot)
    assert bot.ephemerals("U0OTHERBOT") == []
    assert "0 of 7 acknowledged" in posted(bot, "C0PATROL", ref).text

    slack.channel_members["C0PATROL"].remove(OFFICERS[0])
    await bot.http.event(event_callback({"type": "member_left_channel", "user": OFFICERS[0], "channel": "C0PATROL"}))
    await settle(bot)
    assert "0 of 6 acknowledged" in posted(bot, "C0PATROL", ref).text


async def test_counts_are_right_for_a_channel_of_thousands(staff_bot, slack):
    bot = staff_bot
    people = [f"U1{n:06d}" for n in range(2_600)]
    slack.channel_members["C0ALL"] = [*people[:1300], "U0BOT", "U0RELAYBOT", *people[1300:]]
    slack.bots.add("U0RELAYBOT")
    # Slack rate-limits the second page once: the read waits out Retry-After and carries on.
    slack.fail_next("conversations.members", status=429, retry_after=1, where=lambda a: bool(a.get("cursor")))
    ref = await issue(bot, channels=("C0ALL",))
    async with bot.c.uow() as uow:  # 321 acknowledgements through the domain service
        for user in people[:321]:
            await acknowledge(uow, 1, user, datetime.now(UTC), in_audience=True)
        await uow.commit()
    bot.c.counts.wake()
    await settle(bot)
    assert "321 of 2600 acknowledged" in posted(bot, "C0ALL", ref).text
    pages = [c for c in slack.all_calls_to("conversations.members") if c.args.get("channel") == "C0ALL"]
    assert [c.attempt_status for c in pages] == [200, 429, 200, 200]
    assert all(c.args.get("limit") == "1000" for c in pages)

    # Command staff open the status: counts, who has not, and the full list page by page.
    await click(bot, posted(bot, "C0ALL", ref), ActionId.DIRECTIVE_DETAILS, CHIEF)
    status = latest_view(bot)
    said = everything_said(status)
    assert "321 of 2600" in said and "Not acknowledged yet (2279)" in said and "and 2239 more" in said
    await click_in_view(bot, status, ActionId.DIRECTIVE_PENDING, CHIEF)
    page = latest_view(bot)
    said = everything_said(page)
    assert [u for u in people if f"<@{u}>" in said] == people[321 : 321 + PENDING_PAGE]
    assert "Page 1 of 12" in said
    await click_in_view(bot, page, ActionId.DIRECTIVE_PENDING, CHIEF)
    assert "Page 2 of 12" in everything_said(latest_view(bot))
    assert slack.calls_to("views.update")[-1].args["view_id"] == page["id"]  # paged in place


async def test_the_running_count_is_coalesced_and_throttled(staff_bot, slack):
    bot = staff_bot
    slack.channel_members["C0BIG"] = [f"U2{n:05d}" for n in range(200)]
    ref = await issue(bot, channels=("C0BIG",))
    assert bot.c.counts.count_every == timedelta(seconds=10)  # the throttle as it runs in production
    bot.c.counts.tick_seconds = 3600  # only the test drives the refresh
    await settle(bot)
    async with bot.c.uow() as uow:
        (post,) = await uow.directive_posts.for_directive(int(ref.removeprefix("DIR-")))
    shown_at = post.count_shown_at  # when the message's count was last refreshed
    assert shown_at is not None
    card = posted(bot, "C0BIG", ref)
    updates_before = len(slack.calls_to("chat.update"))

    # A burst of 60 clicks: every one recorded and confirmed, one update of the message.
    assert "0 of 200 acknowledged" in card.text
    await asyncio.gather(*(bot.http.action(press(bot, card, ActionId.ACKNOWLEDGE, f"U2{n:05d}")) for n in range(60)))
    await settle(bot, shown_at + timedelta(seconds=5))  # within 10 s of the last count: none yet
    assert len(slack.calls_to("chat.update")) == updates_before
    now = shown_at + timedelta(seconds=11)
    await settle(bot, now)
    counts = [c for c in slack.calls_to("chat.update")[updates_before:] if c.args["channel"] == "C0BIG"]
    assert len(counts) == 1 and "60 of 200 acknowledged" in everything_said(counts[0].args)
    confirmed = await slack.wait_for(RESPONSE_URL_METHOD, 60)
    assert all("You acknowledged" in everything_said(c.args) for c in confirmed)

    # More clicks within the throttle window: no update until it has passed, then one.
    await asyncio.gather(
        *(bot.http.action(press(bot, card, ActionId.ACKNOWLEDGE, f"U2{n:05d}")) for n in range(60, 90))
    )
    await settle(bot, now + timedelta(seconds=5))
    assert len(slack.calls_to("chat.update")) == updates_before + 1
    await settle(bot, now + timedelta(seconds=11))
    assert len(slack.calls_to("chat.update")) == updates_before + 2
    assert "90 of 200 acknowledged" in posted(bot, "C0BIG", ref).text


# --- what command staff see, revoke and supersede ------------------------------------------------------


async def test_officers_see_only_their_own_acknowledgement(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot)
    card = posted(bot, "C0PATROL", ref)
    await click(bot, card, ActionId.ACKNOWLEDGE, OFFICERS[0])
    await click(bot, card, ActionId.DIRECTIVE_DETAILS, OFFICERS[0])
    said = everything_said(latest_view(bot))
    assert "You acknowledged it on" in said and "1 person has acknowledged" in said
    assert "Not acknowledged yet" not in said and "Revoke" not in said

    await click(bot, card, ActionId.DIRECTIVE_DETAILS, CHIEF)
    said = everything_said(latest_view(bot))
    assert "1 of 6" in said and "Not acknowledged yet (5)" in said and "<@U0OFF002>" in said
    assert "Revoke…" in said and "Supersede…" in said


OUTSIDER = "U0OUTSIDER"  # neither command staff nor in C0PATROL or C0DETECT


def clicked_elsewhere(bot: Bot, card: Card, action_id: str, user: str, channel: str) -> dict:
    """The card's button as it would arrive from another place (a DM, a channel the directive was
    not sent to): the same value, which names the directive and vouches for nothing else."""
    value = card.buttons[action_id]["value"]
    return block_action(
        action_id, value, user, channel_id=channel, message_ts="1.1", response_url=bot.slack.new_response_url(user)
    )


async def test_a_directive_is_read_and_acknowledged_only_by_those_it_was_sent_to(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot, text="Stop using Clearview AI: PSD investigation of DC Smith.", channels=("C0DETECT",))
    card = posted(bot, "C0DETECT", ref)

    response = await bot.http.action(clicked_elsewhere(bot, card, ActionId.DIRECTIVE_DETAILS, OUTSIDER, "D0OUT"))
    assert response.status_code == 200
    await settle(bot)
    said = everything_said(latest_view(bot))
    assert "PSD investigation" not in said and f"{ref}* was sent to channels you are not in" in said

    response = await bot.http.action(clicked_elsewhere(bot, card, ActionId.ACKNOWLEDGE, OUTSIDER, "C0GENERAL"))
    assert response.status_code == 200
    await settle(bot)
    async with bot.c.uow() as uow:
        assert await uow.acks.count(1) == 0
    assert "was sent to channels you are not in" in everything_said(bot.ephemerals(OUTSIDER)[-1])

    # A member clicking from somewhere else (a reminder in a DM): Slack lists them in the channel.
    response = await bot.http.action(clicked_elsewhere(bot, card, ActionId.ACKNOWLEDGE, OFFICERS[0], "D0OFF"))
    assert response.status_code == 200
    await settle(bot)
    async with bot.c.uow() as uow:
        assert await uow.acks.users(1) == {OFFICERS[0]}


async def test_when_slack_cannot_say_who_is_in_the_channel_nothing_is_recorded(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot, channels=("C0DETECT",))
    card = posted(bot, "C0DETECT", ref)
    bot.c.members.forget("C0DETECT")
    slack.channel_errors["C0DETECT"] = "channel_not_found"
    response = await bot.http.action(clicked_elsewhere(bot, card, ActionId.ACKNOWLEDGE, OFFICERS[0], "D0OFF"))
    assert response.status_code == 200
    await settle(bot, posts=False)
    async with bot.c.uow() as uow:
        assert await uow.acks.count(1) == 0
    assert "could not check your membership of the directive's channels" in " ".join(said_to(bot, OFFICERS[0]))


async def test_revoking_updates_the_messages_and_restores_the_status(staff_bot, slack):
    bot = staff_bot
    async with bot.c.uow() as uow:  # approved earlier through the request workflow
        await record_request_outcome(uow, "Clearview", "REQ-0007", "approved", "U0SEC1", datetime.now(UTC))
        await uow.commit()
    ref = await issue(bot)
    original = {ch: posted(bot, ch, ref) for ch in ("C0PATROL", "C0DETECT")}
    await click(bot, original["C0PATROL"], ActionId.ACKNOWLEDGE, OFFICERS[0])
    await click(bot, original["C0PATROL"], ActionId.DIRECTIVE_DETAILS, CHIEF)
    await click_in_view(bot, latest_view(bot), ActionId.DIRECTIVE_REVOKE, CHIEF)
    form = latest_view(bot)
    assert form["callback_id"] == CallbackId.DIRECTIVE_REVOKE_FORM
    assert slack.calls_to("views.push")  # on top of the status modal

    # An officer's forged submission changes nothing.
    state = {"reason": {"value": {"type": "plain_text_input", "value": "no"}}}
    meta = form["private_metadata"]
    response = await bot.http.submit(
        view_submission(CallbackId.DIRECTIVE_REVOKE_FORM, state, OFFICERS[0], private_metadata=meta)
    )
    assert response.json()["response_action"] == "update"
    assert "Only command staff" in everything_said(response.json()["view"])

    state = {"reason": {"value": {"type": "plain_text_input", "value": "Legal cleared it <!channel>."}}}
    response = await bot.http.submit(
        view_submission(CallbackId.DIRECTIVE_REVOKE_FORM, state, CHIEF, private_metadata=meta)
    )
    assert response.json()["response_action"] == "update" and "is revoked" in everything_said(response.json()["view"])
    await settle(bot)

    for channel, before in original.items():
        card = Card(channel, before.ts, slack.message(channel, before.ts))  # updated in place
        assert "*Revoked* by <@U0CHIEF>" in card.text and ActionId.ACKNOWLEDGE not in card.buttons
        notice = slack.messages_in(channel)[-1]
        said = everything_said(notice)
        assert f"{ref} revoked" in said and "Legal cleared it <!channel>." in said  # rich text: shown, inert
        assert "Status of record now: *Approved*" in said
    assert "*Revoked*" in report(bot, CHIEF, ref).text

    async with bot.c.uow() as uow:
        tool = await uow.tools.get_by_key("clearview")
        trail = [(e.action, e.reason) for e in await uow.audit.for_subject(ref)]
    assert (tool.status.value, tool.status_source) == ("approved", "REQ-0007")
    assert trail[-1] == ("directive:revoked", "Legal cleared it <!channel>.")

    # A click on a copy of the message from before the revocation records nothing and says why.
    await click(bot, original["C0PATROL"], ActionId.ACKNOWLEDGE, OFFICERS[1])
    assert "has been revoked" in everything_said(bot.ephemerals(OFFICERS[1])[-1])
    async with bot.c.uow() as uow:
        assert await uow.acks.users(1) == {OFFICERS[0]}


async def test_superseding_a_cease_use_with_an_approval(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot, kind="cease_use")
    # An approval cannot simply be issued over the cease-use: the form says how to lift it.
    answer = await submit_form(bot, CHIEF, kind="approved", tool="t:clearview", text="Cleared.")
    assert answer["response_action"] == "errors" and "Supersede" in answer["errors"]["kind"]

    opened = len(slack.calls_to("views.open"))
    await click(bot, report(bot, CHIEF, ref), ActionId.DIRECTIVE_SUPERSEDE, CHIEF)
    form = (await slack.wait_for("views.open", opened + 1))[-1].args["view"]
    assert form["title"]["text"] == f"Supersede {ref}"
    kind = next(b for b in form["blocks"] if b.get("block_id") == "kind")
    assert kind["element"]["initial_option"]["value"] == "approved"
    answer = await submit_form(
        bot, CHIEF, metadata=form["private_metadata"], kind="approved", tool="", text="Cleared after review.", ack=False
    )
    assert answer == {"response_action": "clear"}
    await settle(bot)

    new = posted(bot, "C0PATROL", "DIR-0002")
    assert "Approved for use: Clearview AI" in new.text and f"This replaces *{ref}*" in new.text
    assert ActionId.ACKNOWLEDGE not in new.buttons and "No acknowledgement is required" in new.text
    old = posted(bot, "C0PATROL", f"{ref} ")
    assert "*Superseded* by *DIR-0002*" in old.text and ActionId.ACKNOWLEDGE not in old.buttons
    async with bot.c.uow() as uow:
        tool = await uow.tools.get_by_key("clearview")
    assert (tool.status.value, tool.status_source, tool.override) == ("approved", "DIR-0002", None)

    # Only command staff may supersede, at the moment of submission too.
    answer = await submit_form(bot, OFFICERS[0], metadata=json.dumps({"s": 2}), kind="cease_use", tool="")
    assert answer["response_action"] == "update" and "Only command staff" in everything_said(answer["view"])
    await click(bot, report(bot, CHIEF, "DIR-0002"), ActionId.DIRECTIVE_SUPERSEDE, OFFICERS[0])
    assert any("Only command staff" in s for s in said_to(bot, OFFICERS[0]))


async def test_directive_list_and_status_by_reference(staff_bot, slack):
    bot = staff_bot
    await issue(bot)
    response = await bot.http.command("/directive", "list", CHIEF)
    said = everything_said(response.json())
    assert "Directives in force (1)" in said and "DIR-0001" in said and "0 acknowledged" in said
    assert message_errors(response.json()) == []
    await bot.http.command("/directive", "dir-1", CHIEF)
    await settle(bot)
    assert "0 of 6" in everything_said(latest_view(bot))


# --- untrusted text -------------------------------------------------------------------------------


async def test_directive_text_is_shown_as_written_but_cannot_ping_or_link(staff_bot, slack):
    bot = staff_bot
    text = "*Stop* _now_. <!channel> @here <https://evil.example|Read the policy> & <@U0OFF001>"
    ref = await issue(bot, tool="n:<!here> Evil <http://x.example|tool>", text=text)
    card = posted(bot, "C0PATROL", ref)
    message = slack.message(card.channel, card.ts)
    # Slack parses mentions and links only in mrkdwn (and the notification text): none may be active there.
    parsed = [message["text"]]
    parsed += [b["text"]["text"] for b in message["blocks"] if (b.get("text") or {}).get("type") == "mrkdwn"]
    for active in ("<!channel>", "<!here>", "<https://evil.example", "<http://x.example", "<@U0OFF001>"):
        assert all(active not in text for text in parsed), active
    section = next(b for b in message["blocks"] if b["type"] == "section")
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("*Stop* _now_. &lt;!channel&gt; @\u200bhere &lt;https://evil.example|")
    header = message["blocks"][0]
    assert header["type"] == "header" and "<!here> Evil <http://x.example|tool>" in header["text"]["text"]
    assert "&lt;!here&gt;" in message["text"]  # the notification text is escaped


async def test_an_outcome_lost_in_a_crash_is_read_back_from_the_outbox(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot, channels=("C0PATROL",))
    async with bot.c.uow() as uow:  # as if the process died between sending the post and recording it
        await uow.session.execute(sql("UPDATE directive_posts SET outcome = 'pending', ts = NULL"))
        await uow.commit()
    await settle(bot, datetime.now(UTC), posts=False)
    async with bot.c.uow() as uow:
        (post,) = await uow.directive_posts.for_directive(1)
    assert post.outcome == "pending"  # left alone while it might still be on its way…
    await settle(bot, datetime.now(UTC) + timedelta(minutes=3), posts=False)
    async with bot.c.uow() as uow:
        (post,) = await uow.directive_posts.for_directive(1)
    assert (post.outcome, post.ts) == ("posted", posted(bot, "C0PATROL", ref).ts)  # …then read back


async def test_a_newcomer_who_joins_while_the_database_is_gone_is_shown_the_directive_once_it_is_back(staff_bot, slack):
    """The delivery is answered 503 (Slack retries it), not 200 and dropped; the retry is handled once."""
    from tests.slack.test_store_down import database_gone

    bot = staff_bot
    ref = await issue(bot, channels=("C0PATROL",))
    slack.channel_members["C0PATROL"].append("U0NEWBIE")
    joined = event_callback(
        {"type": "member_joined_channel", "user": "U0NEWBIE", "channel": "C0PATROL", "channel_type": "C"},
        event_id="Ev0JOINED",
    )
    with database_gone(bot):
        refused = await bot.http.event(joined)
    assert refused.status_code == 503
    await settle(bot)
    assert bot.ephemerals("U0NEWBIE") == []

    assert (await bot.http.event(joined)).status_code == 200  # Slack's retry, same event_id
    assert (await bot.http.event(joined)).status_code == 200  # and once more: handled once
    await settle(bot)
    (welcome,) = bot.ephemerals("U0NEWBIE")
    assert ref in everything_said(welcome)
