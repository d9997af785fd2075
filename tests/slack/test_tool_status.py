"""/tool-status and the tool registry end to end: the status of record follows requests and
directives, the lookup forgives case, partial names and typos, and review cards warn about a
tool under a cease-use or suspension."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from bot.messages.ids import ActionId
from demo.slack_rules import message_errors
from tests.slack.harness import Bot, everything_said
from workflows.commands import IssueDirective, RevokeDirective
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveDraft
from workflows.tool_services import record_request_outcome, record_tool_request

CHIEF = "U0CHIEF"


def reads(payload: dict) -> str:
    """What a person reads: one line per block, rich text elements run together as Slack shows them."""
    lines = [payload.get("text", "")]
    for block in payload.get("blocks") or []:
        if block["type"] == "rich_text":
            parts = []
            for element in block["elements"][0]["elements"]:
                if element["type"] == "user":
                    parts.append(f"<@{element['user_id']}>")
                elif element["type"] == "date":
                    parts.append(element["fallback"])
                else:
                    parts.append(element["text"])
            lines.append("".join(parts))
        else:
            lines.append(everything_said(block))
    return "\n".join(lines)


async def ask(bot: Bot, text: str, user: str = "U0OFFICER") -> tuple[str, dict]:
    """Run /tool-status; returns (everything it said, the response). The answer is private."""
    response = await bot.http.command("/tool-status", text, user)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer.get("response_type") == "ephemeral"
    assert message_errors(answer) == []  # valid Block Kit, like everything else the bot sends
    return reads(answer), answer


async def directive(bot: Bot, kind: DirectiveKind, tool: str, text: str = "As written.") -> list:
    """Issue a directive through the bot's own change path (what the /directive form submits to)."""
    draft = DirectiveDraft(kind, tool, text, ("C0PATROL",), False, None)
    events = await bot.c.changes.handle(IssueDirective(draft, CHIEF, True, bot.c.clock()))
    await bot.settle()
    return events


@pytest.fixture
async def registry(bot):
    """A few tools with a status of record, set through the domain services."""
    now = datetime.now(UTC)
    async with bot.c.uow() as uow:
        await record_tool_request(uow, "Cellebrite UFED", "REQ-0101", "U0OFF1", now)
        await record_request_outcome(uow, "Cellebrite UFED", "REQ-0101", "approved", "U0CHIEF", now)
        await record_tool_request(uow, "ClearSky", "REQ-0102", "U0OFF2", now)
        await record_request_outcome(uow, "ClearSky", "REQ-0102", "rejected", "U0PRIV1", now)
        await record_tool_request(uow, "GrayKey", "REQ-0103", "U0OFF3", now)
        await uow.commit()
    await directive(bot, DirectiveKind.CEASE_USE, "Clearview AI", "Stop using it.")
    return bot


async def test_a_request_sets_the_status_of_record_through_to_approval(bot, slack):
    request_id = await bot.request_tool("U0OFFICER", tool_name="Clearview AI")
    ref = f"REQ-{request_id:04d}"
    said, _ = await ask(bot, "clearview")
    assert "Clearview AI" in said and "*Under review*" in said and f"request {ref}" in said
    assert f"Open request {ref}" in said and "<@U0OFFICER>" in said

    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1"), ("C0CMD", CHIEF)):
        await bot.click(bot.card(channel, ref), ActionId.APPROVE, reviewer)
        await bot.settle()
    said, answer = await ask(bot, "CLEARVIEW AI")
    assert "*Approved*" in said and f"request {ref}, decided by <@{CHIEF}>" in said and "Since:" in said
    assert "Open request" not in said
    assert answer["text"] == "Clearview AI: Approved"

    async with bot.c.uow() as uow:
        trail = [(e.action, e.to_state) for e in await uow.audit.for_subject("tool:clearview")]
    assert trail == [("tool:registered", "under_review"), ("tool:status", "approved")]


@pytest.mark.parametrize(
    "query", ["Clearview", "clearview ai", "CLEARVIEW.AI", "clearveiw", "Clear View", "  clearview  "]
)
async def test_lookup_forgives_case_partial_names_and_typos(registry, query):
    said, _ = await ask(registry, query)
    assert "Clearview AI" in said and "*Cease use*" in said and "Stop using it now" in said
    assert "directive DIR-0001, issued by <@U0CHIEF>" in said and "DIR-0001 in force: " in said


