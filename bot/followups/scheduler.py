"""The timed follow-ups' sweep inside `clearance serve` (reminders, escalations, licence expiries,
the audit anchor): APScheduler runs it every [reminders] check_every.

One interval job (coalesce=True, max_instances=1, and a first run at start-up, so reminders
that fell due while the bot was down go out at once). Each run:

1. peeks at what is due (ids only, from each kind's due index: next_reminder_at,
   follow_ups.due_at); usually nothing, and the run ends there after one cheap query;
2. outside any transaction, asks Slack what the due kinds need, through each kind's look-up
   (bot/followups/messages.py `LOOKUPS`: members of reviewer user groups, the review card's
   permalink, who in a directive's channels has not acknowledged it, …), so no database lock is
   held across a network call; what Slack cannot answer now stays due;
3. hands a `RunFollowUps` command (what Slack said, as data) to the one write path
   (`Changes.handle`): in one transaction every registered follow-up kind's due items are claimed
   with a conditional update (on PostgreSQL the rows read are locked, skipping rows another sweep
   holds), each won item's kind produces its notices (workflows/followups/), and
   bot/followups/messages.py turns them into DMs (digests when more than DIGEST_AFTER fall due for
   one person at once; escalations also update the review card). A crash before the commit leaves
   everything due; after it, the outbox delivers.

Two processes on one database both run the job; the claims decide who sends each reminder.
The sender delivers reminders like every other message: 429s and outages delay, never drop.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from bot.followups.lookups import Asking, Lookups
from bot.followups.messages import DIGEST_AFTER as DIGEST_AFTER
from bot.followups.messages import LOOKUPS
from storage.reminders import DueItem
from workflows.commands import Command, RunFollowUps, SeedFollowUps
from workflows.events import Event
from workflows.followups import KINDS
from workflows.followups.run import FollowUpsDue
from workflows.outbox import OutboundMessage
from workflows.policy import Policy

if TYPE_CHECKING:
    from slack_sdk.web.async_client import AsyncWebClient

    from bot.directives.status import DirectiveStatusReader
    from bot.people.directory import SlackDirectory
    from storage.uow import SqlUnitOfWork

log = logging.getLogger("clearance.reminders")


@dataclass
class SweepReport:
    """What one run did (counts only: logs and the CLI must not carry personal data): per label of
    every registered kind (`FollowUpKind.labels`), "review reminder", "escalation", …"""

    counts: dict[str, int] = field(default_factory=lambda: {label: 0 for k in KINDS for label in k.labels})
    messages: int = 0  # DMs and card updates queued
    skipped_stages: set[str] = field(default_factory=set)

    def add(self, other: SweepReport) -> None:
        for label, n in other.counts.items():
            self.counts[label] = self.counts.get(label, 0) + n
        self.messages += other.messages
        self.skipped_stages |= other.skipped_stages

    def tally(self, event: FollowUpsDue) -> None:
        for notice in event.notices:
            kind = next(k for k in KINDS if k.name == notice.kind)
            for label in kind.tally(notice.send):
                self.counts[label] = self.counts.get(label, 0) + 1


class ReminderScheduler:
    def __init__(
        self,
        policy: Policy,
        clock: Callable[[], datetime],
        directory: SlackDirectory,
        client: AsyncWebClient,
        *,
        change: Callable[..., Awaitable[list[Event]]],
        reading: Callable[[], SqlUnitOfWork],
        directive_status: DirectiveStatusReader,
        refresh_home: Callable[[Iterable[str]], None],
        limit: int = 1000,
        max_rounds: int = 10,
    ) -> None:
        self._policy = policy
        self._clock = clock
        self._change = change  # the one write path (bot/wiring/changes.py Changes.handle)
        self._reading = reading
        self._refresh_home = refresh_home
        # What each kind's look-up may ask (bot/followups/lookups.py), its permalink cache across runs.
        self._asking = Asking(policy, directory, client, reading, directive_status)
        self.limit = limit  # items claimed per transaction
        self.max_rounds = max_rounds  # transactions per run, when more than `limit` are due
        self._scheduler: AsyncIOScheduler | None = None
        self._lock = asyncio.Lock()  # one run at a time in this process (the scheduler's and the CLI/tests')
        self._stopping = False
        self.on_sweep: Callable[[float], None] | None = None  # each sweep's duration in seconds (/metrics)
        self._seeded = False

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
                "reminder sweep: %s, %d message(s) queued%s",
                ", ".join(f"{n} {label}(s)" for label, n in report.counts.items()),
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
            if not self._seeded:  # recurring kinds (no subject row) get their row once
                if any(getattr(k, "first_due", lambda *_: None)(self._policy, now) for k in KINDS):
                    await self._change(SeedFollowUps(now))
                self._seeded = True
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
            by_kind = {k.name: mine for k in KINDS if k.name in LOOKUPS and (mine := _of(due, k.name))}
            read: dict[str, Any] = {}
            for name, mine in by_kind.items():
                look = LOOKUPS[name].read
                read[name] = await look(reading, mine, self._policy) if look is not None else None
        if not due:
            return SweepReport(), False
        lookups = Lookups()
        for name, mine in by_kind.items():  # outside any transaction: ask Slack
            await LOOKUPS[name].ask(mine, read[name], self._asking, lookups)
        report = SweepReport(skipped_stages=set(lookups.blocked_stages))
        queued: list[OutboundMessage] = []
        command: Command = RunFollowUps(now, lookups.known(), self.limit)
        events = await self._change(command, queued=queued)
        swept = next((e for e in events if isinstance(e, FollowUpsDue)), None)
        report.messages = len(queued)
        if swept is None:
            return report, False
        report.tally(swept)
        refresh = {user for notice in swept.notices for user in notice.refresh}
        if refresh:
            self._refresh_home(refresh)
        per_kind: dict[str, int] = {}
        for item in due:
            per_kind[item.kind] = per_kind.get(item.kind, 0) + 1
        more = any(n >= self.limit for n in per_kind.values()) and swept.claimed > 0
        return report, more


def _of(due: list[DueItem], kind: str) -> list[DueItem]:
    return [item for item in due if item.kind == kind]
