"""Events -> Slack messages: the one table of what a change means in Slack.

`Changes.handle` (bot/wiring/changes.py) calls it at the end of every change, in the change's transaction:
first `read_facts` reads, once per change, what the messages need from the database (a card's
warnings, a directive's posts, a tool's status now); then the pure `messages_for(event, facts)`
turns each event into outbox messages. Follow-ups outside the transaction (Home tabs, counts,
notices to user groups) are bot/wiring/runtime.py `Clearance._committed`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.blocks.tool_status import cease_flag
from bot.directives.messages import directive_messages
from bot.followups.messages import follow_up_messages
from bot.messages.anchors import anchor_messages
from bot.messages.attestations import attestation_messages
from bot.messages.licences import licence_messages
from bot.messages.outbound import RequestMessages
from workflows.audit_anchors import ChainAnchored
from workflows.directive_model import DirectivePost, DirectiveRevoked, DirectiveSuperseded, PostsRetried
from workflows.directive_posts import PostOutcomeRecorded
from workflows.events import Event
from workflows.followups.run import FollowUpsDue
from workflows.outbox import OutboundMessage
from workflows.policy import Policy
from workflows.ports_directives import DirectiveUnitOfWork
from workflows.requests import ToolRequest
from workflows.tool_names import mixed_script_warning
from workflows.tool_services import override_for


@dataclass
class Facts:
    """What a change's messages need from the database, read once after its domain loop."""

    flags: dict[int, list[str]] = field(default_factory=dict)  # request id -> its cards' warnings
    posts: dict[int, list[DirectivePost]] = field(default_factory=dict)  # directive id -> its posts
    status_now: dict[int, str] = field(default_factory=dict)  # revoked directive id -> the tool's status line


async def card_flags(uow: DirectiveUnitOfWork, request: ToolRequest | None) -> list[str]:
    """Warnings for a request's review cards: a cease-use or suspension in force for the tool, and a
    name that mixes scripts (a look-alike of another name)."""
    if request is None:
        return []
    tool = await override_for(uow, request)
    flags = [cease_flag(tool, request.tool_name)] if tool is not None else []
    mixed = mixed_script_warning(request.tool_name)
    return flags + ([mixed] if mixed else [])


async def read_facts(uow: DirectiveUnitOfWork, events: list[Event]) -> Facts:
    facts = Facts()
    for event in events:
        request = getattr(event, "request", None)
        if isinstance(request, ToolRequest) and request.id is not None and request.id not in facts.flags:
            facts.flags[request.id] = await card_flags(uow, request)
        match event:
            case DirectiveRevoked(directive=d):
                facts.posts[d.stored_id] = await uow.directive_posts.for_directive(d.stored_id)
                tool = await uow.tools.get_by_key(d.tool_key)
                if tool is not None:
                    facts.status_now[d.stored_id] = (
                        f"Status of record now: *{tool.status.label}*. {tool.status.meaning}"
                    )
            case DirectiveSuperseded(old=old):
                facts.posts[old.stored_id] = await uow.directive_posts.for_directive(old.stored_id)
            case PostsRetried(directive=d) | PostOutcomeRecorded(directive=d):
                facts.posts[d.stored_id] = await uow.directive_posts.for_directive(d.stored_id)
            case FollowUpsDue(notices=notices):
                for notice in notices:  # a card a follow-up re-shows (an escalation's note)
                    card = getattr(notice, "card", None)
                    if isinstance(card, ToolRequest) and card.id is not None and card.id not in facts.flags:
                        facts.flags[card.id] = await card_flags(uow, card)
    return facts


class SlackMessages:
    """`messages_for(event, facts)`: pure; the policy names stages and roles."""

    def __init__(self, policy: Policy) -> None:
        self._policy = policy
        self._requests = RequestMessages(policy)

    def messages_for(self, event: Event, facts: Facts) -> list[OutboundMessage]:
        if isinstance(event, FollowUpsDue):
            return follow_up_messages(event, facts.flags, self._policy)
        if isinstance(event, ChainAnchored):
            return anchor_messages(event)
        messages = directive_messages(event, facts.posts, facts.status_now) + attestation_messages(event)
        messages += licence_messages(event)
        request = getattr(event, "request", None)
        if request is not None:
            messages += self._requests.for_event(event, facts.flags.get(request.id, []))
        return messages