async def test_another_name_is_never_answered_with_a_similar_tools_status_as_its_own(registry):
    """ "Cellebrite UFED Cloud" is not "Cellebrite UFED": an officer must not read "Approved" for a
    product nobody approved. The closest record is shown, said to be another name."""
    said, answer = await ask(registry, "Cellebrite UFED Cloud")
    assert "“Cellebrite UFED Cloud” is not in the registry under that name" in said
    assert "If it is not, “Cellebrite UFED Cloud” is Unknown" in said
    assert answer["text"].startswith("Cellebrite UFED Cloud: not on record; closest is Cellebrite UFED: Approved")
    said, answer = await ask(registry, "cellebrite  ufed")  # its own name, spaced and cased otherwise
    assert "not in the registry" not in said and answer["text"] == "Cellebrite UFED: Approved"


async def test_lookup_by_part_of_a_name(registry):
    said, _ = await ask(registry, "ufed")
    assert "Cellebrite UFED" in said and "*Approved*" in said and "request REQ-0101, decided by <@U0CHIEF>" in said


async def test_an_ambiguous_name_lists_the_candidates(registry):
    said, _ = await ask(registry, "clear")
    assert "More than one tool matches “clear”" in said
    assert "Clearview AI — Cease use" in said and "ClearSky — Rejected" in said


async def test_an_unknown_tool_says_how_to_request_it(registry):
    said, answer = await ask(registry, "Palantir Gotham")
    assert "“Palantir Gotham” is not in the registry" in said
    assert "Unknown — request it with /request-tool" in said
    assert answer["text"] == "Palantir Gotham: Unknown — request it with /request-tool"


async def test_no_name_lists_the_tools_with_a_status(registry):
    said, _ = await ask(registry, "")
    assert "Tools with a status of record (4)" in said
    order = ["*Approved* (1)", "Cellebrite UFED", "*Under review* (1)", "GrayKey", "*Rejected* (1)", "ClearSky"]
    order += ["*Cease use* (1)", "Clearview AI"]
    positions = [said.index(x) for x in order]
    assert positions == sorted(positions)


async def test_conditions_and_an_override_are_explained(bot):
    await directive(bot, DirectiveKind.RESTRICTED, "GrayKey", "Only with a *warrant* and a supervisor present.")
    said, _ = await ask(bot, "graykey")
    assert "*Approved with conditions*" in said
    assert "Conditions: Only with a *warrant* and a supervisor present." in said
    await directive(bot, DirectiveKind.SUSPENDED, "GrayKey", "Paused while we re-test it.")
    said, _ = await ask(bot, "graykey")
    assert "*Suspended*" in said and "overrides its earlier status, Approved with conditions (DIR-0001)" in said
    assert "DIR-0001 in force" in said and "DIR-0002 in force" in said


async def test_review_cards_warn_about_a_tool_under_cease_use(bot, slack):
    # A request already open when the cease-use is issued…
    before = await bot.request_tool("U0OFFICER", tool_name="Clearview")
    card = bot.card("C0ITSEC", f"REQ-{before:04d}")
    assert "Cease use" not in card.text
    events = await directive(bot, DirectiveKind.CEASE_USE, "Clearview AI", "Stop.")
    await bot.settle()
    updated = bot.card("C0ITSEC", f"REQ-{before:04d}")
    assert updated.ts == card.ts and "under a *Cease use* directive (DIR-0001" in updated.text

    # …and one made after it: allowed, but its card says so prominently, at the top.
    after = await bot.request_tool("U0OFF2", tool_name="clearview.ai")
    card = bot.card("C0ITSEC", f"REQ-{after:04d}")
    first_section = next(b for b in card.message["blocks"] if b["type"] == "section")
    assert ":rotating_light:" in first_section["text"]["text"] and "DIR-0001" in first_section["text"]["text"]
    assert ActionId.APPROVE in card.buttons

    # Revoking it takes the warning off the open cards again.
    directive_id = events[0].directive.id
    await bot.c.changes.handle(RevokeDirective(directive_id, CHIEF, True, bot.c.clock(), "Cleared."))
    await bot.settle()
    assert "Cease use" not in bot.card("C0ITSEC", f"REQ-{after:04d}").text


async def test_typed_tool_names_stay_inert(bot, slack):
    await bot.request_tool("U0OFFICER", tool_name="<!channel> Evil <http://x.example|tool>")
    said, answer = await ask(bot, "")
    assert "<!channel> Evil <http://x.example|tool>" in said  # shown as typed, in rich text
    mrkdwn = [answer["text"]] + [
        b["text"]["text"] for b in answer["blocks"] if (b.get("text") or {}).get("type") == "mrkdwn"
    ]
    assert all("<!channel>" not in m and "<http://x.example" not in m for m in mrkdwn)
    said, answer = await ask(bot, "evil")
    assert "&lt;!channel&gt;" in answer["text"] and "<!channel>" not in json.dumps(answer["text"])
