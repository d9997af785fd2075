"""/tool-usage end to end: signed slash commands and clicks through the real app against the fake
Slack. Who may ask (command staff, the privacy stage's reviewers, [roles] usage_readers through a
user group) is checked at each question and click; everyone else is told it is restricted; the
answer stays within Slack's limits for 2,000 people; Send as CSV uploads the file to a DM."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from datetime import UTC, datetime, timedelta

import pytest

from bot.messages.ids import ActionId
from demo.slack_rules import message_errors
from tests.fakes.signing import block_action
from tests.slack.harness import CONFIG, start_bot, stop_bot
from tests.slack.test_tool_status import reads
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveDraft, DirectiveIssued
from workflows.directives import acknowledge, issue_directive

CHIEF, PRIVACY, READER, OFFICER = "U0CHIEF", "U0PRIV1", "U0READER", "U0OFFICER"
READERS_GROUP = "S0READERS"


@pytest.fixture
async def bot(slack, database_url, tmp_path):
    slack.usergroups[READERS_GROUP] = [READER]
    config = CONFIG.replace(
        'command_staff = ["U0CHIEF"]', f'command_staff = ["U0CHIEF"]\nusage_readers = ["{READERS_GROUP}"]'
    )
    bot = await start_bot(slack, database_url, tmp_path, config=config)
    yield bot
    await stop_bot(bot)


async def ask(bot, text: str, user: str = CHIEF) -> tuple[str, dict]:
    response = await bot.http.command("/tool-usage", text, user)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer.get("response_type") == "ephemeral"
    assert message_errors(answer) == []  # valid Block Kit within Slack's limits
    return reads(answer).replace("*", ""), answer


async def cease_use(bot, tool: str, people: list[str]) -> str:
    """A restricted directive (one click) acknowledged by `people`, through the domain's services."""
    draft = DirectiveDraft(DirectiveKind.RESTRICTED, tool, "Stop using it.", ("C0PATROL",), True, None)
    now = datetime.now(UTC)
    async with bot.c.uow() as uow:
        events = await issue_directive(uow, draft, CHIEF, True, now)
        directive = next(e for e in events if isinstance(e, DirectiveIssued)).directive
        for n, person in enumerate(people):
            await acknowledge(uow, directive.stored_id, person, now + timedelta(seconds=n), in_audience=True)
        await uow.commit()
    return directive.ref


async def test_command_staff_see_everyone_linked_with_dates(bot):
    await bot.request_tool("U0ANNA", tool_name="Clearview AI", prior_use="used")
    await bot.request_tool("U0BEN", tool_name="clearview.ai", prior_use="none")
    await bot.settle()
    ref = await cease_use(bot, "Clearview", ["U0ANNA", "U0EVE"])
    said, answer = await ask(bot, "Clearview")
    assert "People linked to Clearview AI" in said
    assert "3 people — 2 requested · 1 declared prior use · 2 acknowledged" in said
    assert f"<@U0ANNA> — acknowledged {ref} (Restricted) " in said
    assert "declared prior use REQ-0001 (Already used for police work)" in said
    assert "<@U0BEN> — requested REQ-0002 (open)" in said
    dates = [e for b in answer["blocks"] if b["type"] == "rich_text" for e in b["elements"][0]["elements"]]
    assert sum(1 for e in dates if e["type"] == "date") == 5  # every link with its date
    assert answer["text"] == "3 people linked to Clearview AI"
    buttons = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Send as CSV"]


async def test_the_privacy_stage_and_a_usage_readers_group_may_ask_others_are_told_politely(bot, slack):
    await bot.request_tool("U0ANNA", tool_name="Clearview AI")
    await bot.settle()
    for who in (PRIVACY, READER):
        said, _ = await ask(bot, "clearview", who)
        assert "1 person — 1 requested" in said
    said, answer = await ask(bot, "clearview", OFFICER)
    assert "Sorry, /tool-usage is restricted" in said and "U0ANNA" not in json.dumps(answer)
    slack.usergroups[READERS_GROUP] = []  # taken out of the group: refused at the next question
    bot.c.directory.forget(READERS_GROUP)
    said, _ = await ask(bot, "clearview", READER)
    assert "restricted" in said


