"""Listeners of the licence form (issue 18): the last stage's Approve opens it, its submission is
one ApproveWithLicence through Changes.handle, and its user-group picker is fed by usergroups.list.

Earlier stages keep their one-click Approve (bot/listeners/reviews.py decides which it is, from the
request as stored now). Whether the person may review is checked before the form opens and again
at submission; a second submission of the same form meets the decided stage and changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_sdk.models.blocks import Option

from bot.blocks.licence_form import licence_modal, parse_licence_form
from bot.ids import ActionId, CallbackId
from bot.listener_table import ListenerTable
from bot.listeners.common import actor, guarded, once_key
from bot.payloads import FormKind, ReasonForm, Unreadable, read
from bot.text import one_line
from workflows.commands import ApproveWithLicence
from workflows.errors import NotFound
from workflows.review import check_can_review

if TYPE_CHECKING:  # reviews.py opens the form: imported there at run time
    from bot.listeners.reviews import ReviewDeps

GROUP_OPTIONS = 100  # Slack's limit on an external select's options


def register(app: ListenerTable, deps: ReviewDeps) -> None:
    app.view(CallbackId.LICENCE_FORM)(guarded(deps, submit_licence))
    app.options(ActionId.LICENCE_GROUPS)(guarded(deps, group_choices))


async def open_licence_form(deps: ReviewDeps, body: dict, request_id: int, stage_key: str) -> None:
    """Called by the Approve click (already acknowledged) when this is the request's last stage."""
    user = actor(body)
    reviewers = await deps.roles.reviewers(stage_key, user)
    async with deps.reading() as uow:
        request = await uow.requests.get(request_id)
        check_can_review(request, deps.policy, stage_key, user, reviewers)
        assert request is not None
        previous = await uow.licences.for_request(request.extends) if request.extends else None
    view = licence_modal(request, deps.policy, stage_key, previous, deps.clock())
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)


async def submit_licence(deps: ReviewDeps, ack, body) -> None:
    view = body.get("view") or {}
    form = read(ReasonForm, view.get("private_metadata"))
    if form.kind is not FormKind.APPROVE:
        raise Unreadable("ReasonForm kind")
    user = actor(body)
    reviewers = await deps.roles.reviewers(form.stage_key, user)
    async with deps.reading() as uow:
        request = await uow.requests.get(form.request_id)
        if request is None:
            raise NotFound(f"request {form.request_id}")
        previous = await uow.licences.for_request(request.extends) if request.extends else None
    values = (view.get("state") or {}).get("values") or {}
    terms = parse_licence_form(values, request, deps.policy, previous)
    await deps.change(
        ApproveWithLicence(form.request_id, form.stage_key, user, terms, reviewers, deps.clock(), once=once_key(view))
    )
    await ack()  # a refusal (a past expiry, a scope naming nobody): `guarded` puts it on the field


async def group_choices(deps: ReviewDeps, ack, body) -> None:
    """The user groups whose handle or name contains what was typed, as Slack lists them now."""
    query = (body.get("value") or "").strip().casefold()
    reply = await deps.client.usergroups_list()
    options = []
    for group in reply.get("usergroups") or []:
        handle, name = group.get("handle") or "", group.get("name") or ""
        if group.get("id") and (not query or query in handle.casefold() or query in name.casefold()):
            options.append(Option(value=group["id"], text=one_line(f"@{handle or name}", 75)).to_dict())
    await ack(options=options[:GROUP_OPTIONS])
