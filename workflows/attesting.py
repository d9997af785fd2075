"""Services for attestations and self-reports (the model and its rules: workflows/attestations.py).

* `attest_directive`: someone a cease-use or suspension was sent to answers it with facts. The
  answer is also their acknowledgement (so reminders and escalation, which chase whoever has not
  acknowledged, stop chasing them); a second submission records nothing and says when they answered.
* `attest_request`: the officer whose self-reported use was rejected or prohibited answers the
  same questions about that request.
* `submit_self_report`: /report-use. A request marked used before approval, judged by the risk
  rules and reviewed on its tier's route; an emergency one is due within [reports] emergency_due.
* `ask_for_deletion` (a handler in workflows/handlers.py's table): a self-reported use rejected or
  prohibited asks its officer to attest.

Like every service these take an open unit of work, audit every change and return events.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.attestations import Attestation, SelfReport, attest
from workflows.audit import AuditEntry
from workflows.directive_model import Acknowledgement, Directive, require_audience
from workflows.directives import not_active
from workflows.errors import InvalidInput, NotFound, NotRequester
from workflows.events import Event
from workflows.policy import Policy
from workflows.ports_directives import DirectiveUnitOfWork
from workflows.requests import PriorUse, RequestDraft, RequestStatus, ToolRequest
from workflows.risk_review import submit_with_answers


@dataclass(frozen=True)
class Attested(Event):
    """An answer was recorded (`already`: it had been, at `attestation.at`; nothing changed).

    `notify`: where a "still holding" answer is told at once ([attestations] notify, resolved to
    channels and people by the adapter); empty for the other answers and for a repeat."""

    attestation: Attestation
    already: bool
    directive: Directive | None = None
    answered_request: ToolRequest | None = None  # the rejected self-report it answers
    notify: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeletionAsked(Event):
    """A self-reported use was rejected or prohibited: its officer is asked to attest deletion."""

    reported: ToolRequest


async def attest_directive(
    uow: DirectiveUnitOfWork,
    directive_id: int,
    user_id: str,
    answer: str | None,
    case_numbers: str,
    held: str,
    now: datetime,
    *,
    in_audience: bool,
    notify: tuple[str, ...] = (),
) -> list[Event]:
    directive = await uow.directives.get(directive_id)
    if directive is None:
        raise NotFound(f"directive {directive_id}").about(f"DIR-{directive_id:04d}")
    require_audience(directive, in_audience)
    if not directive.kind.asks_attestation:
        raise InvalidInput({"answer": f"{directive.ref} asks only for acknowledgement: press Acknowledge."})
    attestation = attest(directive_id, user_id, answer, now, case_numbers, held)
    # The insert is the check (one per person per directive), as for one-click acknowledgements.
    if directive.is_active and await uow.attestations.add(attestation):
        await uow.acks.add(Acknowledgement(directive_id, user_id, now))  # False if acknowledged before: fine
        await _audit(uow, directive.ref, "directive:attested", user_id, now, attestation.answer.value, attestation)
        told = notify if attestation.needs_notice else ()
        return [Attested(attestation, False, directive=dataclasses.replace(directive), notify=told)]
    existing = await uow.attestations.for_directive(directive_id, user_id)
    if existing is not None:
        return [Attested(existing, True, directive=dataclasses.replace(directive))]
    raise not_active(directive, "acknowledge")


async def attest_request(
    uow: DirectiveUnitOfWork,
    request_id: int,
    user_id: str,
    answer: str | None,
    case_numbers: str,
    held: str,
    now: datetime,
    *,
    notify: tuple[str, ...] = (),
) -> list[Event]:
    request = await uow.requests.get(request_id)
    if request is None:
        raise NotFound("request")
    if user_id != request.requester_id:
        raise NotRequester().about(request.ref)
    if request.self_report is None or request.status is not RequestStatus.REJECTED:
        raise InvalidInput({"answer": f"{request.ref} does not ask you to attest anything."})
    attestation = attest(None, user_id, answer, now, case_numbers, held, request_id=request_id)
    snapshot = dataclasses.replace(request)
    if await uow.attestations.add(attestation):
        await _audit(uow, request.ref, "request:attested", user_id, now, attestation.answer.value, attestation)
        told = notify if attestation.needs_notice else ()
        return [Attested(attestation, False, answered_request=snapshot, notify=told)]
    existing = await uow.attestations.for_request(request_id, user_id)
    assert existing is not None, "an attestation that was not added exists"
    return [Attested(existing, True, answered_request=snapshot)]


async def submit_self_report(
    uow: DirectiveUnitOfWork,
    policy: Policy,
    report: SelfReport,
    answers: Mapping[str, Any],
    notes: str = "",
) -> list[Event]:
    """The report becomes a request marked used before approval (its risk answers judged as any)."""
    draft = RequestDraft(
        tool_name=report.tool,
        vendor=report.vendor,
        purpose=report.why,
        case_number=report.case_number,
        prior_use=PriorUse.USED,
        notes=notes,
    )
    return await submit_with_answers(uow, policy, draft, report.user_id, answers, report.at, self_report=report)


async def _audit(
    uow: DirectiveUnitOfWork, subject: str, action: str, actor: str, now: datetime, to: str, a: Attestation
) -> None:
    await uow.audit.record(AuditEntry(subject, action, actor, now, "", to, a.detail))
