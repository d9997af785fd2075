"""The running count on each posted directive ("23 of 41 acknowledged"), kept current.

Every few seconds, and when woken, at most one chat.update per message per `count_every`,
computed from the database and the channel's members at that moment, so a burst of 500 clicks
makes a handful of updates. Each tick also settles posts whose outcome was never recorded.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

from bot.blocks.attestations import tally_text
from bot.blocks.directives import count_text
from bot.directives.status import tally_of
from bot.people.membership import ChannelMembers, MembersUnavailable
from bot.wiring.logs import LoopFailures
from storage.uow import SqlUnitOfWork
from workflows.attestations import AttestationAnswer
from workflows.attesting import Attested
from workflows.commands import Command, ShowCount
from workflows.directive_model import Acknowledged
from workflows.events import Event

log = logging.getLogger("clearance.directives")


class CountRefresher:
    def __init__(
        self,
        change: Callable[[Command], Awaitable[list[Event]]],
        reading: Callable[[], SqlUnitOfWork],
        members: ChannelMembers,
        clock: Callable[[], datetime],
        *,
        settle_stale: Callable[[datetime, timedelta], Awaitable[None]],
    ) -> None:
        self._change = change  # the one write path (bot/wiring/changes.py Changes.handle)
        self._reading = reading
        self._members = members
        self._clock = clock
        self._settle_stale = settle_stale  # DeliveryTracker.settle_stale_posts
        self.count_every = timedelta(seconds=10)  # at most one count update per message this often
        self.updates_per_minute = 40  # chat.update budget shared by every message showing a count
        self.settle_after = timedelta(minutes=2)  # a post still "pending" this long: look at the outbox
        self.tick_seconds = 2.0
        self._seen: dict[int, tuple[int, int]] = {}  # post id -> (acks, members version) last counted
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wake.set()

    def after_commit(self, events: list) -> None:
        """A change was committed: new acknowledgements mean new counts."""
        if any(isinstance(e, Acknowledged | Attested) and not e.already for e in events):
            self.wake()

    def start(self) -> asyncio.Task:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="clearance-directive-counts")
        return self._task

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        failures = LoopFailures(log, "the directive count refresh")
        while not self._stopping:
            try:
                await self.run_once()
                failures.worked()
            except Exception:
                failures.failed()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.tick_seconds)
            self._wake.clear()

    async def run_once(self, now: datetime | None = None) -> int:
        """Settle forgotten posts and refresh due counts; returns how many updates were queued."""
        now = now or self._clock()
        await self._settle_stale(now, self.settle_after)
        async with self._reading() as uow:
            posts = await uow.directive_posts.posted_for_active()
            acks = await uow.acks.counts(sorted({p.directive_id for p in posts}))
        self._seen = {pid: seen for pid, seen in self._seen.items() if pid in {p.id for p in posts}}
        spacing = timedelta(seconds=60 * len(posts) / max(self.updates_per_minute, 1))
        interval = max(self.count_every, spacing)
        queued = 0
        by_directive: dict[int, list] = defaultdict(list)
        for p in posts:
            if p.count_shown_at is not None and now - p.count_shown_at < interval:
                continue  # shown recently: the next tick looks again
            by_directive[p.directive_id].append(p)
        for directive_id, due in by_directive.items():
            acked: set[str] | None = None
            answers: dict[str, AttestationAnswer] | None = None
            for p in due:
                try:
                    members = await self._members.members(p.channel)
                except MembersUnavailable as exc:
                    log.warning("no count for %s in %s: %s", f"DIR-{directive_id:04d}", p.channel, exc.error)
                    continue
                seen = (acks.get(directive_id, 0), self._members.version(p.channel))
                if self._seen.get(p.id) == seen and p.count_shown:
                    continue
                if acked is None:
                    async with self._reading() as uow:
                        acked = await uow.acks.users(directive_id)
                        directive = await uow.directives.get(directive_id)
                        if directive is not None and directive.kind.asks_attestation:
                            answers = await uow.attestations.answers(directive_id)
                if answers is not None:  # a cease-use or suspension: its answers, by kind
                    text = tally_text(tally_of(answers, members))
                else:
                    text = count_text(len(members & acked), len(members))
                if text == p.count_shown:
                    self._seen[p.id] = seen
                elif await self._show_count(directive_id, p, text, now):
                    self._seen[p.id] = seen
                    queued += 1
        return queued

    async def _show_count(self, directive_id: int, p, text: str, now: datetime) -> bool:
        # Nothing when the directive is no longer in force or another process showed a count just now.
        return bool(await self._change(ShowCount(directive_id, p.id, p.channel, p.count_shown_at, text, now)))
