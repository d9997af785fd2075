"""Services around a request's risk: submitting it with its intake answers (and the approval it
extends), changing its tier, changing its answers (with the answer to a reviewer's question).

A tier change re-routes the request: stages already approved stay approved, and it continues at
the first stage of the new tier's route not yet approved. The rules (and reviewers) may only
raise a tier; lowering it takes command staff. Like the other services these take an open unit
of work, audit every change and return events; the caller commits.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from workflows import registry
from workflows.attestations import SelfReport
from workflows.cleaning import clean_text
from workflows.errors import (
    InvalidInput,
    NoOtherTier,
    NotFound,
    NotRequester,
    OwnRequest,
    require_command_staff,
)
from workflows.events import AnswersChanged, Event, RequestRefused, TierChanged
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.ports_directives import DirectiveUnitOfWork
from workflows.request_steps import (
    REASON_LIMIT,
    audit_assessment,
    audit_request,
    check_open,
    close_request,
    enter_stage,
    load_request,
    snapshot,
    state_of,
)
from workflows.requests import RULES, Action, AnswerVersion, Decision, Outcome, RequestDraft, ToolRequest, next_status
from workflows.review import answer_info
from workflows.review_rules import check_reviewer_at_stage, next_stage
from workflows.risk import Tier, validate_answers
from workflows.risk_assessment import assess
from workflows.submission import submit_request, summary_fields
from workflows.tool_services import find_tool


class TierChange(StrEnum):
    RAISE = "raise"  # a reviewer of the stage the request waits at, or command staff
    LOWER = "lower"  # command staff only


def tiers_to(direction: TierChange, tier: Tier | None) -> list[Tier]:
    """The tiers a request at `tier` may be moved to (prohibited is never chosen: a prohibited use
    is rejected with the rule named; a request without a tier can only be given one by lowering)."""
    if direction is TierChange.RAISE:
        return [t for t in Tier if tier is not None and tier < t < Tier.PROHIBITED]
    return [t for t in Tier if t is not Tier.PROHIBITED and (tier is None or t < tier)]


def check_can_change_tier(
    request: ToolRequest | None,
    policy: Policy,
    direction: TierChange,
    stage_key: str,
    actor: str,
    reviewers: Collection[str],
    is_command_staff: bool,
) -> ToolRequest:
    """Raise the refusal if `actor` may not move `request`'s tier that way now; else return it.

    The one statement of who may change a tier: raise_tier and lower_tier use it, and so does the
    bot before it opens the form, so nobody writes a reason only to be refused.
    """
    if direction is TierChange.LOWER:
        require_command_staff(is_command_staff, "lower a request's risk tier")
    if request is None:
        raise NotFound("request")
    check_open(request)
    if direction is TierChange.RAISE and not is_command_staff:
        check_reviewer_at_stage(request, policy, stage_key, actor, reviewers)
    if actor == request.requester_id:
        raise OwnRequest("change the tier of").about(request.ref)
    if direction is TierChange.RAISE and request.tier is None:
        raise InvalidInput({"tier": "This request was made without the risk questions; command staff set its tier."})
    if not tiers_to(direction, request.tier):
        label = request.tier.label if request.tier else "none"
        raise NoOtherTier(direction.value, label).about(request.ref)
    return request


async def raise_tier(
    uow: UnitOfWork,
    policy: Policy,
    request_id: int,
    stage_key: str,
    actor: str,
    tier: Tier,
    reason: str,
    reviewers: Collection[str],
    now: datetime,
    *,
    is_command_staff: bool = False,
) -> list[Event]:
    """A reviewer of the current stage (or command staff) raises the request's tier."""
    reason = _reason(reason)
    request = await load_request(uow, request_id)
    check_can_change_tier(request, policy, TierChange.RAISE, stage_key, actor, reviewers, is_command_staff)
    _check_chosen(TierChange.RAISE, request, tier)
    return [await _change_tier(uow, policy, request, tier, actor, reason, now, "tier_raised")]


async def lower_tier(
    uow: UnitOfWork,
    policy: Policy,
    request_id: int,
    actor: str,
    tier: Tier,
    reason: str,
    is_command_staff: bool,
    now: datetime,
) -> list[Event]:
    """Command staff lower the request's tier (or set one on a request made without the questions)."""
    require_command_staff(is_command_staff, "lower a request's risk tier")
    reason = _reason(reason)
    request = await load_request(uow, request_id)
    # Command staff lower a tier at whatever stage the request waits.
    check_can_change_tier(request, policy, TierChange.LOWER, request.stage_key or "", actor, (), is_command_staff)
    _check_chosen(TierChange.LOWER, request, tier)
    return [await _change_tier(uow, policy, request, tier, actor, reason, now, "tier_lowered")]


