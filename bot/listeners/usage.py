"""/tool-usage: everyone linked to a tool, privately, for command staff, the privacy stage's
reviewers and [roles] usage_readers; and its Send as CSV button. Who may ask is checked with
Slack at the moment of each question and each click; nothing is written."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from bot.blocks.requests import notice
from bot.blocks.usage import CSV_FAILED, NO_NAME, RESTRICTED, csv_sent, looking_up, usage_answer
from bot.delivery.usage_files import UsageFileFailed, UsageFiles
from bot.http.payloads import UsageQuery, read
from bot.listeners.common import Replies, action_value, actor, guarded
from bot.messages.ids import ActionId
from bot.people.roles import Roles
from bot.wiring.listener_table import ListenerTable
from workflows.usage import Match, UsageReading, tool_usage
from workflows.usage_licences import GroupMembers

# Seconds /tool-usage waits for its answer before acking with a "looking up" notice instead. Slack
# drops a command not acked within 3 s ("dispatch_failed"); a user group's members (the roles, the
# licences' groups) come from Slack through a reading client that retries a rate limit up to 5
# times (10 s time-out): far past 3 s on a bad day. The second left covers the round trips and a
# busy event loop.
ANSWER_BUDGET = 2.0


@dataclass  # not frozen: tests shorten answer_budget
class UsageDeps:
    clock: Callable[[], datetime]
    roles: Roles
    reading: UsageReading
    files: UsageFiles
    replies: Replies
    groups: GroupMembers  # the licences' user groups, as Slack says now (bot/people/directory.py)
    answer_budget: float = ANSWER_BUDGET


def register(app: ListenerTable, deps: UsageDeps) -> None:
    app.command("/tool-usage")(guarded(deps, tool_usage_command))
    app.action(ActionId.USAGE_CSV)(guarded(deps, send_csv))


async def tool_usage_command(deps: UsageDeps, ack, body) -> None:
    """Answered in the command's own response (private, and it works in any channel) when it is
    ready within the budget; else acked at once with a notice, and answered through the command's
    response_url when ready. An error after that ack reaches the person through `guarded`."""
    query = " ".join((body.get("text") or "").split())
    work = asyncio.ensure_future(_answer(deps, actor(body), query))
    try:
        await asyncio.wait({work}, timeout=deps.answer_budget)
        if work.done():
            text, blocks = work.result()
            await ack(response_type="ephemeral", text=text, blocks=blocks)
            return
        await ack(response_type="ephemeral", **looking_up(query))
        text, blocks = await work
    finally:
        work.cancel()  # nothing outlives the listener (a no-op once done)
    await deps.replies.answer(body, text, blocks)


async def _answer(deps: UsageDeps, user: str, query: str) -> tuple[str, list[dict]]:
    """The answer's text and blocks; asks Slack (the person's role, the licences' user groups)."""
    if not await deps.roles.may_read_usage(user):
        return RESTRICTED.replace("`", ""), notice(RESTRICTED)
    if not query:
        return NO_NAME.replace("`", ""), notice(NO_NAME)
    async with deps.reading() as uow:
        return usage_answer(await tool_usage(uow, query, everyone=False, groups=deps.groups))


async def send_csv(deps: UsageDeps, ack, body) -> None:
    """Send as CSV: asked again (the record may have grown, the person's role may have gone)."""
    await ack()
    query = read(UsageQuery, action_value(body)).query
    user = actor(body)
    if not await deps.roles.may_read_usage(user):
        await deps.replies.answer(body, RESTRICTED)
        return
    async with deps.reading() as uow:
        answer = await tool_usage(uow, query, groups=deps.groups)
    if answer.match is Match.NONE:
        await deps.replies.answer(body, usage_answer(answer)[0])
        return
    try:
        rows = await deps.files.send_csv(user, answer, deps.clock())
    except UsageFileFailed:
        await deps.replies.answer(body, CSV_FAILED)
        return
    await deps.replies.answer(body, csv_sent(", ".join(t.name for t in answer.tools) or query, rows, answer))
