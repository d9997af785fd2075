"""Reminders: chase reviewers about requests waiting too long, and members about directives.

Rules
-----
Review reminders
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
Directive reminders
  * Members who have not acknowledged a directive requiring acknowledgement are reminded first
    at its due time (or ``issued + directive_after`` without one, see ``directive_first_due``),
    then every ``directive_every`` after the last reminder, until the directive is revoked.
  * Who still owes an acknowledgement is the caller's business (it needs Slack to know the
    channel's members). When nobody does, the caller stops the reminders by claiming the
    directive once more with ``new_next_at=None``. Revoked directives are never due.
Both
  * Quiet hours ("20:00-07:00", may wrap midnight) are read on the wall clock of the policy's
    timezone, so they follow DST. A reminder due inside them is deferred to their end: one
    reminder per item then, not a backlog. An end time skipped by a spring-forward falls one
    hour later by the clock.
  * The database is the truth. Each item is claimed with a conditional update of
    ``next_reminder_at`` (expected old value -> new value) *before* anything is sent; whoever
    loses the race sends nothing. Delivery is therefore at most once: a lost message is
    followed by the next reminder ``remind_every`` later, never by a duplicate.
  * The caller runs ``sweep`` every ``check_every`` and sends exactly what it returns.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from workflows.audit import SYSTEM, AuditEntry
from workflows.policy import Policy, ReminderSettings, Roles, Stage
from workflows.requests import RequestStatus, ToolRequest, reference

log = logging.getLogger(__name__)

# --- quiet hours ----------------------------------------------------------------------------

_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def remind_by(next_reminder_at: datetime, due: datetime | None) -> datetime:
    """A request's first reminder, brought forward to `due` (an emergency self-report's due time)."""
    return next_reminder_at if due is None else min(next_reminder_at, due)


def parse_quiet_hours(text: str) -> tuple[int, int]:
    """ "20:00-07:00" -> (1200, 420): minutes after midnight of the start and the end."""
    match = _QUIET.match(text) if isinstance(text, str) else None
    if match:
        sh, sm, eh, em = (int(g) for g in match.groups())
        if sh < 24 and eh < 24 and sm < 60 and em < 60 and (sh, sm) != (eh, em):
            return sh * 60 + sm, eh * 60 + em
    raise ValueError(f'{text!r} is not quiet hours like "20:00-07:00" (24-hour HH:MM-HH:MM, start and end different)')


def _local(now_utc: datetime, settings: ReminderSettings) -> datetime:
    if now_utc.tzinfo is None:
        raise ValueError("naive datetime given; reminders work on UTC-aware datetimes")
    return now_utc.astimezone(ZoneInfo(settings.timezone))


def in_quiet_hours(now_utc: datetime, settings: ReminderSettings) -> bool:
    if settings.quiet_hours is None:
        return False
    start, end = settings.quiet_hours
    local = _local(now_utc, settings)
    minute = local.hour * 60 + local.minute
    if start <= end:
        return start <= minute < end
    return minute >= start or minute < end  # wraps midnight


def quiet_hours_end(now_utc: datetime, settings: ReminderSettings) -> datetime:
    """The next UTC instant after `now_utc` at which quiet hours end."""
    if settings.quiet_hours is None:
        raise ValueError("no quiet hours are configured")
    local = _local(now_utc, settings)
    hour, minute = divmod(settings.quiet_hours[1], 60)
    # The end's wall-clock time on nearby days, both readings of an hour repeated by a
    # fall-back, keeping only instants that really are outside quiet hours (which drops the
    # early reading of a time skipped by a spring-forward).
    candidates = sorted(
        datetime.combine(local.date() + timedelta(days=days), time(hour, minute, fold=fold), local.tzinfo).astimezone(
            UTC
        )
        for days in range(-1, 3)
        for fold in (0, 1)
    )
    return next(c for c in candidates if c > now_utc and not in_quiet_hours(c, settings))


# --- plans ----------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class DirectiveReminder:
    """DM every member of the directive's channels who has not acknowledged it."""

    directive_id: int
    nth: int
    due_at: datetime  # when acknowledgement was first due


class Subject(StrEnum):
    """What a reminder is about."""

    REQUEST = "request"
    DIRECTIVE = "directive"


@dataclass(frozen=True)
class Claim:
    """The conditional update to make, and what to send if it wins (None: only a deferral)."""

    kind: Subject
    item_id: int
    expected_next_at: datetime | None  # the stored value the update must still find
    new_next_at: datetime | None
    new_reminders_sent: int
    new_escalated_at: datetime | None
    send: ReviewReminder | DirectiveReminder | None


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


