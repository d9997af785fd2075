"""Directive reminders: members who have not acknowledged a directive are chased until they do.

Rules
  * Members who have not acknowledged a directive requiring acknowledgement are reminded first
    at its due time (or ``issued + directive_after`` without one, see ``directive_first_due``),
    then every ``directive_every`` after the last reminder, until the directive is revoked.
  * Who still owes an acknowledgement is the caller's business (it needs Slack to know the
    channel's members). When nobody does, the caller looks again later (`nobody_to_remind`);
    revoked directives are never due (`stop_directive_reminders`).

The bookkeeping is the directive row's own (``next_reminder_at``, indexed), kept by the
directive services in the same save as the directive's status.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Protocol

from workflows.directive_model import Directive, directive_reference
from workflows.events import Event
from workflows.followups.kind import Claim, FollowUp, FollowUpNotice, Known, Queued
from workflows.followups.quiet import defer_or
from workflows.policy import Policy, ReminderSettings

NAME = "directive"


@dataclass(frozen=True)
class DirectiveReminder:
    """DM every member of the directive's channels who has not acknowledged it."""

    directive_id: int
    nth: int
    due_at: datetime  # when acknowledgement was first due


@dataclass(frozen=True)
class DirectiveReminderDue(FollowUpNotice):
    """A directive reminder won: DM each of `owing` (who still owes the acknowledgement, as Slack
    and the database said just before the sweep)."""

    kind: ClassVar[str] = NAME
    reminder: DirectiveReminder
    directive: Directive
    owing: frozenset[str]


@dataclass(frozen=True)
class DueDirective:
    """A directive's reminder bookkeeping, as the store returns it."""

    directive_id: int
    first_due_at: datetime  # see directive_first_due
    next_reminder_at: datetime | None
    reminders_sent: int = 0


def directive_first_due(issued_at: datetime, due_at: datetime | None, settings: ReminderSettings) -> datetime:
    """When to remind first; the directive service stores it as the initial next_reminder_at."""
    return due_at if due_at is not None else issued_at + settings.directive_after


def plan_directive_reminder(
    directive_id: int,
    due_at_for_first: datetime,
    next_reminder_at: datetime | None,
    reminders_sent: int,
    now: datetime,
    settings: ReminderSettings,
) -> Claim | None:
    """What to do about a directive at `now`: None when it is not due.

    next_reminder_at None means "not yet scheduled" before the first reminder (due at
    `due_at_for_first`) and "stopped" after it (everyone acknowledged).
    """
    due = next_reminder_at if next_reminder_at is not None or reminders_sent else due_at_for_first
    if due is None or due > now:
        return None
    if (quiet_end := defer_or(now, settings)) is not None:
        return Claim(NAME, directive_id, next_reminder_at, quiet_end, reminders_sent, None, None)
    reminder = DirectiveReminder(directive_id, reminders_sent + 1, due_at_for_first)
    new_next = now + settings.directive_every
    return Claim(NAME, directive_id, next_reminder_at, new_next, reminders_sent + 1, None, reminder)


class DirectiveStore(Protocol):
    async def due_directives(self, now: datetime, limit: int) -> list[DueDirective]:
        """Active (not revoked) directives requiring acknowledgement, next_reminder_at <= now."""

    async def claim_directive(
        self,
        directive_id: int,
        expected_next_at: datetime | None,
        new_next_at: datetime | None,
        reminders_sent: int,
    ) -> bool:
        """As claim_request; new_next_at None stops the directive's reminders."""


async def nobody_to_remind(
    store: DirectiveStore, reminder: DirectiveReminder, now: datetime, settings: ReminderSettings
) -> None:
    """Nobody owes the acknowledgement just now (everyone has given it, or no post of it is up
    yet): nothing is sent and the count of reminders stays as it was, but the directive is looked
    at again after directive_every, for as long as it is in force: someone who joins one of its
    channels, or a channel whose post is retried later, owes it too. (Revoking or superseding it
    is what stops its reminders.)"""
    claimed_next = now + settings.directive_every  # what the claim set
    await store.claim_directive(reminder.directive_id, claimed_next, claimed_next, reminder.nth - 1)


async def stop_directive_reminders(
    store: DirectiveStore, reminder: DirectiveReminder, now: datetime, settings: ReminderSettings
) -> None:
    """The directive is gone: its reminders stop (unscheduled after a reminder means stopped, see
    plan_directive_reminder)."""
    claimed_next = now + settings.directive_every  # what the claim set
    await store.claim_directive(reminder.directive_id, claimed_next, None, reminder.nth)


class DirectiveReminders:
    """The kind: see the module docstring."""

    name: ClassVar[str] = NAME
    quiet: ClassVar[bool] = True
    labels: ClassVar[tuple[str, ...]] = ("directive reminder",)

    async def due(self, store: DirectiveStore, policy: Policy, now: datetime, limit: int) -> list[FollowUp]:
        return [
            FollowUp(NAME, d.directive_id, d.next_reminder_at, d.reminders_sent, loaded=d)
            for d in await store.due_directives(now, limit)
        ]

    def plan(self, item: FollowUp, policy: Policy, now: datetime) -> Claim | None:
        d: DueDirective = item.loaded
        return plan_directive_reminder(
            d.directive_id, d.first_due_at, d.next_reminder_at, d.reminders_sent, now, policy.reminders
        )

    async def produce(
        self, uow: Any, store: Any, item: FollowUp, send: Any, known: Known, policy: Policy, now: datetime
    ) -> list[Event]:
        """A DM to each person who still owes the acknowledgement; none just now: none is sent, and
        the directive is looked at again later (a newcomer to its channels owes it too)."""
        reminder: DirectiveReminder = send
        directive = await uow.directives.get(reminder.directive_id)
        if directive is None:
            await stop_directive_reminders(store, reminder, now, policy.reminders)
            return []
        owing = known.audience.get((NAME, reminder.directive_id), frozenset())
        if not owing:
            await nobody_to_remind(store, reminder, now, policy.reminders)
            return []
        return [DirectiveReminderDue(reminder, directive, owing)]

    async def gone(self, uow: Any, waiting: Sequence[Queued]) -> set[str]:
        """The directive is no longer in force, or the person has acknowledged it."""
        by_directive: dict[int, list[Queued]] = defaultdict(list)
        for q in waiting:
            by_directive[q.subject].append(q)
        gone: set[str] = set()
        for directive_id, owed in by_directive.items():
            directive = await uow.directives.get(directive_id)
            if directive is None or not directive.is_active:
                gone.update(q.queue for q in owed)
                continue
            acknowledged = await uow.acks.users(directive.stored_id)
            gone.update(q.queue for q in owed if q.user in acknowledged)
        return gone

    async def claim(self, store: DirectiveStore, claim: Claim) -> bool:
        return await store.claim_directive(
            claim.item_id, claim.expected_next_at, claim.new_next_at, claim.new_reminders_sent
        )

    def reference(self, item_id: int) -> str:
        return directive_reference(item_id)

    def describe(self, claim: Claim) -> str:
        sent: DirectiveReminder = claim.send
        ref = self.reference(claim.item_id)
        return f"{ref}: acknowledgement reminder {sent.nth} to everyone who has not acknowledged it"

    def tally(self, send: Any) -> tuple[str, ...]:
        return ("directive reminder",)
