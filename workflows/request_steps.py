"""The steps the request services (workflows/submission.py, review.py, risk_review.py) share: load a
request and refuse a closed one, move it into a stage or close it, its state for the audit trail,
the snapshot an event carries, the length check on typed reasons, and the audit entries.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from workflows.audit import AuditEntry
from workflows.errors import InvalidInput, NotFound
from workflows.policy import Stage
from workflows.ports import UnitOfWork
from workflows.requests import RequestClosed, ToolRequest, reference

REASON_LIMIT = 3000


async def load_request(uow: UnitOfWork, request_id: int) -> ToolRequest:
    request = await uow.requests.get(request_id)
    if request is None:
        raise NotFound(f"request {request_id}").about(reference(request_id))
    return request


def check_open(request: ToolRequest) -> None:
    if not request.status.is_open:
        raise RequestClosed(request.status, request.final_decision).about(request.ref)


def enter_stage(request: ToolRequest, stage: Stage, now: datetime) -> None:
    request.stage_key = stage.key
    request.stage_entered_at = now
    request.next_reminder_at = now + stage.remind_after
    request.reminders_sent = 0
    request.escalated_at = None
    request.updated_at = now


def close_request(request: ToolRequest, now: datetime) -> None:
    request.stage_key = None
    request.closed_at = request.updated_at = now
    request.next_reminder_at = None


def state_of(request: ToolRequest) -> str:
    return f"{request.status.value}:{request.stage_key}" if request.stage_key else request.status.value


def check_length(text: str, field: str) -> None:
    if len(text) > REASON_LIMIT:
        raise InvalidInput({field: f"Keep this under {REASON_LIMIT} characters."})


def snapshot(request: ToolRequest) -> ToolRequest:
    """A copy the caller can keep after the request changes again."""
    return dataclasses.replace(
        request,
        decisions=list(request.decisions),
        exchanges=[dataclasses.replace(x) for x in request.exchanges],
        answer_versions=list(request.answer_versions),
    )


async def audit_assessment(uow: UnitOfWork, request: ToolRequest, actor: str, now: datetime) -> None:
    """Every judgement of the rules, with the rule ids and the answers that triggered them."""
    assert request.assessment is not None
    tier = request.assessment.tier.value
    await audit_request(uow, request, "assessed", actor, now, "", tier, request.assessment.summary())


async def audit_request(
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
