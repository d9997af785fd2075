"""Listeners for directives: /directive, its form, Acknowledge, revoke, supersede and retry, and the
channel membership events that keep the counts right; `register` wires them and the status views
(bot/listeners/directive_status.py). What they are given is DirectiveDeps (directive_deps.py).

Command staff is resolved from the config and Slack's user groups at the moment of each action
(the command, every button, every modal submission); nothing in a button or a modal's metadata
is trusted beyond which directive it is about.
"""

from __future__ import annotations

import logging
import re

from bot.blocks.common import notice_view
from bot.blocks.directive_form import (
    directive_form,
    new_tool_option,
    parse_directive_form,
    picked_tool,
    revoke_form,
    tool_option,
    tool_options,
)
from bot.blocks.directive_status import list_message
from bot.blocks.directives import acknowledged_notice, newcomer_notice
from bot.blocks.requests import notice
from bot.http.payloads import DirectiveRef, ReplacingDirective, decode, read
from bot.listeners.attestations import open_for_directive
from bot.listeners.common import actor, channel_of, guarded, once_key
from bot.listeners.directive_deps import DirectiveDeps, directive_id_of, missing, require_staff, show
from bot.listeners.directive_status import open_details, open_pending, open_status
from bot.messages.ids import ActionId, CallbackId
from bot.messages.outbound import ephemeral, post
from bot.messages.presenter import explain
from bot.wiring.listener_table import ListenerTable
from bot.wiring.logs import describe_payload
from workflows import registry
from workflows.commands import Acknowledge, IssueDirective, RetryFailedPosts, RevokeDirective, SupersedeDirective
from workflows.directive_model import (
    Acknowledged,
    AttestationRequired,
    DirectiveDraft,
    PostsRetried,
    directive_reference,
    parse_directive_reference,
)
from workflows.directives import not_active, owed_in_channel
from workflows.errors import InvalidInput, require_command_staff
from workflows.outbox import OutboundMessage
from workflows.tool_services import find_tool

log = logging.getLogger("clearance.directives")

FORM_FIELDS = {"kind": "kind", "tool": "tool", "text": "text", "channels": "channels", "ack_due": "ack_due"}
_REFERENCE = re.compile(r"^\s*DIR-?\d{1,9}\s*$", re.IGNORECASE)


def register(app: ListenerTable, deps: DirectiveDeps) -> None:
    app.command("/directive")(guarded(deps, directive_command))
    app.options(ActionId.DIRECTIVE_TOOL)(guarded(deps, tool_choices))
    app.view(CallbackId.DIRECTIVE_FORM)(guarded(deps, submit_directive))
    app.action(ActionId.ACKNOWLEDGE)(guarded(deps, acknowledge_click))
    app.action(ActionId.DIRECTIVE_DETAILS)(guarded(deps, open_details))
    app.action(ActionId.DIRECTIVE_PENDING)(guarded(deps, open_pending))
    app.action(ActionId.DIRECTIVE_REVOKE)(guarded(deps, open_revoke))
    app.view(CallbackId.DIRECTIVE_REVOKE_FORM)(guarded(deps, submit_revoke))
    app.action(ActionId.DIRECTIVE_SUPERSEDE)(guarded(deps, open_supersede))
    app.action(ActionId.DIRECTIVE_RETRY)(guarded(deps, retry_failed))
    app.event("member_joined_channel")(guarded(deps, member_joined))
    app.event("member_left_channel")(guarded(deps, member_left))


# --- /directive -----------------------------------------------------------------------------------


