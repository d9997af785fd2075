"""Risk at intake through the request services: tier routes, refusals, approvals by the rules,
tier changes and changed answers, with the in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fakes.unit_of_work import FakeUnitOfWork
from tests.workflows.test_risk import CLEARVIEW, QUIET, SPREADSHEET_MACRO, TRANSCRIPTION
from workflows import events as ev
from workflows import registry
from workflows.errors import InvalidInput, NotAReviewer, NotCommandStaff, NotRequester, OwnRequest
from workflows.policy import Policy, Stage
from workflows.request_effects import apply_request_decision
from workflows.requests import RULES, Outcome, PriorUse, RequestClosed, RequestDraft, RequestStatus, StageAlreadyDecided
from workflows.review import answer_info, ask_for_info, record_decision
from workflows.risk import Tier
from workflows.risk_review import (
    answer_with_changes,
    approval_to_extend,
    change_answers,
    lower_tier,
    raise_tier,
    submit_with_answers,
)
from workflows.submission import submit_request

NOW = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
STAGES = (
    Stage("it_security", "IT security", "C1", ("U0SEC",), remind_after=timedelta(hours=24)),
    Stage("privacy", "Privacy", "C2", ("U0PRIV",), remind_after=timedelta(hours=12)),
    Stage("legal", "Legal", "C3", ("U0LAW",)),
    Stage("command", "Command", "C4", ("U0CHIEF",)),
)
ROUTES = {
    Tier.HIGH: ("it_security", "privacy", "legal", "command"),
    Tier.MODERATE: ("it_security", "privacy", "command"),
    Tier.LOW: ("it_security",),
    Tier.MINIMAL: (),
}
POLICY = Policy(stages=STAGES, routes=ROUTES)
UNTIERED = Policy(stages=STAGES)  # a config without [tiers]
REVIEWERS = {s.key: set(s.reviewers) for s in STAGES}
DRAFT = RequestDraft(
    tool_name="Otter",
    vendor="otter.ai",
    purpose="Transcribe recorded witness interviews.",
    data_kinds=("personal",),
    prior_use=PriorUse.NONE,
)
LOW = {**QUIET, "hosting": "canada"}  # 3 points: low
HIGH = {**TRANSCRIPTION, "vendor_keeps_uploads": "yes"}  # H4


async def submit(answers, policy=POLICY, uow=None):
    uow = uow or FakeUnitOfWork()
    events = await submit_request(uow, policy, DRAFT, "U0OFF", NOW, answers)
    return uow, events


async def approve(uow, request_id, stage_key, policy=POLICY):
    who = next(iter(REVIEWERS[stage_key]))
    return await record_decision(
        uow, policy, request_id, stage_key, who, Outcome.APPROVED, "", REVIEWERS[stage_key], NOW
    )


async def stored(uow, request_id):
    return await uow.requests.get(request_id)


# --- the anchors at intake -----------------------------------------------------------------------


async def test_a_clearview_type_request_is_refused_at_once_naming_p1():
    uow, [event] = await submit(CLEARVIEW)
    assert isinstance(event, ev.RequestRefused)
    request = event.request
    assert request.status is RequestStatus.REJECTED and request.stage_key is None
    assert request.tier is Tier.PROHIBITED and request.route == ()
    assert request.next_reminder_at is None and request.closed_at == NOW
    assert (event.decision.stage_key, event.decision.by, event.decision.outcome) == (RULES, RULES, Outcome.REJECTED)
    assert event.decision.note == "Prohibited: P1 — the vendor's reference data was collected without consent"
    assert event.assessment.rule_ids[0] == "P1" and event.tool_in_use  # it is on trial
    trail = uow.audit.entries
    assert [e.action for e in trail] == ["submitted", "assessed", "refused:rules"]
    assert "P1 — the vendor's reference data was collected without consent [data_source=scraped]" in trail[1].reason
    assert trail[2].actor == RULES and trail[2].to_state == "rejected" and "P1" in trail[2].reason
    assert (await stored(uow, request.id)).answers == CLEARVIEW  # stored whole


async def test_a_transcription_service_is_moderate_and_takes_the_moderate_route():
    uow, [event] = await submit(TRANSCRIPTION)
    assert isinstance(event, ev.RequestSubmitted)
    request = await stored(uow, event.request.id)
    assert request.tier is Tier.MODERATE and request.route == ROUTES[Tier.MODERATE]
    assert request.stage_key == "it_security" and request.status is RequestStatus.PENDING
    assert [(v.number, v.by) for v in request.answer_versions] == [(1, "U0OFF")]
    assert [e.action for e in uow.audit.entries] == ["submitted", "assessed"]
    assert uow.audit.entries[1].to_state == "moderate"


async def test_an_offline_macro_is_minimal_and_approved_by_the_rules_when_its_route_is_empty():
    uow, [event] = await submit(SPREADSHEET_MACRO)
    assert isinstance(event, ev.RequestApprovedByRules)
    assert event.request.status is RequestStatus.APPROVED and event.request.stage_key is None
    assert event.decision.stage_key == RULES and event.assessment.tier is Tier.MINIMAL
    assert [e.action for e in uow.audit.entries] == ["submitted", "assessed", "approved:rules"]


async def test_without_tiers_in_the_config_every_tier_goes_through_every_stage():
    uow, [event] = await submit(SPREADSHEET_MACRO, UNTIERED)
    assert isinstance(event, ev.RequestSubmitted)
    assert event.request.route == UNTIERED.stage_keys and event.request.tier is Tier.MINIMAL


async def test_without_answers_a_request_goes_through_every_stage_as_before():
    uow, [event] = await submit(None)
    request = event.request
    assert request.route == ("it_security", "privacy", "legal", "command")
    assert request.tier is None and request.assessment is None and request.answers == {}
    assert [e.action for e in uow.audit.entries] == ["submitted"]


async def test_bad_answers_and_bad_fields_are_reported_together():
    with pytest.raises(InvalidInput) as raised:
        await submit_request(
            FakeUnitOfWork(), POLICY, RequestDraft(**{**DRAFT.__dict__, "vendor": ""}), "U0OFF", NOW, {"hosting": "x"}
        )
    assert {"vendor", "hosting", "in_use"} <= set(raised.value.errors)


# --- the route ---------------------------------------------------------------------------------------


async def test_the_next_stage_comes_from_the_requests_route():
    uow, [event] = await submit(LOW)
    assert event.request.route == ("it_security",)
    [done] = await approve(uow, event.request.id, "it_security")
    assert isinstance(done, ev.RequestApproved)  # privacy and command are not on a low route


async def test_changing_the_config_never_moves_a_request_already_in_review():
    uow, [event] = await submit(TRANSCRIPTION)
    rid = event.request.id
    changed = Policy(stages=STAGES, routes={**ROUTES, Tier.MODERATE: ("it_security",)})
    [moved] = await approve(uow, rid, "it_security", changed)
    assert isinstance(moved, ev.StageApproved) and moved.next_stage_key == "privacy"
    [moved] = await approve(uow, rid, "privacy", changed)
    assert moved.next_stage_key == "command"
    # A new request under the new config takes the new route.
    _, [fresh] = await submit(TRANSCRIPTION, changed, uow)
    assert fresh.request.route == ("it_security",)


async def test_a_stage_removed_from_the_config_is_skipped():
    uow, [event] = await submit(TRANSCRIPTION)
    without_privacy = Policy(stages=tuple(s for s in STAGES if s.key != "privacy"))
    [moved] = await approve(uow, event.request.id, "it_security", without_privacy)
    assert moved.next_stage_key == "command"


# --- raising and lowering the tier ----------------------------------------------------------------


async def test_a_reviewer_raises_the_tier_and_approved_stages_stay_approved():
    uow, [event] = await submit(TRANSCRIPTION)  # moderate: it_security, privacy, command
    rid = event.request.id
    await approve(uow, rid, "it_security")
    [changed] = await raise_tier(
        uow, POLICY, rid, "privacy", "U0PRIV", Tier.HIGH, "It matches voices.", REVIEWERS["privacy"], NOW
    )
    assert isinstance(changed, ev.TierChanged)
    assert (changed.before, changed.after, changed.by) == (Tier.MODERATE, Tier.HIGH, "U0PRIV")
    assert (changed.from_stage_key, changed.to_stage_key) == ("privacy", "privacy")
    request = changed.request
    assert request.tier is Tier.HIGH and request.route == ROUTES[Tier.HIGH]
    assert request.assessment.tier is Tier.MODERATE  # what the rules said is kept
    [moved] = await approve(uow, rid, "privacy")
    assert moved.next_stage_key == "legal"
    entry = uow.audit.entries[-2]
    assert entry.action == "tier_raised" and entry.actor == "U0PRIV"
    assert entry.from_state == "moderate pending:privacy" and entry.to_state == "high pending:privacy"
    assert entry.reason.startswith("It matches voices. (route it_security → privacy → command → it_security")


async def test_a_tier_change_reason_and_an_answers_note_are_cleaned_before_the_audit_trail():
    """Controls and bidi overrides would make the auditor's record read otherwise than it is (and a NUL
    cannot be stored on PostgreSQL at all)."""
    uow, [event] = await submit(TRANSCRIPTION)
    rid = event.request.id
    [changed] = await raise_tier(
        uow,
        POLICY,
        rid,
        "it_security",
        "U0SEC",
        Tier.HIGH,
        "Voice\x00 prints \u202ekept",
        REVIEWERS["it_security"],
        NOW,
    )
    assert changed.reason == "Voice prints kept"
    assert uow.audit.entries[-1].reason.startswith("Voice prints kept (")
    await change_answers(uow, POLICY, rid, "U0OFF", {"vendor_keeps_uploads": "yes"}, NOW, "\u202enote\x07")
    assert (await stored(uow, rid)).answer_versions[-1].note == "note"


async def test_raising_moves_the_request_to_the_first_stage_not_yet_approved():
    uow, [event] = await submit(TRANSCRIPTION)
    rid = event.request.id
    await approve(uow, rid, "it_security")
    await approve(uow, rid, "privacy")  # now at command
    [changed] = await raise_tier(
        uow, POLICY, rid, "command", "U0CHIEF", Tier.HIGH, "Needs counsel.", REVIEWERS["command"], NOW
    )
    assert changed.to_stage_key == "legal" and changed.request.next_reminder_at == NOW + timedelta(hours=24)
    [moved] = await approve(uow, rid, "legal")
    assert moved.next_stage_key == "command"
    [done] = await approve(uow, rid, "command")
    assert isinstance(done, ev.RequestApproved)
    assert [d.stage_key for d in done.request.decisions] == ["it_security", "privacy", "legal", "command"]


async def test_raising_a_low_request_adds_the_stages_of_the_higher_tier():
    uow, [event] = await submit(LOW)
    rid = event.request.id
    await raise_tier(uow, POLICY, rid, "it_security", "U0SEC", Tier.MODERATE, "Personal data.", {"U0SEC"}, NOW)
    [moved] = await approve(uow, rid, "it_security")
    assert isinstance(moved, ev.StageApproved) and moved.next_stage_key == "privacy"


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"actor": "U0PRIV", "reviewers": {"U0PRIV"}, "stage_key": "privacy"}, StageAlreadyDecided),  # not there yet
        ({"actor": "U0NOBODY"}, NotAReviewer),
        ({"actor": "U0OFF", "reviewers": {"U0OFF"}}, OwnRequest),
        ({"tier": Tier.LOW}, InvalidInput),  # lowering
        ({"tier": Tier.MODERATE}, InvalidInput),  # the same tier
        ({"tier": Tier.PROHIBITED}, InvalidInput),
        ({"reason": "  "}, InvalidInput),
    ],
)
async def test_raising_the_tier_is_refused_when_not_allowed(kwargs, error):
    uow, [event] = await submit(TRANSCRIPTION)
    args = {
        "stage_key": "it_security",
        "actor": "U0SEC",
        "tier": Tier.HIGH,
        "reason": "Why not.",
        "reviewers": {"U0SEC"},
        **kwargs,
    }
    with pytest.raises(error):
        await raise_tier(uow, POLICY, event.request.id, now=NOW, **args)
    assert (await stored(uow, event.request.id)).tier is Tier.MODERATE


async def test_a_request_without_a_tier_is_raised_only_by_command_staff():
    uow, [event] = await submit(None)
    with pytest.raises(InvalidInput):
        await raise_tier(uow, POLICY, event.request.id, "it_security", "U0SEC", Tier.HIGH, "x", {"U0SEC"}, NOW)
    [changed] = await lower_tier(uow, POLICY, event.request.id, "U0CHIEF", Tier.LOW, "Routine.", True, NOW)
    assert changed.before is None and changed.request.route == ("it_security",)


async def test_lowering_needs_command_staff():
    uow, [event] = await submit(HIGH)
    with pytest.raises(NotCommandStaff):
        await lower_tier(uow, POLICY, event.request.id, "U0SEC", Tier.LOW, "Small.", False, NOW)
    with pytest.raises(InvalidInput):
        await lower_tier(uow, POLICY, event.request.id, "U0CHIEF", Tier.HIGH, "Same.", True, NOW)
    [changed] = await lower_tier(uow, POLICY, event.request.id, "U0CHIEF", Tier.MODERATE, "Deletes uploads.", True, NOW)
    assert changed.request.route == ROUTES[Tier.MODERATE] and changed.to_stage_key == "it_security"
    assert uow.audit.entries[-1].action == "tier_lowered"


async def test_lowering_below_what_is_already_approved_closes_the_request_as_approved():
    uow, [event] = await submit(HIGH)
    rid = event.request.id
    await approve(uow, rid, "it_security")
    [changed] = await lower_tier(uow, POLICY, rid, "U0CHIEF", Tier.LOW, "Only IT security needed.", True, NOW)
    assert changed.to_stage_key is None and changed.approved is not None
    assert changed.approved.by == "U0CHIEF" and changed.approved.stage_key == RULES
    assert changed.request.status is RequestStatus.APPROVED
    with pytest.raises(RequestClosed):
        await lower_tier(uow, POLICY, rid, "U0CHIEF", Tier.MINIMAL, "Again.", True, NOW)


async def test_raising_while_a_question_is_open_keeps_waiting_for_the_officer():
    uow, [event] = await submit(TRANSCRIPTION)
    rid = event.request.id
    await approve(uow, rid, "it_security")
    await approve(uow, rid, "privacy")
    await ask_for_info(uow, POLICY, rid, "command", "U0CHIEF", "Who reads these?", {"U0CHIEF"}, NOW)
    [changed] = await raise_tier(uow, POLICY, rid, "command", "U0CHIEF", Tier.HIGH, "Counsel.", {"U0CHIEF"}, NOW)
    assert changed.to_stage_key == "legal"
    assert changed.request.status is RequestStatus.INFO_REQUESTED and changed.request.next_reminder_at is None


# --- changed answers -----------------------------------------------------------------------------


async def test_changed_answers_are_a_new_version_and_a_higher_tier_reroutes():
    uow, [event] = await submit(TRANSCRIPTION)
    rid = event.request.id
    await ask_for_info(uow, POLICY, rid, "it_security", "U0SEC", "Does the vendor keep the audio?", {"U0SEC"}, NOW)
    await answer_info(uow, POLICY, rid, "U0OFF", "Yes, for 30 days.", NOW)
    events = await change_answers(
        uow, POLICY, rid, "U0OFF", {"vendor_keeps_uploads": "yes"}, NOW, "answering IT security"
    )
    changed, moved = events
    assert isinstance(changed, ev.AnswersChanged) and isinstance(moved, ev.TierChanged)
    assert changed.changed == ("vendor_keeps_uploads",) and changed.assessment.rule_ids == ("H4",)
    assert (moved.before, moved.after, moved.by) == (Tier.MODERATE, Tier.HIGH, RULES)
    # Still at IT security (first on both routes): the card posted there shows the new answers.
    assert moved.to_stage_key == "it_security" and changed.card_stage_key == "it_security"
    request = await stored(uow, rid)
    assert [v.number for v in request.answer_versions] == [1, 2]
    assert request.answer_versions[0].answers["vendor_keeps_uploads"] == "no"  # the old version is kept
    assert request.answers["vendor_keeps_uploads"] == "yes" and request.route == ROUTES[Tier.HIGH]
    actions = [e.action for e in uow.audit.entries]
    assert actions[-3:] == ["answers_changed", "assessed", "tier_raised"]
    assert "vendor_keeps_uploads: no → yes" in uow.audit.entries[-3].reason


async def test_answers_no_riskier_than_the_rules_judged_keep_a_tier_command_staff_lowered():
    uow, [event] = await submit(TRANSCRIPTION)  # the rules: moderate
    rid = event.request.id
    await lower_tier(uow, POLICY, rid, "U0CHIEF", Tier.LOW, "A vetted vendor.", True, NOW)
    events = await change_answers(uow, POLICY, rid, "U0OFF", {"data_source": "ours"}, NOW)  # less risky
    assert not any(isinstance(e, ev.TierChanged) for e in events)
    assert (await stored(uow, rid)).tier is Tier.LOW
    # Riskier than the rules judged before: raised again, by the rules.
    events = await change_answers(uow, POLICY, rid, "U0OFF", {"vendor_keeps_uploads": "yes"}, NOW)
    [raised] = [e for e in events if isinstance(e, ev.TierChanged)]
    assert (raised.before, raised.after, raised.by) == (Tier.LOW, Tier.HIGH, RULES)


async def test_changed_answers_also_change_the_requests_summary_fields():
    """The card's "already used for police work" warning and the export read them."""
    uow, [event] = await submit(TRANSCRIPTION)  # not in use; personal information
    changes = {"in_use": "yes", "data_kinds": ("personal_info", "location")}
    await change_answers(uow, POLICY, event.request.id, "U0OFF", changes, NOW)
    request = await stored(uow, event.request.id)
    assert request.prior_use is PriorUse.USED and set(request.data_kinds) == {"personal", "location"}


