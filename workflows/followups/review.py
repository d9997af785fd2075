"""Review reminders, with their escalation: a follow-up kind whose bookkeeping is the request's own.

Rules
  * A request is due when it is PENDING at a stage and its ``next_reminder_at`` has passed.
    The review services keep that column: ``stage entered + remind_after`` on entering a stage
    (or on the requester's answer), None while the requester owes an answer or once closed.
  * A due request's reviewers (the stage's principals) get a reminder; the next one is due
    ``remind_every`` after *now*, not after the old due time, so after any downtime exactly one
    reminder is sent per item, never one per missed interval.
  * With ``escalate_after = n`` the n-th reminder also escalates, once, to the stage's
    ``escalate_to`` or, when that is empty, to command staff; ``escalated_at`` records it (the
    card notes it). ``>= n`` rather than ``== n``, so lowering n in the config still escalates
    once. No escalation when ``escalate_after`` is None or nobody could receive it.

Why on the request row rather than in ``follow_ups``: the due time is set by the review rules in
the same save as the stage it belongs to, and the claim also checks the request's version (a
request saved since the sweep read it is not claimed on its old stage's behalf). One row, one
conditional update, no second write on every decision.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar, Protocol

from workflows.audit import SYSTEM, AuditEntry
from workflows.events import Event
from workflows.followups.kind import Claim, FollowUp, FollowUpNotice, Known, Queued
from workflows.followups.quiet import defer_or
from workflows.policy import Policy, ReminderSettings, Roles, Stage
from workflows.requests import RequestStatus, ToolRequest, reference

log = logging.getLogger("workflows.reminders")

NAME = "request"


@dataclass(frozen=True)
class ReviewReminder:
    """DM `recipients` (a stage's reviewers) that `ref` has waited `waited` at their stage."""

    request_id: int
    ref: str
    stage_key: str
    stage_name: str
    recipients: tuple[str, ...]  # principals: user ids or user group ids, the bot expands groups
    waited: timedelta
    nth: int  # 1 for the first reminder at this stage
    escalate: bool = False  # also DM `escalate_to` once, and note it on the card
    escalate_to: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReviewReminderDue(FollowUpNotice):
    """A review reminder won: DM the stage's reviewers (`request` as the sweep read it). With an
    escalation, `escalated` is the request as it stands after the claim (its card notes it) and
    `escalated_to` the people told."""

    kind: ClassVar[str] = NAME
    reminder: ReviewReminder
    request: ToolRequest
    escalated: ToolRequest | None = None
    escalated_to: tuple[str, ...] = ()

    @property
    def card(self) -> ToolRequest | None:
        """A review card this notice re-shows (bot/messages/for_events.py reads its warnings)."""
        return self.escalated


def format_waited(waited: timedelta) -> str:
    """ "45 min", "3 h", "1 day", "2 days 4 h": coarse on purpose, for messages."""
    minutes = max(int(waited.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        text = f"{days} day" if days == 1 else f"{days} days"
        return f"{text} {hours} h" if hours else text
    if hours:
        return f"{hours} h"
    return f"{minutes} min" if minutes else "under 1 min"


def escalation_entry(reminder: ReviewReminder, escalated_to: tuple[str, ...], now: datetime) -> AuditEntry:
    """The audit trail's record of an escalation: the card's note goes when the request moves on,
    and an auditor must still see that it waited too long and who was told."""
    told = ", ".join(escalated_to) or "nobody (no one to escalate to)"
    return AuditEntry(
        reminder.ref,
        f"escalated:{reminder.stage_key}",
        SYSTEM,
        now,
        f"pending:{reminder.stage_key}",
        f"pending:{reminder.stage_key}",
        f"waited {format_waited(reminder.waited)} at {reminder.stage_name} (reminder {reminder.nth}); told {told}",
    )


def plan_review_reminder(
    request: ToolRequest, stage: Stage, roles: Roles, settings: ReminderSettings, now: datetime
) -> Claim | None:
    """What to do about `request` at `now`: None when it is not due."""
    due = request.next_reminder_at
    if (
        request.id is None
        or request.status is not RequestStatus.PENDING  # info_requested: the requester owes a move
        or request.stage_key != stage.key
        or due is None
        or due > now
    ):
        return None
    if (quiet_end := defer_or(now, settings)) is not None:
        return Claim(NAME, request.id, due, quiet_end, request.reminders_sent, request.escalated_at, None)
    nth = request.reminders_sent + 1
    escalate_to = stage.escalates_to(roles)
    escalate = (
        stage.escalate_after is not None
        and nth >= stage.escalate_after
        and request.escalated_at is None
        and bool(escalate_to)
    )
    reminder = ReviewReminder(
        request_id=request.id,
        ref=reference(request.id),
        stage_key=stage.key,
        stage_name=stage.name,
        recipients=stage.reviewers,
        waited=now - request.stage_entered_at,
        nth=nth,
        escalate=escalate,
        escalate_to=escalate_to if escalate else (),
    )
    escalated_at = now if escalate else request.escalated_at
    return Claim(NAME, request.id, due, now + stage.remind_every, nth, escalated_at, reminder)


class ReviewStore(Protocol):
    """What this kind needs from storage. Claims are atomic conditional updates."""

    async def due_requests(self, now: datetime, limit: int) -> list[ToolRequest]:
        """Open requests with next_reminder_at <= now, earliest first (served by an index)."""

    async def claim_request(
        self,
        request_id: int,
        expected_next_at: datetime | None,
        new_next_at: datetime | None,
        reminders_sent: int,
        escalated_at: datetime | None,
    ) -> bool:
        """Set the three columns only where next_reminder_at still equals expected_next_at.

        False when it no longer does (another process claimed it, or a reviewer moved the
        request on). Touches nothing else, so a reviewer's concurrent save is not refused.
        """


class ReviewReminders:
    """The kind: see the module docstring."""

    name: ClassVar[str] = NAME
    quiet: ClassVar[bool] = True
    labels: ClassVar[tuple[str, ...]] = ("review reminder", "escalation")

    async def due(self, store: ReviewStore, policy: Policy, now: datetime, limit: int) -> list[FollowUp]:
        return [
            FollowUp(NAME, r.id, r.next_reminder_at, r.reminders_sent, r.stage_key or "", loaded=r)  # type: ignore[arg-type]
            for r in await store.due_requests(now, limit)
        ]

    def plan(self, item: FollowUp, policy: Policy, now: datetime) -> Claim | None:
        request: ToolRequest = item.loaded
        try:
            stage = policy.stage(request.stage_key)  # type: ignore[arg-type]
        except KeyError:
            # Left alone rather than silenced: restoring the stage in the config revives it.
            log.warning("%s waits at stage %r, which the policy no longer has", request.ref, request.stage_key)
            return None
        return plan_review_reminder(request, stage, policy.roles, policy.reminders, now)

    async def produce(
        self, uow: Any, store: Any, item: FollowUp, send: Any, known: Known, policy: Policy, now: datetime
    ) -> list[Event]:
        """The reminder; an escalation is also on the audit trail (the card's note goes when the request
        moves on, and an auditor must still see it), and changes command staff's Home tabs."""
        reminder: ReviewReminder = send
        if not reminder.escalate:
            return [ReviewReminderDue(reminder, item.loaded)]
        to = tuple(known.users(reminder.escalate_to))
        await uow.audit.record(escalation_entry(reminder, to, now))
        full = await uow.requests.get(reminder.request_id)  # whole (decisions, questions), after the claim
        refresh = (*policy.roles.command_staff, *reminder.escalate_to)
        return [ReviewReminderDue(reminder, item.loaded, full, to, refresh=refresh)]

    async def gone(self, uow: Any, waiting: Sequence[Queued]) -> set[str]:
        """The request left that stage (decided, withdrawn, refused, rerouted)."""
        by_request: dict[int, list[Queued]] = defaultdict(list)
        for q in waiting:
            by_request[q.subject].append(q)
        gone: set[str] = set()
        for request_id, queued in by_request.items():
            request = await uow.requests.get(request_id)
            at = request.stage_key if request is not None and request.status.is_open else None
            gone.update(q.queue for q in queued if q.detail != at)
        return gone

    async def claim(self, store: ReviewStore, claim: Claim) -> bool:
        return await store.claim_request(
            claim.item_id, claim.expected_next_at, claim.new_next_at, claim.new_reminders_sent, claim.new_escalated_at
        )

    def reference(self, item_id: int) -> str:
        return reference(item_id)

    def describe(self, claim: Claim) -> str:
        sent: ReviewReminder = claim.send
        line = (
            f"{sent.ref} at {sent.stage_name}: reminder {sent.nth} to {', '.join(sent.recipients)}"
            f" (waited {format_waited(sent.waited)})"
        )
        return line + (f"; escalates to {', '.join(sent.escalate_to)}" if sent.escalate else "")

    def tally(self, send: Any) -> tuple[str, ...]:
        return ("review reminder", "escalation") if send.escalate else ("review reminder",)
