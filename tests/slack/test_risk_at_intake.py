"""Risk at intake end to end: the two-page form, the rules' verdict as the officer, the privacy
channel, command staff and reviewers see it, and tiers raised or lowered from the review card.

The three anchor cases (workflows/test_risk.py judges them in the domain) go through the real bot:
a Clearview-type face search is refused with P1, a transcription service hosted in Canada is
moderate, an offline spreadsheet macro is approved at once by the rules.
"""

from __future__ import annotations

import json
import time

import pytest

from bot.messages.ids import ActionId, CallbackId
from demo.slack_rules import view_errors
from tests.fakes.signing import block_action, view_submission
from tests.slack.harness import CONFIG, Bot, answer_values, everything_said, form_state, start_bot, stop_bot
from tests.slack.test_tool_status import ask, reads
from tests.slack.test_untrusted_text import FORBIDDEN, NASTY_NAME, NASTY_PURPOSE, mrkdwn_strings
from tests.workflows.test_risk import CLEARVIEW, SPREADSHEET_MACRO, TRANSCRIPTION
from workflows.risk import QUESTIONS

CHIEF, DEPUTY, OFFICER = "U0CHIEF", "U0DEPUTY", "U0OFFICER"
# Command staff by name and through a user group; a legal stage; a route per tier.
RISK_CONFIG = (
    CONFIG.replace('command_staff = ["U0CHIEF"]', 'command_staff = ["U0CHIEF", "S0CMD"]')
    + """
[[stages]]
key = "legal"
name = "Legal"
channel = "C0LEGAL"
reviewers = ["U0LEGAL1"]

[tiers.high]
stages = ["it_security", "legal", "privacy", "command"]
[tiers.moderate]
stages = ["it_security", "privacy", "command"]
[tiers.low]
stages = ["it_security"]
[tiers.minimal]
stages = []
"""
)
TRANSCRIBER = {
    "tool_name": "Otter Transcribe",
    "vendor": "Otter Canada Inc.",
    "purpose": "Transcribe witness interviews.",
}
MACRO = {"tool_name": "Shift roster macro", "vendor": "Our own IT", "purpose": "Fill the shift roster in Excel."}


def as_fields(answers: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in answers.items()}


@pytest.fixture
async def risk_bot(slack, database_url, tmp_path):
    slack.usergroups["S0CMD"] = [DEPUTY]
    bot = await start_bot(slack, database_url, tmp_path, config=RISK_CONFIG)
    yield bot
    await stop_bot(bot)


def dm_text(bot: Bot, user: str, index: int = -1) -> str:
    return reads(bot.dms(user)[index])


def blocks_of(bot: Bot, channel: str) -> list[dict]:
    return [m for (ch, _), m in bot.slack.messages.items() if ch == channel]


# --- the form ------------------------------------------------------------------------------------


async def test_the_form_has_a_second_page_of_questions_with_short_explained_choices(risk_bot, slack):
    _, page_two = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    page_one = slack.calls_to("views.open")[0].args["view"]
    assert json.loads(page_one["private_metadata"]) == {"p": 1}
    assert page_two["callback_id"] == CallbackId.REQUEST_QUESTIONS
    assert view_errors(page_two) == []  # the ack's view is valid Block Kit too
    blocks = {b.get("block_id"): b for b in page_two["blocks"]}
    for question in QUESTIONS:
        element = blocks[question.id]["element"]
        assert element["type"] == ("checkboxes" if question.multiple else "radio_buttons")
        assert [o["value"] for o in element["options"]] == list(question.values)
        assert all(o["description"]["text"] for o in element["options"])  # a one-line explanation each
    # Page 1 is carried in the page itself, prefilled, however long it was.
    assert blocks["purpose"]["element"]["initial_value"] == TRANSCRIBER["purpose"]