async def test_no_name_a_vendor_and_a_name_nobody_used(bot):
    said, _ = await ask(bot, "   ")
    assert "Say which tool: /tool-usage Clearview" in said.replace("`", "")
    await bot.request_tool("U0CARA", tool_name="GrayKey", vendor="Grayshift LLC", prior_use="signed_up")
    await bot.settle()
    said, _ = await ask(bot, "grayshift")
    assert "“grayshift” is a vendor" in said and "<@U0CARA>" in said
    said, _ = await ask(bot, "graykee")
    assert "No tool is called “graykee”." in said and "<@U0CARA>" in said
    said, _ = await ask(bot, "Palantir")
    assert "No tool or vendor on record is called “Palantir”." in said


async def test_two_thousand_people_fit_one_message_and_the_csv_goes_to_a_dm(bot, slack):
    people = [f"U0P{n:05d}" for n in range(2000)]
    slack.channel_members["C0PATROL"] = people  # the workspace's members, as users.list gives them
    slack.users["U0P00007"] = {"real_name": '=HYPERLINK("http://x")', "profile": {"real_name": "=HYPERLINK(1)"}}
    ref = await cease_use(bot, "Clearview AI", people)
    said, answer = await ask(bot, "Clearview AI")
    assert "2000 people — 2000 acknowledged" in said and "…and 1980 more" in said
    assert len(answer["blocks"]) <= 50 and len(json.dumps(answer)) < 40_000
    [button] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    url = slack.new_response_url("usage")
    click = block_action(
        ActionId.USAGE_CSV,
        button["value"],
        CHIEF,
        container={"type": "message", "is_ephemeral": True},
        response_url=url,
    )
    assert (await bot.http.action(click)).status_code == 200
    await slack.wait_for("response_url", timeout=10)
    [told] = slack.calls_to("response_url")
    assert "is in your direct messages with Clearance" in told.args["text"]
    assert [c.method for c in slack.calls if c.method.startswith("files.") or c.method == "upload"] == [
        "files.getUploadURLExternal",
        "upload",
        "files.completeUploadExternal",
    ]
    [shared] = slack.files
    assert shared["channel"] == slack.dm_with(CHIEF) and shared["name"].startswith("usage-clearview-")
    rows = list(csv.reader(io.StringIO(shared["content"].decode())))
    assert rows[0] == ["person id", "person name", "tool", "link", "when", "detail"]
    assert len(rows) == 2001 and {r[3] for r in rows[1:]} == {"acknowledged"}
    seven = next(r for r in rows if r[0] == "U0P00007")
    assert seven[1] == "'=HYPERLINK(1)" and seven[5] == f"{ref}: Restricted"  # a formula made inert
    assert next(r for r in rows if r[0] == "U0P00008")[1] == "User U0P00008"


async def test_the_csv_button_checks_the_role_again_at_the_click(bot, slack):
    await bot.request_tool("U0ANNA", tool_name="Clearview AI")
    await bot.settle()
    _, answer = await ask(bot, "Clearview", READER)
    [button] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    slack.usergroups[READERS_GROUP] = []
    bot.c.directory.forget(READERS_GROUP)
    url = slack.new_response_url("late")
    click = block_action(
        ActionId.USAGE_CSV,
        button["value"],
        READER,
        container={"type": "message", "is_ephemeral": True},
        response_url=url,
    )
    await bot.http.action(click)
    await slack.wait_for("response_url", timeout=10)
    assert "restricted" in slack.calls_to("response_url")[0].args["text"]
    assert slack.files == [] and not slack.calls_to("files.getUploadURLExternal")


