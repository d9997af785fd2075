"""Listeners of the reviewer's side: the buttons on a review card and the reason modal.

Authorisation is decided now, from the config and Slack's current user groups, and the
request is loaded fresh: nothing in the button is trusted beyond which request it is about.
"""

from __future__ import annotations

from bot.blocks.licence_form import note_first_modal
from bot.blocks.requests import reason_modal
from bot.http.payloads import FormKind, ReasonForm, ReviewTarget, Unreadable, read
from bot.listeners import licences
from bot.listeners.common import action_value, actor, guarded, once_key
from bot.listeners.review_deps import ReviewDeps as ReviewDeps
from bot.messages.ids import ActionId, CallbackId
from bot.wiring.listener_table import ListenerTable
from workflows.commands import AskForInfo, RecordDecision
from workflows.events import LicenceAsked
from workflows.licence_terms import is_last_stage
from workflows.requests import Outcome
from workflows.review_rules import check_can_review


def register(app: ListenerTable, deps: ReviewDeps) -> None:
    app.action(ActionId.APPROVE)(guarded(deps, approve))
    for action_id in (ActionId.APPROVE_WITH_NOTE, ActionId.REJECT, ActionId.ASK_INFO):
        app.action(action_id)(guarded(deps, open_reason_form))
    app.view(CallbackId.REVIEW_REASON)(guarded(deps, submit_reason))
    licences.register(app, deps)


FORM_OF = {  # the card's buttons that open a reason form
    ActionId.APPROVE_WITH_NOTE: FormKind.APPROVE,
    ActionId.REJECT: FormKind.REJECT,
    ActionId.ASK_INFO: FormKind.ASK,
}


def _target(raw: str | None) -> tuple[int, str]:
    target = read(ReviewTarget, raw)
    return target.request_id, target.stage_key


async def _at_last_stage(deps: ReviewDeps, request_id: int, stage_key: str) -> bool:
    """Whether approving the request at `stage_key` now closes it as approved (as stored now)."""
    async with deps.reading() as uow:
        request = await uow.requests.get(request_id)
    return (
        request is not None
        and request.status.is_open
        and request.stage_key == stage_key
        and is_last_stage(deps.policy, request, stage_key)
    )


async def approve(deps: ReviewDeps, ack, body) -> None:
    """One click approves: the decision is committed before Slack gets its acknowledgement. At the
    request's last stage it opens the licence form instead (issue 18)."""
    request_id, stage_key = _target(action_value(body))
    user = actor(body)
    # A refusal, or a role Slack could not confirm, is told by `guarded` in the presenter's words.
    reviewers = await deps.roles.reviewers(stage_key, user)
    # Whether this is the last stage is found in the change's own read of the request (no read
    # before it): there nothing is decided, and the licence form opens.
    decision = RecordDecision(
        request_id, stage_key, user, Outcome.APPROVED, "", reviewers, deps.clock(), asks_licence=True
    )
    events = await deps.change(decision)
    await ack()
    if any(isinstance(event, LicenceAsked) for event in events):
        await licences.open_licence_form(deps, body, request_id, stage_key)


async def open_reason_form(deps: ReviewDeps, ack, body) -> None:
    await ack()
    request_id, stage_key = _target(action_value(body))
    kind = FORM_OF[(body.get("actions") or [{}])[0].get("action_id")]
    user = actor(body)
    # Check before opening the form, so nobody types a reason only to be refused.
    reviewers = await deps.roles.reviewers(stage_key, user)
    async with deps.reading() as uow:
        request = await uow.requests.get(request_id)
    check_can_review(request, deps.policy, stage_key, user, reviewers)
    assert request is not None  # check_can_review refuses a request that is not there
    if kind is FormKind.APPROVE and is_last_stage(deps.policy, request, stage_key):
        view = note_first_modal(request, deps.policy, stage_key)  # then the licence form
    else:
        view = reason_modal(kind, request, deps.policy, stage_key)
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)


async def submit_reason(deps: ReviewDeps, ack, body) -> None:
    view = body.get("view") or {}
    form = read(ReasonForm, view.get("private_metadata"))
    if form.kind not in (FormKind.APPROVE, FormKind.REJECT, FormKind.ASK):
        raise Unreadable("ReasonForm kind")
    request_id, stage_key, kind = form.request_id, form.stage_key, form.kind
    text = (((view.get("state") or {}).get("values") or {}).get("reason") or {}).get("value", {}).get("value") or ""
    user = actor(body)
    if kind is FormKind.APPROVE and await _at_last_stage(deps, request_id, stage_key):
        # Every final approval is a licence: the note goes on to the licence form, proposed there as
        # a condition (this form is replaced by it; nothing is decided until it is submitted).
        await ack(response_action="update", view=await licences.licence_form(deps, user, request_id, stage_key, text))
        return
    reviewers = await deps.roles.reviewers(stage_key, user)
    once = once_key(view)  # a re-delivery of the same submission closes the modal and changes nothing
    command: AskForInfo | RecordDecision
    if kind is FormKind.ASK:
        command = AskForInfo(request_id, stage_key, user, text, reviewers, deps.clock(), once=once)
    else:
        outcome = Outcome.APPROVED if kind is FormKind.APPROVE else Outcome.REJECTED
        command = RecordDecision(request_id, stage_key, user, outcome, text, reviewers, deps.clock(), once=once)
    await deps.change(command)
    await ack()  # a refusal: `guarded` shows it in the form (a field error on the reason, or a notice)
