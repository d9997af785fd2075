"""Listeners for risk at intake: Raise tier… / Lower tier… on a review card and their modal, and
the button that lets command staff order a refused tool's use to cease.

Authorisation is decided at each click and again at each submission, from the config and
Slack's current user groups: a reviewer of the stage the request waits at may raise its tier;
only command staff may lower it or open the cease-use directive form.
"""

from __future__ import annotations

from bot.blocks.directive_form import directive_form, new_tool_option, tool_option
from bot.blocks.risk import cease_use_text, tier_modal
from bot.http.payloads import FormKind, ReasonForm, RequestRef, Unreadable, read
from bot.listeners.common import action_value, actor, guarded, once_key
from bot.listeners.reviews import ReviewDeps, _target
from bot.messages.ids import ActionId, CallbackId
from bot.wiring.listener_table import ListenerTable
from workflows.commands import LowerTier, RaiseTier
from workflows.directive_kinds import DirectiveKind
from workflows.errors import require_command_staff
from workflows.risk import Tier
from workflows.risk_review import TierChange, check_can_change_tier
from workflows.tool_services import find_tool


def register(app: ListenerTable, deps: ReviewDeps) -> None:
    app.action(ActionId.RAISE_TIER)(guarded(deps, open_tier_form))
    app.action(ActionId.LOWER_TIER)(guarded(deps, open_tier_form))
    app.view(CallbackId.TIER_FORM)(guarded(deps, submit_tier))
    app.action(ActionId.CEASE_USE_FROM_REQUEST)(guarded(deps, open_cease_use))


async def open_tier_form(deps: ReviewDeps, ack, body) -> None:
    """Checked before the form opens, so nobody writes a reason only to be refused; a refusal is
    told by `guarded` in the presenter's words."""
    await ack()
    request_id, stage_key = _target(action_value(body))
    clicked = (body.get("actions") or [{}])[0].get("action_id")
    direction = TierChange.RAISE if clicked == ActionId.RAISE_TIER else TierChange.LOWER
    user = actor(body)
    staff = await deps.roles.is_command_staff(user)
    reviewers = await deps.roles.reviewers(stage_key, user) if direction is TierChange.RAISE else frozenset()
    async with deps.reading() as uow:
        found = await uow.requests.get(request_id)
    request = check_can_change_tier(found, deps.policy, direction, stage_key, user, reviewers, staff)
    view = tier_modal(direction, request, deps.policy, stage_key)
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)


async def submit_tier(deps: ReviewDeps, ack, body) -> None:
    view = body.get("view") or {}
    form = read(ReasonForm, view.get("private_metadata"))
    if form.kind not in (FormKind.RAISE, FormKind.LOWER):
        raise Unreadable("ReasonForm kind")
    request_id, stage_key, direction = form.request_id, form.stage_key, TierChange(form.kind)
    values = (view.get("state") or {}).get("values") or {}
    chosen = (((values.get("tier") or {}).get("value") or {}).get("selected_option") or {}).get("value")
    reason = ((values.get("reason") or {}).get("value") or {}).get("value") or ""
    if chosen not in {t.value for t in Tier}:
        await ack(response_action="errors", errors={"tier": "Choose the new tier."})
        return
    tier, user = Tier(chosen), actor(body)
    staff = await deps.roles.is_command_staff(user)  # at the moment of submission
    command: LowerTier | RaiseTier
    if direction is TierChange.LOWER:
        command = LowerTier(request_id, user, tier, reason, staff, deps.clock(), once=once_key(view))
    else:
        reviewers = await deps.roles.reviewers(stage_key, user)
        command = RaiseTier(
            request_id, stage_key, user, tier, reason, reviewers, staff, deps.clock(), once=once_key(view)
        )
    # A refusal is shown in the form by `guarded` (on the tier or reason field, or as a notice).
    await deps.change(command)
    await ack()


async def open_cease_use(deps: ReviewDeps, ack, body) -> None:
    """Command staff only: the /directive form, prefilled to order that the refused tool's use cease."""
    await ack()
    request_id = read(RequestRef, action_value(body)).request_id
    require_command_staff(await deps.roles.is_command_staff(actor(body)))
    async with deps.reading() as uow:
        request = await uow.requests.get(request_id)
        known = await find_tool(uow, request.tool_name) if request else None
    if request is None:
        await deps.replies.tell(body, "That request no longer exists in Clearance. Nothing was opened.")
        return
    initial = tool_option(known) if known else new_tool_option(request.tool_name)
    view = directive_form(tool=initial, kind=DirectiveKind.CEASE_USE, text=cease_use_text(request, request.assessment))
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)
