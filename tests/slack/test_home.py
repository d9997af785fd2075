"""The Home tab, end to end: what officers, reviewers and command staff see, its buttons, and that
it stays current and within Block Kit's limits."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from bot.blocks.home import HomeData, home_view
from bot.messages.ids import ActionId
from tests.fakes.signing import block_action
from tests.slack.clocked import start_clocked_bot
from tests.slack.harness import CONFIG, everything_said, stop_bot
from workflows.commands import LowerTier, SubmitRequest
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import Directive
from workflows.policy import Policy, Stage
from workflows.requests import PriorUse, RequestDraft, RequestStatus, ToolRequest

H = timedelta(hours=1)
SLACK_HOME_BLOCKS = 100  # Slack: a Home tab holds at most 100 blocks (api.slack.com/surfaces/app-home)


@pytest.fixture
async def bot(slack, database_url, tmp_path, clock):
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock)
    yield bot
    await stop_bot(bot)


def buttons(view: dict) -> dict[str, list[dict]]:
    """block_id -> the buttons in that block."""
    found: dict[str, list[dict]] = {}
    for block in view["blocks"]:
        for element in [*(block.get("elements") or []), block.get("accessory") or {}]:
            if element.get("type") == "button":
                found.setdefault(block.get("block_id", ""), []).append(element)
    return found


def review_buttons(view: dict, request_id: int) -> dict[str, dict]:
    return {b["action_id"]: b for b in buttons(view).get(f"home-review-{request_id}", [])}


async def click_home(bot, view: dict, button: dict, user: str):
    response = await bot.http.action(block_action(button["action_id"], button["value"], user, view=view))
    assert response.status_code == 200
    return response


async def submit_many(bot, n: int, requester: str = "U0OFFICER") -> list[int]:
    """n requests, each a minute after the last (set up through the domain service, not the form)."""
    draft = RequestDraft("Tool", "vendor.example", "A purpose long enough", "", ("none",), PriorUse.NONE)
    ids = []
    for number in range(n):
        bot.clock.advance(timedelta(minutes=1))
        named = dataclasses.replace(draft, tool_name=f"Tool {number:02d}")
        events = await bot.c.changes.handle(SubmitRequest(named, requester, bot.c.clock()))
        ids.append(events[0].request.id)
    await bot.home_settled()
    return ids


async def test_an_officer_sees_their_requests_with_status_stage_and_age(bot, slack):
    first = await bot.request_tool("U0OFFICER", tool_name="Clearview AI")
    second = await bot.request_tool("U0OFFICER", tool_name="PimEyes")
    await bot.click(bot.card("C0ITSEC", f"REQ-{second:04d}"), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    home = await bot.home("U0OFFICER")
    said = everything_said(home)
    assert "Your requests" in said and "Waiting for you" not in said  # not a reviewer
    for fact in (f"REQ-{first:04d}", "Clearview AI", "Waiting for *IT security* review (step 1 of 3)"):
        assert fact in said
    assert f"REQ-{second:04d}" in said and "Waiting for *Privacy* review (step 2 of 3)" in said
    assert "{ago}" in said  # ages in Slack's own date format: right whenever it is read


async def test_a_reviewer_sees_what_waits_for_them_oldest_first_with_the_cards_buttons(bot, slack):
    older = await bot.request_tool("U0OFFICER", tool_name="Older tool")
    bot.clock.advance(H)
    newer = await bot.request_tool("U0OFFICER2", tool_name="Newer tool")
    own = await bot.request_tool("U0SEC1", tool_name="My own tool")
    for reviewer in ("U0SEC1", "U0SEC2"):  # U0SEC2 through the S0SECGRP user group
        home = await bot.home(reviewer)
        said = everything_said(home)
        assert "Waiting for you" in said
        assert said.index(f"REQ-{older:04d}") < said.index(f"REQ-{newer:04d}")
        for request_id in (older, newer):
            assert set(review_buttons(home, request_id)) == {ActionId.APPROVE, ActionId.REJECT, ActionId.ASK_INFO}
    home = slack.home_views["U0SEC1"]
    assert review_buttons(home, own) == {}  # nobody reviews their own request
    assert "Waiting for you (2)" in everything_said(home) and "My own tool" in everything_said(home)
    assert "Waiting for you (3)" in everything_said(slack.home_views["U0SEC2"])
    privacy = everything_said(await bot.home("U0PRIV1"))
    assert "Nothing is waiting for your review (Privacy)" in privacy


async def test_approving_from_the_home_tab_decides_like_the_card_and_refreshes_everyone_concerned(bot, slack):
    request_id = await bot.request_tool("U0OFFICER")
    ref = f"REQ-{request_id:04d}"
    for user in ("U0OFFICER", "U0PRIV1"):  # people who use their Home tab
        await bot.home(user)
    home = await bot.home("U0SEC1")
    officer_before = len(bot.publishes_to("U0OFFICER"))
    privacy_before = len(bot.publishes_to("U0PRIV1"))
    await click_home(bot, home, review_buttons(home, request_id)[ActionId.APPROVE], "U0SEC1")
    await bot.home_settled()

    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
    assert [(d.stage_key, d.by) for d in request.decisions] == [("it_security", "U0SEC1")]
    card = bot.card("C0ITSEC", ref)
    assert card.buttons == {} and "<@U0SEC1>" in card.text  # the card says who decided, as for a card click
    assert ActionId.APPROVE in bot.card("C0PRIV", ref).buttons
    # Home tabs refreshed without anyone opening them: the reviewer's queue, the next stage's, the officer's.
    assert ref not in everything_said(slack.home_views["U0SEC1"])
    assert len(bot.publishes_to("U0PRIV1")) > privacy_before
    assert ref in everything_said(slack.home_views["U0PRIV1"])
    assert len(bot.publishes_to("U0OFFICER")) > officer_before
    assert "Waiting for *Privacy* review" in everything_said(slack.home_views["U0OFFICER"])
    # U0SEC2 (IT security too) never opened theirs: it is built when they first do, not before.
    assert bot.publishes_to("U0SEC2") == []
    assert ref not in everything_said(await bot.home("U0SEC2"))


async def test_a_stale_home_tab_click_changes_nothing_and_is_explained_by_dm(bot, slack):
    request_id = await bot.request_tool("U0OFFICER")
    home = await bot.home("U0SEC1")
    await bot.click(bot.card("C0ITSEC"), ActionId.APPROVE, "U0SEC2")  # another reviewer decided first
    await bot.settle()
    await click_home(bot, home, review_buttons(home, request_id)[ActionId.APPROVE], "U0SEC1")
    await slack.wait_for("chat.postMessage", where=lambda c: c.args.get("channel") == "U0SEC1")
    await bot.settle()
    said = everything_said(bot.dms("U0SEC1")[-1])
    assert "already approved at IT security by <@U0SEC2>" in said  # a DM: a Home tab has no channel
    async with bot.c.uow() as uow:
        assert len((await uow.requests.get(request_id)).decisions) == 1


async def test_reject_and_ask_from_the_home_tab_open_the_reason_form(bot, slack):
    request_id = await bot.request_tool("U0OFFICER")
    home = await bot.home("U0SEC1")
    await click_home(bot, home, review_buttons(home, request_id)[ActionId.REJECT], "U0SEC1")
    opened = await slack.wait_for("views.open", count=2)  # the request form, then the reason form
    view = opened[-1].args["view"]
    assert "Reject" in everything_said(view)
    assert await bot.submit_view(view, "U0SEC1", reason="Not for police use.") is None
    await bot.home_settled()
    assert "rejected" in everything_said(bot.dms("U0OFFICER")[-1])
    assert f"REQ-{request_id:04d}" not in everything_said(slack.home_views["U0SEC1"]).split("Your requests")[0]


async def test_a_question_shows_on_the_officers_home_tab_with_an_answer_button(bot, slack):
    request_id = await bot.request_tool("U0OFFICER")
    await bot.home("U0OFFICER")
    await bot.click(bot.card("C0ITSEC"), ActionId.ASK_INFO, "U0SEC1")
    view = (await slack.wait_for("views.open", count=2))[-1].args["view"]
    await bot.submit_view(view, "U0SEC1", reason="Which case is it for?")
    await bot.home_settled()
    home = slack.home_views["U0OFFICER"]  # refreshed when the question was asked
    answer = [b for bs in buttons(home).values() for b in bs if b["action_id"] == ActionId.ANSWER]
    assert len(answer) == 1 and f'"r":{request_id}' in answer[0]["value"]
    await click_home(bot, home, answer[0], "U0OFFICER")
    opened = await slack.wait_for("views.open", count=3)
    assert "Which case is it for?" in everything_said(opened[-1].args["view"])


async def test_long_lists_are_paginated_and_the_tab_stays_within_100_blocks(bot, slack):
    ids = await submit_many(bot, 30)
    home = await bot.home("U0SEC1")
    assert len(home["blocks"]) <= SLACK_HOME_BLOCKS
    said = everything_said(home)
    assert "Waiting for you (30)" in said and "Showing 1–8 of 30 waiting" in said
    shown = [i for i in ids if review_buttons(home, i)]
    assert shown == ids[:8]  # oldest first
    [next_page] = [b for b in buttons(home)["home-page-queue"] if b["action_id"] == ActionId.HOME_PAGE]
    before = len(bot.publishes_to("U0SEC1"))
    await click_home(bot, home, next_page, "U0SEC1")
    await slack.wait_for("views.publish", before + 1, where=lambda c: c.args.get("user_id") == "U0SEC1")
    await bot.home_settled()
    page2 = slack.home_views["U0SEC1"]
    assert [i for i in ids if review_buttons(page2, i)] == ids[8:16]
    assert "Showing 9–16 of 30 waiting" in everything_said(page2)
    # The officer's own list is paged too.
    officer = await bot.home("U0OFFICER")
    assert len(officer["blocks"]) <= SLACK_HOME_BLOCKS and "Showing 1–10 of 30 requests" in everything_said(officer)


def test_a_home_tab_full_of_everything_stays_within_the_block_limit():
    now = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
    stages = tuple(Stage(f"s{i}", f"Stage {i}", "C0X", ("U1",)) for i in range(3))
    policy = Policy(stages=stages)

    def request(n: int, status=RequestStatus.PENDING) -> ToolRequest:
        return ToolRequest(
            "U2", f"Tool {n} *bold* <!channel>", "v", "p", "", ("none",), PriorUse.NONE, "", now, "s0", now,
            status=status, id=n, escalated_at=now,
        )  # fmt: skip

    def directive(n: int) -> Directive:
        return Directive(
            DirectiveKind.CEASE_USE, f"tool{n}", f"Tool {n} <!here>", "Stop.", "U9", now, ("C1",),
            ack_required=True, ack_due=now, id=n,
        )  # fmt: skip

    data = HomeData(
        user_id="U1",
        now=now + 30 * H,
        mine=[request(n, RequestStatus.INFO_REQUESTED) for n in range(50)],
        reviewer_of=list(stages),
        queue=[request(n) for n in range(200)],
        queue_capped=True,
        is_command_staff=True,
        stuck=[request(n) for n in range(50)],
        roles_unknown=True,
        to_acknowledge=[directive(n) for n in range(30)],
        open_directives=[(directive(n), n, 50) for n in range(40)],
    )
    view = home_view(data, policy, {"queue": 3, "mine": 99})
    assert len(view["blocks"]) <= SLACK_HOME_BLOCKS
    said = everything_said(view)
    assert "Showing 17–24 of 200+ waiting" in said and "Showing 41–50 of 50 requests" in said
    assert "<!channel>" not in said and "<!here>" not in said  # typed text is escaped
    assert "Directives to acknowledge (30)" in said and "Directives in force (40)" in said


async def test_slack_retrying_app_home_opened_publishes_once(bot, slack):
    await bot.request_tool("U0OFFICER")
    await bot.home_settled()
    before = len(bot.publishes_to("U0OFFICER"))
    await bot.open_home("U0OFFICER", event_id="Ev0HOME1")
    await bot.open_home("U0OFFICER", event_id="Ev0HOME1", retry_num=1)  # Slack saw no timely 200
    await bot.home("U0SEC1")  # a different event, handled after: everything before it is done
    await bot.home_settled()
    assert len(bot.publishes_to("U0OFFICER")) == before + 1


async def test_a_burst_of_changes_ends_in_one_publish_of_the_latest_state(bot, slack):
    await bot.request_tool("U0OFFICER", tool_name="First tool")
    await bot.home("U0OFFICER")
    before = len(bot.publishes_to("U0OFFICER"))
    # Slack rate-limits the next publish: the refreshes meanwhile replace it in the outbox.
    slack.fail_next("views.publish", status=429, retry_after=2, where=lambda a: a.get("user_id") == "U0OFFICER")
    await submit_many(bot, 5)
    await bot.settle(timeout=15)
    await bot.home_settled()
    published = bot.publishes_to("U0OFFICER")[before:]
    assert len(published) <= 2  # one, or two if the first refresh went out before the burst
    said = everything_said(slack.home_views["U0OFFICER"])
    assert all(f"Tool {n:02d}" in said for n in range(5))


async def test_command_staff_see_requests_stuck_past_escalation(slack, database_url, tmp_path, clock):
    config = CONFIG.replace(
        'remind_after = "24h"            # used by reminders (a later issue); accept it now',
        'remind_after = "24h"\nescalate_after = 1',
    )
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock, config)
    try:
        request_id = await bot.request_tool("U0OFFICER")
        ref = f"REQ-{request_id:04d}"
        assert "Stuck past escalation (0)" in everything_said(await bot.home("U0CHIEF"))
        bot.clock.advance(24 * H)
        await bot.sweep()  # escalates: the command staff's Home tab is refreshed without being opened
        said = everything_said(slack.home_views["U0CHIEF"])
        assert "Stuck past escalation (1)" in said and ref in said and "IT security" in said
        assert "Stuck past escalation" not in everything_said(await bot.home("U0SEC1"))  # command staff only
        await bot.click(bot.card("C0ITSEC", ref), ActionId.APPROVE, "U0SEC1")
        await bot.home_settled()
        assert "Stuck past escalation (0)" in everything_said(slack.home_views["U0CHIEF"])
    finally:
        await stop_bot(bot)


# --- directives -------------------------------------------------------------------------------


async def test_directives_to_acknowledge_show_on_the_officers_home_tab_and_can_be_acknowledged_there(bot, slack):
    from tests.slack.test_directives import issue

    slack.channel_members["C0PATROL"] = ["U0OFFICER", "U0OFF002", "U0BOT"]
    assert "Directives to acknowledge" not in everything_said(await bot.home("U0OFFICER"))
    assert "Directives in force (0)" in everything_said(await bot.home("U0CHIEF"))
    ref = await issue(bot, "U0CHIEF", channels=("C0PATROL",), due=bot.clock() + 2 * H)
    await bot.home_settled()

    home = slack.home_views["U0OFFICER"]  # refreshed when the directive was issued, without being opened
    said = everything_said(home)
    assert "Directives to acknowledge (1)" in said and ref in said and "Clearview AI" in said
    [acknowledge] = [b for b in buttons(home)[f"home-ack-{ref_id(ref)}"] if b["action_id"] == ActionId.ACKNOWLEDGE]
    staff = everything_said(await bot.home_showing("U0CHIEF", "0 of 2 acknowledged"))  # once it was posted
    assert "Directives in force (1)" in staff

    await click_home(bot, home, acknowledge, "U0OFFICER")
    await slack.wait_for("chat.postMessage", where=lambda c: "You acknowledged" in everything_said(c.args))
    await bot.home_settled()
    assert "You acknowledged" in everything_said(bot.dms("U0OFFICER")[-1])  # a DM: the Home tab has no channel
    assert "Directives to acknowledge" not in everything_said(slack.home_views["U0OFFICER"])
    await bot.home_showing("U0CHIEF", "1 of 2 acknowledged")  # the count, refreshed
    assert "Directives to acknowledge" not in everything_said(await bot.home("U0CHIEF"))  # not in the channel


def ref_id(ref: str) -> int:
    return int(ref.split("-")[1])


async def test_a_tier_change_that_closes_a_request_takes_it_off_its_reviewers_home_tabs(
    slack, database_url, tmp_path, clock
):
    from tests.slack.test_risk_at_intake import RISK_CONFIG
    from workflows.risk import Tier

    slack.usergroups["S0CMD"] = ["U0DEPUTY"]
    bot = await start_clocked_bot(slack, database_url, tmp_path, clock, RISK_CONFIG)
    try:
        request_id = await bot.request_tool("U0OFFICER")
        ref = f"REQ-{request_id:04d}"
        await bot.click(bot.card("C0ITSEC", ref), ActionId.APPROVE, "U0SEC1")
        await bot.settle()
        assert ref in everything_said(await bot.home("U0PRIV1"))  # it waits for privacy
        now = bot.c.clock()
        reason = "Only IT security needed."
        await bot.c.changes.handle(LowerTier(request_id, "U0CHIEF", Tier.LOW, reason, True, now))
        await bot.settle()
        await bot.home_settled()
        assert ref not in everything_said(slack.home_views["U0PRIV1"])  # refreshed without being opened
    finally:
        await stop_bot(bot)


async def test_a_burst_of_acknowledgements_rebuilds_command_staffs_home_tab_once_off_the_clicks_path(bot, slack):
    from tests.slack.test_directives import issue, press

    officers = ["U0OFFICER", "U0OFF002", "U0OFF003"]
    slack.channel_members["C0PATROL"] = [*officers, "U0BOT"]
    await bot.home("U0CHIEF")
    ref = await issue(bot, "U0CHIEF", channels=("C0PATROL",), due=bot.clock() + 2 * H)
    await bot.home_showing("U0CHIEF", "0 of 3 acknowledged")
    bot.c.home.counts_every = 3600  # a count waits until the test says (home_settled builds it at once)
    before = len(bot.publishes_to("U0CHIEF"))

    for officer in officers:
        response = await bot.http.action(press(bot, bot.card("C0PATROL", ref), ActionId.ACKNOWLEDGE, officer))
        assert response.status_code == 200
        await bot.settle()  # each click committed and its messages sent
    assert len(bot.publishes_to("U0CHIEF")) == before  # no rebuild per click: the count waits for more

    await bot.home_settled()
    assert len(bot.publishes_to("U0CHIEF")) == before + 1  # one rebuild for the three
    assert "3 of 3 acknowledged" in everything_said(slack.home_views["U0CHIEF"])


async def test_who_has_a_home_tab_is_read_once_not_for_every_refresh(bot, slack):
    from sqlalchemy import event

    reads: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        if "home_tabs" in statement and statement.lstrip().upper().startswith("SELECT"):
            reads.append(statement)

    await bot.home("U0OFFICER")  # has a Home tab: known from its opening, never read
    engine = bot.c.database.read_engine.sync_engine  # refreshes read outside the write transaction
    event.listen(engine, "before_cursor_execute", seen)
    try:
        for _ in range(3):  # each refreshes the requester's and the reviewers' Home tabs
            await bot.request_tool("U0OFFICER")
            await bot.home_settled()
        assert len(reads) == 1, reads  # the reviewers, who never opened theirs: read once, not thrice
        bot.clock.advance(timedelta(minutes=2))
        await bot.request_tool("U0OFFICER")
        await bot.home_settled()
        assert len(reads) == 2  # a while later again: they may have opened it through another replica
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert len(bot.publishes_to("U0OFFICER")) == 5  # opened, then one refresh per request
