"""Directives in Slack: the messages a directive's life implies, and the keys they are stored under.

The Slack side of directives is four small parts, each built in bot/runtime.py from what it needs:

* here, `directive_messages` (called by bot/changes.py inside the change's transaction) turns directive
  events into outbox messages, one queue per channel so a rate limit or a broken channel in one
  does not hold the others, and records where each directive is to be posted;
* `bot/directive_delivery.py` learns, per channel, whether a post went out (the sender's result
  hook), updates the issuer's report, and posts again where asked;
* `bot/directive_counts.py` keeps the running count on each posted message current;
* `bot/directive_status.py` answers "who has acknowledged" for command staff, the Home tab and reminders.
"""

from __future__ import annotations

from bot.blocks.directives import ChannelState, channel_message, ended_notice, issuer_report
from bot.outbound import post, update
from workflows.directives import (
    Directive,
    DirectiveIssued,
    DirectivePost,
    DirectiveRevoked,
    DirectiveSuperseded,
    PostOutcome,
    PostsRetried,
)
from workflows.events import Event
from workflows.ports_directives import ChangeUnitOfWork


def post_key(directive_id: int, channel: str) -> str:
    return f"directive:{directive_id}:{channel}"


def report_key(directive_id: int) -> str:
    return f"directive-report:{directive_id}"


def parse_post_key(key: str | None) -> tuple[int, str] | None:
    parts = (key or "").split(":")
    if len(parts) == 3 and parts[0] == "directive" and parts[1].isdigit():
        return int(parts[1]), parts[2]
    return None


async def directive_messages(uow: ChangeUnitOfWork, event: Event) -> None:
    """What a directive event means in Slack: its posts, their marks when it ends, the issuer's report."""
    match event:
        case DirectiveIssued(directive=d):
            await _post(uow, d)
        case DirectiveSuperseded(old=old, new=new):
            await _post(uow, new)
            await _ended(uow, old)
        case DirectiveRevoked(directive=d, reason=reason):
            await _ended(uow, d, reason)
        case PostsRetried(directive=d, channels=channels):
            await _retried(uow, d, channels)


async def _post(uow: ChangeUnitOfWork, d: Directive) -> None:
    text, blocks = channel_message(d)
    for channel in d.channels:  # the domain recorded a pending post for each
        key = post_key(d.stored_id, channel)
        await uow.outbox.add(post(key, channel, text, blocks, store_as=key))
    text, blocks = issuer_report(d, tuple(ChannelState(ch, PostOutcome.PENDING) for ch in d.channels))
    await uow.outbox.add(post(report_key(d.stored_id), d.issued_by, text, blocks, store_as=report_key(d.stored_id)))


async def _retried(uow: ChangeUnitOfWork, d: Directive, channels: tuple[str, ...]) -> None:
    """Posted again where it had failed; the issuer's report shows those channels pending again."""
    text, blocks = channel_message(d)
    for channel in channels:
        key = post_key(d.stored_id, channel)
        await uow.outbox.add(post(key, channel, text, blocks, store_as=key))
    text, blocks = issuer_report(d, states_of(await uow.directive_posts.for_directive(d.stored_id)))
    await uow.outbox.add(update(report_key(d.stored_id), report_key(d.stored_id), text, blocks))


async def _ended(uow: ChangeUnitOfWork, d: Directive, reason: str | None = None) -> None:
    """Revoked (reason given) or superseded: mark every message, tell revoked channels, update the report."""
    posts = await uow.directive_posts.for_directive(d.stored_id)
    status_now = ""
    if reason is not None:
        tool = await uow.tools.get_by_key(d.tool_key)
        if tool is not None:
            status_now = f"Status of record now: *{tool.status.label}*. {tool.status.meaning}"
    for p in posts:
        if p.outcome == PostOutcome.FAILED:
            continue
        key = post_key(d.stored_id, p.channel)
        text, blocks = channel_message(d, count=p.count_shown or None)
        await uow.outbox.add(update(key, key, text, blocks))
        if reason is not None:
            text, blocks = ended_notice(d, reason, status_now)
            await uow.outbox.add(post(key, p.channel, text, blocks))
    text, blocks = issuer_report(d, states_of(posts))
    await uow.outbox.add(update(report_key(d.stored_id), report_key(d.stored_id), text, blocks))


def states_of(posts: list[DirectivePost]) -> tuple[ChannelState, ...]:
    """Each channel's outcome, for the issuer's report."""
    return tuple(ChannelState(p.channel, p.outcome, p.error) for p in posts)
