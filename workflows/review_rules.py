"""Who may decide a request at a stage, and where it goes after that stage: the one statement of
both, used by the services and by the bot before it opens a reason form.
"""

from __future__ import annotations

from collections.abc import Collection

from workflows.errors import NotAReviewer, OwnRequest
from workflows.policy import Policy, Stage
from workflows.ports import UnitOfWork
from workflows.request_steps import check_open, load_request
from workflows.requests import Outcome, StageAlreadyDecided, ToolRequest

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


async def load_for_review(
    uow: UnitOfWork,
    policy: Policy,
    request_id: int,
    stage_key: str,
    actor: str,
    reviewers: Collection[str],
) -> tuple[ToolRequest, Stage]:
    request = await load_request(uow, request_id)
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
    check_open(request)
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