async def test_both_pages_answer_at_once_and_show_errors_on_the_field_or_question(risk_bot, slack):
    await risk_bot.http.command("/request-tool", "", OFFICER)
    page_one = (await slack.wait_for("views.open"))[-1].args["view"]
    calls = len(slack.calls)
    started = time.perf_counter()
    response = await risk_bot.http.submit(
        view_submission(CallbackId.REQUEST_FORM, {}, OFFICER, private_metadata=page_one["private_metadata"])
    )
    page_one_seconds = time.perf_counter() - started
    errors = response.json()["errors"]
    assert set(errors) == {"tool_name", "vendor", "purpose"}

    page_two = await risk_bot.next_page(page_one, OFFICER, **TRANSCRIBER)
    missing = {k: v for k, v in as_fields(TRANSCRIPTION).items() if k not in ("hosting", "data_kinds")}
    started = time.perf_counter()
    reply = await risk_bot.submit_questions(page_two, {**missing, "in_use": "maybe"}, OFFICER, **TRANSCRIBER)
    page_two_seconds = time.perf_counter() - started
    assert reply["response_action"] == "errors"
    assert set(reply["errors"]) == {"hosting", "data_kinds", "in_use"}
    assert "Where is the data kept?" in reply["errors"]["hosting"]
    assert len(slack.calls) == calls  # no Slack call on either page before the ack
    assert page_one_seconds < 1 and page_two_seconds < 1
    async with risk_bot.c.uow() as uow:
        assert await uow.requests.for_requester(OFFICER) == []


async def test_a_field_of_nothing_but_invisible_characters_counts_as_empty(risk_bot, slack):
    await risk_bot.http.command("/request-tool", "", OFFICER)
    page_one = (await slack.wait_for("views.open"))[-1].args["view"]
    invisible = {
        "tool_name": {"value": {"type": "plain_text_input", "value": "Otter"}},
        "vendor": {"value": {"type": "plain_text_input", "value": "\u200b\u2060\ufeff"}},
        "purpose": {"value": {"type": "plain_text_input", "value": "\u200b" * 12}},
    }
    response = await risk_bot.http.submit(
        view_submission(CallbackId.REQUEST_FORM, invisible, OFFICER, private_metadata=page_one["private_metadata"])
    )
    assert set(response.json()["errors"]) == {"vendor", "purpose"}


# --- anchor 1: a Clearview-type tool is refused at once ---------------------------------------------


async def test_a_clearview_type_tool_is_refused_with_p1_and_privacy_and_command_staff_are_told(risk_bot, slack):
    request_id, _ = await risk_bot.request_assessed(as_fields(CLEARVIEW))
    ref = f"REQ-{request_id:04d}"

    (officer_dm,) = risk_bot.dms(OFFICER)
    said = reads(officer_dm)
    assert "is *refused*" in said and "no reviewer will be asked" in said
    assert "P1* — the vendor's reference data was collected without consent" in said
    assert "stop using it now" in said
    assert "<@rules>" not in json.dumps([c.args for c in slack.calls_to("chat.postMessage")])
    assert not blocks_of(risk_bot, "C0ITSEC")  # no reviewer sees it

    (privacy,) = blocks_of(risk_bot, "C0PRIV")
    assert "refused by the risk rules" in reads(privacy) and "P1" in reads(privacy)
    assert ActionId.CEASE_USE_FROM_REQUEST not in json.dumps(privacy)
    for staff in (CHIEF, DEPUTY):  # by name, and through the user group
        (notice,) = risk_bot.dms(staff)
        assert ref in reads(notice) and "on trial" in reads(notice)
        assert [e["action_id"] for b in notice["blocks"] if b["type"] == "actions" for e in b["elements"]] == [
            ActionId.CEASE_USE_FROM_REQUEST
        ]

    async with risk_bot.c.uow() as uow:
        trail = [e.action for e in await uow.audit.for_subject(ref)]
    assert trail == ["submitted", "assessed", "refused:rules"]

    status, _ = await ask(risk_bot, "Clearview AI")
    assert "Prohibited" in status and "Rule: P1 — the vendor's reference data" in status
    assert "Conditions" not in status and "decided by the risk rules" in status


async def test_the_cease_use_button_opens_the_prefilled_directive_form_for_command_staff_only(risk_bot, slack):
    await risk_bot.request_assessed(as_fields(CLEARVIEW))
    message = risk_bot.card(risk_bot.slack.dm_with(CHIEF))  # the refusal notice, in the chief's DM with the bot
    assert "refused by the risk rules" in message.text

    response = await risk_bot.click(message, ActionId.CEASE_USE_FROM_REQUEST, OFFICER)
    assert response.status_code == 200
    await risk_bot.settle()
    assert slack.calls_to("views.open") == [slack.calls_to("views.open")[0]]  # only the request form
    refused = everything_said(risk_bot.ephemerals(OFFICER)[-1]) if risk_bot.ephemerals(OFFICER) else ""
    refused = refused or everything_said(risk_bot.dms(OFFICER)[-1])
    assert "Only command staff" in refused

    response = await risk_bot.click(message, ActionId.CEASE_USE_FROM_REQUEST, DEPUTY)
    assert response.status_code == 200
    form = (await slack.wait_for("views.open", 2))[-1].args["view"]
    assert form["callback_id"] == CallbackId.DIRECTIVE_FORM
    blocks = {b.get("block_id"): b for b in form["blocks"]}
    assert blocks["kind"]["element"]["initial_option"]["value"] == "cease_use"
    assert "Clearview AI" in blocks["tool"]["element"]["initial_option"]["text"]["text"]
    text = blocks["text"]["element"]["initial_value"]
    assert text.startswith("Stop using Clearview AI for police work now") and "P1 — " in text


