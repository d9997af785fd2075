"""Risk at intake in the database: answers whole and in versions, the assessment, tier, route and
the approval extended survive a reload on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import update

from storage.tables import RequestRow
from storage.uow import uow_factory
from tests.workflows.test_risk import CLEARVIEW, TRANSCRIPTION
from workflows.policy import Policy, Stage
from workflows.requests import RULES, Outcome, PriorUse, RequestDraft, RequestStatus
from workflows.review import record_decision
from workflows.risk import Tier
from workflows.risk_review import change_answers, raise_tier
from workflows.submission import submit_request

POLICY = Policy(
    stages=(
        Stage("it_security", "IT security", "C0ITSEC", ("U0SEC1",)),
        Stage("privacy", "Privacy", "C0PRIV", ("U0PRIV1",)),
        Stage("command", "Command", "C0CMD", ("U0CHIEF",)),
    ),
    routes={Tier.MODERATE: ("it_security", "command"), Tier.LOW: ("it_security",)},
)
DRAFT = RequestDraft(
    tool_name="Otter",
    vendor="otter.ai",
    purpose="Transcribe recorded witness interviews.",
    data_kinds=("personal",),
    prior_use=PriorUse.NONE,
)


@pytest.fixture
def uows(sessions, clock):
    return uow_factory(sessions, clock)


async def run(uows, service, *args, **kwargs):
    async with uows() as uow:
        events = await service(uow, *args, **kwargs)
        await uow.commit()
    return events


async def load(uows, request_id):
    async with uows() as uow:
        return await uow.requests.get(request_id)


async def test_answers_assessment_tier_route_and_extends_survive_a_reload(uows, clock):
    [event] = await run(uows, submit_request, POLICY, DRAFT, "U0OFF", clock(), TRANSCRIPTION, extends="REQ-0001")
    request = await load(uows, event.request.id)
    assert request.answers == TRANSCRIPTION and request.answers["data_kinds"] == ("personal_info",)
    assert request.assessment == event.request.assessment and request.assessment.percent == 12.7
    assert request.tier is Tier.MODERATE and request.route == ("it_security", "command")
    assert request.extends == "REQ-0001"
    assert [(v.number, v.by, v.at) for v in request.answer_versions] == [(1, "U0OFF", clock())]


async def test_changed_answers_add_versions_and_a_raise_stores_the_new_route(uows, clock):
    [event] = await run(uows, submit_request, POLICY, DRAFT, "U0OFF", clock(), TRANSCRIPTION)
    rid = event.request.id
    await run(uows, change_answers, POLICY, rid, "U0OFF", {"data_kinds": ("personal_info", "location")}, clock())
    await run(uows, change_answers, POLICY, rid, "U0OFF", {"vendor_keeps_uploads": "yes"}, clock(), "asked by IT")
    request = await load(uows, rid)
    assert [v.number for v in request.answer_versions] == [1, 2, 3]
    assert request.answer_versions[1].answers["data_kinds"] == ("location", "personal_info")
    assert request.answer_versions[2].note == "asked by IT"
    assert request.tier is Tier.HIGH and request.route == ("it_security", "privacy", "command")
    assert request.assessment.rule_ids == ("H4",)


async def test_a_reviewers_raise_is_kept(uows, clock):
    [event] = await run(uows, submit_request, POLICY, DRAFT, "U0OFF", clock(), TRANSCRIPTION)
    rid = event.request.id
    await run(uows, raise_tier, POLICY, rid, "it_security", "U0SEC1", Tier.HIGH, "Voices.", {"U0SEC1"}, clock())
    await run(uows, record_decision, POLICY, rid, "it_security", "U0SEC1", Outcome.APPROVED, "", {"U0SEC1"}, clock())
    request = await load(uows, rid)
    assert request.tier is Tier.HIGH and request.assessment.tier is Tier.MODERATE
    assert request.stage_key == "privacy"
    async with uows() as uow:
        trail = await uow.audit.for_subject(request.ref)
    assert [e.action for e in trail] == ["submitted", "assessed", "tier_raised", "approved:it_security"]


async def test_a_refusal_is_stored_closed_with_the_rules_decision(uows, clock):
    [event] = await run(uows, submit_request, POLICY, DRAFT, "U0OFF", clock(), CLEARVIEW)
    request = await load(uows, event.request.id)
    assert request.status is RequestStatus.REJECTED and request.tier is Tier.PROHIBITED and request.route == ()
    assert [(d.stage_key, d.by, d.outcome) for d in request.decisions] == [(RULES, RULES, Outcome.REJECTED)]
    assert request.assessment.rule_ids[0] == "P1"
    assert request.answers["data_kinds"] == ("biometric", "images_video", "social_media", "non_suspects")


async def test_requests_stored_before_routes_follow_the_policys_order(uows, clock, sessions):
    [event] = await run(uows, submit_request, POLICY, DRAFT, "U0OFF", clock())
    rid = event.request.id
    assert (await load(uows, rid)).route == ("it_security", "privacy", "command")
    async with sessions() as session:  # as migration 0005 leaves an older request
        await session.execute(update(RequestRow).where(RequestRow.id == rid).values(route=None))
        await session.commit()
    assert (await load(uows, rid)).route is None
    [moved] = await run(
        uows, record_decision, POLICY, rid, "it_security", "U0SEC1", Outcome.APPROVED, "", {"U0SEC1"}, clock()
    )
    assert moved.next_stage_key == "privacy"
