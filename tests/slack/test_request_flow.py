"""A request from /request-tool to final approval, as officers and reviewers see it."""

from __future__ import annotations

from bot.messages.ids import ActionId
from tests.slack.harness import FORM, everything_said


async def test_request_travels_through_every_stage_to_approval(bot, slack):
    request_id = await bot.request_tool("U0OFFICER")
    ref = f"REQ-{request_id:04d}"

    # The form opened prefilled with what was typed after the command.
    form = slack.calls_to("views.open")[0].args["view"]
    tool_input = next(b for b in form["blocks"] if b.get("block_id") == "tool_name")
    assert tool_input["element"]["initial_value"] == "Clearview AI"

    # The officer is told the reference, and where it is now.
    first_dm = everything_said(bot.dms("U0OFFICER")[0])
    assert ref in first_dm and "IT security" in first_dm

    card = bot.card("C0ITSEC", ref)
    assert set(card.buttons) >= {ActionId.APPROVE, ActionId.REJECT, ActionId.ASK_INFO}
    for fact in ("Clearview AI", FORM["vendor"], FORM["purpose"], "2026-000123", "Biometrics", "<@U0OFFICER>"):
        assert fact in card.text
    assert "already been used for police work" in card.text

    for channel, reviewer, next_channel in (
        ("C0ITSEC", "U0SEC1", "C0PRIV"),
        ("C0PRIV", "U0PRIV1", "C0CMD"),
        ("C0CMD", "U0CHIEF", None),
    ):
        card = bot.card(channel, ref)
        response = await bot.click(card, ActionId.APPROVE, reviewer)
        assert response.status_code == 200
        await bot.settle()
        decided = bot.card(channel, ref)
        assert decided.ts == card.ts  # updated in place
        assert decided.buttons == {}
        assert f"<@{reviewer}>" in decided.text and "approved" in decided.text
        if next_channel:
            assert ActionId.APPROVE in bot.card(next_channel, ref).buttons

    final = everything_said(bot.dms("U0OFFICER")[-1])
    assert "approved" in final and ref in final and "<@U0CHIEF>" in final
    assert len(bot.dms("U0OFFICER")) == 4  # submitted, two stage approvals, final approval

    async with bot.c.uow() as uow:
        trail = await uow.audit.for_subject(ref)
    assert [e.action for e in trail] == [
        "submitted",
        "approved:it_security",
        "approved:privacy",
        "approved:command",
        "licence:granted",
    ]
    assert trail[-2].actor == "U0CHIEF" and trail[-2].to_state == "approved"
    assert trail[-1].actor == "U0CHIEF" and trail[-1].to_state == "valid"