def _defer_or(now: datetime, settings: ReminderSettings) -> datetime | None:
    """The end of quiet hours when `now` falls inside them, else None (send now)."""
    return quiet_hours_end(now, settings) if in_quiet_hours(now, settings) else None


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
    if (quiet_end := _defer_or(now, settings)) is not None:
        return Claim(Subject.REQUEST, request.id, due, quiet_end, request.reminders_sent, request.escalated_at, None)
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
    return Claim(Subject.REQUEST, request.id, due, now + stage.remind_every, nth, escalated_at, reminder)


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
    if (quiet_end := _defer_or(now, settings)) is not None:
        return Claim(Subject.DIRECTIVE, directive_id, next_reminder_at, quiet_end, reminders_sent, None, None)
    reminder = DirectiveReminder(directive_id, reminders_sent + 1, due_at_for_first)
    new_next = now + settings.directive_every
    return Claim(Subject.DIRECTIVE, directive_id, next_reminder_at, new_next, reminders_sent + 1, None, reminder)


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


# --- the sweep ------------------------------------------------------------------------------


class ReminderStore(Protocol):
    """What the sweep needs from storage. Claims are atomic conditional updates."""

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
    store: ReminderStore, reminder: DirectiveReminder, now: datetime, settings: ReminderSettings
) -> None:
    """Nobody owes the acknowledgement just now (everyone has given it, or no post of it is up
    yet): nothing is sent and the count of reminders stays as it was, but the directive is looked
    at again after directive_every, for as long as it is in force: someone who joins one of its
    channels, or a channel whose post is retried later, owes it too. (Revoking or superseding it
    is what stops its reminders.)"""
    claimed_next = now + settings.directive_every  # what the claim set
    await store.claim_directive(reminder.directive_id, claimed_next, claimed_next, reminder.nth - 1)


async def stop_directive_reminders(
    store: ReminderStore, reminder: DirectiveReminder, now: datetime, settings: ReminderSettings
) -> None:
    """The directive is gone: its reminders stop (unscheduled after a reminder means stopped, see
    plan_directive_reminder)."""
    claimed_next = now + settings.directive_every  # what the claim set
    await store.claim_directive(reminder.directive_id, claimed_next, None, reminder.nth)


class BatchClaims(Protocol):
    """Optional for a ReminderStore: make many claims in few round trips.

    The same conditional updates as claim_request / claim_directive, each won or lost on its
    own; returns one bool per claim, in order. `sweep` uses it when the store has it.
    """

    async def claim_all(self, claims: list[Claim]) -> list[bool]: ...


async def _plan_all(store: ReminderStore, policy: Policy, now: datetime, limit: int) -> list[Claim]:
    claims: list[Claim] = []
    for request in await store.due_requests(now, limit):
        try:
            stage = policy.stage(request.stage_key)  # type: ignore[arg-type]
        except KeyError:
            # Left alone rather than silenced: restoring the stage in the config revives it.
            log.warning("%s waits at stage %r, which the policy no longer has", request.ref, request.stage_key)
            continue
        if claim := plan_review_reminder(request, stage, policy.roles, policy.reminders, now):
            claims.append(claim)
    for d in await store.due_directives(now, limit):
        claim = plan_directive_reminder(
            d.directive_id, d.first_due_at, d.next_reminder_at, d.reminders_sent, now, policy.reminders
        )
        if claim:
            claims.append(claim)
    return claims


async def _claim(store: ReminderStore, claim: Claim) -> bool:
    if claim.kind == Subject.REQUEST:
        return await store.claim_request(
            claim.item_id,
            claim.expected_next_at,
            claim.new_next_at,
            claim.new_reminders_sent,
            claim.new_escalated_at,
        )
    return await store.claim_directive(
        claim.item_id, claim.expected_next_at, claim.new_next_at, claim.new_reminders_sent
    )


async def sweep(
    store: ReminderStore, policy: Policy, now: datetime, *, limit: int = 1000
) -> list[ReviewReminder | DirectiveReminder]:
    """Claim every due item and return the reminders this process won; the caller sends them.

    `limit` applies to requests and to directives separately; anything left over is still due
    at the next sweep.
    """
    claims = await _plan_all(store, policy, now, limit)
    claim_all = getattr(store, "claim_all", None)
    if claim_all is not None:  # see BatchClaims
        results = await claim_all(claims)
    else:
        results = [await _claim(store, claim) for claim in claims]
    return [claim.send for claim, ok in zip(claims, results, strict=True) if ok and claim.send is not None]


async def preview(store: ReminderStore, policy: Policy, now: datetime, *, limit: int = 1000) -> list[Claim]:
    """What a sweep at `now` would do, claiming nothing (``clearance remind --dry-run``).

    Claims with ``send`` None are deferrals to the end of quiet hours (``new_next_at``).
    """
    return await _plan_all(store, policy, now, limit)
