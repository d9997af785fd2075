"""/report-use and the message shortcut end to end, and a cease-use's old one-click Acknowledge
button opening the attestation form: what the officer, the reviewers and the privacy team see."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from bot.messages.ids import ActionId, CallbackId
from demo.slack_rules import view_errors
from tests.fakes.signing import block_action, view_submission
from tests.slack.harness import answer_values, everything_said, start_bot, stop_bot
from tests.slack.test_clearview_story import answer
from tests.slack.test_tool_status import reads
from tests.workflows.test_risk import CLEARVIEW, TRANSCRIPTION
from workflows.directive_kinds import DirectiveKind
from workflows.directive_model import DirectiveDraft, DirectiveIssued
from workflows.directives import issue_directive

OFFICER, CHIEF = "U0OFFICER", "U0CHIEF"
CONFIG_2H = None


def page_one(**changes) -> dict:
    option = {"type": "plain_text", "text": "x"}
    fields = {
        "tool": "Otter",
        "vendor": "otter.ai",
        "since": (datetime.now(UTC).date() - timedelta(days=3)).isoformat(),
        "why": "Transcribed an urgent interview with a missing child's witness.",
        "emergency": "yes",
        "case_number": "2026-000555",
        "kept_data": "yes",
        "kept_what": "The transcript, in the case file",
        "link": "",
        **changes,
    }
    values = {}
    for key, value in fields.items():
        if key == "since":
            values[key] = {"value": {"type": "datepicker", "selected_date": value}}
        elif key in ("emergency", "kept_data"):
            chosen = {"value": value, "text": option} if value else None
            values[key] = {"value": {"type": "radio_buttons", "selected_option": chosen}}
        else:
            values[key] = {"value": {"type": "plain_text_input", "value": value}}
    return values


async def submit(bot, callback: str, values: dict, view_id: str) -> dict | None:
    response = await bot.http.submit(view_submission(callback, values, OFFICER, view_id=view_id))
    assert response.status_code == 200, response.text
    return json.loads(response.text) if response.text not in ("", "null") else None


async def test_an_emergency_report_becomes_a_request_used_before_approval(slack, database_url, tmp_path):
    config_dir = tmp_path
    from tests.slack.test_risk_at_intake import RISK_CONFIG

    slack.usergroups["S0CMD"] = ["U0DEPUTY"]
    bot = await start_bot(slack, database_url, config_dir, config=RISK_CONFIG + '\n[reports]\nemergency_due = "2h"\n')
    try:
        assert (await bot.http.command("/report-use", "Otter", OFFICER)).status_code == 200
        form = (await slack.wait_for("views.open"))[-1].args["view"]
        assert form["callback_id"] == CallbackId.REPORT_FORM and "right thing to do" in json.dumps(form)

        future = (date.today() + timedelta(days=2)).isoformat()
        refused = await submit(bot, CallbackId.REPORT_FORM, page_one(since=future, case_number=""), "VR1")
        assert refused["response_action"] == "errors"
        assert set(refused["errors"]) == {"since", "case_number"}  # the future; an emergency needs its case

        page_two = await submit(bot, CallbackId.REPORT_FORM, page_one(), "VR2")
        assert page_two["response_action"] == "update"
        questions = page_two["view"]
        assert questions["callback_id"] == CallbackId.REPORT_QUESTIONS and view_errors(questions) == []
        values = {**page_one(), **answer_values({**TRANSCRIPTION, "in_use": "yes"})}
        assert await submit(bot, CallbackId.REPORT_QUESTIONS, values, "VR3") is None
        assert await submit(bot, CallbackId.REPORT_QUESTIONS, values, "VR3") is None  # a re-delivery: one request
        await bot.settle()

        async with bot.c.uow() as uow:
            (request,) = await uow.requests.for_requester(OFFICER)
        assert request.used_before_approval and request.self_report.emergency
        assert request.next_reminder_at == request.created_at + timedelta(hours=2)  # due within [reports]
        card = bot.card("C0ITSEC", request.ref)
        assert "Used before approval" in reads(card.message) and "2026-000555" in reads(card.message)
        dm = reads(bot.dms(OFFICER)[-1])
        assert "used before approval" in dm and "thank you" in dm
        async with bot.c.uow() as uow:
            trail = [e.action for e in await uow.audit.for_subject(request.ref)]
        assert trail[:3] == ["submitted", "self_reported", "assessed"]
    finally:
        await stop_bot(bot)


async def test_a_prohibited_report_asks_the_officer_to_attest_deletion(slack, database_url, tmp_path):
    bot = await start_bot(slack, database_url, tmp_path)
    try:
        # From the message shortcut: the message's link is filled in.
        shortcut = {
            "type": "message_action",
            "callback_id": CallbackId.REPORT_SHORTCUT.value,
            "trigger_id": "1.2.abc",
            "user": {"id": OFFICER},
            "team": {"id": "T0TEAM", "domain": "metro"},
            "channel": {"id": "C0PATROL"},
            "message": {"ts": "1700000000.000100", "text": "see this"},
            "response_url": bot.slack.new_response_url("shortcut"),
        }
        assert (await bot.http.action(shortcut)).status_code == 200
        form = (await slack.wait_for("views.open"))[-1].args["view"]
        link = next(b for b in form["blocks"] if b.get("block_id") == "link")["element"]["initial_value"]
        assert link == "https://metro.slack.com/archives/C0PATROL/p1700000000000100"

        fields = page_one(tool="Clearview AI", vendor="clearview.ai", emergency="no", link=link)
        values = {**fields, **answer_values(CLEARVIEW)}
        assert await submit(bot, CallbackId.REPORT_QUESTIONS, values, "VR9") is None
        await bot.settle()
        asked = bot.dms(OFFICER)[-1]
        assert "Thank you again for reporting" in everything_said(asked)
        button = next(e for b in asked["blocks"] if b["type"] == "actions" for e in b["elements"])
        assert button["action_id"] == ActionId.ATTEST_REQUEST
        payload = block_action(ActionId.ATTEST_REQUEST, button["value"], OFFICER, channel_id="D0OFFICER")
        assert (await bot.http.action(payload)).status_code == 200
        view = (await slack.wait_for("views.open", 2))[-1].args["view"]
        done = await answer(bot, OFFICER, view, "stopped_and_deleted", view_id="VATT")
        assert "Thank you" in everything_said(done["view"])
        async with bot.c.uow() as uow:
            (request,) = await uow.requests.for_requester(OFFICER)
            trail = [e.action for e in await uow.audit.for_subject(request.ref)]
        assert "request:attested" in trail and request.self_report.link == link
    finally:
        await stop_bot(bot)


async def test_a_cease_use_posted_with_the_old_acknowledge_button_opens_the_form(slack, database_url, tmp_path):
    slack.channel_members["C0PATROL"] = [OFFICER, CHIEF]
    bot = await start_bot(slack, database_url, tmp_path)
    try:
        draft = DirectiveDraft(DirectiveKind.CEASE_USE, "Clearview AI", "Stop.", ("C0PATROL",), True, None)
        async with bot.c.uow() as uow:
            events = await issue_directive(uow, draft, CHIEF, True, datetime.now(UTC))
            await uow.commit()
        directive = next(e for e in events if isinstance(e, DirectiveIssued)).directive
        value = json.dumps({"d": directive.stored_id}, separators=(",", ":"))
        payload = block_action(ActionId.ACKNOWLEDGE, value, OFFICER, channel_id="C0PATROL", message_ts="1.1")
        assert (await bot.http.action(payload)).status_code == 200
        view = (await slack.wait_for("views.open"))[-1].args["view"]
        assert view["callback_id"] == CallbackId.ATTEST_FORM
        async with bot.c.uow() as uow:
            assert await uow.acks.count(directive.stored_id) == 0  # a click records nothing
    finally:
        await stop_bot(bot)