# --- anchor 2: a transcription service hosted in Canada is moderate ---------------------------------


async def test_a_transcription_service_in_canada_is_moderate_and_goes_through_its_route(risk_bot, slack):
    request_id, _ = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    said = dm_text(risk_bot, OFFICER)
    assert "risk tier is *Moderate*" in said
    assert "IT security → Privacy → Command (3 stages, in that order)" in said

    card = risk_bot.card("C0ITSEC", ref)
    text = reads(card.message)
    assert "Risk tier: Moderate* · score 7/55 (12.7%)" in text
    assert "*Route:* IT security → Privacy → Command" in text
    assert "No rule applies" in text
    for question in QUESTIONS:
        assert question.text in text
    assert "Where is the data kept? — In Canada" in text
    assert "step 1 of 3" in text
    assert {ActionId.RAISE_TIER, ActionId.LOWER_TIER} <= set(card.buttons)

    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1"), ("C0CMD", CHIEF)):
        await risk_bot.click(risk_bot.card(channel, ref), ActionId.APPROVE, reviewer)
        await risk_bot.settle()
    assert not blocks_of(risk_bot, "C0LEGAL")  # legal is not on a moderate route
    assert "is *approved*" in dm_text(risk_bot, OFFICER)


# --- anchor 3: an offline macro is approved by the rules ---------------------------------------------


async def test_an_offline_macro_is_minimal_and_approved_at_once_by_the_rules(risk_bot, slack):
    request_id, _ = await risk_bot.request_assessed(as_fields(SPREADSHEET_MACRO), **MACRO)
    (officer_dm,) = risk_bot.dms(OFFICER)
    said = reads(officer_dm)
    assert "approved by the risk rules" in said and "*Minimal*" in said
    assert "Approved by the risk rules" in said  # where it stands now
    assert not any(blocks_of(risk_bot, ch) for ch in ("C0ITSEC", "C0PRIV", "C0CMD", "C0LEGAL"))
    assert "<@rules>" not in json.dumps([c.args for c in slack.calls_to("chat.postMessage")])
    status, _ = await ask(risk_bot, "Shift roster macro")
    assert "Approved" in status and "decided by the risk rules" in status


# --- changing the tier from the card -----------------------------------------------------------------


async def open_tier_modal(bot: Bot, channel: str, ref: str, action: str, user: str) -> dict | None:
    opened = len(bot.slack.calls_to("views.open"))
    response = await bot.click(bot.card(channel, ref), action, user)
    assert response.status_code == 200
    await bot.settle()
    calls = bot.slack.calls_to("views.open")
    return calls[-1].args["view"] if len(calls) > opened else None


async def submit_tier(bot: Bot, view: dict, user: str, tier: str, reason: str) -> dict | None:
    option = {"type": "plain_text", "text": "x"}
    state = {
        "tier": {"value": {"type": "radio_buttons", "selected_option": {"value": tier, "text": option}}},
        "reason": {"value": {"type": "plain_text_input", "value": reason}},
    }
    response = await bot.http.submit(
        view_submission(
            view["callback_id"], state, user, private_metadata=view["private_metadata"], blocks=view["blocks"]
        )
    )
    assert response.status_code == 200, response.text
    await bot.settle()
    return json.loads(response.text) if response.text not in ("", "null") else None