async def directive_command(deps: DirectiveDeps, ack, body) -> None:
    user = body.get("user_id") or ""
    text = (body.get("text") or "").strip()
    # Not command staff, or Slack could not say: `guarded` answers in the command's response.
    require_command_staff(await deps.roles.is_command_staff(user))
    if text.lower() in ("list", "status", "active"):
        async with deps.reading() as uow:
            active = await uow.directives.list_active()
            counts = await uow.acks.counts([d.stored_id for d in active])
        message, blocks = list_message(active, counts)
        await ack(text=message, blocks=blocks)
        return
    if _REFERENCE.match(text) and (number := parse_directive_reference(text)) is not None:
        await ack()
        await open_status(deps, body, number)
        return
    await ack()
    initial = None
    if text:
        async with deps.reading() as uow:
            known = await find_tool(uow, text)
        initial = tool_option(known) if known else new_tool_option(text)
    await deps.client.views_open(trigger_id=body.get("trigger_id"), view=directive_form(tool=initial))


async def tool_choices(deps: DirectiveDeps, ack, body) -> None:
    """The tool picker's options: known tools matching what was typed, and the typed name as a new tool."""
    query = (body.get("value") or "").strip()
    async with deps.reading() as uow:
        tools = await uow.tools.all()
    if query:
        hits = registry.match_tools(query, tools, limit=20)
        exact = any(score == 100.0 for _, score in hits)
        chosen = [tool for tool, _ in hits]
    else:
        exact = False
        chosen = sorted(tools, key=lambda t: t.name.casefold())
    await ack(options=tool_options(query, chosen, exact))


async def submit_directive(deps: DirectiveDeps, ack, body) -> None:
    view = body.get("view") or {}
    user = actor(body)
    form = parse_directive_form((view.get("state") or {}).get("values") or {})
    replacing = decode(ReplacingDirective, view.get("private_metadata"))
    old_id = replacing.supersedes if replacing else None
    # Checked again now: the role may have been taken away since the form opened.
    staff = await deps.roles.is_command_staff(user)
    require_command_staff(staff)

    command: IssueDirective | SupersedeDirective
    draft = DirectiveDraft(form.kind, "", form.text, form.channels, form.ack_required, form.ack_due)
    if old_id is not None:
        # A replacement's form does not ask for the tool again: the domain keeps the old one's.
        command = SupersedeDirective(old_id, draft, user, staff, deps.clock(), once=once_key(view))
    else:
        # A known tool is named by its id, read in the transaction; a new one as typed.
        picked = picked_tool(form.tool)
        draft = DirectiveDraft(form.kind, picked.typed, form.text, form.channels, form.ack_required, form.ack_due)
        command = IssueDirective(
            draft, user, staff, deps.clock(), tool_key=picked.key, tool_id=picked.tool_id, once=once_key(view)
        )
    try:
        await deps.change(command)
    except InvalidInput as invalid:
        errors = {FORM_FIELDS.get(k, "text"): v for k, v in invalid.errors.items()}
        if old_id is not None and "tool" in errors:
            errors["text"] = errors.pop("tool")
        await ack(response_action="errors", errors=errors)
        return
    await ack(response_action="clear")


# --- acknowledging ---------------------------------------------------------------------------------


def _private(channel: str | None, user: str, text: str) -> OutboundMessage:
    plain = text.replace("*", "")
    if channel and not channel.startswith("D"):
        return ephemeral(channel, user, plain, notice(text))
    return post(f"notice:{user}", user, plain, notice(text))


async def acknowledge_click(deps: DirectiveDeps, ack, body) -> None:
    """One click records it (before Slack gets its answer); every later click says it was recorded.

    The confirmation goes back through the click's response_url: it is private, needs no channel
    membership, and is not held up by chat.postEphemeral's rate limit when thousands click at
    once. Only if that fails does it go through the outbox (as an ephemeral message or a DM).
    """
    directive_id = directive_id_of(body)
    user = actor(body)
    if not user:
        await ack()
        return
    # A directive that does not exist is the domain's to refuse (NotFound); one not sent to the
    # person too. Revoked or superseded since it was posted: `guarded` tells the person.
    in_audience = await deps.audience.includes(directive_id, user, channel_of(body))
    try:
        events = await deps.change(Acknowledge(directive_id, user, in_audience, deps.clock()))
    except AttestationRequired:  # a cease-use or suspension (a message posted before it asked): the form
        await ack()
        await open_for_directive(deps, body, directive_id)
        return
    await ack()
    event = next(e for e in events if isinstance(e, Acknowledged))
    text = acknowledged_notice(event.directive, event.ack, event.already, event.late)
    response_url = body.get("response_url")
    if not (response_url and await deps.replies.respond(response_url, text, describe_payload(body))):
        await deps.enqueue([_private(channel_of(body), user, text)])


