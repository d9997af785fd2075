"""Listeners that show a directive: its status (all of it for command staff, a person's own part
for anyone else) and the pages of who has not acknowledged. Registered by
bot/listeners/directives.py's `register`, like every directive listener.
"""

from __future__ import annotations

from bot.blocks.common import notice_view
from bot.blocks.directive_status import loading_view, own_status_view, pending_view, status_view
from bot.http.payloads import DirectiveRef, read
from bot.listeners.common import action_value, actor, channel_of
from bot.listeners.directive_deps import DirectiveDeps, directive_id_of, missing, require_staff, show
from bot.messages.ids import CallbackId
from bot.messages.presenter import explain, role_unchecked
from bot.people.membership import MembershipUnchecked
from bot.people.roles import RoleUnchecked
from workflows.directive_model import Acknowledgement, Directive, NotInAudience, require_audience


async def open_details(deps: DirectiveDeps, ack, body) -> None:
    await ack()
    await open_status(deps, body, directive_id_of(body))


async def open_status(deps: DirectiveDeps, body: dict, directive_id: int) -> None:
    user = actor(body)
    try:
        staff = await deps.roles.is_command_staff(user)
    except RoleUnchecked:
        staff = False  # anyone may see their own part of a directive; the full status waits for Slack
    # The trigger expires in 3 s and counting may take longer (thousands of members): open first.
    opened = await show(deps, body, loading_view(directive_id))
    view_id = (opened.get("view") or {}).get("id")
    view = notice_view("Not found", missing(directive_id))
    if staff:
        state = await deps.status.state(directive_id)
        if state is not None:
            view = status_view(state, manage=True)
    else:
        async with deps.reading() as uow:
            directive = await uow.directives.get(directive_id)
            if directive is not None:
                mine = await uow.acks.get(directive_id, user)
                count = await uow.acks.count(directive_id)
        if directive is not None:
            view = await _own_view(deps, body, directive, mine, count)
    await deps.client.views_update(view_id=view_id, view=view)


async def _own_view(
    deps: DirectiveDeps, body: dict, directive: Directive, mine: Acknowledgement | None, count: int
) -> dict:
    """What someone not on command staff sees of a directive: their own part, if it was sent to them."""
    try:
        require_audience(directive, await deps.audience.includes(directive.stored_id, actor(body), channel_of(body)))
    except NotInAudience as refusal:
        return notice_view("Not available", explain(refusal, deps.policy))
    except MembershipUnchecked as unchecked:
        return notice_view("Not available", role_unchecked(what=unchecked.what))
    return own_status_view(directive, mine, count)


async def open_pending(deps: DirectiveDeps, ack, body) -> None:
    await ack()
    value = read(DirectiveRef, action_value(body))
    await require_staff(deps, body)
    directive_id, page = value.directive_id, value.page
    state = await deps.status.state(directive_id)
    if state is None:
        return
    view = pending_view(state.directive, state.pending, page)
    current = body.get("view") or {}
    if current.get("callback_id") == CallbackId.DIRECTIVE_PENDING:
        await deps.client.views_update(view_id=current.get("id"), view=view)
    else:
        await show(deps, body, view)
