"""A change is one loop: the service's events, then every handler's events, until none is left.

Cross-aggregate rules live here, as handlers, not in the adapters: "a request's outcome updates
the tool registry", "a cease-use that begins or ends changes the warning on open requests'
cards". Everything runs in the caller's unit of work, so a change and all its consequences are
committed together or not at all, whoever calls the service (a Slack click, the CLI, a page).

    events = await handle(uow, await record_decision(uow, ...))

This is cosmicpython's message handling without a bus: a table from event type to handlers,
run in order, breadth first. Handlers return the events they raise; they never talk to Slack.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from workflows.attesting import DeletionAsked
from workflows.audit_anchors import ChainAnchored
from workflows.directive_model import RequestFlagged, ToolStatusChanged
from workflows.errors import InvalidInput
from workflows.events import (
    Event,
    RequestApproved,
    RequestApprovedByRules,
    RequestRefused,
    RequestRejected,
    RequestSubmitted,
    RequestWithdrawn,
    TierChanged,
)
from workflows.licence_renewal import renewal_closed, renews_licence
from workflows.licence_service import licence_unformed_approval
from workflows.policy import Policy
from workflows.registry import OVERRIDES
from workflows.request_effects import RequestOutcome
from workflows.requests import Outcome, ToolRequest
from workflows.tool_services import open_requests_for, record_request_outcome, record_tool_request

if TYPE_CHECKING:
    from workflows.ports_directives import DirectiveUnitOfWork

Handler = Callable[["DirectiveUnitOfWork", Policy, Any], Awaitable[list[Event]]]


@dataclass(frozen=True)
class RequestWarningsChanged(Event):
    """What reviewers must be warned of about an open request changed (a cease-use began or ended)."""

    request: ToolRequest


async def file_new_request(uow: DirectiveUnitOfWork, policy: Policy, event: RequestSubmitted) -> list[Event]:
    """A request registers its tool (and is flagged if the tool is under a cease-use or suspension)."""
    r = event.request
    return await _filed(record_tool_request(uow, r.tool_name, r.ref, r.requester_id, r.created_at))


async def file_outcome(uow: DirectiveUnitOfWork, policy: Policy, event: Event) -> list[Event]:
    """A request's outcome is the tool's status of record (unless a directive overrides it)."""
    conditions = ""
    match event:
        case RequestApproved(request=r, decision=d, licence=licence):
            outcome, by, when = RequestOutcome.APPROVED, d.by, d.at
            # The licence's conditions, as the final approver confirmed them; else the stages' notes.
            conditions = "; ".join(licence.conditions) if licence else approval_conditions(r, policy)
        case RequestRejected(request=r, decision=d):
            if await renews_licence(uow, r) is not None:
                return []  # a renewal turned down: the licence it renews keeps the status (renewal_closed)
            outcome, by, when = RequestOutcome.REJECTED, d.by, d.at
        case RequestWithdrawn(request=r, by=by):
            outcome, when = RequestOutcome.WITHDRAWN, r.closed_at or r.updated_at or r.created_at
        case RequestRefused(request=r, decision=d, assessment=a):
            # The rules that prohibit it are kept with the status, for /tool-status to show.
            rules = "; ".join(rule.text for rule in a.prohibitions)
            prohibited = RequestOutcome.PROHIBITED
            return await _filed(record_request_outcome(uow, r.tool_name, r.ref, prohibited, d.by, d.at, rules))
        case RequestApprovedByRules(request=r, decision=d):
            outcome, by, when = RequestOutcome.APPROVED, d.by, d.at
        case TierChanged(request=r, approved=d) if d is not None:
            # The new tier's route was approved already (e.g. lowered by command staff): approved.
            outcome, by, when = RequestOutcome.APPROVED, d.by, d.at
        case _:
            return []
    return await _filed(record_request_outcome(uow, r.tool_name, r.ref, outcome, by, when, conditions))


def approval_conditions(request: ToolRequest, policy: Policy) -> str:
    """What the reviewers wrote when they approved (Approve with note…), stage by stage: the
    conditions of use that /tool-status shows with the approval of record."""
    notes = [
        (d.stage_key, d.note.strip()) for d in request.decisions if d.outcome is Outcome.APPROVED and d.note.strip()
    ]
    return "; ".join(f"{policy.name_of(key)}: {note}" for key, note in notes)


async def warn_reviewers(uow: DirectiveUnitOfWork, policy: Policy, event: ToolStatusChanged) -> list[Event]:
    """A cease-use or suspension began or ended: every open request for the tool is re-shown."""
    was_override = event.before is not None and event.before.status in OVERRIDES
    if not was_override and event.tool.override is None:
        return []
    requests = await open_requests_for(uow, list(policy.stage_keys), event.tool)
    return [RequestWarningsChanged(r) for r in requests]


async def ask_for_deletion(uow: DirectiveUnitOfWork, policy: Policy, event: Event) -> list[Event]:
    """A self-reported use rejected (by a reviewer) or prohibited (by the rules): its officer is
    asked to attest that they stopped and deleted what they kept (workflows/attesting.py)."""
    match event:
        case RequestRejected(request=r) | RequestRefused(request=r) if r.self_report is not None:
            return [DeletionAsked(r)]
    return []


async def _filed(change: Awaitable[list[Event]]) -> list[Event]:
    try:
        return await change
    except InvalidInput:  # a tool name with nothing to file it under ("!!"): the request goes on
        return []


HANDLERS: dict[type[Event], tuple[Handler, ...]] = {
    RequestSubmitted: (file_new_request,),
    RequestApproved: (file_outcome, licence_unformed_approval),
    RequestRejected: (file_outcome, renewal_closed, ask_for_deletion),
    RequestWithdrawn: (file_outcome, renewal_closed),
    RequestRefused: (file_outcome, renewal_closed, ask_for_deletion),
    RequestApprovedByRules: (file_outcome, licence_unformed_approval),
    TierChanged: (file_outcome, licence_unformed_approval),
    ToolStatusChanged: (warn_reviewers,),
    ChainAnchored: (),  # posted to [audit] channel by bot/messages/anchors.py; nothing else follows
    RequestFlagged: (),  # shown on the card through warnings_for(); nothing else follows
}


async def handle(uow: DirectiveUnitOfWork, policy: Policy, events: Iterable[Event]) -> list[Event]:
    """Run every handler of every event (and of the events they raise); return them all, in order."""
    queue = deque(events)
    done: list[Event] = []
    while queue:
        event = queue.popleft()
        done.append(event)
        for handler in HANDLERS.get(type(event), ()):
            queue.extend(await handler(uow, policy, event))
    return done
