"""What the directive listeners need (DirectiveDeps), and the few steps they share: which directive
a click is about, opening a view over the one it came from, refusing anyone not command staff.
In a module of its own so that bot/listeners/directives.py and directive_status.py both use it
without importing each other's.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.directives.audience import DirectiveAudience
from bot.directives.counts import CountRefresher
from bot.directives.status import DirectiveStatusReader
from bot.http.payloads import DirectiveRef, read
from bot.listeners.common import Change, Replies, action_value, actor
from bot.people.membership import ChannelMembers
from bot.people.roles import Roles
from workflows.directive_model import directive_reference
from workflows.errors import require_command_staff
from workflows.outbox import OutboundMessage
from workflows.policy import Policy
from workflows.ports_directives import ReadingUnit


@dataclass(frozen=True)
class DirectiveDeps:
    """What the directive listeners need, given by the composition root (bot/wiring/runtime.py)."""

    policy: Policy
    clock: Callable[[], datetime]
    roles: Roles
    change: Change  # bot.changes.Changes.handle
    enqueue: Callable[[list[OutboundMessage]], Awaitable[None]]  # bot.changes.Changes.enqueue
    reading: ReadingUnit
    client: AsyncWebClient
    members: ChannelMembers
    status: DirectiveStatusReader
    counts: CountRefresher
    replies: Replies
    audience: DirectiveAudience


def directive_id_of(body: dict) -> int:
    return read(DirectiveRef, action_value(body)).directive_id


def in_modal(body: dict) -> bool:
    """The click came from a modal (push the next view over it), not a message or the Home tab."""
    return (body.get("view") or {}).get("type") == "modal" and body.get("message") is None


async def show(deps: DirectiveDeps, body: dict, view: dict) -> AsyncSlackResponse:
    """Open `view` from a message, or push it over the modal the click came from."""
    trigger = body.get("trigger_id")
    if in_modal(body):
        return await deps.client.views_push(trigger_id=trigger, view=view)
    return await deps.client.views_open(trigger_id=trigger, view=view)


def missing(directive_id: int) -> str:
    return f"{directive_reference(directive_id)} does not exist in Clearance."


async def require_staff(deps: DirectiveDeps, body: dict) -> None:
    """Refuse (told by `guarded`) unless the person is command staff, as Slack says now."""
    require_command_staff(await deps.roles.is_command_staff(actor(body)))