# --- revoke, supersede, retry --------------------------------------------------------------------


async def _active_directive(deps: DirectiveDeps, body: dict, directive_id: int):
    async with deps.reading() as uow:
        directive = await uow.directives.get(directive_id)
    if directive is None:
        await deps.replies.tell(body, missing(directive_id))
        return None
    if not directive.is_active:
        await deps.replies.tell(body, explain(not_active(directive), deps.policy))
        return None
    return directive


async def open_revoke(deps: DirectiveDeps, ack, body) -> None:
    await ack()
    directive_id = directive_id_of(body)
    await require_staff(deps, body)
    directive = await _active_directive(deps, body, directive_id)
    if directive is not None:
        await show(deps, body, revoke_form(directive))


async def submit_revoke(deps: DirectiveDeps, ack, body) -> None:
    view = body.get("view") or {}
    directive_id = read(DirectiveRef, view.get("private_metadata")).directive_id
    values = (view.get("state") or {}).get("values") or {}
    reason = ((values.get("reason") or {}).get("value") or {}).get("value") or ""
    user = actor(body)
    staff = await deps.roles.is_command_staff(user)  # at the moment of submission
    # A refusal (not command staff, already ended, reason too long) is shown in the form by `guarded`.
    events = await deps.change(RevokeDirective(directive_id, user, staff, deps.clock(), reason, once=once_key(view)))
    if not events:
        await ack()
        return
    ref = directive_reference(directive_id)
    await ack(
        response_action="update",
        view=notice_view(
            "Revoked",
            f":white_check_mark: *{ref}* is revoked. Its messages are being marked as revoked and each channel "
            "is told; the tool's status of record is back to what it was before it.",
        ),
    )


async def open_supersede(deps: DirectiveDeps, ack, body) -> None:
    await ack()
    directive_id = directive_id_of(body)
    await require_staff(deps, body)
    directive = await _active_directive(deps, body, directive_id)
    if directive is not None:
        await show(deps, body, directive_form(replaces=directive, channels=directive.channels))


async def retry_failed(deps: DirectiveDeps, ack, body) -> None:
    await ack()
    directive_id = directive_id_of(body)
    user = actor(body)
    staff = await deps.roles.is_command_staff(user)
    events = await deps.change(RetryFailedPosts(directive_id, user, staff, deps.clock()))
    ref = directive_reference(directive_id)
    retried = next((e for e in events if isinstance(e, PostsRetried)), None)
    if retried:
        where = ", ".join(f"<#{ch}>" for ch in retried.channels)
        await deps.replies.tell(body, f"Posting *{ref}* again in {where}. This message's report shows the outcome.")
    else:
        await deps.replies.tell(body, f"*{ref}* has no failed channels to retry.")


# --- channel membership -----------------------------------------------------------------------------


async def member_joined(deps: DirectiveDeps, ack, body) -> None:
    await ack()
    event = body.get("event") or {}
    channel, user = event.get("channel") or "", event.get("user") or ""
    if not channel or not user:
        return
    deps.members.joined(channel, user)
    deps.counts.wake()
    if not await deps.members.people([user]):
        return  # a bot (the bot itself, when it joins)
    async with deps.reading() as uow:
        owed = await owed_in_channel(uow, channel, user)
    await deps.enqueue([ephemeral(channel, user, *newcomer_notice(directive)) for directive in owed])


async def member_left(deps: DirectiveDeps, ack, body) -> None:
    await ack()
    event = body.get("event") or {}
    if event.get("channel") and event.get("user"):
        deps.members.left(event["channel"], event["user"])
        deps.counts.wake()
