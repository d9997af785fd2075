"""/tool-usage: everyone linked to a tool, privately, for command staff, the privacy stage's
reviewers and [roles] usage_readers; and its Send as CSV button. Who may ask is checked with
Slack at the moment of each question and each click; nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.blocks.requests import notice
from bot.blocks.usage import CSV_FAILED, NO_NAME, RESTRICTED, csv_sent, usage_answer
from bot.delivery.usage_files import UsageFileFailed, UsageFiles
from bot.http.payloads import UsageQuery, read
from bot.listeners.common import Replies, action_value, actor, guarded
from bot.messages.ids import ActionId
from bot.people.roles import Roles
from bot.wiring.listener_table import ListenerTable
from bot.wiring.logs import describe_payload
from workflows.usage import Match, UsageReading, tool_usage
from workflows.usage_licences import GroupMembers


@dataclass(frozen=True)
class UsageDeps:
    clock: Callable[[], datetime]
    roles: Roles
    reading: UsageReading
    files: UsageFiles
    replies: Replies
    groups: GroupMembers  # the licences' user groups, as Slack says now (bot/people/directory.py)


def register(app: ListenerTable, deps: UsageDeps) -> None:
    app.command("/tool-usage")(guarded(deps, tool_usage_command))
    app.action(ActionId.USAGE_CSV)(guarded(deps, send_csv))


async def tool_usage_command(deps: UsageDeps, ack, body) -> None:
    """Answered in the command's own response: private, and it works in any channel."""
    if not await deps.roles.may_read_usage(actor(body)):
        await ack(response_type="ephemeral", text=RESTRICTED.replace("`", ""), blocks=notice(RESTRICTED))
        return
    query = " ".join((body.get("text") or "").split())
    if not query:
        await ack(response_type="ephemeral", text=NO_NAME.replace("`", ""), blocks=notice(NO_NAME))
        return
    async with deps.reading() as uow:
        text, blocks = usage_answer(await tool_usage(uow, query, everyone=False, groups=deps.groups))
    await ack(response_type="ephemeral", text=text, blocks=blocks)


async def send_csv(deps: UsageDeps, ack, body) -> None:
    """Send as CSV: asked again (the record may have grown, the person's role may have gone)."""
    await ack()
    query = read(UsageQuery, action_value(body)).query
    user = actor(body)
    if not await deps.roles.may_read_usage(user):
        await _tell(deps, body, RESTRICTED)
        return
    async with deps.reading() as uow:
        answer = await tool_usage(uow, query, groups=deps.groups)
    if answer.match is Match.NONE:
        await _tell(deps, body, usage_answer(answer)[0])
        return
    try:
        rows = await deps.files.send_csv(user, answer, deps.clock())
    except UsageFileFailed:
        await _tell(deps, body, CSV_FAILED)
        return
    await _tell(deps, body, csv_sent(", ".join(t.name for t in answer.tools) or query, rows, answer))


async def _tell(deps: UsageDeps, body: dict, text: str) -> None:
    """Through the click's response_url (the answer was ephemeral: there is no message to post
    beside), else privately where they are."""
    url = body.get("response_url")
    if not url or not await deps.replies.respond(url, text, describe_payload(body)):
        await deps.replies.tell(body, text)
