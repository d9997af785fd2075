"""/tool-status: the status of record of a tool, answered privately to whoever asks."""

from __future__ import annotations

from dataclasses import dataclass

from bot.blocks.tool_status import status_answer, status_list
from bot.listener_table import ListenerTable
from bot.listeners.common import Replies, guarded
from workflows.directives import tool_status_with_requests
from workflows.policy import Policy
from workflows.ports_directives import ReadingUnit


@dataclass(frozen=True)
class StatusDeps:
    policy: Policy
    reading: ReadingUnit
    replies: Replies


def register(app: ListenerTable, deps: StatusDeps) -> None:
    app.command("/tool-status")(guarded(deps, tool_status_command))


async def tool_status_command(deps: StatusDeps, ack, body) -> None:
    """Answered in the command's own response: private, immediate, and it works in any channel
    (even one Clearance is not a member of, where it could not post)."""
    query = " ".join((body.get("text") or "").split())
    async with deps.reading() as uow:
        if not query:
            text, blocks = status_list(await uow.tools.with_status())
        else:
            text, blocks = status_answer(*await tool_status_with_requests(uow, deps.policy, query))
    await ack(response_type="ephemeral", text=text, blocks=blocks)
