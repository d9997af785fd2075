"""Every form submission is handled once: Slack's retry or a replayed request of the same view
(same view id) changes nothing more, sends nothing more, and still gets an answer that closes
the modal. Each form is delivered twice and the audit trail and messages are counted."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text as sql

from bot.messages.ids import ActionId, CallbackId
from tests.fakes.signing import block_action, view_submission
from tests.slack.harness import Bot, form_values
from tests.slack.test_directives import (
    CHIEF,
    form_state,
    issue,
    report,
    settle,
)
from tests.slack.test_directives import staff_bot as staff_bot  # the fixture, shared


async def footprint(bot: Bot) -> tuple[int, int, int]:
    """What a change leaves behind: audit rows, outbox rows, messages posted to Slack."""
    async with bot.c.uow() as uow:
        audit = (await uow.session.execute(sql("SELECT count(*) FROM audit_log"))).scalar_one()
        outbox = (await uow.session.execute(sql("SELECT count(*) FROM outbox"))).scalar_one()
    return audit, outbox, len(bot.slack.calls_to("chat.postMessage"))


async def twice(bot: Bot, payload: dict, *, settle_with=None) -> list:
    """Deliver the same submission twice; the second must leave no trace. Returns both answers."""
    settle_with = settle_with or (lambda: bot.settle())
    first = await bot.http.submit(payload)
    assert first.status_code == 200, first.text
    await settle_with()
    after_first = await footprint(bot)
    second = await bot.http.submit(payload)
    assert second.status_code == 200, second.text
    await settle_with()
    assert await footprint(bot) == after_first
    return [json.loads(r.text) if r.text not in ("", "null") else None for r in (first, second)]


def _state(**texts: str) -> dict:
    return {block: {"value": {"type": "plain_text_input", "value": text}} for block, text in texts.items()}


async def _open_reason(bot: Bot, action_id: str) -> dict:
    before = len(bot.slack.calls_to("views.open"))
    await bot.click(bot.card("C0ITSEC"), action_id, "U0SEC1")
    return (await bot.slack.wait_for("views.open", count=before + 1))[-1].args["view"]


@pytest.mark.parametrize(
    ("action_id", "audit_action", "dm_says"),
    [
        (ActionId.APPROVE_WITH_NOTE, "approved:it_security", None),
        (ActionId.REJECT, "rejected:it_security", "rejected"),
        (ActionId.ASK_INFO, "info_requested:it_security", "Where are the images stored?"),
    ],
)
async def test_a_review_reason_delivered_twice_counts_once(bot, slack, action_id, audit_action, dm_says):
    request_id = await bot.request_tool()
    dms_before = len(bot.dms("U0OFFICER"))
    view = await _open_reason(bot, action_id)
    payload = view_submission(
        view["callback_id"],
        _state(reason="Where are the images stored?"),
        "U0SEC1",
        private_metadata=view["private_metadata"],
        view_id="VREASON1",
    )
    answers = await twice(bot, payload)
    assert answers == [None, None]  # both close the modal
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
        trail = [e.action for e in await uow.audit.for_subject(request.ref)]
    assert trail.count(audit_action) == 1
    assert len(request.decisions) + len(request.exchanges) == 1
    if dm_says:
        new_dms = bot.dms("U0OFFICER")[dms_before:]
        assert len(new_dms) == 1 and dm_says in json.dumps(new_dms[0])
    else:
        assert len(slack.messages_in("C0PRIV")) == 1  # one card for the next stage


async def test_an_answer_delivered_twice_counts_once(bot, slack):
    request_id = await bot.request_tool()
    ask = await _open_reason(bot, ActionId.ASK_INFO)
    assert await bot.submit_view(ask, "U0SEC1", reason="Which case?") is None
    await bot.settle()
    answer_button = next(
        e
        for b in bot.dms("U0OFFICER")[-1]["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ActionId.ANSWER
    )
    await bot.http.action(block_action(ActionId.ANSWER, answer_button["value"], "U0OFFICER", channel_id="DU0OFFICER"))
    form = (await slack.wait_for("views.open", count=3))[-1].args["view"]
    payload = view_submission(
        form["callback_id"],
        _state(answer="2026-000123."),
        "U0OFFICER",
        private_metadata=form["private_metadata"],
        view_id="VANSWER1",
    )
    assert await twice(bot, payload) == [None, None]
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
        trail = [e.action for e in await uow.audit.for_subject(request.ref)]
    assert trail.count("info_provided") == 1 and request.status.value == "pending"


async def test_a_request_form_delivered_twice_makes_one_request_and_one_card(bot, slack):
    payload = view_submission(CallbackId.REQUEST_FORM, form_values(), "U0OFF", view_id="VREQ1")
    assert await twice(bot, payload) == [None, None]
    async with bot.c.uow() as uow:
        assert len(await uow.requests.for_requester("U0OFF")) == 1
    assert len(slack.messages_in("C0ITSEC")) == 1


async def test_a_withdraw_clicked_twice_withdraws_once(bot, slack):
    request_id = await bot.request_tool()
    button = next(
        e
        for b in bot.dms("U0OFFICER")[0]["blocks"]
        for e in b.get("elements", [])
        if e.get("action_id") == ActionId.WITHDRAW
    )
    click = block_action(ActionId.WITHDRAW, button["value"], "U0OFFICER", channel_id="DU0OFFICER")
    for _ in range(2):
        assert (await bot.http.action(click)).status_code == 200
        await bot.settle()
    async with bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
        trail = [e.action for e in await uow.audit.for_subject(request.ref)]
    assert trail.count("withdrawn") == 1
    assert sum("You withdrew" in json.dumps(d) for d in bot.dms("U0OFFICER")) == 1
    assert "was withdrawn" in json.dumps(bot.ephemerals("U0OFFICER")[-1])  # the second click is told why


async def test_a_directive_form_delivered_twice_posts_once(staff_bot, slack):
    bot = staff_bot
    payload = view_submission(CallbackId.DIRECTIVE_FORM, form_state(), CHIEF, view_id="VDIR1")
    answers = await twice(bot, payload, settle_with=lambda: settle(bot))
    assert answers[0] == {"response_action": "clear"} and answers[1] in (None, {"response_action": "clear"})
    async with bot.c.uow() as uow:
        assert [d.ref for d in await uow.directives.list_active()] == ["DIR-0001"]
    assert len(slack.messages_in("C0PATROL")) == 1


async def test_a_supersede_form_delivered_twice_supersedes_once(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot)
    opened = len(slack.calls_to("views.open"))
    card = report(bot, CHIEF, ref)
    await bot.http.action(
        block_action(
            ActionId.DIRECTIVE_SUPERSEDE,
            card.buttons[ActionId.DIRECTIVE_SUPERSEDE]["value"],
            CHIEF,
            channel_id=card.channel,
            message_ts=card.ts,
        )
    )
    form = (await slack.wait_for("views.open", opened + 1))[-1].args["view"]
    state = form_state(kind="approved", tool="", text="Cleared after review.", ack=False)
    payload = view_submission(
        CallbackId.DIRECTIVE_FORM, state, CHIEF, private_metadata=form["private_metadata"], view_id="VSUP1"
    )
    await twice(bot, payload, settle_with=lambda: settle(bot))
    async with bot.c.uow() as uow:
        assert [d.ref for d in await uow.directives.list_active()] == ["DIR-0002"]
        assert [e.action for e in await uow.audit.for_subject(ref)].count("directive:superseded") == 1


async def test_a_revoke_form_delivered_twice_revokes_once(staff_bot, slack):
    bot = staff_bot
    ref = await issue(bot)
    payload = view_submission(
        CallbackId.DIRECTIVE_REVOKE_FORM,
        _state(reason="Legal cleared it."),
        CHIEF,
        private_metadata=json.dumps({"d": 1}),
        view_id="VREV1",
    )
    first, second = await twice(bot, payload, settle_with=lambda: settle(bot))
    assert first["response_action"] == "update"
    assert second is None  # the modal closes; nothing more is done
    async with bot.c.uow() as uow:
        assert [e.action for e in await uow.audit.for_subject(ref)].count("directive:revoked") == 1
