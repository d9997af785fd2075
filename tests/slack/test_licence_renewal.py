"""Renew… and Extend… end to end (issue 18): a renewal keeps the licence valid while it is
reviewed ("renewal under review"); command staff extend it once, with a reason."""

from __future__ import annotations

from datetime import timedelta

from bot.messages.ids import ActionId, CallbackId
from tests.fakes.signing import block_action
from tests.slack.harness import everything_said, form_state
from tests.slack.test_licence_expiry import DAY, bot, clock, expiring, lapsed, licensed  # noqa: F401
from tests.slack.test_licence_status import ask

__all__ = ["bot", "clock"]


async def status_buttons(bot, user: str) -> dict[str, dict]:
    response = await bot.http.command("/tool-status", "Clearview AI", user)
    assert response.status_code == 200
    return {
        e["action_id"]: e for b in response.json().get("blocks") or [] if b["type"] == "actions" for e in b["elements"]
    }


async def open_form(bot, slack, action_id: str, value: str, user: str) -> dict:
    before = len(slack.calls_to("views.open"))
    await bot.http.action(block_action(action_id, value, user, channel_id=f"D{user}"))
    await bot.c.tasks.done()
    opened = slack.calls_to("views.open")[before:]
    assert opened, f"no form opened for {user}"
    return opened[-1].args["view"]


async def test_renewal_with_nothing_changed_is_reviewed_at_the_last_stage_and_keeps_it_valid(bot, slack):
    expiry = await licensed(bot, bot.clock() + 40 * DAY)
    bot.clock.set(expiry - 7 * DAY)
    await bot.sweep()
    [reminder] = expiring(bot, "U0OFFICER")
    renew = next(
        e for b in reminder["blocks"] if b["type"] == "actions" for e in b["elements"]
    )  # Renew… in the reminder DM
    assert renew["action_id"] == ActionId.LICENCE_RENEW
    assert ActionId.LICENCE_RENEW not in await status_buttons(bot, "U0DET1")  # not its owner
    view = await open_form(bot, slack, ActionId.LICENCE_RENEW, renew["value"], "U0OFFICER")
    assert view["callback_id"] == CallbackId.RENEW_FORM
    assert await bot.submit_form(view, "U0OFFICER", form_state(view)) is None
    await bot.settle()
    card = bot.card("C0CMD", "REQ-0002")  # the last stage only
    assert "REQ-0002" in card.text
    said = await ask(bot, "U0DET1")
    assert "Renewal under review: REQ-0002" in said and "You may use it" in said
    bot.clock.set(expiry + DAY)  # past expiry, the renewal still under review
    await bot.sweep()
    assert lapsed(bot, "U0DET1") == []
    assert "You may use it" in await ask(bot, "U0DET1")
    await bot.click(bot.card("C0CMD", "REQ-0002"), ActionId.APPROVE, "U0CHIEF")
    await bot.settle()
    async with bot.c.uow() as uow:
        renewed = await uow.licences.for_request("REQ-0002")
        assert (await uow.licences.current_for_tool(renewed.tool_key)).id == renewed.id
    said = await ask(bot, "U0OFFICER")
    assert "Renewal under review" not in said and "You may use it" in said and "REQ-0002" in said


async def test_command_staff_extend_once_with_a_reason(bot, slack):
    expiry = await licensed(bot, bot.clock() + 40 * DAY)
    assert ActionId.LICENCE_EXTEND not in await status_buttons(bot, "U0OFFICER")
    extend = (await status_buttons(bot, "U0CHIEF"))[ActionId.LICENCE_EXTEND]
    view = await open_form(bot, slack, ActionId.LICENCE_EXTEND, extend["value"], "U0CHIEF")
    later = (expiry + 30 * DAY).date().isoformat()
    no_reason = form_state(view, until={"selected_date": later})
    assert await bot.submit_form(view, "U0CHIEF", no_reason) == {
        "response_action": "errors",
        "errors": {"reason": "Say why it is extended."},
    }
    state = form_state(view, until={"selected_date": later}, reason={"value": "Vendor review delayed by a month."})
    assert await bot.submit_form(view, "U0CHIEF", state) is None
    await bot.settle()
    said = await ask(bot, "U0DET1")
    assert "Extended once: Vendor review delayed by a month." in said
    bot.clock.set(expiry + timedelta(hours=1))  # the old expiry: no lapse now
    await bot.sweep()
    assert lapsed(bot, "U0DET1") == [] and "You may use it" in await ask(bot, "U0DET1")
    assert ActionId.LICENCE_EXTEND not in await status_buttons(bot, "U0CHIEF")  # once only
    # A click by someone not in command staff (a forged or forwarded button) opens nothing.
    before = len(slack.calls_to("views.open"))
    await bot.http.action(block_action(ActionId.LICENCE_EXTEND, extend["value"], "U0OFFICER", channel_id="DU0OFFICER"))
    await bot.settle()
    assert len(slack.calls_to("views.open")) == before
    assert "command staff" in everything_said(
        bot.ephemerals("U0OFFICER")[-1] if bot.ephemerals("U0OFFICER") else bot.dms("U0OFFICER")[-1]
    )


async def test_a_renewal_s_licence_form_carries_the_owner_unit_forward(bot, slack):
    """Issue 19: the renewed licence's owner unit is filled in on the renewal's licence form, so
    approving it untouched keeps it."""
    await bot.request_tool()
    licence = {"owner_unit": {"value": "Forensic Identification"}}
    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1"), ("C0CMD", "U0CHIEF")):
        await bot.click(bot.card(channel), ActionId.APPROVE, reviewer, licence=licence)
        await bot.settle()
    renew = (await status_buttons(bot, "U0OFFICER"))[ActionId.LICENCE_RENEW]
    view = await open_form(bot, slack, ActionId.LICENCE_RENEW, renew["value"], "U0OFFICER")
    assert await bot.submit_form(view, "U0OFFICER", form_state(view)) is None
    await bot.settle()
    before = len(slack.calls_to("views.open"))
    await bot.press(bot.card("C0CMD", "REQ-0002"), ActionId.APPROVE, "U0CHIEF")
    form = (await slack.wait_for("views.open", count=before + 1))[-1].args["view"]
    [field] = [b for b in form["blocks"] if b.get("block_id") == "owner_unit"]
    assert field["element"]["initial_value"] == "Forensic Identification"
    assert await bot.submit_form(form, "U0CHIEF", form_state(form)) is None
    await bot.settle()
    async with bot.c.uow() as uow:
        assert (await uow.licences.for_request("REQ-0002")).owner_unit == "Forensic Identification"
    assert "Owner unit: Forensic Identification" in await ask(bot, "U0OFFICER")