async def test_answers_that_now_prohibit_refuse_the_request():
    uow, [event] = await submit(TRANSCRIPTION)
    changed, refused = await change_answers(uow, POLICY, event.request.id, "U0OFF", {"data_source": "scraped"}, NOW)
    assert isinstance(refused, ev.RequestRefused) and refused.assessment.rule_ids == ("P1",)
    assert refused.request.status is RequestStatus.REJECTED and refused.request.tier is Tier.PROHIBITED
    # Its card, at the stage it waited at, says it was refused; the answers' event touches no card.
    assert refused.waited_at == "it_security" and changed.card_stage_key is None
    assert [e.action for e in uow.audit.entries][-3:] == ["answers_changed", "assessed", "refused:rules"]


async def test_answers_that_lower_the_tier_change_only_what_the_rules_say():
    uow, [event] = await submit(HIGH)
    [changed] = await change_answers(uow, POLICY, event.request.id, "U0OFF", {"vendor_keeps_uploads": "no"}, NOW)
    assert changed.assessment.tier is Tier.MODERATE and changed.card_stage_key == event.request.stage_key
    request = await stored(uow, event.request.id)
    assert request.tier is Tier.HIGH and request.route == ROUTES[Tier.HIGH]  # lowering needs command staff


async def test_unchanged_answers_record_nothing_and_others_cannot_change_them():
    uow, [event] = await submit(TRANSCRIPTION)
    assert await change_answers(uow, POLICY, event.request.id, "U0OFF", {"hosting": "canada"}, NOW) == []
    with pytest.raises(NotRequester):
        await change_answers(uow, POLICY, event.request.id, "U0SEC", {"hosting": "foreign"}, NOW)
    with pytest.raises(InvalidInput) as raised:
        await change_answers(uow, POLICY, event.request.id, "U0OFF", {"hosting": "moon"}, NOW)
    assert "hosting" in raised.value.errors
    assert len((await stored(uow, event.request.id)).answer_versions) == 1


