"""Listeners of the licence form (issue 18): the last stage's Approve opens it, its submission is
one ApproveWithLicence through Changes.handle, and its user-group picker is fed by usergroups.list.

Earlier stages keep their one-click Approve (bot/listeners/reviews.py decides which it is, from the
request as stored now). Whether the person may review is checked before the form opens and again
at submission; a second submission of the same form meets the decided stage and changes nothing.
"""

from __future__ import annotations

from datetime import date

from slack_sdk.models.blocks import Option

from bot.blocks.licence_form import licence_modal, parse_licence_form
from bot.blocks.licence_status import extend_modal, renew_modal
from bot.http.payloads import FormKind, ReasonForm, ToolRef, Unreadable, read
from bot.listeners.common import action_value, actor, guarded, once_key
from bot.listeners.review_deps import ReviewDeps
from bot.messages.ids import ActionId, CallbackId
from bot.messages.text import one_line
from bot.wiring.listener_table import ListenerTable
from workflows.commands import ApproveWithLicence, ExtendLicence, RenewLicence
from workflows.errors import LicenceRefused, NotFound, require_command_staff
from workflows.licences import Change, Licence
from workflows.review_rules import check_can_review

GROUP_OPTIONS = 100  # Slack's limit on an external select's options


def register(app: ListenerTable, deps: ReviewDeps) -> None:
    app.view(CallbackId.LICENCE_FORM)(guarded(deps, submit_licence))
    app.options(ActionId.LICENCE_GROUPS)(guarded(deps, group_choices))
    app.action(ActionId.LICENCE_RENEW)(guarded(deps, open_renew_form))
    app.view(CallbackId.RENEW_FORM)(guarded(deps, submit_renew))
    app.action(ActionId.LICENCE_EXTEND)(guarded(deps, open_extend_form))
    app.view(CallbackId.EXTEND_FORM)(guarded(deps, submit_extend))


async def open_licence_form(deps: ReviewDeps, body: dict, request_id: int, stage_key: str) -> None:
    """Called by the Approve click (already acknowledged) when this is the request's last stage."""
    view = await licence_form(deps, actor(body), request_id, stage_key)
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=view)


async def licence_form(deps: ReviewDeps, user: str, request_id: int, stage_key: str, note: str = "") -> dict:
    """The licence form for `user`, who must be able to review the request at `stage_key` now;
    `note` (Approve with note… at the last stage) is proposed in it as a condition."""
    reviewers = await deps.roles.reviewers(stage_key, user)
    async with deps.reading() as uow:
        request = await uow.requests.get(request_id)
        check_can_review(request, deps.policy, stage_key, user, reviewers)
        assert request is not None
        previous = await uow.licences.for_request(request.extends) if request.extends else None
    return licence_modal(request, deps.policy, stage_key, previous, deps.clock(), note)


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


# --- Renew… and Extend… ----------------------------------------------------------------------------


async def open_renew_form(deps: ReviewDeps, ack, body) -> None:
    await ack()
    ref = read(ToolRef, action_value(body))
    user = actor(body)
    licence, name = await current_licence(deps, ref)
    # Checked before the form opens, and again by the service at submission.
    if user != licence.owner and not await deps.roles.is_command_staff(user):
        raise LicenceRefused(f"Only the licence's owner (<@{licence.owner}>) or command staff can renew it.")
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=renew_modal(licence, name))


async def submit_renew(deps: ReviewDeps, ack, body) -> None:
    view = body.get("view") or {}
    ref = read(ToolRef, view.get("private_metadata"))
    values = (view.get("state") or {}).get("values") or {}
    ticked = ((values.get("changes") or {}).get("value") or {}).get("selected_options") or []
    known = {c.value for c in Change}
    changes = tuple(Change(o["value"]) for o in ticked if o.get("value") in known)
    what = ((values.get("what_changed") or {}).get("value") or {}).get("value") or ""
    user = actor(body)
    staff = await deps.roles.is_command_staff(user)
    at = deps.clock()
    await deps.change(RenewLicence(ref.tool_key, user, changes, what, staff, at, once=once_key(view)))
    await ack()


async def open_extend_form(deps: ReviewDeps, ack, body) -> None:
    await ack()
    ref = read(ToolRef, action_value(body))
    require_command_staff(await deps.roles.is_command_staff(actor(body)), "extend a licence")
    licence, name = await current_licence(deps, ref)
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=extend_modal(licence, name))


async def submit_extend(deps: ReviewDeps, ack, body) -> None:
    view = body.get("view") or {}
    ref = read(ToolRef, view.get("private_metadata"))
    values = (view.get("state") or {}).get("values") or {}
    picked = ((values.get("until") or {}).get("value") or {}).get("selected_date")
    try:
        until = date.fromisoformat(picked) if picked else None
    except ValueError:
        until = None
    reason = ((values.get("reason") or {}).get("value") or {}).get("value") or ""
    user = actor(body)
    staff = await deps.roles.is_command_staff(user)
    at = deps.clock()
    await deps.change(ExtendLicence(ref.tool_key, user, staff, until, reason, at, once=once_key(view)))
    await ack()


async def current_licence(deps: ReviewDeps, ref: ToolRef) -> tuple[Licence, str]:
    """The tool's current licence and the tool's name, for the Renew… and Extend… forms."""
    async with deps.reading() as uow:
        licence = await uow.licences.current_for_tool(ref.tool_key)
        tool = await uow.tools.get_by_key(ref.tool_key)
    if licence is None:
        raise NotFound(f"licence for {ref.tool_key}")
    return licence, tool.name if tool is not None else licence.tool_key
