"""Services of the request workflow: submit, decide, ask for and give information, withdraw.

Each takes a unit of work (already open), changes the request through the transition table,
records an audit entry and returns the events the change implies. The caller commits.
Authorisation needs the expanded reviewer ids of the stage, resolved by the caller *before*
the transaction (it may take a network call), at the moment of the action.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from datetime import datetime
from typing import Any

from workflows.attestations import SelfReport
from workflows.audit import AuditEntry
from workflows.cleaning import clean_text
from workflows.errors import InvalidInput, NoOpenQuestion, NotAReviewer, NotFound, NotRequester, OwnRequest
from workflows.events import (
    Event,
    InfoProvided,
    InfoRequested,
    RequestApproved,
    RequestApprovedByRules,
    RequestRefused,
    RequestRejected,
    RequestSubmitted,
    RequestWithdrawn,
    StageApproved,
)
from workflows.policy import Policy, Stage
from workflows.ports import UnitOfWork
from workflows.requests import (
    RULES,
    Action,
    AnswerVersion,
    Decision,
    InfoExchange,
    Outcome,
    PriorUse,
    RequestClosed,
    RequestDraft,
    RequestStatus,
    StageAlreadyDecided,
    ToolRequest,
    next_status,
    reference,
)
from workflows.risk import Answers, Tier, assess, validate_answers

REASON_LIMIT = 3000

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
        await _audit(uow, request, "submitted", requester_id, now, "", _state(request))
        if self_report is not None:
            await _audit(
                uow, request, "self_reported", requester_id, now, "", "used before approval", self_report.summary
            )
        if assessment:
            await _audit_assessment(uow, request, requester_id, now)
        return [RequestSubmitted(_snapshot(request))]
    # The rules decide at once: no reviewer sees a prohibited request, or one whose route is empty.
    refused = assessment.tier is Tier.PROHIBITED
    request.status = next_status(request.status, Action.REJECT if refused else Action.APPROVE_LAST)
    if refused:
        note = assessment.refusal()
    else:
        note = f"Tier {assessment.tier.value}: no review stages, approved by the rules"
    decision = Decision(RULES, Outcome.REJECTED if refused else Outcome.APPROVED, RULES, now, note)
    request.decisions.append(decision)
    _close(request, now)
    request = await uow.requests.add(request)
    await _audit(uow, request, "submitted", requester_id, now, "", RequestStatus.PENDING.value)
    if self_report is not None:
        await _audit(uow, request, "self_reported", requester_id, now, "", "used before approval", self_report.summary)
    await _audit_assessment(uow, request, requester_id, now)
    action = "refused:rules" if refused else "approved:rules"
    await _audit(uow, request, action, RULES, now, RequestStatus.PENDING.value, _state(request), note)
    snap = _snapshot(request)
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


async def record_decision(
    uow: UnitOfWork,
    policy: Policy,
    request_id: int,
    stage_key: str,
    actor: str,
    outcome: Outcome,
    note: str,
    reviewers: Collection[str],
    now: datetime,
) -> list[Event]:
    """Approve or reject the request at `stage_key` on behalf of `actor`."""
    note = clean_text(note)
    if outcome is Outcome.REJECTED and not note:
        raise InvalidInput({"reason": "Give the reason for the rejection; the requester will see it."})
    _check_length(note, "reason")
    request, stage = await _load_for_review(uow, policy, request_id, stage_key, actor, reviewers)
    following = next_stage(policy, request, also_done=stage.key)
    if outcome is Outcome.REJECTED:
        action = Action.REJECT
    else:
        action = Action.APPROVE if following else Action.APPROVE_LAST
    before = _state(request)
    request.status = next_status(request.status, action)
    decision = Decision(stage.key, outcome, actor, now, note)
    request.decisions.append(decision)
    if request.status is RequestStatus.PENDING and following:
        _enter_stage(request, following, now)
    else:
        _close(request, now)
    await uow.requests.save(request)
    await _audit(uow, request, f"{outcome.value}:{stage.key}", actor, now, before, _state(request), note)
    snap = _snapshot(request)
    if request.status is RequestStatus.REJECTED:
        return [RequestRejected(snap, decision)]
    if request.status is RequestStatus.APPROVED:
        return [RequestApproved(snap, decision)]
    return [StageApproved(snap, decision, following.key)]  # type: ignore[union-attr]


async def ask_for_info(
    uow: UnitOfWork,
    policy: Policy,
    request_id: int,
    stage_key: str,
    actor: str,
    question: str,
    reviewers: Collection[str],
    now: datetime,
) -> list[Event]:
    question = clean_text(question)
    if not question:
        raise InvalidInput({"reason": "Say what information you need; the requester will see it."})
    _check_length(question, "reason")
    request, stage = await _load_for_review(uow, policy, request_id, stage_key, actor, reviewers)
    before = _state(request)
    request.status = next_status(request.status, Action.ASK_INFO)
    exchange = InfoExchange(stage.key, actor, now, question)
    request.exchanges.append(exchange)
    request.next_reminder_at = None  # the requester owes the next move, not the reviewers
    request.updated_at = now
    await uow.requests.save(request)
    await _audit(uow, request, f"info_requested:{stage.key}", actor, now, before, _state(request), question)
    return [InfoRequested(_snapshot(request), exchange)]


async def answer_info(
    uow: UnitOfWork, policy: Policy, request_id: int, actor: str, answer: str, now: datetime
) -> list[Event]:
    answer = clean_text(answer)
    if not answer:
        raise InvalidInput({"answer": "Write your answer to the reviewer's question."})
    _check_length(answer, "answer")
    request = await _load(uow, request_id)
    if actor != request.requester_id:
        raise NotRequester().about(request.ref)
    _check_open(request)
    exchange = request.open_question()
    if exchange is None:
        raise NoOpenQuestion().about(request.ref)
    before = _state(request)
    request.status = next_status(request.status, Action.ANSWER)
    exchange.answer, exchange.answered_at = answer, now
    # Back to the reviewers of the same stage, whose clock restarts.
    request.next_reminder_at = now + policy.stage(request.stage_key).remind_after  # type: ignore[arg-type]
    request.stage_entered_at = now
    request.reminders_sent = 0
    request.updated_at = now
    await uow.requests.save(request)
    await _audit(uow, request, "info_provided", actor, now, before, _state(request), answer)
    return [InfoProvided(_snapshot(request), dataclasses.replace(exchange))]


async def question_for(uow: UnitOfWork, request_id: int, actor: str) -> tuple[ToolRequest, InfoExchange]:
    """The request and the question `actor` is asked on it, checked before the answer form opens
    so nobody types an answer only to be refused: only the requester answers, and only while a
    question is open (a closed request has none). Changes nothing."""
    request = await uow.requests.get(request_id)
    if request is None or actor != request.requester_id:
        # Not there or not theirs, the same refusal: there is nothing here for them to answer.
        raise NotRequester().about(reference(request_id))
    exchange = request.open_question()
    if exchange is None:
        raise NoOpenQuestion().about(request.ref)
    return request, exchange


async def withdraw_request(uow: UnitOfWork, request_id: int, actor: str, reason: str, now: datetime) -> list[Event]:
    request = await _load(uow, request_id)
    if actor != request.requester_id:
        raise NotRequester().about(request.ref)
    _check_open(request)
    before, stage_key = _state(request), request.stage_key
    request.status = next_status(request.status, Action.WITHDRAW)
    _close(request, now)
    await uow.requests.save(request)
    await _audit(uow, request, "withdrawn", actor, now, before, _state(request), clean_text(reason))
    return [RequestWithdrawn(_snapshot(request), actor, stage_key)]


# --- helpers -------------------------------------------------------------------------------


def next_stage(policy: Policy, request: ToolRequest, also_done: str | None = None) -> Stage | None:
    """Where the request goes after its current stage: the first stage of its own route not yet
    approved (the route was fixed when it was submitted, so a config change never moves it).
    Requests stored before routes existed follow the policy's order."""
    if request.route is None:
        return policy.after(also_done or request.stage_key)  # type: ignore[arg-type]
    done = {d.stage_key for d in request.decisions if d.outcome is Outcome.APPROVED}
    if also_done:
        done.add(also_done)
    return policy.next_on_route(request.route, done)