async def asked(answers=TRANSCRIPTION):
    uow, [event] = await submit(answers)
    rid = event.request.id
    await ask_for_info(uow, POLICY, rid, "it_security", "U0SEC", "Does the vendor keep the audio?", {"U0SEC"}, NOW)
    return uow, rid


async def test_an_answer_without_changes_is_just_the_answer():
    uow, rid = await asked()
    [answered] = await answer_with_changes(uow, POLICY, rid, "U0OFF", "No, it is deleted.", {}, NOW)
    assert isinstance(answered, ev.InfoProvided) and answered.exchange.answer == "No, it is deleted."
    request = await stored(uow, rid)
    assert request.status is RequestStatus.PENDING and len(request.answer_versions) == 1


async def test_an_answer_with_changed_answers_records_both_changes_first():
    uow, rid = await asked()
    events = await answer_with_changes(uow, POLICY, rid, "U0OFF", "Yes, 30 days.", {"vendor_keeps_uploads": "yes"}, NOW)
    assert [type(e) for e in events] == [ev.AnswersChanged, ev.TierChanged, ev.InfoProvided]
    request = await stored(uow, rid)
    assert request.answer_versions[-1].note == "Yes, 30 days." and request.tier is Tier.HIGH
    assert request.exchanges[-1].answer == "Yes, 30 days." and request.status is RequestStatus.PENDING
    actions = [e.action for e in uow.audit.entries]
    assert actions[-4:] == ["answers_changed", "assessed", "tier_raised", "info_provided"]