async def test_long_attestations_are_cut_short_in_the_answer_and_whole_in_the_csv(bot, slack):
    """Still holding, each with the most case numbers and the longest account the form takes: the
    page of 20 stays a valid message well within Slack's size; the CSV keeps every character."""
    from workflows.attestations import CASE_LIMIT, CASES_LIMIT, HELD_LIMIT
    from workflows.attesting import attest_directive

    people = [f"U0H{n:05d}" for n in range(25)]
    draft = DirectiveDraft(DirectiveKind.CEASE_USE, "Clearview AI", "Stop using it.", ("C0PATROL",), True, None)
    now = datetime.now(UTC)
    cases = ", ".join(f"{n:02d}" + "9" * (CASE_LIMIT - 2) for n in range(CASES_LIMIT))
    held = ("Stills of suspects; " * 200)[:HELD_LIMIT].strip()
    async with bot.c.uow() as uow:
        events = await issue_directive(uow, draft, CHIEF, True, now)
        directive = next(e for e in events if isinstance(e, DirectiveIssued)).directive
        for n, person in enumerate(people):
            at = now + timedelta(seconds=n)
            await attest_directive(uow, directive.stored_id, person, "still_holding", cases, held, at, in_audience=True)
        await uow.commit()
    said, answer = await ask(bot, "Clearview AI")  # ask() checks it against Slack's limits
    assert "25 people — 25 attested" in said and "…and 5 more" in said
    assert len(json.dumps(answer)) < 20_000 and held not in said and "still hold material from it" in said
    [button] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    click = block_action(
        ActionId.USAGE_CSV,
        button["value"],
        CHIEF,
        container={"type": "message", "is_ephemeral": True},
        response_url=slack.new_response_url("usage"),
    )
    assert (await bot.http.action(click)).status_code == 200
    await slack.wait_for("response_url", timeout=10)
    [shared] = slack.files
    rows = list(csv.reader(io.StringIO(shared["content"].decode())))
    assert len(rows) == 26 and all(held in r[5] and cases in r[5] for r in rows[1:])


async def test_licences_authorise_named_people_group_members_as_slack_says_and_everyone(bot, slack):
    """A lapsed licence for everyone, then one for @major-crimes (its members asked of Slack at the
    question), then one naming people: the message counts and shows them, says who everyone
    was, and the CSV has a row per authorised person with the licence's scope and validity."""
    from workflows.licences import Licence, Scope, ScopeKind

    await bot.request_tool("U0ANNA", tool_name="Clearview AI")
    await bot.settle()
    slack.usergroups["S0MCU"] = ["U0FAY", "U0GUS"]
    start = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    lapsed = datetime(2026, 3, 1, tzinfo=UTC)
    scopes = (
        (Scope(ScopeKind.EVERYONE), {"expires_at": lapsed, "lapsed_at": lapsed}),
        (Scope(ScopeKind.GROUPS, groups=("S0MCU",), group_names=("major-crimes",)), {"expires_at": None}),
        (Scope(ScopeKind.PEOPLE, people=("U0HAL", "U0IDA")), {"expires_at": datetime(2027, 12, 1, tzinfo=UTC)}),
    )
    async with bot.c.uow() as uow:
        for n, (scope, more) in enumerate(scopes):
            await uow.licences.add(
                Licence("clearview", "REQ-0001", "U0ANNA", (), scope, start + timedelta(days=60 * n), **more)
            )
        await uow.commit()
    said, answer = await ask(bot, "Clearview")
    assert "5 people — 1 requested · 1 declared prior use · 4 authorised · 2 licence owner" in said, said
    assert "<@U0HAL> — authorised LIC-0003 (named people, until 2027-12-01, from REQ-0001)" in said
    assert "<@U0FAY> — authorised LIC-0002 (member of @major-crimes, no expiry, from REQ-0001)" in said
    assert "LIC-0001 (REQ-0001) was for everyone, lapsed 2026-03-01: anyone may have used it then." in said
    assert slack.calls_to("usergroups.users.list")[-1].args["usergroup"] == "S0MCU"
    [button] = [e for b in answer["blocks"] if b["type"] == "actions" for e in b["elements"]]
    click = block_action(
        ActionId.USAGE_CSV, button["value"], CHIEF, container={"type": "message", "is_ephemeral": True},
        response_url=slack.new_response_url("usage"),
    )  # fmt: skip
    assert (await bot.http.action(click)).status_code == 200
    await slack.wait_for("response_url", timeout=10)
    [shared] = slack.files
    rows = list(csv.reader(io.StringIO(shared["content"].decode())))
    authorised = sorted((r[0], r[5]) for r in rows if r[3] == "authorised")
    assert authorised == [
        ("U0FAY", "LIC-0002: member of @major-crimes, no expiry, from REQ-0001"),
        ("U0GUS", "LIC-0002: member of @major-crimes, no expiry, from REQ-0001"),
        ("U0HAL", "LIC-0003: named people, until 2027-12-01, from REQ-0001"),
        ("U0IDA", "LIC-0003: named people, until 2027-12-01, from REQ-0001"),
    ]