async def _load(uow: UnitOfWork, request_id: int) -> ToolRequest:
    request = await uow.requests.get(request_id)
    if request is None:
        raise NotFound(f"request {request_id}").about(reference(request_id))
    return request


def _check_open(request: ToolRequest) -> None:
    if not request.status.is_open:
        raise RequestClosed(request.status, request.final_decision).about(request.ref)


async def _load_for_review(
    uow: UnitOfWork,
    policy: Policy,
    request_id: int,
    stage_key: str,
    actor: str,
    reviewers: Collection[str],
) -> tuple[ToolRequest, Stage]:
    request = await _load(uow, request_id)
    check_can_review(request, policy, stage_key, actor, reviewers)
    return request, policy.stage(stage_key)


def check_can_review(
    request: ToolRequest | None, policy: Policy, stage_key: str, actor: str, reviewers: Collection[str]
) -> None:
    """Raise the refusal if `actor` may not decide `request` at `stage_key` now.

    The one statement of who may review: the decision services use it, and so does the bot before
    it opens a reason form, so nobody types a reason only to be refused.
    """
    if request is None:
        raise StageAlreadyDecided(stage_key, None)
    _check_open(request)
    check_reviewer_at_stage(request, policy, stage_key, actor, reviewers)
    if actor == request.requester_id:
        raise OwnRequest().about(request.ref)