async def test_changes_the_rules_prohibit_refuse_the_request_and_keep_the_answer_as_their_note():
    uow, rid = await asked()
    events = await answer_with_changes(uow, POLICY, rid, "U0OFF", "It scrapes social media.", CLEARVIEW, NOW)
    assert [type(e) for e in events] == [ev.AnswersChanged, ev.RequestRefused]
    request = await stored(uow, rid)
    assert request.status is RequestStatus.REJECTED and request.exchanges[-1].answer is None
    assert request.answer_versions[-1].note == "It scrapes social media."
    assert "info_provided" not in [e.action for e in uow.audit.entries]


async def test_only_the_requester_answers_with_changes():
    uow, rid = await asked()
    with pytest.raises(NotRequester) as raised:
        await answer_with_changes(uow, POLICY, rid, "U0SEC", "Yes.", {"vendor_keeps_uploads": "yes"}, NOW)
    assert raised.value.ref == f"REQ-{rid:04d}"
    with pytest.raises(InvalidInput) as invalid:  # an answer is still needed when the answers do not change
        await answer_with_changes(uow, POLICY, rid, "U0OFF", "  ", {"hosting": "canada"}, NOW)
    assert "answer" in invalid.value.errors
    request = await stored(uow, rid)
    assert len(request.answer_versions) == 1 and request.status is RequestStatus.INFO_REQUESTED


