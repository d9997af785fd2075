"""/tool-status: the status of record of a tool, answered privately to whoever asks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.blocks.common import dump
from bot.blocks.licence_status import licence_section
from bot.blocks.tool_status import status_answer, status_list
from bot.listeners.common import Replies, actor, guarded
from bot.people.directory import DirectoryUnavailable
from bot.people.roles import Roles
from bot.wiring.listener_table import ListenerTable
from workflows.licence_permission import permission_for
from workflows.licences import ScopeKind
from workflows.policy import Policy
from workflows.ports_directives import ReadingUnit
from workflows.tool_services import tool_status_with_requests


@dataclass(frozen=True)
class StatusDeps:
    policy: Policy
    reading: ReadingUnit
    replies: Replies
    roles: Roles
    clock: Callable[[], datetime]


def register(app: ListenerTable, deps: StatusDeps) -> None:
    app.command("/tool-status")(guarded(deps, tool_status_command))


async def tool_status_command(deps: StatusDeps, ack, body) -> None:
    """Answered in the command's own response: private, immediate, and it works in any channel
    (even one Clearance is not a member of, where it could not post)."""
    query = " ".join((body.get("text") or "").split())
    async with deps.reading() as uow:
        if not query:
            text, blocks = status_list(await uow.tools.with_status())
            await ack(response_type="ephemeral", text=text, blocks=blocks)
            return
        answer, open_requests = await tool_status_with_requests(uow, deps.policy, query)
        # Only the tool the name is filed under: the closest name on record is not the asker's answer.
        licence = await uow.licences.current_for_tool(answer.tool.key) if answer.tool and answer.exact else None
    text, blocks = status_answer(answer, open_requests)
    if answer.tool is not None and answer.exact:
        user, now = actor(body), deps.clock()
        groups: frozenset[str] = frozenset()
        unchecked = False
        if licence is not None and licence.scope.kind is ScopeKind.GROUPS:
            # Decided now, as Slack says (30 s cache, membership events): never from an old answer.
            groups, unchecked = await deps.roles.groups_among(user, licence.scope.groups)
        permission = permission_for(answer.tool, licence, user, groups, now)
        shown = bool(answer.tool.conditions)  # the status of record already lists the licence's conditions
        staff = False
        if licence is not None:
            try:
                staff = await deps.roles.is_command_staff(user)
            except DirectoryUnavailable:
                staff = False  # the buttons are only offered; the click checks again
        section = licence_section(
            licence,
            permission,
            now,
            unchecked=unchecked,
            conditions_shown=shown,
            may_renew=licence is not None and (user == licence.owner or staff),
            may_extend=staff,
        )
        blocks += dump(section)
    await ack(response_type="ephemeral", text=text, blocks=blocks)
