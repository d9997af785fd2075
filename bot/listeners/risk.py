"""Listeners for risk at intake: Raise tier… / Lower tier… on a review card and their modal, and
the button that lets command staff order a refused tool's use to cease.

Authorisation is decided at each click and again at each submission, from the config and
Slack's current user groups: a reviewer of the stage the request waits at may raise its tier;
only command staff may lower it or open the cease-use directive form.
"""

from __future__ import annotations

from slack_bolt.async_app import AsyncApp

from bot.blocks.common import notice_view
from bot.blocks.directives import directive_form, new_tool_option, tool_option
from bot.blocks.risk import cease_use_text, lowerable, raisable, tier_modal
from bot.directory import DirectoryUnavailable
from bot.ids import ActionId, CallbackId
from bot.listeners.common import action_value, actor, guarded, once_per_view
from bot.listeners.directives import NOT_STAFF
from bot.listeners.reviews import UNAVAILABLE, ReviewDeps, _target
from bot.payloads import ReasonForm, RequestRef, decode
from bot.presenter import explain
from workflows.directives import DirectiveKind, find_tool
from workflows.errors import DomainError, InvalidInput, RequestClosed
from workflows.requests import reference
from workflows.review import check_can_review
from workflows.risk import Tier
from workflows.risk_review import lower_tier, raise_tier

NOT_STAFF_TIER = "Only command staff can lower a request's risk tier. Nothing was changed."
NO_ROOM = "There is no tier to move {ref} to from {tier}. Nothing was changed."


def register(app: AsyncApp, deps: ReviewDeps) -> None:
    app.action(ActionId.RAISE_TIER)(guarded(deps, open_tier_form))
    app.action(ActionId.LOWER_TIER)(guarded(deps, open_tier_form))
    app.view(CallbackId.TIER_FORM)(guarded(deps, submit_tier))
    app.action(ActionId.CEASE_USE_FROM_REQUEST)(guarded(deps, open_cease_use))


async def _may_change(deps: ReviewDeps, kind: str, request, stage_key: str, user: str) -> str | None:
    """Why `user` may not change this request's tier now; None if they may."""
    if kind == "lower":
        if not await deps.roles.is_command_staff(user):
            return NOT_STAFF_TIER
        if request is None or not request.status.is_open:
            closed = RequestClosed(request.status, request.final_decision) if request else None
            return explain(closed, deps.policy, reference(request.id)) if closed else "That request no longer exists."
        if request.requester_id == user:
            return "You cannot change the tier of your own request. Nothing was changed."
        return None
    reviewers = await deps.roles.reviewers(stage_key, user)
    try:
        check_can_review(request, deps.policy, stage_key, user, reviewers)
    except DomainError as refusal:
        return explain(refusal, deps.policy, reference(request.id if request else 0))
    return None


async def open_tier_form(deps: ReviewDeps, ack, body) -> None:
    await ack()
    target = _target(action_value(body))
    if target is None:
        return
    request_id, stage_key = target
    kind = "raise" if (body.get("actions") or [{}])[0].get("action_id") == ActionId.RAISE_TIER else "lower"
    user = actor(body)
    async with deps.reading() as uow:
        request = await uow.requests.get(request_id)
    try:
        why_not = await _may_change(deps, kind, request, stage_key, user)
    except DirectoryUnavailable:
        await deps.replies.tell(body, UNAVAILABLE)
        return
    if why_not or request is None:
        await deps.replies.tell(body, why_not or "That request no longer exists. Nothing was changed.")
        return
    room = raisable(request.tier) if kind == "raise" and request.tier else lowerable(request.tier)
    if not room:
        await deps.replies.tell(
            body, NO_ROOM.format(ref=request.ref, tier=request.tier.label if request.tier else "none")
        )
        return
    await deps.client.views_open(
        trigger_id=body.get("trigger_id"), view=tier_modal(kind, request, deps.policy, stage_key)
    )


async def submit_tier(deps: ReviewDeps, ack, body) -> None:
    view = body.get("view") or {}
    form = decode(ReasonForm, view.get("private_metadata"))
    if form is None or form.kind not in ("raise", "lower"):
        await ack()
        return
    request_id, stage_key, kind = form.request_id, form.stage_key, form.kind
    values = (view.get("state") or {}).get("values") or {}
    chosen = (((values.get("tier") or {}).get("value") or {}).get("selected_option") or {}).get("value")
    reason = ((values.get("reason") or {}).get("value") or {}).get("value") or ""
    if chosen not in {t.value for t in Tier}:
        await ack(response_action="errors", errors={"tier": "Choose the new tier."})
        return
    tier, user = Tier(chosen), actor(body)
    staff = False
    try:
        staff = await deps.roles.is_command_staff(user)
        if kind == "lower":
            action = lambda uow: lower_tier(  # noqa: E731
                uow, deps.policy, request_id, user, tier, reason, staff, deps.clock()
            )
        else:
            reviewers = await deps.roles.reviewers(stage_key, user)
            action = lambda uow: raise_tier(  # noqa: E731
                uow,
                deps.policy,
                request_id,
                stage_key,
                user,
                tier,
                reason,
                reviewers,
                deps.clock(),
                is_command_staff=staff,
            )
        await deps.change(lambda uow: once_per_view(uow, view.get("id") or "", lambda: action(uow)))
    except InvalidInput as invalid:
        errors = {k: v for k, v in invalid.errors.items() if k in ("tier", "reason")}
        await ack(response_action="errors", errors=errors or {"reason": next(iter(invalid.errors.values()))})
        return
    except DirectoryUnavailable:
        await ack(response_action="errors", errors={"reason": UNAVAILABLE})
        return
    except DomainError as error:
        message = NOT_STAFF_TIER if kind == "lower" and not staff else explain(error, deps.policy)
        await ack(response_action="update", view=notice_view("Not changed", message))
        return
    await ack()


async def open_cease_use(deps: ReviewDeps, ack, body) -> None:
    """Command staff only: the /directive form, prefilled to order that the refused tool's use cease."""
    await ack()
    target = decode(RequestRef, action_value(body))
    if target is None:
        return
    request_id = target.request_id
    user = actor(body)
    try:
        staff = await deps.roles.is_command_staff(user)
    except DirectoryUnavailable:
        await deps.replies.tell(body, UNAVAILABLE)
        return
    if not staff:
        await deps.replies.tell(body, f":no_entry_sign: {NOT_STAFF}")
        return
    async with deps.reading() as uow:
        request = await uow.requests.get(request_id)
        known = await find_tool(uow, request.tool_name) if request else None
    if request is None:
        await deps.replies.tell(body, "That request no longer exists in Clearance. Nothing was opened.")
        return
    initial = tool_option(known) if known else new_tool_option(request.tool_name)
    view = directive_form(tool=initial, kind=DirectiveKind.CEASE_USE, text=cease_use_text(request, request.assessment))
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)