# --- submitting with the risk questions ------------------------------------------------------------

PAGE_TWO = RequestDraft(tool_name="Otter", vendor="otter.ai", purpose="Transcribe recorded witness interviews.")


async def test_submitted_with_answers_the_summary_fields_come_from_the_answers():
    uow = FakeUnitOfWork()  # the requests and the tool registry in one unit of work, as storage gives them
    typed = RequestDraft(**{**PAGE_TWO.__dict__, "data_kinds": ("case_evidence",), "prior_use": PriorUse.USED})
    [event] = await submit_with_answers(uow, POLICY, typed, "U0OFF", TRANSCRIPTION, NOW)
    assert isinstance(event, ev.RequestSubmitted)
    request = await uow.requests.get(event.request.id)
    assert (request.data_kinds, request.prior_use) == (("personal",), PriorUse.NONE)
    assert request.tier is Tier.MODERATE and request.extends is None
    [refused] = await submit_with_answers(uow, POLICY, PAGE_TWO, "U0OFF", CLEARVIEW, NOW)
    assert isinstance(refused, ev.RequestRefused)
    assert refused.request.data_kinds == ("biometrics", "photos", "personal")
    assert refused.request.prior_use is PriorUse.SIGNED_UP


async def test_submitted_with_answers_it_names_the_approval_it_extends():
    uow = FakeUnitOfWork()  # the requests and the tool registry in one unit of work, as storage gives them
    tool = apply_request_decision(registry.new_tool("Otter.ai"), "REQ-0003", "approved", "U0CHIEF", NOW)
    await uow.tools.add(tool)
    [event] = await submit_with_answers(uow, POLICY, PAGE_TWO, "U0OFF", TRANSCRIPTION, NOW)
    assert event.request.extends == "REQ-0003"
    assert (await uow.requests.get(event.request.id)).extends == "REQ-0003"