async def test_a_current_licence_for_everyone_is_said_and_a_group_slack_cannot_list_is_named(bot, slack):
    from workflows.licences import Licence, Scope, ScopeKind

    await bot.request_tool("U0ANNA", tool_name="Clearview AI")
    await bot.settle()
    now = datetime.now(UTC)
    async with bot.c.uow() as uow:
        groups = Scope(ScopeKind.GROUPS, groups=("S0GONE",), group_names=("traffic",))
        await uow.licences.add(Licence("clearview", "REQ-0001", "U0ANNA", (), groups, now - timedelta(days=9), None))
        await uow.licences.add(Licence("clearview", "REQ-0001", "U0ANNA", (), Scope(ScopeKind.EVERYONE), now, None))
        await uow.commit()
    slack.fail_next("usergroups.users.list", status=500, times=10)
    said, answer = await ask(bot, "Clearview")
    assert "Everyone may use it: LIC-0002 (REQ-0001) is for everyone, no expiry." in said
    assert "Slack could not list the members of @traffic just now" in said
    assert "1 person — 1 requested" in said and "· 1 licence owner" in said and "authorised" not in said


BUDGET, SLOW = 0.2, 0.6  # seconds: the answer's budget, shortened for the test, and a slow Slack


def hurry(bot, budget: float = BUDGET) -> None:
    """Shorten /tool-usage's budget (the listener's own deps), so that a slow Slack is past it quickly."""
    from bot.listeners.usage import UsageDeps

    next(g.deps for g in bot.c.listeners.groups if isinstance(g.deps, UsageDeps)).answer_budget = budget


async def licensed_to_a_group(bot, slack, group: str = "S0MCU", handle: str = "major-crimes") -> None:
    from workflows.licences import Licence, Scope, ScopeKind

    await bot.request_tool("U0ANNA", tool_name="Clearview AI")
    await bot.settle()
    slack.usergroups[group] = ["U0FAY", "U0GUS"]
    scope = Scope(ScopeKind.GROUPS, groups=(group,), group_names=(handle,))
    async with bot.c.uow() as uow:
        await uow.licences.add(Licence("clearview", "REQ-0001", "U0ANNA", (), scope, datetime.now(UTC), None))
        await uow.commit()


async def ask_slowly(bot, slack, text: str, user: str = CHIEF) -> tuple[str, dict]:
    """Asked with a response_url of the fake's; returns what the ack said and what followed there."""
    url = slack.new_response_url("usage")
    _, acked = await ask_with(bot, text, user, url)
    said = reads(acked)
    assert "Looking up who is linked to" in said and "the answer will follow here" in said
    assert not slack.calls_to("response_url")  # acked before the answer was ready
    [followed] = [c.args for c in await slack.wait_for("response_url", timeout=10)]
    assert message_errors(followed) == [] and followed["response_type"] == "ephemeral"
    return said, followed


async def ask_with(bot, text: str, user: str, response_url: str, **where) -> tuple[str, dict]:
    response = await bot.http.command("/tool-usage", text, user, response_url=response_url, **where)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer.get("response_type") == "ephemeral" and message_errors(answer) == []
    return reads(answer).replace("*", ""), answer


