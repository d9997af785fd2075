"""/tool-status answers "may I use it?" for the asker (issue 18): from the tool's licence, with its
user groups resolved through Slack at the moment of asking."""

from __future__ import annotations

from bot.messages.ids import ActionId
from demo.slack_rules import message_errors
from tests.fakes.signing import event_callback
from tests.slack.harness import Bot, everything_said

GROUPS = {
    "scope": {"selected_option": {"value": "groups"}},
    "groups": {"selected_options": [{"value": "S0MAJOR", "text": {"type": "plain_text", "text": "@major-crimes"}}]},
    "more_conditions": {"value": "A person checks every match."},
}


def reads(payload: dict) -> str:
    """What a person reads: the text of each block, rich text run together as Slack shows it."""
    lines = []
    for block in payload.get("blocks") or []:
        if block["type"] != "rich_text":
            lines.append(everything_said(block))
            continue
        for section in block["elements"]:
            parts = []
            for element in section["elements"]:
                if element["type"] == "user":
                    parts.append(f"<@{element['user_id']}>")
                elif element["type"] == "date":
                    parts.append(element["fallback"])
                else:
                    parts.append(element.get("text", ""))
            lines.append("".join(parts))
    return "\n".join(lines)


async def approved(bot: Bot, licence: dict | None = None) -> None:
    """Clearview AI requested by U0OFFICER and approved at every stage; the licence form as given."""
    await bot.request_tool()
    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1"), ("C0CMD", "U0CHIEF")):
        await bot.click(bot.card(channel), ActionId.APPROVE, reviewer, licence=licence)
        await bot.settle()


async def ask(bot: Bot, user: str, text: str = "Clearview AI") -> str:
    response = await bot.http.command("/tool-status", text, user)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer.get("response_type") == "ephemeral"
    assert message_errors(answer) == []
    return reads(answer)


async def test_a_member_of_the_licensed_group_may_use_it_and_others_are_told_who_to_ask(bot, slack):
    slack.usergroups["S0MAJOR"] = ["U0DET1"]
    await approved(bot, GROUPS)
    member = await ask(bot, "U0DET1")
    assert "You may use it — you are in @major-crimes." in member
    assert "A person checks every match." in member and "Valid: no expiry" in member
    outsider = await ask(bot, "U0PATROL")
    assert "You are not authorised to use it" in outsider
    assert "Ask its owner, <@U0OFFICER>, or command staff" in outsider
    assert "You may use it" not in outsider
    # Membership is as Slack says at the moment of asking: added in Slack, and Slack says so.
    slack.usergroups["S0MAJOR"].append("U0DET2")
    members_changed = {
        "type": "subteam_members_changed",
        "subteam_id": "S0MAJOR",
        "team_id": "T0TEAM",
        "added_users": ["U0DET2"],
        "added_users_count": "1",
        "removed_users": [],
        "removed_users_count": "0",
        "event_ts": "1492906952.000001",
    }
    assert (await bot.http.event(event_callback(members_changed))).status_code == 200
    assert "You may use it — you are in @major-crimes." in await ask(bot, "U0DET2")


async def test_the_form_s_defaults_license_the_requester_only(bot, slack):
    await approved(bot)
    assert "You may use it — you requested it." in await ask(bot, "U0OFFICER")
    assert "You are not authorised to use it" in await ask(bot, "U0PATROL")


async def test_a_licence_for_everyone_says_so(bot, slack):
    await approved(bot, {"scope": {"selected_option": {"value": "everyone"}}})
    assert "You may use it — everyone may." in await ask(bot, "U0PATROL")


async def test_a_tool_not_yet_approved_says_nothing_about_permission(bot, slack):
    await bot.request_tool()
    said = await ask(bot, "U0PATROL")
    assert "You may use it" not in said and "Licence:" not in said