async def test_a_reviewer_raises_the_tier_and_the_request_is_re_routed(risk_bot, slack):
    request_id, _ = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    await risk_bot.click(risk_bot.card("C0ITSEC", ref), ActionId.APPROVE, "U0SEC1")
    await risk_bot.settle()

    # Someone who does not review the privacy stage is refused before any form opens.
    assert await open_tier_modal(risk_bot, "C0PRIV", ref, ActionId.RAISE_TIER, "U0SEC1") is None
    modal = await open_tier_modal(risk_bot, "C0PRIV", ref, ActionId.RAISE_TIER, "U0PRIV1")
    choices = [o["value"] for o in modal["blocks"][1]["element"]["options"]]
    assert choices == ["high"]
    reason = "Voice prints may be kept <!channel> *really*"
    assert await submit_tier(risk_bot, modal, "U0PRIV1", "high", "") == {
        "response_action": "errors",
        "errors": {"reason": "Say why the tier changes; it is kept in the audit trail."},
    }
    assert await submit_tier(risk_bot, modal, "U0PRIV1", "high", reason) is None

    # The high route puts Legal before Privacy: the request moves there, its card is posted.
    privacy = reads(risk_bot.card("C0PRIV", ref).message)
    assert "No decision needed here any more" in privacy and "Risk tier: High" in privacy
    legal = risk_bot.card("C0LEGAL", ref)
    assert ActionId.APPROVE in legal.buttons
    assert "*Route:* IT security → Legal → Privacy → Command" in reads(legal.message)
    assert "set by a person; the rules said Moderate" in reads(legal.message)
    said = dm_text(risk_bot, OFFICER)
    assert "was raised from *Moderate* to *High* by <@U0PRIV1>" in said
    assert "IT security → Legal → Privacy → Command" in said and "Next: Legal review." in said
    assert "<!channel>" not in said and "&lt;!channel&gt;" in said  # the reason is shown, not obeyed

    async with risk_bot.c.uow() as uow:
        trail = await uow.audit.for_subject(ref)
    raised = next(e for e in trail if e.action == "tier_raised")
    assert raised.actor == "U0PRIV1" and raised.reason.startswith(reason)


async def test_lowering_a_tier_takes_command_staff(risk_bot, slack):
    request_id, _ = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    await risk_bot.click(risk_bot.card("C0ITSEC", ref), ActionId.APPROVE, "U0SEC1")
    await risk_bot.settle()

    assert await open_tier_modal(risk_bot, "C0PRIV", ref, ActionId.LOWER_TIER, "U0PRIV1") is None
    told = risk_bot.ephemerals("U0PRIV1")[-1]
    assert "Only command staff can lower" in everything_said(told)
    # A modal opened while they were command staff is checked again at submission.
    modal = await open_tier_modal(risk_bot, "C0PRIV", ref, ActionId.LOWER_TIER, DEPUTY)
    assert [o["value"] for o in modal["blocks"][1]["element"]["options"]] == ["minimal", "low"]
    refused = await submit_tier(risk_bot, modal, "U0PRIV1", "low", "Only text, no voice")
    assert refused["response_action"] == "update"
    assert "Only command staff" in everything_said(refused["view"])

    # Low's route is IT security alone, approved already: the request is approved.
    assert await submit_tier(risk_bot, modal, DEPUTY, "low", "Only text, no voice prints") is None
    said = dm_text(risk_bot, OFFICER)
    assert "lowered from *Moderate* to *Low* by <@U0DEPUTY>" in said and "it is *approved*" in said
    assert "No decision needed here any more" in reads(risk_bot.card("C0PRIV", ref).message)
    async with risk_bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
    assert request.status.value == "approved" and request.route == ("it_security",)
    status, _ = await ask(risk_bot, "Otter Transcribe")
    assert "Approved" in status and f"request {ref}, decided by <@U0DEPUTY>" in status


async def test_a_config_change_does_not_move_a_request_in_review(slack, database_url, tmp_path):
    slack.usergroups["S0CMD"] = [DEPUTY]
    bot = await start_bot(slack, database_url, tmp_path, config=RISK_CONFIG)
    try:
        request_id, _ = await bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    finally:
        await stop_bot(bot)
    changed = RISK_CONFIG.replace(
        '[tiers.moderate]\nstages = ["it_security", "privacy", "command"]',
        '[tiers.moderate]\nstages = ["it_security", "legal", "command"]',
    )
    assert changed != RISK_CONFIG
    bot = await start_bot(slack, database_url, tmp_path, config=changed)
    try:
        ref = f"REQ-{request_id:04d}"
        await bot.click(bot.card("C0ITSEC", ref), ActionId.APPROVE, "U0SEC1")
        await bot.settle()
        assert ActionId.APPROVE in bot.card("C0PRIV", ref).buttons  # its own route, not the new one
        assert not blocks_of(bot, "C0LEGAL")
    finally:
        await stop_bot(bot)