async def test_a_slow_group_lookup_is_acked_at_once_and_the_answer_follows_through_the_response_url(bot, slack):
    hurry(bot)
    await licensed_to_a_group(bot, slack)
    slack.delays["usergroups.users.list"] = SLOW
    said, followed = await ask_slowly(bot, slack, "  Clearview   *AI*  ")
    # What they typed, shown as typed (rich text), made inert in the notification text.
    assert "Looking up who is linked to Clearview *AI* — Slack is slow to list a user group" in said
    assert "*AI*" not in said.splitlines()[0]
    answer = reads(followed).replace("*", "")
    assert "<@U0FAY> — authorised LIC-0001 (member of @major-crimes, no expiry, from REQ-0001)" in answer
    assert "<@U0GUS> — authorised" in answer and followed["text"].startswith("3 people linked to Clearview AI")
    buttons = [e for b in followed["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert [b["text"]["text"] for b in buttons] == ["Send as CSV"]


async def test_a_quick_answer_is_still_given_in_the_ack_and_nothing_follows(bot, slack):
    hurry(bot, 1.5)  # well within it on a busy machine, yet short of the delay the others use
    await licensed_to_a_group(bot, slack)
    slack.delays["usergroups.users.list"] = 0.05
    url = slack.new_response_url("usage")
    said, _ = await ask_with(bot, "Clearview", CHIEF, url)
    assert "<@U0FAY> — authorised" in said and "Looking up" not in said
    await slack.idle()
    await asyncio.sleep(SLOW)
    assert not slack.calls_to("response_url") and not slack.calls_to("chat.postEphemeral")


async def test_a_slow_group_slack_then_cannot_list_is_named_in_the_answer_that_follows(bot, slack):
    hurry(bot)
    await licensed_to_a_group(bot, slack, "S0GONE", "traffic")
    slack.delays["usergroups.users.list"] = SLOW
    slack.fail_next("usergroups.users.list", status=500, times=10)
    _, followed = await ask_slowly(bot, slack, "Clearview")
    answer = reads(followed)
    assert "Slack could not list the members of @traffic just now" in answer
    assert "U0FAY" not in json.dumps(followed)


async def test_a_role_slack_is_slow_to_check_then_cannot_is_told_after_the_ack(bot, slack):
    """An error after the early ack (the usage readers' group cannot be listed) still reaches them,
    through the command's response_url: asked in a DM with someone else, where the bot is not and
    an ephemeral message could not go."""
    hurry(bot)
    await licensed_to_a_group(bot, slack)
    slack.delays["usergroups.users.list"] = SLOW
    slack.fail_next("usergroups.users.list", status=500, times=10)
    said, _ = await ask_with(bot, "Clearview", READER, slack.new_response_url("usage"), channel_id="D0WITHFAY")
    assert "Looking up who is linked to Clearview" in said
    [message] = [c.args for c in await slack.wait_for("response_url", timeout=10)]
    assert message_errors(message) == [] and message["response_type"] == "ephemeral"
    assert "could not check your usage reader role with Slack just now" in message["text"]
    assert "U0FAY" not in json.dumps(message)
    await bot.settle()
    told_again = [c for c in slack.calls_to("chat.postMessage") if c.args["channel"] in (READER, "D0WITHFAY")]
    assert not slack.calls_to("chat.postEphemeral") and not told_again  # once, by one way


async def test_a_refusal_after_the_ack_whose_response_url_has_expired_comes_privately_where_they_asked(bot, slack):
    hurry(bot)
    await licensed_to_a_group(bot, slack)
    slack.delays["usergroups.users.list"] = SLOW
    slack.fail_next("usergroups.users.list", status=500, times=10)
    slack.fail_next("response_url", status=404, error="expired_url")
    await ask_with(bot, "Clearview", READER, slack.new_response_url("usage"), channel_id="C0GENERAL")
    [message] = [c.args for c in await slack.wait_for("chat.postEphemeral", timeout=10)]
    assert message_errors(message) == [] and message["channel"] == "C0GENERAL" and message["user"] == READER
    assert "could not check your usage reader role with Slack just now" in message["text"]
