"""Renew… on a tier's route, end to end (issue 18): something changed (new data) -> a new review on
the whole route of its tier, the previous answers carried over and judged again by the risk rules;
nothing changed -> a review at the tier route's last stage only."""

from __future__ import annotations

from bot.messages.ids import ActionId
from tests.slack.harness import form_state
from tests.slack.test_licence_renewal import open_form
from tests.slack.test_licence_status import reads
from tests.slack.test_risk_at_intake import (  # noqa: F401
    OFFICER,
    TRANSCRIBER,
    as_fields,
    open_tier_modal,
    risk_bot,
    submit_tier,
)
from tests.workflows.test_risk import TRANSCRIPTION
from workflows.risk import Tier
from workflows.risk_assessment import assess

__all__ = ["risk_bot"]
ROUTE = (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1"), ("C0CMD", "U0CHIEF"))  # [tiers.moderate]


async def licensed_transcriber(bot) -> str:
    """Otter Transcribe assessed moderate and approved on its route; returns its request's ref."""
    request_id, _ = await bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    for channel, reviewer in ROUTE:
        await bot.click(bot.card(channel, ref), ActionId.APPROVE, reviewer)
        await bot.settle()
    return ref


async def renew_form(bot, slack) -> dict:
    """The owner's Renew… on /tool-status: the form it opens."""
    response = await bot.http.command("/tool-status", TRANSCRIBER["tool_name"], OFFICER)
    [button] = [
        e
        for b in response.json()["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == ActionId.LICENCE_RENEW
    ]
    return await open_form(bot, slack, ActionId.LICENCE_RENEW, button["value"], OFFICER)


async def renew(bot, slack, **changed: dict) -> None:
    view = await renew_form(bot, slack)
    assert await bot.submit_form(view, OFFICER, form_state(view, **changed)) is None
    await bot.settle()


def cards_of(bot, ref: str) -> set[str]:
    return {ch for (ch, _), m in bot.slack.messages.items() if ref in reads(m) and ch.startswith("C0")}


async def test_new_data_is_a_new_review_on_the_tier_s_route_with_the_answers_judged_again(risk_bot, slack):
    first = await licensed_transcriber(risk_bot)
    await renew(
        risk_bot,
        slack,
        changes={"selected_options": [{"value": "new_data"}]},
        what_changed={"value": "It will now also transcribe 999 call recordings."},
    )
    async with risk_bot.c.uow() as uow:
        original = await uow.requests.get(1)
        renewal = await uow.requests.get(2)
        licence = await uow.licences.for_request(first)
    assert renewal.extends == first and licence.renewal_ref == renewal.ref
    assert renewal.answers == original.answers  # carried over, not asked again
    assert renewal.tier is assess(renewal.answers).tier is Tier.MODERATE  # judged again by the rules
    assert renewal.stage_key == "it_security"  # the tier's whole route, from its first stage
    assert cards_of(risk_bot, renewal.ref) == {"C0ITSEC"}
    card = reads(risk_bot.card("C0ITSEC", renewal.ref).message)
    assert "Renewal of LIC-0001 (REQ-0001): new data." in card and "999 call recordings" in card
    for channel, reviewer in ROUTE:  # every stage again; the last one's licence form renews it
        await risk_bot.click(risk_bot.card(channel, renewal.ref), ActionId.APPROVE, reviewer)
        await risk_bot.settle()
    async with risk_bot.c.uow() as uow:
        renewed = await uow.licences.for_request(renewal.ref)
        assert (await uow.licences.current_for_tool(renewed.tool_key)).id == renewed.id
        assert (await uow.licences.for_request(first)).renewal_ref is None


async def test_nothing_changed_is_reviewed_at_the_route_s_last_stage_only(risk_bot, slack):
    await licensed_transcriber(risk_bot)
    await renew(risk_bot, slack)
    async with risk_bot.c.uow() as uow:
        renewal = await uow.requests.get(2)
    assert renewal.tier is Tier.MODERATE and renewal.stage_key == "command"
    assert cards_of(risk_bot, renewal.ref) == {"C0CMD"}
    assert "nothing changed" in reads(risk_bot.card("C0CMD", renewal.ref).message)


async def test_something_changed_needs_a_word_on_what(risk_bot, slack):
    await licensed_transcriber(risk_bot)
    view = await renew_form(risk_bot, slack)
    ticked = form_state(view, changes={"selected_options": [{"value": "new_vendor_terms"}]})
    answer = await risk_bot.submit_form(view, OFFICER, ticked)
    assert answer["response_action"] == "errors" and "what_changed" in answer["errors"]
    async with risk_bot.c.uow() as uow:
        assert await uow.requests.get(2) is None  # nothing stored half-way


async def test_the_renewal_is_judged_by_the_rules_not_by_a_tier_a_reviewer_set(risk_bot, slack):
    """Command staff lowered the first request to low once IT security had approved it (low's route
    is IT security alone: approved). The renewal's answers are judged again: moderate, on its route."""
    request_id, _ = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    await risk_bot.click(risk_bot.card("C0ITSEC", ref), ActionId.APPROVE, "U0SEC1")
    await risk_bot.settle()
    modal = await open_tier_modal(risk_bot, "C0PRIV", ref, ActionId.LOWER_TIER, "U0DEPUTY")
    assert await submit_tier(risk_bot, modal, "U0DEPUTY", "low", "On-premises copy only.") is None
    await renew(
        risk_bot,
        slack,
        changes={"selected_options": [{"value": "new_purpose"}]},
        what_changed={"value": "Also used for 999 calls."},
    )
    async with risk_bot.c.uow() as uow:
        assert (await uow.requests.get(request_id)).tier is Tier.LOW
        renewal = await uow.requests.get(2)
    assert renewal.tier is Tier.MODERATE and renewal.stage_key == "it_security"
    assert renewal.route == ("it_security", "privacy", "command")
