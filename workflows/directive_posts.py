"""What became of a directive's posts: each channel's outcome, and the count shown on each post.

Both are changes like any other (commands in workflows/commands.py, through bot/wiring/changes.py): the
outbox sender's result hook records an outcome, the count refresher a new count; the Slack
messages they imply (the issuer's report, a failure notice, the post's count) come from their
events in bot/messages/for_events.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from workflows.directive_model import Directive, PostOutcome
from workflows.events import Event

if TYPE_CHECKING:
    from workflows.ports_directives import DirectiveUnitOfWork


@dataclass(frozen=True)
class PostOutcomeRecorded(Event):
    """A channel's post went out (or failed for good): the issuer's report shows it."""

    directive: Directive
    channel: str
    outcome: PostOutcome
    error: str = ""


@dataclass(frozen=True)
class CountShown(Event):
    """A post's running count is to read `text` ("23 of 41 acknowledged")."""

    directive: Directive
    channel: str
    text: str


async def record_post_outcome(
    uow: DirectiveUnitOfWork,
    directive_id: int,
    channel: str,
    outcome: PostOutcome,
    error: str,
    ts: str | None,
    now: datetime,
) -> list[Event]:
    """Nothing when the directive is gone or the outcome was already recorded."""
    directive = await uow.directives.lock(directive_id)
    if directive is None:
        return []
    if not await uow.directive_posts.set_outcome(directive_id, channel, outcome, now, error=error, ts=ts):
        return []
    return [PostOutcomeRecorded(directive, channel, outcome, error)]


async def show_count(
    uow: DirectiveUnitOfWork,
    directive_id: int,
    post_id: int,
    channel: str,
    shown_at: datetime | None,
    text: str,
    now: datetime,
) -> list[Event]:
    """Nothing when the directive is no longer in force or another process showed a count since
    `shown_at`. The lock orders this against a revocation: whichever commits second sees the other."""
    directive = await uow.directives.lock(directive_id)
    if directive is None or not directive.is_active:
        return []
    if not await uow.directive_posts.claim_count(post_id, shown_at, text, now):
        return []
    return [CountShown(directive, channel, text)]