def _check_chosen(direction: TierChange, request: ToolRequest, tier: Tier) -> None:
    if tier is Tier.PROHIBITED:
        raise InvalidInput({"tier": "To stop a prohibited use, reject the request and name the rule in the reason."})
    if tier not in tiers_to(direction, request.tier):
        assert request.tier is not None  # a request without a tier may be given any (lowered to)
        if direction is TierChange.RAISE:
            raise InvalidInput({"tier": f"Choose a tier above {request.tier.value}; lowering it needs command staff."})
        raise InvalidInput({"tier": f"Choose a tier below {request.tier.value}."})


async def change_answers(
    uow: UnitOfWork,
    policy: Policy,
    request_id: int,
    actor: str,
    changes: Mapping[str, Any],
    now: datetime,
    note: str = "",
) -> list[Event]:
    """The officer changes intake answers (e.g. answering a reviewer's question): a new version.

    The rules judge the new answers. A prohibition refuses the request at once; a higher tier
    re-routes it; a lower one changes nothing but the assessment shown (lowering needs command
    staff). Unchanged answers record nothing and return no events.
    """
    request = await load_request(uow, request_id)
    if actor != request.requester_id:
        raise NotRequester().about(request.ref)
    check_open(request)
    previous, waiting = request.answers, request.stage_key
    rules_said = request.assessment.tier if request.assessment else None
    answers = validate_answers({**previous, **changes})
    changed = tuple(q for q in answers if answers[q] != previous.get(q))
    if not changed:
        return []
    version = AnswerVersion(len(request.answer_versions) + 1, answers, actor, now, clean_text(note)[:REASON_LIMIT])
    request.answer_versions.append(version)
    request.assessment = assessment = assess(answers, policy.rules)
    # The summary fields (on its card, in exports) follow the answers, as at submission.
    kinds, prior = summary_fields(answers)
    request.data_kinds, request.prior_use = kinds or request.data_kinds, prior or request.prior_use
    request.updated_at = now
    what = "version {}: {}".format(
        version.number, ", ".join(f"{q}: {_shown(previous.get(q))} → {_shown(answers[q])}" for q in changed)
    )
    versions = (f"answers v{version.number - 1}", f"answers v{version.number}")
    before = request.tier
    if assessment.tier is Tier.PROHIBITED:
        state = state_of(request)
        request.status = next_status(request.status, Action.REJECT)
        text = assessment.refusal()
        decision = Decision(RULES, Outcome.REJECTED, RULES, now, text)
        request.decisions.append(decision)
        request.tier = Tier.PROHIBITED
        close_request(request, now)
        await uow.requests.save(request)
        await audit_request(uow, request, "answers_changed", actor, now, *versions, what)
        await audit_assessment(uow, request, actor, now)
        await audit_request(uow, request, "refused:rules", RULES, now, state, state_of(request), text)
        snap = snapshot(request)
        refused = RequestRefused(snap, decision, assessment, waited_at=waiting)
        return [AnswersChanged(snap, version, changed, assessment), refused]
    # Raised only when the answers are riskier than the rules judged before, not merely above a tier
    # command staff lowered it to (an answer that changes nothing, or lowers the risk, keeps that).
    if before is not None and assessment.tier > before and (rules_said is None or assessment.tier > rules_said):
        await audit_request(uow, request, "answers_changed", actor, now, *versions, what)
        await audit_assessment(uow, request, actor, now)
        why = f"the changed answers ({', '.join(changed)}) put it in the {assessment.tier.value} tier"
        moved = await _change_tier(uow, policy, request, assessment.tier, RULES, why, now, "tier_raised")
        stayed = waiting if moved.to_stage_key == waiting else None  # its card is where it was
        return [AnswersChanged(moved.request, version, changed, assessment, card_stage_key=stayed), moved]
    await uow.requests.save(request)
    await audit_request(uow, request, "answers_changed", actor, now, *versions, what)
    await audit_assessment(uow, request, actor, now)
    return [AnswersChanged(snapshot(request), version, changed, assessment, card_stage_key=waiting)]


