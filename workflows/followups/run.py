"""The sweep as a change: `RunFollowUps` (workflows/commands.py) runs here, through the one write path.

The bot asks Slack what it must first (who is in a user group, who owes an acknowledgement, the
review cards' links: `Known`), then hands the command to `Changes.handle`; in that one
transaction every registered kind's due items are claimed, and each won item's kind produces its
notices (and any domain change). They come back as one `FollowUpsDue` event, so that the bot's
builder for each kind sees all of a sweep's notices at once (digests, one DM per person).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.events import Event
from workflows.followups.kind import FollowUpKind, FollowUpNotice, Known
from workflows.followups.sweep import claim_due, kind_named
from workflows.policy import Policy


@dataclass(frozen=True)
class FollowUpsDue(Event):
    """One sweep's notices, in the order of the kinds; `claimed`: how many items it won."""

    at: datetime
    known: Known
    notices: tuple[FollowUpNotice, ...]
    claimed: int


async def run_follow_ups(
    uow: Any, policy: Policy, at: datetime, known: Known, limit: int, kinds: Sequence[FollowUpKind]
) -> list[Event]:
    store = uow.reminders(policy.reminders, skip_stages=known.skip_stages, skip_directives=known.skip_directives)
    won = await claim_due(store, policy, at, limit=limit, kinds=kinds)
    if not won:
        return []
    notices: list[FollowUpNotice] = []
    others: list[Event] = []
    for claim, item in won:
        kind = kind_named(claim.kind, kinds)
        for event in await kind.produce(uow, store, item, claim.send, known, policy, at):
            if isinstance(event, FollowUpNotice):
                notices.append(event)
            else:
                others.append(event)
    return [FollowUpsDue(at, known, tuple(notices), len(won)), *others]


async def seed_follow_ups(uow: Any, policy: Policy, at: datetime, kinds: Sequence[FollowUpKind]) -> list[Event]:
    """Create the row of every recurring kind that has none yet (subject 0), due at its first turn."""
    store = uow.reminders(policy.reminders)
    for kind in kinds:
        first_due = getattr(kind, "first_due", None)
        first = first_due(policy, at) if first_due is not None else None
        if first is not None and await store.follow_ups.get(kind.name, 0) is None:
            await store.follow_ups.schedule(kind.name, 0, first)
    return []