async def test_submitted_with_answers_errors_name_the_questions():
    uow = FakeUnitOfWork()  # the requests and the tool registry in one unit of work, as storage gives them
    unanswered = {k: v for k, v in TRANSCRIPTION.items() if k not in ("in_use", "hosting")}
    blank = RequestDraft(**{**PAGE_TWO.__dict__, "tool_name": "  ", "vendor": ""})
    with pytest.raises(InvalidInput) as raised:
        await submit_with_answers(uow, POLICY, blank, "U0OFF", unanswered, NOW)
    # "used already" is the in_use question on this form; a blank name is not looked up, only refused
    assert set(raised.value.errors) == {"tool_name", "vendor", "in_use", "hosting"}
    with pytest.raises(InvalidInput) as raised:
        await submit_with_answers(uow, POLICY, PAGE_TWO, "U0OFF", {**TRANSCRIPTION, "in_use": "maybe"}, NOW)
    assert set(raised.value.errors) == {"in_use"} and "unknown choice 'maybe'" in raised.value.errors["in_use"]
    assert uow.requests.rows == {} and uow.audit.entries == []


# --- extending an approval -------------------------------------------------------------------------


async def test_a_request_for_an_approved_tool_names_the_approval_it_extends():
    uow = FakeUnitOfWork()
    assert await approval_to_extend(uow, "Otter") is None
    tool = apply_request_decision(registry.new_tool("Otter.ai"), "REQ-0003", "approved", "U0CHIEF", NOW)
    await uow.tools.add(tool)
    assert await approval_to_extend(uow, "otter") == "REQ-0003"
    rejected = apply_request_decision(tool, "REQ-0004", "rejected", "U0CHIEF", NOW)
    await uow.tools.save(rejected)
    assert await approval_to_extend(uow, "Otter") is None
    [event] = await submit_request(FakeUnitOfWork(), POLICY, DRAFT, "U0OFF", NOW, TRANSCRIPTION, extends="REQ-0003")
    assert event.request.extends == "REQ-0003"


def test_the_registry_records_a_prohibited_tool_with_its_rule():
    tool = apply_request_decision(registry.new_tool("Clearview AI"), "REQ-0001", "opened", "U0OFF", NOW)
    rule = "P1 — the vendor's reference data was collected without consent"
    tool = apply_request_decision(tool, "REQ-0001", "prohibited", RULES, NOW, rule)
    assert tool.status is registry.ToolStatus.PROHIBITED and tool.status.label == "Prohibited"
    assert tool.conditions == rule and tool.status_source == "REQ-0001"
