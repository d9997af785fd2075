"""Listeners of the reviewer's side: the buttons on a review card and the reason modal.

Authorisation is decided now, from the config and Slack's current user groups, and the
request is loaded fresh: nothing in the button is trusted beyond which request it is about.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.blocks.common import notice_view
from bot.blocks.requests import reason_modal
from bot.directory import DirectoryUnavailable
from bot.ids import ActionId, CallbackId
from bot.listeners.common import action_value, actor, guarded, once_per_view, tell
from bot.payloads import ReasonForm, ReviewTarget, decode
from bot.presenter import REVIEWER_UNCHECKED as UNAVAILABLE
from bot.presenter import explain
from workflows.errors import DomainError, InvalidInput
from workflows.requests import Outcome, reference
from workflows.review import ask_for_info, check_can_review, record_decision

if TYPE_CHECKING:
    from bot.runtime import Clearance



def register(app: AsyncApp, c: Clearance) -> None:
    app.action(ActionId.APPROVE)(guarded(c, approve))
    for action_id in (ActionId.APPROVE_WITH_NOTE, ActionId.REJECT, ActionId.ASK_INFO):
        app.action(action_id)(guarded(c, open_reason_form))
    app.view(CallbackId.REVIEW_REASON)(guarded(c, submit_reason))


def _target(raw: str | None) -> tuple[int, str] | None:
    target = decode(ReviewTarget, raw)
    return (target.request_id, target.stage_key) if target else None


async def _reviewers(c: Clearance, stage_key: str, user: str) -> frozenset[str]:
    """The stage's reviewers as far as this decision needs to know: {user} if they are one."""
    try:
        stage = c.policy.stage(stage_key)
    except KeyError:
        return frozenset()  # a stage removed from the config has no reviewers any more
    return frozenset({user}) if await c.directory.includes(user, stage.reviewers) else frozenset()


async def approve(c: Clearance, ack, body) -> None:
    """One click approves: the decision is committed before Slack gets its acknowledgement."""
    target = _target(action_value(body))
    if target is None:
        await ack()
        return
    request_id, stage_key = target
    user = actor(body)
    try:
        reviewers = await _reviewers(c, stage_key, user)
        await c.change(
            lambda uow: record_decision(
                uow, c.policy, request_id, stage_key, user, Outcome.APPROVED, "", reviewers, c.clock()
            )
        )
    except DirectoryUnavailable:
        await ack()
        await tell(c, body, UNAVAILABLE)
        return
    except DomainError as error:
        await ack()
        await tell(c, body, explain(error, c.policy, reference(request_id)))
        return
    await ack()


async def open_reason_form(c: Clearance, ack, body) -> None:
    await ack()
    target = _target(action_value(body))
    if target is None:
        return
    request_id, stage_key = target
    kind = {ActionId.APPROVE_WITH_NOTE: "approve", ActionId.REJECT: "reject", ActionId.ASK_INFO: "ask"}[
        (body.get("actions") or [{}])[0].get("action_id")
    ]
    user = actor(body)
    # Check before opening the form, so nobody types a reason only to be refused.
    try:
        reviewers = await _reviewers(c, stage_key, user)
    except DirectoryUnavailable:
        await tell(c, body, UNAVAILABLE)
        return
    async with c.reading() as uow:
        request = await uow.requests.get(request_id)
    try:
        check_can_review(request, c.policy, stage_key, user, reviewers)
    except DomainError as refusal:
        await tell(c, body, explain(refusal, c.policy, reference(request_id)))
        return
    assert request is not None  # _refusal refuses a request that is not there
    await c.client.views_open(trigger_id=body.get("trigger_id"), view=reason_modal(kind, request, c.policy, stage_key))


async def submit_reason(c: Clearance, ack, body) -> None:
    view = body.get("view") or {}
    form = decode(ReasonForm, view.get("private_metadata"))
    if form is None or form.kind not in ("approve", "reject", "ask"):
        await ack()
        return
    request_id, stage_key, kind = form.request_id, form.stage_key, form.kind
    text = (((view.get("state") or {}).get("values") or {}).get("reason") or {}).get("value", {}).get("value") or ""
    user = actor(body)
    try:
        reviewers = await _reviewers(c, stage_key, user)
        if kind == "ask":
            action = lambda uow: ask_for_info(  # noqa: E731
                uow, c.policy, request_id, stage_key, user, text, reviewers, c.clock()
            )
        else:
            outcome = Outcome.APPROVED if kind == "approve" else Outcome.REJECTED
            action = lambda uow: record_decision(  # noqa: E731
                uow, c.policy, request_id, stage_key, user, outcome, text, reviewers, c.clock()
            )
        # A re-delivery of the same submission closes the modal and changes nothing.
        await c.change(lambda uow: once_per_view(uow, view.get("id") or "", lambda: action(uow)))
    except InvalidInput as invalid:
        await ack(response_action="errors", errors={"reason": next(iter(invalid.errors.values()))})
        return
    except DirectoryUnavailable:
        await ack(response_action="errors", errors={"reason": UNAVAILABLE})
        return
    except DomainError as error:
        message = explain(error, c.policy, reference(request_id))
        await ack(response_action="update", view=notice_view("Not recorded", message))
        return
    await ack()
