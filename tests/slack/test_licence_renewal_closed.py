"""A renewal turned down (issue 18), end to end with the fixed clock: before expiry the licence
stays valid until then and still lapses at its expiry; after expiry (asked in time, so it did not
lapse then) it lapses at the next sweep; after its lapse it stays Suspended — approval lapsed. The
renewal's rejection is never the tool's status of record, and the owner is told which it is."""

from __future__ import annotations

from bot.messages.ids import ActionId
from tests.slack.harness import everything_said, form_state
from tests.slack.test_licence_expiry import DAY, bot, clock, expiring, licensed  # noqa: F401
from tests.slack.test_licence_renewal import open_form, status_buttons
from tests.slack.test_licence_status import ask, reads
from workflows.registry import ToolStatus

__all__ = ["bot", "clock"]


async def renew(bot, slack) -> None:
    """The owner renews from /tool-status, nothing changed: REQ-0002 waits at Command only."""
    button = (await status_buttons(bot, "U0OFFICER"))[ActionId.LICENCE_RENEW]
    view = await open_form(bot, slack, ActionId.LICENCE_RENEW, button["value"], "U0OFFICER")
    assert await bot.submit_form(view, "U0OFFICER", form_state(view)) is None
    await bot.settle()


async def reject_renewal(bot, slack) -> None:
    before = len(slack.calls_to("views.open"))
    await bot.press(bot.card("C0CMD", "REQ-0002"), ActionId.REJECT, "U0CHIEF")
    form = (await slack.wait_for("views.open", count=before + 1))[-1].args["view"]
    assert await bot.submit_view(form, "U0CHIEF", reason="Vendor terms not reviewed yet.") is None
    await bot.settle()


async def status_of_record(bot) -> ToolStatus:
    async with bot.c.uow() as uow:
        licence = await uow.licences.for_request("REQ-0001")
        return (await uow.tools.get_by_key(licence.tool_key)).status


def lapsed(bot, user: str) -> list[dict]:
    """The lapse notices (not the owner's word on the closed renewal)."""
    return [d for d in bot.dms(user) if "is now Suspended — approval lapsed" in d.get("text", "")]


def told_owner(bot, words: str) -> list[dict]:
    return [d for d in bot.dms("U0OFFICER") if words in reads(d)]


async def test_a_renewal_rejected_before_expiry_leaves_it_valid_until_then_and_it_still_lapses(bot, slack):
    expiry = await licensed(bot, bot.clock() + 40 * DAY)
    bot.clock.set(expiry - 8 * DAY)
    await renew(bot, slack)
    bot.clock.set(expiry - 5 * DAY)
    await reject_renewal(bot, slack)
    assert await status_of_record(bot) is ToolStatus.APPROVED  # not "Rejected": the licence still holds
    [said] = told_owner(bot, "the renewal REQ-0002 was rejected")
    assert "LIC-0001 stays valid until it expires" in reads(said)
    [rejected] = told_owner(bot, "This does not change REQ-0001")  # the renewal's own rejection DM
    assert "rejected" in reads(rejected) and "Do not use this tool" not in reads(rejected)
    answer = await ask(bot, "U0DET1")
    assert "You may use it" in answer and "Renewal under review" not in answer
    reminded = len(expiring(bot, "U0OFFICER"))
    bot.clock.set(expiry - DAY)
    await bot.sweep()
    assert len(expiring(bot, "U0OFFICER")) == reminded + 1  # the 1-day reminder, as if never renewed
    bot.clock.set(expiry)
    await bot.sweep()
    await bot.sweep()
    for user in ("U0OFFICER", "U0DET1"):
        assert len(lapsed(bot, user)) == 1
    assert await status_of_record(bot) is ToolStatus.LAPSED
    assert "You are not authorised to use it" in await ask(bot, "U0DET1")


async def test_a_renewal_rejected_after_expiry_lapses_it_at_the_next_sweep(bot, slack):
    expiry = await licensed(bot, bot.clock() + 40 * DAY)
    bot.clock.set(expiry - 3 * DAY)
    await renew(bot, slack)  # asked in time: valid while it is reviewed
    bot.clock.set(expiry + DAY)
    await bot.sweep()
    assert lapsed(bot, "U0DET1") == [] and "You may use it" in await ask(bot, "U0DET1")
    await reject_renewal(bot, slack)
    [said] = told_owner(bot, "stays Suspended — approval lapsed")
    assert "The renewal REQ-0002 was rejected" in reads(said)
    answer = await ask(bot, "U0DET1")  # at once, before any sweep
    assert "You are not authorised to use it" in answer and "lapsed" in answer
    assert await status_of_record(bot) is not ToolStatus.REJECTED
    await bot.sweep()
    await bot.sweep()
    for user in ("U0OFFICER", "U0DET1"):
        [told] = lapsed(bot, user)
        assert "Stop using it" in everything_said(told)
    assert await status_of_record(bot) is ToolStatus.LAPSED
    assert "Suspended — approval lapsed" in await ask(bot, "U0DET1")
    async with bot.c.uow() as uow:
        trail = [e.action for e in await uow.audit.for_subject("REQ-0001")]
    assert trail.count("licence:lapsed") == 1 and trail.count("licence:renewal_closed") == 1
    # A lapsed licence can still be renewed.
    assert ActionId.LICENCE_RENEW in await status_buttons(bot, "U0OFFICER")


async def test_a_renewal_of_a_lapsed_licence_rejected_leaves_it_suspended(bot, slack):
    expiry = await licensed(bot, bot.clock() + 40 * DAY)
    bot.clock.set(expiry)
    await bot.sweep()
    assert len(lapsed(bot, "U0DET1")) == 1 and await status_of_record(bot) is ToolStatus.LAPSED
    bot.clock.set(expiry + 2 * DAY)
    await renew(bot, slack)
    await reject_renewal(bot, slack)
    assert await status_of_record(bot) is ToolStatus.LAPSED
    [said] = told_owner(bot, "stays Suspended — approval lapsed")
    assert "nobody may use it for police work until a renewal is approved" in reads(said)
    await bot.sweep()
    assert len(lapsed(bot, "U0DET1")) == 1  # told once, at its lapse
    assert "Suspended — approval lapsed" in await ask(bot, "U0DET1")