# --- answering a reviewer's question may change an intake answer ---------------------------------


async def ask_and_open_answer_form(bot: Bot, ref: str, question: str) -> dict:
    opened = len(bot.slack.calls_to("views.open"))
    await bot.click(bot.card("C0ITSEC", ref), ActionId.ASK_INFO, "U0SEC1")
    ask_form = (await bot.slack.wait_for("views.open", opened + 1))[-1].args["view"]
    assert await bot.submit_view(ask_form, "U0SEC1", reason=question) is None
    await bot.settle()
    dm = bot.dms(OFFICER)[-1]
    button = next(e for b in dm["blocks"] for e in b.get("elements", []) if e.get("action_id") == ActionId.ANSWER)
    await bot.http.action(block_action(ActionId.ANSWER, button["value"], OFFICER, channel_id="D" + OFFICER))
    return (await bot.slack.wait_for("views.open", opened + 2))[-1].args["view"]


async def send_answer(bot: Bot, form: dict, text: str, answers: dict) -> dict | None:
    state = {"answer": {"value": {"type": "plain_text_input", "value": text}}, **answer_values(answers)}
    response = await bot.http.submit(
        view_submission(form["callback_id"], state, OFFICER, private_metadata=form["private_metadata"])
    )
    assert response.status_code == 200, response.text
    await bot.settle()
    return json.loads(response.text) if response.text not in ("", "null") else None


async def test_an_answer_that_changes_an_intake_answer_is_judged_again_and_re_routes(risk_bot, slack):
    request_id, _ = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    form = await ask_and_open_answer_form(risk_bot, ref, "Where exactly are the recordings kept?")
    hosting = next(b for b in form["blocks"] if b.get("block_id") == "hosting")
    assert hosting["optional"] and hosting["element"]["initial_option"]["value"] == "canada"  # prefilled

    current = as_fields(TRANSCRIPTION)
    reply = await send_answer(risk_bot, form, "In the US, it turns out. <@U0SEC1>", {**current, "hosting": "foreign"})
    assert reply is None

    card = reads(risk_bot.card("C0ITSEC", ref).message)
    assert "Risk tier: High" in card and "H3 — personal data is kept outside Canada" in card
    assert "Answers (version 2):" in card and "Where is the data kept? — Outside Canada" in card
    assert "In the US, it turns out." in card  # the answer itself
    assert ActionId.APPROVE in risk_bot.card("C0ITSEC", ref).buttons  # still at IT security, on the high route
    said = [reads(dm) for dm in risk_bot.dms(OFFICER)[-3:]]
    assert any("version 2" in s and "Where is the data kept? → Outside Canada" in s for s in said)
    assert any("by the risk rules" in s and "IT security → Legal → Privacy → Command" in s for s in said)
    async with risk_bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
        trail = [e.action for e in await uow.audit.for_subject(ref)]
    assert request.answers["hosting"] == "foreign" and len(request.answer_versions) == 2
    assert request.answer_versions[0].answers["hosting"] == "canada"  # the first version is kept
    assert trail[-4:] == ["answers_changed", "assessed", "tier_raised", "info_provided"]


async def test_an_answer_that_reveals_a_prohibited_use_refuses_the_request(risk_bot, slack):
    request_id, _ = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    form = await ask_and_open_answer_form(risk_bot, ref, "Does it match voices against a scraped set?")
    await send_answer(risk_bot, form, "Yes, against voices from social media.", {"data_source": "scraped"})

    card = risk_bot.card("C0ITSEC", ref)
    assert card.buttons == {} and "Refused* by the risk rules" in reads(card.message)
    assert "P1* — the vendor's reference data" in reads(risk_bot.dms(OFFICER)[-1])
    assert "refused by the risk rules" in reads(blocks_of(risk_bot, "C0PRIV")[-1])
    async with risk_bot.c.uow() as uow:
        request = await uow.requests.get(request_id)
    assert request.status.value == "rejected"
    assert request.answer_versions[-1].note == "Yes, against voices from social media."  # the answer is kept


async def test_typed_text_in_a_refusal_and_a_tier_reason_is_shown_not_obeyed(risk_bot, slack):
    await risk_bot.request_assessed(as_fields(CLEARVIEW), tool_name=NASTY_NAME, purpose=NASTY_PURPOSE)
    await risk_bot.click(risk_bot.card(risk_bot.slack.dm_with(CHIEF)), ActionId.CEASE_USE_FROM_REQUEST, CHIEF)
    await risk_bot.settle()
    posted = [c.args for c in slack.calls if c.method.startswith(("chat.", "views."))]
    assert len(posted) >= 5  # the officer, the privacy channel, two command staff, the directive form
    for payload in posted:
        for text in mrkdwn_strings(payload):
            for bad in FORBIDDEN:
                assert bad not in text, (bad, text)


