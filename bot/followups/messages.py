"""Timed follow-ups in Slack: each kind's notices of one sweep -> outbox messages.

`BUILDERS` is the table, one row per follow-up kind (workflows/followups/ `KINDS`): a pure function
of the sweep's notices of that kind (`FollowUpsDue`, in the order of the kinds), the facts read
for them (bot/messages/for_events.py `read_facts`: a card's warnings) and the policy. bot/messages/for_events.py's
`messages_for` calls it for every sweep, like any other event. A builder sees all its kind's
notices at once, so one DM per person per sweep (a digest) is one loop.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from bot.blocks import licence_status
from bot.blocks import reminders as reminder_blocks
from bot.blocks.reminders import Due
from bot.blocks.requests import review_card
from bot.messages.outbound import card_key, post, update
from workflows.followups.directive import NAME as DIRECTIVE
from workflows.followups.directive import DirectiveReminderDue
from workflows.followups.kind import FollowUpNotice, Known
from workflows.followups.licence_expiry import NAME as LICENCE
from workflows.followups.licence_expiry import LicenceExpiring, LicenceLapsedNotice
from workflows.followups.review import NAME as REVIEW
from workflows.followups.review import ReviewReminderDue
from workflows.followups.run import FollowUpsDue
from workflows.licences import Licence
from workflows.outbox import BULK, OutboundMessage
from workflows.policy import Policy
from workflows.reminder_relevance import about, about_directive, about_review, reminder_queue

log = logging.getLogger("clearance.reminders")

# More reminders than this for one person in one sweep go in one digest DM: Slack allows about
# one message a second per conversation, and ten DMs at once help nobody.
DIGEST_AFTER = 3

Builder = Callable[[Sequence[Any], Known, Mapping[int, list[str]], Policy], list[OutboundMessage]]


def review_messages(
    notices: Sequence[ReviewReminderDue], known: Known, flags: Mapping[int, list[str]], policy: Policy
) -> list[OutboundMessage]:
    """The reviewers' DMs (one per request, or a digest), escalation DMs, and the escalated cards' note."""
    reviews: dict[str, list[Due]] = defaultdict(list)
    escalations: dict[str, list[tuple[Due, tuple[str, ...]]]] = defaultdict(list)
    cards: list[OutboundMessage] = []
    for n in notices:
        reminder, request = n.reminder, n.request
        stage = policy.stage(reminder.stage_key)
        due = Due(reminder, request, stage, known.links.get(card_key(request, stage.key)))
        # The requester is never asked to decide their own request, even when they review that stage.
        reviewers = tuple(u for u in known.users(reminder.recipients) if u != request.requester_id)
        if not reviewers:
            log.warning("%s is due a reminder but %s has no reviewers to send it to", reminder.ref, stage.key)
        for user in reviewers:
            reviews[user].append(due)
        if not reminder.escalate:
            continue
        for user in n.escalated_to:
            escalations[user].append((due, reviewers))
        full = n.escalated
        if full is None or full.escalated_at is None:
            continue
        note = reminder_blocks.escalation_note(full.escalated_at, reminder.waited, reminder.nth, n.escalated_to)
        text, blocks = review_card(full, policy, stage.key, flags.get(full.id or 0, []), escalation=note)
        card = card_key(full, stage.key)
        cards.append(update(card, card, text, blocks))
    return cards + _review_dms(reviews) + _escalation_dms(escalations)


def directive_messages(
    notices: Sequence[DirectiveReminderDue], known: Known, flags: Mapping[int, list[str]], policy: Policy
) -> list[OutboundMessage]:
    every = policy.reminders.directive_every
    messages = []
    for n in notices:
        text, blocks = reminder_blocks.directive_reminder(n.directive, n.reminder, every)
        about = about_directive(n.reminder.directive_id)
        messages += [post(reminder_queue(user, about), user, text, blocks, priority=BULK) for user in sorted(n.owing)]
    return messages


def licence_messages(
    notices: Sequence[LicenceExpiring | LicenceLapsedNotice],
    known: Known,
    flags: Mapping[int, list[str]],
    policy: Policy,
) -> list[OutboundMessage]:
    """Expiry reminders, one DM per owner per sweep (all their licences due); a lapse, one DM to each
    authorised user."""
    owners: dict[str, list[tuple[Licence, str]]] = defaultdict(list)
    messages = []
    for n in notices:
        if isinstance(n, LicenceExpiring):
            owners[n.licence.owner].append((n.licence, n.tool_name))
            continue
        lapsed = about(LICENCE, n.licence.id or 0, "lapsed")
        for user in n.told:
            text, blocks = licence_status.lapse_notice(user, n.licence, n.tool_name)
            messages.append(post(reminder_queue(user, lapsed), user, text, blocks))
    for owner, due in sorted(owners.items()):
        text, blocks = licence_status.expiry_reminder(owner, due)
        messages.append(post(reminder_queue(owner), owner, text, blocks, priority=BULK))
    return messages


BUILDERS: dict[str, Builder] = {
    REVIEW: review_messages,
    DIRECTIVE: directive_messages,
    LICENCE: licence_messages,
}


def follow_up_messages(event: FollowUpsDue, flags: Mapping[int, list[str]], policy: Policy) -> list[OutboundMessage]:
    by_kind: dict[str, list[FollowUpNotice]] = defaultdict(list)
    for notice in event.notices:
        by_kind[notice.kind].append(notice)
    return [m for kind, notices in by_kind.items() for m in BUILDERS[kind](notices, event.known, flags, policy)]


def _review_dms(reviews: dict[str, list[Due]]) -> list[OutboundMessage]:
    """One DM per request, or, when more fell due at once, one digest DM per person."""
    messages = []
    for user, items in sorted(reviews.items()):
        if len(items) <= DIGEST_AFTER:
            for item in items:
                text, blocks = reminder_blocks.review_reminder(item.reminder, item.request, item.stage, item.permalink)
                about = about_review(item.reminder.request_id, item.stage.key)
                messages.append(post(reminder_queue(user, about), user, text, blocks, priority=BULK))
        else:
            for text, blocks in reminder_blocks.review_digest(items):
                messages.append(post(reminder_queue(user), user, text, blocks, priority=BULK))
    return messages


def _escalation_dms(escalations: dict[str, list[tuple[Due, tuple[str, ...]]]]) -> list[OutboundMessage]:
    messages = []
    for user, items in sorted(escalations.items()):
        if len(items) <= DIGEST_AFTER:
            for item, reviewers in items:
                text, blocks = reminder_blocks.escalation(
                    item.reminder,
                    item.request,
                    item.stage,
                    item.permalink,
                    reviewers,
                    to_command_staff=not item.stage.escalate_to,
                )
                messages.append(post(reminder_queue(user), user, text, blocks, priority=BULK))
        else:
            for text, blocks in reminder_blocks.review_digest([item for item, _ in items], escalation=True):
                messages.append(post(reminder_queue(user), user, text, blocks, priority=BULK))
    return messages
