"""Directives in Slack: the messages a directive's life implies, and the keys they are stored under.

The Slack side of directives is four small parts, each built in bot/wiring/runtime.py from what it needs:

* here, `directive_messages` (a pure part of bot/messages/for_events.py's table) turns directive
  events into outbox messages, one queue per channel so a rate limit or a broken channel in one
  does not hold the others, and records where each directive is to be posted;
* `bot/directives/delivery.py` learns, per channel, whether a post went out (the sender's result
  hook), updates the issuer's report, and posts again where asked;
* `bot/directives/counts.py` keeps the running count on each posted message current;
* `bot/directives/status.py` answers "who has acknowledged" for command staff, the Home tab and reminders.
"""

from __future__ import annotations

from bot.blocks.directive_status import ChannelState, failure_notice, issuer_report
from bot.blocks.directives import channel_message, ended_notice
from bot.messages.outbound import post, update
from workflows.directive_model import (
    Directive,
    DirectiveIssued,
    DirectivePost,
    DirectiveRevoked,
    DirectiveSuperseded,
    PostOutcome,
    PostsRetried,
)
from workflows.directive_posts import CountShown, PostOutcomeRecorded
from workflows.events import Event
from workflows.outbox import OutboundMessage


def post_key(directive_id: int, channel: str) -> str:
    return f"directive:{directive_id}:{channel}"


def report_key(directive_id: int) -> str:
    return f"directive-report:{directive_id}"


def parse_post_key(key: str | None) -> tuple[int, str] | None:
    parts = (key or "").split(":")
    if len(parts) == 3 and parts[0] == "directive" and parts[1].isdigit():
        return int(parts[1]), parts[2]
    return None


def directive_messages(
    event: Event, posts: dict[int, list[DirectivePost]], status_now: dict[int, str]
) -> list[OutboundMessage]:
    """What a directive event means in Slack: its posts, their marks when it ends, the issuer's report.
    `posts` and `status_now` are read before (bot/messages.read_facts): this reads nothing."""
    match event:
        case DirectiveIssued(directive=d):
            return _post(d)
        case DirectiveSuperseded(old=old, new=new):
            return _post(new) + _ended(old, posts.get(old.stored_id, []))
        case DirectiveRevoked(directive=d, reason=reason):
            return _ended(d, posts.get(d.stored_id, []), reason, status_now.get(d.stored_id, ""))
        case PostsRetried(directive=d, channels=channels):
            return _retried(d, channels, posts.get(d.stored_id, []))
        case PostOutcomeRecorded(directive=d, channel=channel, outcome=outcome, error=error):
            return _arrived(d, channel, outcome, error, posts.get(d.stored_id, []))
        case CountShown(directive=d, channel=channel, text=count):
            key = post_key(d.stored_id, channel)
            text, blocks = channel_message(d, count=count)
            return [update(key, key, text, blocks)]
    return []


def _arrived(
    d: Directive, channel: str, outcome: PostOutcome, error: str, posts: list[DirectivePost]
) -> list[OutboundMessage]:
    """The issuer's report shows each channel's outcome; a failure also gets a message of its own."""
    text, blocks = issuer_report(d, states_of(posts))
    messages = [update(report_key(d.stored_id), report_key(d.stored_id), text, blocks)]
    if outcome == PostOutcome.FAILED:
        text, blocks = failure_notice(d, channel, error)
        messages.append(post(report_key(d.stored_id), d.issued_by, text, blocks))
    return messages


def _post(d: Directive) -> list[OutboundMessage]:
    text, blocks = channel_message(d)
    messages = []
    for channel in d.channels:  # the domain recorded a pending post for each
        key = post_key(d.stored_id, channel)
        messages.append(post(key, channel, text, blocks, store_as=key))
    text, blocks = issuer_report(d, tuple(ChannelState(ch, PostOutcome.PENDING) for ch in d.channels))
    messages.append(post(report_key(d.stored_id), d.issued_by, text, blocks, store_as=report_key(d.stored_id)))
    return messages


def _retried(d: Directive, channels: tuple[str, ...], posts: list[DirectivePost]) -> list[OutboundMessage]:
    """Posted again where it had failed; the issuer's report shows those channels pending again."""
    text, blocks = channel_message(d)
    messages = []
    for channel in channels:
        key = post_key(d.stored_id, channel)
        messages.append(post(key, channel, text, blocks, store_as=key))
    text, blocks = issuer_report(d, states_of(posts))
    messages.append(update(report_key(d.stored_id), report_key(d.stored_id), text, blocks))
    return messages


def _ended(
    d: Directive, posts: list[DirectivePost], reason: str | None = None, status_now: str = ""
) -> list[OutboundMessage]:
    """Revoked (reason given) or superseded: mark every message, tell revoked channels, update the report."""
    messages = []
    for p in posts:
        if p.outcome == PostOutcome.FAILED:
            continue
        key = post_key(d.stored_id, p.channel)
        text, blocks = channel_message(d, count=p.count_shown or None)
        messages.append(update(key, key, text, blocks))
        if reason is not None:
            text, blocks = ended_notice(d, reason, status_now)
            messages.append(post(key, p.channel, text, blocks))
    text, blocks = issuer_report(d, states_of(posts))
    messages.append(update(report_key(d.stored_id), report_key(d.stored_id), text, blocks))
    return messages


def states_of(posts: list[DirectivePost]) -> tuple[ChannelState, ...]:
    """Each channel's outcome, for the issuer's report."""
    return tuple(ChannelState(p.channel, p.outcome, p.error) for p in posts)