async def test_a_new_purpose_for_an_approved_tool_says_which_approval_it_extends(risk_bot, slack):
    first, _ = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{first:04d}"
    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1"), ("C0CMD", CHIEF)):
        await risk_bot.click(risk_bot.card(channel, ref), ActionId.APPROVE, reviewer)
        await risk_bot.settle()
    second, _ = await risk_bot.request_assessed(
        as_fields(TRANSCRIPTION), "U0OFFICER2", **{**TRANSCRIBER, "purpose": "Transcribe 911 call recordings."}
    )
    card = reads(risk_bot.card("C0ITSEC", f"REQ-{second:04d}").message)
    assert f"extends {ref}*: the tool is approved already, for another purpose" in card
    assert f"It extends {ref}" in reads(risk_bot.dms("U0OFFICER2")[-1])


async def test_what_reviewers_wrote_when_approving_becomes_the_tools_conditions_of_use(risk_bot, slack):
    from tests.slack.test_tool_status import ask

    request_id, _ = await risk_bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    for channel, reviewer in (("C0ITSEC", "U0SEC1"), ("C0PRIV", "U0PRIV1")):
        await risk_bot.click(risk_bot.card(channel, ref), ActionId.APPROVE, reviewer)
        await risk_bot.settle()
    opened = len(slack.calls_to("views.open"))
    await risk_bot.click(risk_bot.card("C0CMD", ref), ActionId.APPROVE_WITH_NOTE, CHIEF)
    form = (await slack.wait_for("views.open", opened + 1))[-1].args["view"]
    note = "Witness interviews only; delete audio after 30 days."
    licence_form = (await risk_bot.submit_view(form, CHIEF, reason=note))["view"]  # the last stage: a licence
    changed = {"public_summary": {"value": "Transcribes interviews."}}
    assert await risk_bot.submit_form(licence_form, CHIEF, form_state(licence_form, **changed)) is None
    await risk_bot.settle()
    said, answer = await ask(risk_bot, TRANSCRIBER["tool_name"])
    assert answer["text"].endswith("Approved with conditions")
    assert f"Conditions: {note}" in said


async def test_an_answer_reaches_the_stage_deciding_now_when_a_tier_change_moved_the_request(risk_bot, slack):
    """Privacy asks, then raises the tier: the request moves on to Legal with the question open.
    The officer's answer shows on Legal's card too, and the DM names Legal as the stage deciding."""
    bot = risk_bot
    request_id, _ = await bot.request_assessed(as_fields(TRANSCRIPTION), **TRANSCRIBER)
    ref = f"REQ-{request_id:04d}"
    await bot.click(bot.card("C0ITSEC", ref), ActionId.APPROVE, "U0SEC1")
    await bot.settle()
    opened = len(slack.calls_to("views.open"))
    await bot.click(bot.card("C0PRIV", ref), ActionId.ASK_INFO, "U0PRIV1")
    ask_form = (await slack.wait_for("views.open", opened + 1))[-1].args["view"]
    assert await bot.submit_view(ask_form, "U0PRIV1", reason="Are voice prints kept?") is None
    await bot.settle()
    modal = await open_tier_modal(bot, "C0PRIV", ref, ActionId.RAISE_TIER, "U0PRIV1")
    assert await submit_tier(bot, modal, "U0PRIV1", "high", "Possible voice prints.") is None
    asked = [d for d in bot.dms(OFFICER) if ActionId.ANSWER in json.dumps(d["blocks"])][-1]
    button = next(e for b in asked["blocks"] for e in b.get("elements", []) if e.get("action_id") == ActionId.ANSWER)
    await bot.http.action(block_action(ActionId.ANSWER, button["value"], OFFICER, channel_id="D" + OFFICER))
    form = (await slack.wait_for("views.open", opened + 3))[-1].args["view"]
    assert await send_answer(bot, form, "No voice prints are kept, text only.", {}) is None
    assert "No voice prints are kept" in reads(bot.card("C0LEGAL", ref).message)
    assert "Legal will continue the review" in reads(bot.dms(OFFICER)[-1])
