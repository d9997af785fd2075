"""Services of the request workflow once a request is in review: decide, ask for and give
information, withdraw (submitting one is workflows/submission.py; who may decide,
workflows/review_rules.py).

Each takes a unit of work (already open), changes the request through the transition table,
records an audit entry and returns the events the change implies. The caller commits.
Authorisation needs the expanded reviewer ids of the stage, resolved by the caller *before*
the transaction (it may take a network call), at the moment of the action.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime

from workflows.cleaning import clean_text
from workflows.errors import InvalidInput, NoOpenQuestion, NotRequester
from workflows.events import (
    Event,
    InfoProvided,
    InfoRequested,
    LicenceAsked,
    RequestApproved,
    RequestRejected,
    RequestWithdrawn,
    StageApproved,
)
from workflows.policy import Policy
from workflows.ports import UnitOfWork
from workflows.request_steps import (
    audit_request,
    check_length,
    check_open,
    close_request,
    enter_stage,
    load_request,
    snapshot,
    state_of,
)
from workflows.requests import (
    Action,
    Decision,
    InfoExchange,
    Outcome,
    RequestStatus,
    ToolRequest,
    next_status,
    reference,
)
from workflows.review_rules import load_for_review, next_stage


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
    asks_licence: bool = False,
) -> list[Event]:
    """Approve or reject the request at `stage_key` on behalf of `actor`. `asks_licence` (the
    card's one-click Approve): an approval that would close the request decides nothing and
    returns LicenceAsked, for the licence form to decide it."""
    note = clean_text(note)
    if outcome is Outcome.REJECTED and not note:
        raise InvalidInput({"reason": "Give the reason for the rejection; the requester will see it."})
    check_length(note, "reason")
    request, stage = await load_for_review(uow, policy, request_id, stage_key, actor, reviewers)
    following = next_stage(policy, request, also_done=stage.key)
    if asks_licence and outcome is Outcome.APPROVED and following is None:
        return [LicenceAsked(request_id, stage.key)]
    if outcome is Outcome.REJECTED:
        action = Action.REJECT
    else:
        action = Action.APPROVE if following else Action.APPROVE_LAST
    before = state_of(request)
    request.status = next_status(request.status, action)
    decision = Decision(stage.key, outcome, actor, now, note)
    request.decisions.append(decision)
    if request.status is RequestStatus.PENDING and following:
        enter_stage(request, following, now)
    else:
        close_request(request, now)
    await uow.requests.save(request)
    await audit_request(uow, request, f"{outcome.value}:{stage.key}", actor, now, before, state_of(request), note)
    snap = snapshot(request)
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
    check_length(question, "reason")
    request, stage = await load_for_review(uow, policy, request_id, stage_key, actor, reviewers)
    before = state_of(request)
    request.status = next_status(request.status, Action.ASK_INFO)
    exchange = InfoExchange(stage.key, actor, now, question)
    request.exchanges.append(exchange)
    request.next_reminder_at = None  # the requester owes the next move, not the reviewers
    request.updated_at = now
    await uow.requests.save(request)
    await audit_request(uow, request, f"info_requested:{stage.key}", actor, now, before, state_of(request), question)
    return [InfoRequested(snapshot(request), exchange)]


async def answer_info(
    uow: UnitOfWork, policy: Policy, request_id: int, actor: str, answer: str, now: datetime
) -> list[Event]:
    answer = clean_text(answer)
    if not answer:
        raise InvalidInput({"answer": "Write your answer to the reviewer's question."})
    check_length(answer, "answer")
    request = await load_request(uow, request_id)
    if actor != request.requester_id:
        raise NotRequester().about(request.ref)
    check_open(request)
    exchange = request.open_question()
    if exchange is None:
        raise NoOpenQuestion().about(request.ref)
    before = state_of(request)
    request.status = next_status(request.status, Action.ANSWER)
    exchange.answer, exchange.answered_at = answer, now
    # Back to the reviewers of the same stage, whose clock restarts.
    request.next_reminder_at = now + policy.stage(request.stage_key).remind_after  # type: ignore[arg-type]
    request.stage_entered_at = now
    request.reminders_sent = 0
    request.updated_at = now
    await uow.requests.save(request)
    await audit_request(uow, request, "info_provided", actor, now, before, state_of(request), answer)
    return [InfoProvided(snapshot(request), dataclasses.replace(exchange))]


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
    request = await load_request(uow, request_id)
    if actor != request.requester_id:
        raise NotRequester().about(request.ref)
    check_open(request)
    before, stage_key = state_of(request), request.stage_key
    request.status = next_status(request.status, Action.WITHDRAW)
    close_request(request, now)
    await uow.requests.save(request)
    await audit_request(uow, request, "withdrawn", actor, now, before, state_of(request), clean_text(reason))
    return [RequestWithdrawn(snapshot(request), actor, stage_key)]
