"""Submitting a request: the form's draft and the intake answers cleaned, assessed by the risk rules
(workflows/risk_assessment.py) and routed by tier; refused or approved at once by the rules when
no reviewer need see it. The services that review it are workflows/review.py.

The service takes a unit of work (already open), records audit entries and returns the events; the
caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from workflows.attestations import SelfReport
from workflows.errors import InvalidInput
from workflows.events import Event, RequestApprovedByRules, RequestRefused, RequestSubmitted
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.request_steps import audit_assessment, audit_request, close_request, snapshot, state_of
from workflows.requests import (
    RULES,
    Action,
    AnswerVersion,
    Decision,
    Outcome,
    PriorUse,
    RequestDraft,
    RequestStatus,
    ToolRequest,
    next_status,
)
from workflows.risk import Answers, Tier, validate_answers
from workflows.risk_assessment import assess

# The request's summary fields ("data it touches", "used already"), which reviewers and exports
# read, come from the intake answers when it has them: the two-page form no longer asks for them.
DATA_KINDS_FROM_ANSWERS = {
    "biometric": "biometrics",
    "images_video": "photos",
    "location": "location",
    "social_media": "personal",
    "licence_plates": "personal",
    "personal_info": "personal",
    "non_suspects": "personal",
    "none": "none",
}
PRIOR_USE_FROM_ANSWERS = {"no": PriorUse.NONE, "trial": PriorUse.SIGNED_UP, "yes": PriorUse.USED}


async def submit_request(
    uow: UnitOfWork,
    policy: Policy,
    draft: RequestDraft,
    requester_id: str,
    now: datetime,
    answers: Mapping[str, Any] | None = None,
    *,
    extends: str | None = None,
    route_for: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None,
    self_report: SelfReport | None = None,
) -> list[Event]:
    """Register a request. With intake `answers` it is assessed (workflows.risk) and given its
    tier's route: refused at once if prohibited, approved at once if the route has no stages.
    Without answers (the one-page form) it goes through every stage, as before tiers existed.
    A `self_report` (/report-use) marks it used before approval; an emergency one is due within
    [reports] emergency_due, so its reviewers' first reminder comes no later than that.
    """
    draft, cleaned = _cleaned(draft, answers)
    assessment = assess(cleaned, policy.rules) if cleaned is not None else None
    route = policy.route_for(assessment.tier) if assessment else policy.stage_keys
    if route_for is not None and route:  # a renewal: the last stage only when nothing changed
        route = route_for(route)
    first = policy.stage(route[0]) if route else None
    request = ToolRequest(
        requester_id=requester_id,
        tool_name=draft.tool_name,
        vendor=draft.vendor,
        purpose=draft.purpose,
        case_number=draft.case_number,
        data_kinds=draft.data_kinds,
        prior_use=draft.prior_use,  # type: ignore[arg-type]  # cleaned() guarantees it
        notes=draft.notes,
        created_at=now,
        updated_at=now,
        stage_key=first.key if first else None,
        stage_entered_at=now,
        next_reminder_at=now + first.remind_after if first else None,
        answer_versions=[AnswerVersion(1, cleaned, requester_id, now)] if cleaned is not None else [],
        assessment=assessment,
        tier=assessment.tier if assessment else None,
        route=route,
        extends=extends,
        self_report=self_report,
    )
    if self_report is not None and request.next_reminder_at is not None:
        request.next_reminder_at = remind_by(request.next_reminder_at, self_report.due(policy.licences.emergency_due))
    if assessment is None or (first is not None and assessment.tier is not Tier.PROHIBITED):
        request = await uow.requests.add(request)
        await audit_request(uow, request, "submitted", requester_id, now, "", state_of(request))
        if self_report is not None:
            await audit_request(
                uow, request, "self_reported", requester_id, now, "", "used before approval", self_report.summary
            )
        if assessment:
            await audit_assessment(uow, request, requester_id, now)
        return [RequestSubmitted(snapshot(request))]
    # The rules decide at once: no reviewer sees a prohibited request, or one whose route is empty.
    refused = assessment.tier is Tier.PROHIBITED
    request.status = next_status(request.status, Action.REJECT if refused else Action.APPROVE_LAST)
    if refused:
        note = assessment.refusal()
    else:
        note = f"Tier {assessment.tier.value}: no review stages, approved by the rules"
    decision = Decision(RULES, Outcome.REJECTED if refused else Outcome.APPROVED, RULES, now, note)
    request.decisions.append(decision)
    close_request(request, now)
    request = await uow.requests.add(request)
    await audit_request(uow, request, "submitted", requester_id, now, "", RequestStatus.PENDING.value)
    if self_report is not None:
        await audit_request(
            uow, request, "self_reported", requester_id, now, "", "used before approval", self_report.summary
        )
    await audit_assessment(uow, request, requester_id, now)
    action = "refused:rules" if refused else "approved:rules"
    await audit_request(uow, request, action, RULES, now, RequestStatus.PENDING.value, state_of(request), note)
    snap = snapshot(request)
    if refused:
        return [RequestRefused(snap, decision, assessment)]
    return [RequestApprovedByRules(snap, decision, assessment)]


def summary_fields(answers: Mapping[str, Any]) -> tuple[tuple[str, ...], PriorUse | None]:
    """The request's "data it touches" and "used already" fields, from the intake answers
    (unknown or missing answers give none: the answers' own check names them)."""
    kinds = answers.get("data_kinds") or ()
    kinds = (kinds,) if isinstance(kinds, str) else kinds
    mapped = tuple(dict.fromkeys(DATA_KINDS_FROM_ANSWERS[k] for k in kinds if k in DATA_KINDS_FROM_ANSWERS))
    return mapped, PRIOR_USE_FROM_ANSWERS.get(answers.get("in_use") or "")


def _cleaned(draft: RequestDraft, answers: Mapping[str, Any] | None) -> tuple[RequestDraft, Answers | None]:
    """The draft and answers cleaned; one InvalidInput naming every bad field and question."""
    errors: dict[str, str] = {}
    cleaned_answers = None
    try:
        draft = draft.cleaned()
    except InvalidInput as exc:
        errors.update(exc.errors)
    if answers is not None:
        try:
            cleaned_answers = validate_answers(answers)
        except InvalidInput as exc:
            errors.update(exc.errors)
    if errors:
        raise InvalidInput(errors)
    return draft, cleaned_answers


def remind_by(next_reminder_at: datetime, due: datetime | None) -> datetime:
    """A request's first reminder, brought forward to `due` (an emergency self-report's due time)."""
    return next_reminder_at if due is None else min(next_reminder_at, due)
