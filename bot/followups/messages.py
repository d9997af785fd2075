"""Timed follow-ups in Slack: each kind's notices of one sweep -> outbox messages.

`BUILDERS` is the table, one row per follow-up kind (workflows/followups/ `KINDS`): a pure function
of the sweep's notices of that kind (`FollowUpsDue`, in the order of the kinds), the facts read
for them (bot/messages/for_events.py `read_facts`: a card's warnings) and the policy. bot/messages/for_events.py's
`messages_for` calls it for every sweep, like any other event. A builder sees all its kind's
notices at once, so one DM per person per sweep (a digest) is one loop.

`LOOKUPS` is beside it: for a kind that must ask Slack something before the sweep's transaction
(the reviewers' user groups and the review cards' permalinks, who in a directive's channels owes
it, the licensed user groups' members), its `LookUp` (bot/followups/lookups.py), keyed by the
kind's name. The scheduler runs those of the kinds due, naming none. So adding a kind is its
module and line in workflows/followups/, and here its builder (and look-up, if it has one).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.blocks import licence_status
from bot.blocks import reminders as reminder_blocks
from bot.blocks.reminders import Due
from bot.blocks.requests import review_card
from bot.followups.lookups import Asking, LookUp, Lookups
from bot.messages.outbound import card_key, post, update
from bot.people.directory import DirectoryUnavailable
from workflows.directive_model import PostOutcome
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

if TYPE_CHECKING:
    from storage.reminders import DueItem
    from storage.uow import SqlUnitOfWork

log = logging.getLogger("clearance.reminders")

# More reminders than this for one person in one sweep go in one digest DM: Slack allows about
# one message a second per conversation, and ten DMs at once help nobody.
DIGEST_AFTER = 3

PERMALINKS_CACHED = 20_000
PERMALINK_CONCURRENCY = 8

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


# --- before the transaction: what each kind asks Slack (see LOOKUPS) ---------------------------


async def review_cards(reading: SqlUnitOfWork, due: Sequence[DueItem], policy: Policy) -> dict[str, tuple[str, str]]:
    """Where the due requests' review cards were posted (read with the peek)."""
    return await reading.reminders(policy.reminders).stored_messages([_card(item) for item in due])


async def review_lookups(
    due: Sequence[DueItem], cards: dict[str, tuple[str, str]], asking: Asking, found: Lookups
) -> None:
    """The members of each due stage's reviewer (and escalation) user groups; the cards' permalinks."""
    policy = asking.policy
    stage_keys = {item.stage_key for item in due if item.stage_key}
    for key in sorted(stage_keys):
        try:
            stage = policy.stage(key)
        except KeyError:
            continue  # the sweep logs and skips it
        principals = set(stage.reviewers)
        if stage.escalate_after is not None:
            principals |= set(stage.escalates_to(policy.roles))
        for principal in sorted(principals):
            if principal in found.members:
                continue
            try:
                found.members[principal] = await asking.directory.expand([principal])
            except DirectoryUnavailable:
                # Leave this stage's requests due: reminded once Slack answers, never lost.
                found.blocked_stages.add(key)
    wanted = [_card(item) for item in due if item.stage_key not in found.blocked_stages]
    await _permalinks_for({key: cards[key] for key in wanted if key in cards}, asking, found)


async def _permalinks_for(cards: dict[str, tuple[str, str]], asking: Asking, found: Lookups) -> None:
    """chat.getPermalink for each review card (a card not posted yet has none: the DM names its channel)."""
    slots = asyncio.Semaphore(PERMALINK_CONCURRENCY)
    cache = asking.permalinks

    async def one(key: str, channel: str, ts: str) -> None:
        if key in cache:
            found.permalinks[key] = cache[key]
            return
        async with slots:
            try:
                response = await asking.client.chat_getPermalink(channel=channel, message_ts=ts)
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("no permalink for a review card (%s); the DM names its channel", type(exc).__name__)
                return
        link = response.get("permalink")
        if isinstance(link, str) and link.startswith("https://"):
            found.permalinks[key] = cache[key] = link
            while len(cache) > PERMALINKS_CACHED:
                cache.pop(next(iter(cache)))

    await asyncio.gather(*(one(key, channel, ts) for key, (channel, ts) in cards.items()))


def _card(item: DueItem) -> str:
    # card_key only reads the request's id.
    return card_key(SimpleNamespace(id=item.item_id), item.stage_key or "")  # type: ignore[arg-type]


async def directive_lookups(due: Sequence[DueItem], _: object, asking: Asking, found: Lookups) -> None:
    """The people in the channels each directive reached, less those who acknowledged (Slack + database)."""
    for item in due:
        try:
            state = await asking.directive_status.state(item.item_id)
        except Exception as exc:
            log.warning("directive %s: audience unknown (%s); reminded later", item.item_id, type(exc).__name__)
            state = None
        unsure = state is None or any(ch.problem or ch.outcome == PostOutcome.PENDING for ch in state.channels)
        if unsure or state is None:  # Slack could not list a channel, or a post is still on its way: not now
            found.blocked_directives.add(item.item_id)
        else:
            found.audience[(DIRECTIVE, item.item_id)] = set(state.pending)


async def licence_lookups(due: Sequence[DueItem], _: object, asking: Asking, found: Lookups) -> None:
    """The members of licensed user groups, so a lapse tells every authorised user."""
    licence_ids = [item.item_id for item in due]
    if not licence_ids:
        return
    async with asking.reading() as reading:
        groups = {g for i in licence_ids if (lic := await reading.licences.get(i)) for g in lic.scope.groups}
    for group in sorted(groups - set(found.members)):
        try:
            found.members[group] = await asking.directory.expand([group])
        except DirectoryUnavailable:
            # The lapse is not delayed: its owner and named people are told; the group's are not.
            log.warning("user group %s: members unknown just now; not told of a licence's lapse", group)


LOOKUPS: dict[str, LookUp] = {
    REVIEW: LookUp(review_lookups, read=review_cards),
    DIRECTIVE: LookUp(directive_lookups),
    LICENCE: LookUp(licence_lookups),
}