async def answer_with_changes(
    uow: UnitOfWork,
    policy: Policy,
    request_id: int,
    actor: str,
    answer: str,
    changes: Mapping[str, Any],
    now: datetime,
) -> list[Event]:
    """The officer answers a reviewer's question, changing intake answers with it if they were wrong.

    The changes come first (a new version, judged by the rules: change_answers), then the answer
    (workflows.review.answer_info), so the card shows both. If the rules now prohibit the use the
    request is closed and no question is left to answer: the answer is kept as the new version's note.
    """
    events: list[Event] = []
    if changes:
        events = await change_answers(uow, policy, request_id, actor, changes, now, note=answer)
        if any(isinstance(e, RequestRefused) for e in events):
            return events
    return events + await answer_info(uow, policy, request_id, actor, answer, now)


async def approval_to_extend(uow: DirectiveUnitOfWork, tool_name: str) -> str | None:
    """The ref of the approval of record for this tool ("REQ-0042"), if it has one.

    `uow` needs the tool registry (workflows.ports_directives.DirectiveUnitOfWork).
    submit_with_answers uses it: a new purpose is a new request, and its card names the approval.
    """
    if not tool_name.strip():
        return None  # no name, no tool: the request's own check says the name is missing
    tool = await find_tool(uow, tool_name)  # the same look-up that files the request's tool
    mark = tool.decision if tool else None
    approved = (registry.ToolStatus.APPROVED, registry.ToolStatus.APPROVED_WITH_CONDITIONS)
    if mark is None or mark.status not in approved or not mark.source.startswith("REQ-"):
        return None
    return mark.source


async def submit_with_answers(
    uow: DirectiveUnitOfWork,
    policy: Policy,
    draft: RequestDraft,
    requester_id: str,
    answers: Mapping[str, Any],
    now: datetime,
    *,
    self_report: SelfReport | None = None,
) -> list[Event]:
    """Register a request made with the risk questions (workflows.submission.submit_request judges it).

    Its summary fields (data it touches, used already) come from the answers, whatever the draft
    says, and it names the approval of record it extends if the tool has one. InvalidInput names
    the questions: a missing "used already" is the unanswered in_use question.
    """
    kinds, prior = summary_fields(answers)
    draft = dataclasses.replace(draft, data_kinds=kinds, prior_use=prior)
    extends = await approval_to_extend(uow, draft.tool_name)
    try:
        return await submit_request(
            uow, policy, draft, requester_id, now, answers, extends=extends, self_report=self_report
        )
    except InvalidInput as invalid:
        errors = dict(invalid.errors)
        if "prior_use" in errors:
            errors.setdefault("in_use", errors.pop("prior_use"))
        raise InvalidInput(errors) from None


# --- helpers -------------------------------------------------------------------------------


async def _change_tier(
    uow: UnitOfWork,
    policy: Policy,
    request: ToolRequest,
    tier: Tier,
    actor: str,
    reason: str,
    now: datetime,
    action: str,
) -> TierChanged:
    before_tier, before_state, from_key = request.tier, state_of(request), request.stage_key
    route_before = request.route
    request.tier = tier
    request.route = policy.route_for(tier)
    request.updated_at = now
    following = next_stage(policy, request)
    approved = None
    if following is None:  # every stage of the new route is approved already
        request.status = next_status(request.status, Action.APPROVE_LAST)
        note = f"Tier {tier.value}: every stage of its route is approved"
        approved = Decision(RULES, Outcome.APPROVED, actor, now, note)
        request.decisions.append(approved)
        close_request(request, now)
    elif following.key != request.stage_key:
        enter_stage(request, following, now)
        if request.open_question() is not None:
            request.next_reminder_at = None  # the requester still owes an answer
    await uow.requests.save(request)
    routes = f"route {' → '.join(route_before or policy.stage_keys) or 'none'} → {' → '.join(request.route) or 'none'}"
    await audit_request(
        uow,
        request,
        action,
        actor,
        now,
        f"{before_tier.value if before_tier else 'none'} {before_state}",
        f"{tier.value} {state_of(request)}",
        f"{reason} ({routes})",
    )
    return TierChanged(snapshot(request), before_tier, tier, actor, reason, from_key, request.stage_key, approved)


def _reason(reason: str) -> str:
    reason = clean_text(reason)  # kept in the audit trail: no NUL, controls or bidi overrides
    if not reason:
        raise InvalidInput({"reason": "Say why the tier changes; it is kept in the audit trail."})
    if len(reason) > REASON_LIMIT:
        raise InvalidInput({"reason": f"Keep this under {REASON_LIMIT} characters."})
    return reason


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    return "+".join(value) if isinstance(value, tuple) else str(value)
