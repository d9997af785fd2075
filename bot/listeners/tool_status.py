"""/tool-status: the status of record of a tool, answered privately to whoever asks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp

from bot.blocks.tool_status import status_answer, status_list
from bot.listeners.common import guarded
from workflows.directives import open_requests_for, tool_status

if TYPE_CHECKING:
    from bot.runtime import Clearance


def register(app: AsyncApp, c: Clearance) -> None:
    app.command("/tool-status")(guarded(c, tool_status_command))


async def tool_status_command(c: Clearance, ack, body) -> None:
    """Answered in the command's own response: private, immediate, and it works in any channel
    (even one Clearance is not a member of, where it could not post)."""
    query = " ".join((body.get("text") or "").split())
    async with c.reading() as uow:
        if not query:
            text, blocks = status_list(await uow.tools.with_status())
        else:
            answer = await tool_status(uow, query)
            stages = [s.key for s in c.policy.stages]
            requests = await open_requests_for(uow, stages, answer.tool) if answer.tool else []
            text, blocks = status_answer(answer, requests)
    await ack(response_type="ephemeral", text=text, blocks=blocks)
