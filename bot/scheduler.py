"""The reminder sweep inside `clearance serve`: APScheduler runs it every [reminders] check_every.

One interval job (coalesce=True, max_instances=1, and a first run at start-up, so reminders
that fell due while the bot was down go out at once). Each run:

1. peeks at what is due (ids only, via the next_reminder_at indexes); usually nothing, and
   the run ends there after one cheap query;
2. outside any transaction, asks Slack what it must (members of reviewer user groups, the
   review card's permalink, who in a directive's channels has not acknowledged it), so no
   database lock is held across a network call; what Slack cannot answer now stays due;
3. in one transaction, runs the domain's `sweep` (which claims each due item with a
   conditional update; on PostgreSQL it also locks the rows it reads, skipping rows another
   sweep holds) and writes the DMs it won to the outbox (one per request, or digests when more
   than DIGEST_AFTER fall due for one person at once; escalations also update the review card),
   then commits and wakes the sender. A crash before the commit leaves everything due; after
   it, the outbox delivers.

Two processes on one database both run the job; the claims decide who sends each reminder.
The sender delivers reminders like every other message: 429s and outages delay, never drop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import aiohttp
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from slack_sdk.errors import SlackApiError

from bot.blocks import reminders as reminder_blocks
from bot.blocks.reminders import Due
from bot.blocks.requests import review_card
from bot.directory import DirectoryUnavailable
from bot.outbound import card_key, post, update
from storage.reminders import DueItem, SqlReminderStore
from workflows.directives import PostOutcome
from workflows.outbox import BULK, OutboundMessage
from workflows.policy import Policy, Stage
from workflows.reminder_relevance import about_directive, about_review, reminder_queue
from workflows.reminders import (
    DirectiveReminder,
    ReviewReminder,
    Subject,
    escalation_entry,
    nobody_to_remind,
    stop_directive_reminders,
    sweep,
)

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.directive_status import DirectiveStatusReader
    from bot.directory import SlackDirectory
    from storage.uow import SqlUnitOfWork
    from workflows.requests import ToolRequest

log = logging.getLogger("clearance.reminders")

PERMALINKS_CACHED = 20_000
PERMALINK_CONCURRENCY = 8
# More reminders than this for one person in one sweep go in one digest DM: Slack allows about
# one message a second per conversation, and ten DMs at once help nobody.
DIGEST_AFTER = 3


@dataclass
class SweepReport:
    """What one run did (counts only: logs and the CLI must not carry personal data)."""

    reminders: int = 0  # review reminders won (one per request and stage)
    escalations: int = 0
    directive_reminders: int = 0
    messages: int = 0  # DMs and card updates queued
    skipped_stages: set[str] = field(default_factory=set)

    def add(self, other: SweepReport) -> None:
        self.reminders += other.reminders
        self.escalations += other.escalations
        self.directive_reminders += other.directive_reminders
        self.messages += other.messages
        self.skipped_stages |= other.skipped_stages


@dataclass
class _Lookups:
    """What Slack told us before the transaction."""

    members: dict[str, frozenset[str]] = field(default_factory=dict)  # principal -> users
    unacknowledged: dict[int, set[str]] = field(default_factory=dict)  # directive -> who still owes it
    blocked_directives: set[int] = field(default_factory=set)  # audience unknown just now
    permalinks: dict[str, str] = field(default_factory=dict)  # card key -> permalink
    blocked_stages: set[str] = field(default_factory=set)  # reviewers unknown just now

    def users(self, principals) -> list[str]:
        found: set[str] = set()
        for principal in principals:
            found |= self.members.get(principal, frozenset())
        return sorted(found)


class ReminderScheduler:
    def __init__(
        self,
        policy: Policy,
        clock: Callable[[], datetime],
        directory: SlackDirectory,
        client: AsyncWebClient,
        *,
        uow: Callable[[], SqlUnitOfWork],
        reading: Callable[[], SqlUnitOfWork],
        directive_status: DirectiveStatusReader,
        card_flags: Callable[[Any, ToolRequest], Awaitable[list[str]]],
        sent: Callable[[], None],
        refresh_home: Callable[[Iterable[str]], None],
        limit: int = 1000,
        max_rounds: int = 10,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._directory = directory
        self._client = client
        self._uow = uow
        self._reading = reading
        self._directive_status = directive_status
        self._card_flags = card_flags
        self._sent = sent
        self._refresh_home = refresh_home
        self.limit = limit  # items claimed per transaction
        self.max_rounds = max_rounds  # transactions per run, when more than `limit` are due
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()  # one run at a time in this process (the scheduler's and the CLI/tests')
        self._stopping = False
        self.on_sweep: Callable[[float], None] | None = None  # each sweep's duration in seconds (/metrics)
        self._permalinks: dict[str, str] = {}

    # --- the schedule --------------------------------------------------------------------------

    def start(self) -> None:
        if self._scheduler is not None:
            return
        seconds = max(self._policy.reminders.check_every.total_seconds(), 1.0)
        self._stopping = False
        quiet = logging.getLogger("apscheduler")
        if quiet.level == logging.NOTSET:  # it logs every run at INFO; our own line says what a run did
            quiet.setLevel(logging.WARNING)
        self._scheduler = AsyncIOScheduler(timezone=UTC)
        self._scheduler.add_job(
            self._tick,
            IntervalTrigger(seconds=seconds, timezone=UTC),
            id="clearance-reminders",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=int(seconds) + 1,
            next_run_time=datetime.now(UTC),  # catch up at once after downtime
        )
        self._scheduler.start()

    async def stop(self) -> None:
        self._stopping = True
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        async with self._lock:  # let a run in progress finish its transaction
            pass

    async def _tick(self) -> None:
        if self._stopping:
            return
        started = time.perf_counter()
        try:
            report = await self.run_once()
            if self.on_sweep is not None:
                self.on_sweep(time.perf_counter() - started)
        except Exception:
            log.exception("reminder sweep failed; everything due stays due for the next one")
            return
        if report.messages or report.skipped_stages:
            log.info(
                "reminder sweep: %d review reminder(s), %d escalation(s), %d directive reminder(s), "
                "%d message(s) queued%s",
                report.reminders,
                report.escalations,
                report.directive_reminders,
                report.messages,
                f"; stages skipped until Slack answers: {sorted(report.skipped_stages)}"
                if report.skipped_stages
                else "",
            )

    # --- one run -------------------------------------------------------------------------------

    async def run_once(self, now: datetime | None = None) -> SweepReport:
        """Send what is due at `now` (default: the clock's now). Safe to run anywhere, any time."""
        report = SweepReport()
        async with self._lock:
            if self._stopping:
                return report
            now = now or self._clock()
            for _ in range(self.max_rounds):
                got, more = await self._round(now)
                report.add(got)
                if not more:
                    break
        return report

    async def _round(self, now: datetime) -> tuple[SweepReport, bool]:
        settings = self._policy.reminders
        async with self._reading() as reading:
            peeking = reading.reminders(settings)
            due = await peeking.peek(now, self.limit)
            cards = await peeking.stored_messages([_card(i) for i in due if i.kind == Subject.REQUEST]) if due else {}
        if not due:
            return SweepReport(), False
        lookups = await self._look_up(due, cards)
        report = SweepReport(skipped_stages=set(lookups.blocked_stages))
        refresh: set[str] = set()
        async with self._uow() as uow:
            store = uow.reminders(
                settings, skip_stages=lookups.blocked_stages, skip_directives=lookups.blocked_directives
            )
            won = await sweep(store, self._policy, now, limit=self.limit)
            reviews: dict[str, list[Due]] = defaultdict(list)
            escalations: dict[str, list[tuple[Due, tuple[str, ...]]]] = defaultdict(list)
            messages: list[OutboundMessage] = []
            for reminder in won:
                if isinstance(reminder, ReviewReminder):
                    messages += await self._review(uow, store, reminder, now, lookups, report, reviews, escalations)
                    if reminder.escalate:
                        refresh.update(self._policy.roles.command_staff)
                        refresh.update(reminder.escalate_to)
                elif isinstance(reminder, DirectiveReminder):
                    messages += await self._directive(uow, store, reminder, now, lookups, report)
            messages += _review_dms(reviews) + _escalation_dms(escalations)
            await uow.outbox.add_all(messages)
            await uow.commit()
        report.messages = len(messages)
        if messages:
            self._sent()
        if refresh:
            self._refresh_home(refresh)
        requests_due = sum(1 for item in due if item.kind == Subject.REQUEST)
        directives_due = len(due) - requests_due
        more = (requests_due >= self.limit or directives_due >= self.limit) and bool(won)
        return report, more

    # --- before the transaction: ask Slack --------------------------------------------------

    async def _look_up(self, due: list[DueItem], cards: dict[str, tuple[str, str]]) -> _Lookups:
        lookups = _Lookups()
        policy = self._policy
        stage_keys = {item.stage_key for item in due if item.kind == Subject.REQUEST and item.stage_key}
        for key in sorted(stage_keys):
            try:
                stage = policy.stage(key)
            except KeyError:
                continue  # the sweep logs and skips it
            principals = set(stage.reviewers)
            if stage.escalate_after is not None:
                principals |= set(stage.escalates_to(policy.roles))
            for principal in sorted(principals):
                if principal in lookups.members:
                    continue
                try:
                    lookups.members[principal] = await self._directory.expand([principal])
                except DirectoryUnavailable:
                    # Leave this stage's requests due: reminded once Slack answers, never lost.
                    lookups.blocked_stages.add(key)
        for item in due:
            if item.kind != Subject.DIRECTIVE:
                continue
            # The people in the channels it reached, less those who acknowledged (Slack + database).
            try:
                state = await self._directive_status.state(item.item_id)
            except Exception as exc:
                log.warning("directive %s: audience unknown (%s); reminded later", item.item_id, type(exc).__name__)
                state = None
            unsure = state is None or any(ch.problem or ch.outcome == PostOutcome.PENDING for ch in state.channels)
            if unsure or state is None:  # Slack could not list a channel, or a post is still on its way: not now
                lookups.blocked_directives.add(item.item_id)
            else:
                lookups.unacknowledged[item.item_id] = set(state.pending)
        wanted = [
            _card(item) for item in due if item.kind == Subject.REQUEST and item.stage_key not in lookups.blocked_stages
        ]
        await self._permalinks_for({key: cards[key] for key in wanted if key in cards}, lookups)
        return lookups

    async def _permalinks_for(self, cards: dict[str, tuple[str, str]], lookups: _Lookups) -> None:
        """chat.getPermalink for each review card (a card not posted yet has none: the DM names its channel)."""
        slots = asyncio.Semaphore(PERMALINK_CONCURRENCY)

        async def one(key: str, channel: str, ts: str) -> None:
            if key in self._permalinks:
                lookups.permalinks[key] = self._permalinks[key]
                return
            async with slots:
                try:
                    response = await self._client.chat_getPermalink(channel=channel, message_ts=ts)
                except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                    log.warning("no permalink for a review card (%s); the DM names its channel", type(exc).__name__)
                    return
            link = response.get("permalink")
            if isinstance(link, str) and link.startswith("https://"):
                lookups.permalinks[key] = self._permalinks[key] = link
                while len(self._permalinks) > PERMALINKS_CACHED:
                    self._permalinks.pop(next(iter(self._permalinks)))

        await asyncio.gather(*(one(key, channel, ts) for key, (channel, ts) in cards.items()))

    # --- in the transaction: the messages ----------------------------------------------------

    async def _review(
        self,
        uow,
        store: SqlReminderStore,
        reminder: ReviewReminder,
        now: datetime,
        lookups: _Lookups,
        report: SweepReport,
        reviews: dict[str, list[Due]],
        escalations: dict[str, list[tuple[Due, tuple[str, ...]]]],
    ) -> list[OutboundMessage]:
        """File the reminder under each person to DM; returns the card update an escalation implies."""
        request = store.loaded[reminder.request_id]
        stage: Stage = self._policy.stage(reminder.stage_key)
        due = Due(reminder, request, stage, lookups.permalinks.get(card_key(request, stage.key)))
        report.reminders += 1
        # The requester is never asked to decide their own request, even when they review that stage.
        reviewers = tuple(u for u in lookups.users(reminder.recipients) if u != request.requester_id)
        if not reviewers:
            log.warning("%s is due a reminder but %s has no reviewers to send it to", reminder.ref, stage.key)
        for user in reviewers:
            reviews[user].append(due)
        if not reminder.escalate:
            return []
        report.escalations += 1
        to = lookups.users(reminder.escalate_to)
        for user in to:
            escalations[user].append((due, reviewers))
        await uow.audit.record(escalation_entry(reminder, tuple(to), now))
        # The card notes it: loaded whole (decisions, questions) as it stands after the claim.
        full = await uow.requests.get(reminder.request_id)
        if full is None or full.escalated_at is None:
            return []
        note = reminder_blocks.escalation_note(full.escalated_at, reminder.waited, reminder.nth, tuple(to))
        flags = await self._card_flags(uow, full)
        text, blocks = review_card(full, self._policy, stage.key, flags, escalation=note)
        card = card_key(full, stage.key)
        return [update(card, card, text, blocks)]

    async def _directive(
        self,
        uow,
        store: SqlReminderStore,
        reminder: DirectiveReminder,
        now: datetime,
        lookups: _Lookups,
        report: SweepReport,
    ) -> list[OutboundMessage]:
        """A DM to each person who still owes the acknowledgement; none just now: none is sent, and
        the directive is looked at again later (a newcomer to its channels owes it too)."""
        every = self._policy.reminders.directive_every
        owing = lookups.unacknowledged.get(reminder.directive_id, set())
        directive = await uow.directives.get(reminder.directive_id)
        if directive is None:
            await stop_directive_reminders(store, reminder, now, self._policy.reminders)
            return []
        if not owing:
            await nobody_to_remind(store, reminder, now, self._policy.reminders)
            return []
        report.directive_reminders += 1
        text, blocks = reminder_blocks.directive_reminder(directive, reminder, every)
        about = about_directive(reminder.directive_id)
        return [post(reminder_queue(user, about), user, text, blocks, priority=BULK) for user in sorted(owing)]


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


def _card(item: DueItem) -> str:
    # card_key only reads the request's id.
    return card_key(SimpleNamespace(id=item.item_id), item.stage_key or "")  # type: ignore[arg-type]
