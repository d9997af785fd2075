"""Identifiers survive their own limits (issue 21, row 6): a tool name of 150 characters (the forms'
own maximum) works through every form; option values, private_metadata and action/block ids
carry ids, short and fixed in size, never names."""

from __future__ import annotations

import pytest

from bot.messages.ids import ActionId, CallbackId
from tests.slack.test_directives import CHIEF, DEPUTY, OFFICERS, issue, start, stop, submit_form

LONG = ("Cellebrite Universal Forensic Extraction Device Physical Analyzer Premium " * 3)[:149] + "X"
assert len(LONG) == 150


@pytest.fixture
async def staff_bot(slack, database_url, tmp_path):
    slack.usergroups["S0CMD"] = [DEPUTY]
    slack.channel_members["C0PATROL"] = [*OFFICERS, CHIEF, "U0BOT"]
    bot = await start(slack, database_url, tmp_path)
    yield bot
    await stop(bot)


async def picker_options(bot, typed: str) -> list[dict]:
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
    return response.json()["options"]


async def newest_directive(bot):
    async with bot.c.reading() as uow:
        return max(await uow.directives.list_active(), key=lambda d: d.id)


def short_ids(view: dict) -> None:
    """Every id and value in a view or message is short: none carries a name."""

    def walk(node):
        if isinstance(node, dict):
            for key in ("action_id", "block_id", "value", "private_metadata"):
                if isinstance(node.get(key), str):
                    assert LONG[:40] not in node[key], (key, node[key])
            for child in node.values():
                walk(child)
        elif isinstance(node, list):
            for child in node:
                walk(child)

    walk(view)


async def test_a_new_tool_named_with_150_characters_gets_its_directive_through_the_picker(staff_bot):
    bot = staff_bot
    (offered,) = [o for o in await picker_options(bot, LONG) if o["text"]["text"].startswith("New tool")]
    assert len(offered["value"]) <= 150
    ref = await issue(bot, tool=offered["value"], kind="advisory", ack=False)
    directive = await newest_directive(bot)
    assert (directive.ref, directive.tool_name) == (ref, LONG)


async def test_a_known_tool_named_with_150_characters_is_picked_by_its_id(staff_bot):
    bot = staff_bot
    await issue(bot, tool="n:" + LONG[:148], kind="advisory", ack=False)  # registered under its name
    first = await newest_directive(bot)
    known = [o for o in await picker_options(bot, LONG[:148]) if not o["text"]["text"].startswith("New tool")]
    assert known, "the registered tool is offered"
    assert len(known[0]["value"]) < 24 and LONG[:20] not in known[0]["value"]  # its id, not its name
    answer = await submit_form(bot, CHIEF, tool=known[0]["value"], kind="advisory", ack=False)
    assert answer == {"response_action": "clear"}, answer
    second = await newest_directive(bot)
    assert second.id != first.id and second.tool_name == first.tool_name


async def test_a_150_character_request_goes_from_the_request_form_to_a_cease_use_directive(staff_bot, slack):
    bot = staff_bot
    request_id = await bot.request_tool(tool_name=LONG)
    card = bot.card("C0ITSEC")
    assert LONG in card.text
    for button in card.buttons.values():
        assert len(button.get("value", "")) <= 2000 and LONG[:40] not in button.get("value", "")
    async with bot.c.reading() as uow:
        assert (await uow.requests.get(request_id)).tool_name == LONG
    # /directive with the name typed: the form opens with it picked, in full.
    before = len(slack.calls_to("views.open"))
    await bot.http.command("/directive", LONG, CHIEF)
    view = (await slack.wait_for("views.open", before + 1))[-1].args["view"]
    short_ids(view)
    (tool_block,) = [b for b in view["blocks"] if b.get("block_id") == "tool"]
    initial = tool_block["element"]["initial_option"]["value"]
    answer = await submit_form(bot, CHIEF, tool=initial, kind="cease_use", ack=False)
    assert answer == {"response_action": "clear"}, answer
    assert (await newest_directive(bot)).tool_name == LONG