def check_reviewer_at_stage(
    request: ToolRequest, policy: Policy, stage_key: str, actor: str, reviewers: Collection[str]
) -> None:
    """The request still waits at `stage_key`, and `actor` reviews that stage."""
    if request.stage_key != stage_key:
        raise StageAlreadyDecided(stage_key, request.decision_for(stage_key)).about(request.ref)
    if actor not in reviewers:
        raise NotAReviewer(policy.name_of(stage_key)).about(request.ref)


def _enter_stage(request: ToolRequest, stage: Stage, now: datetime) -> None:
    request.stage_key = stage.key
    request.stage_entered_at = now
    request.next_reminder_at = now + stage.remind_after
    request.reminders_sent = 0
    request.escalated_at = None
    request.updated_at = now


def _close(request: ToolRequest, now: datetime) -> None:
    request.stage_key = None
    request.closed_at = request.updated_at = now
    request.next_reminder_at = None


def _state(request: ToolRequest) -> str:
    return f"{request.status.value}:{request.stage_key}" if request.stage_key else request.status.value


def _check_length(text: str, field: str) -> None:
    if len(text) > REASON_LIMIT:
        raise InvalidInput({field: f"Keep this under {REASON_LIMIT} characters."})


def _snapshot(request: ToolRequest) -> ToolRequest:
    """A copy the caller can keep after the request changes again."""
    return dataclasses.replace(
        request,
        decisions=list(request.decisions),
        exchanges=[dataclasses.replace(x) for x in request.exchanges],
        answer_versions=list(request.answer_versions),
    )


async def _audit_assessment(uow: UnitOfWork, request: ToolRequest, actor: str, now: datetime) -> None:
    """Every judgement of the rules, with the rule ids and the answers that triggered them."""
    assert request.assessment is not None
    tier = request.assessment.tier.value
    await _audit(uow, request, "assessed", actor, now, "", tier, request.assessment.summary())


async def _audit(
    uow: UnitOfWork,
    request: ToolRequest,
    action: str,
    actor: str,
    now: datetime,
    before: str,
    after: str,
    reason: str = "",
) -> None:
    await uow.audit.record(AuditEntry(request.ref, action, actor, now, before, after, reason))


def remind_by(next_reminder_at: datetime, due: datetime | None) -> datetime:
    """A request's first reminder, brought forward to `due` (an emergency self-report's due time)."""
    return next_reminder_at if due is None else min(next_reminder_at, due)
