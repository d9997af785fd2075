"""Directives in Slack: posting them, learning where they arrived, and keeping their counts current.

`DirectiveRelay` is wired into the composition root (bot/runtime.py):

* `on_event` (an event hook, inside the change's transaction) turns directive events into outbox
  messages, one queue per channel so a rate limit or a broken channel in one does not hold the
  others, and keeps the tool registry in step with the request workflow.
* `flags` (a card flag source) puts the cease-use / suspension warning on review cards.
* `on_delivery` (the sender's result hook) records, per channel, whether the post went out or
  why it failed, updates the issuer's report and tells them of each failure.
* `run_once` (every few seconds, and when woken) refreshes the running count on each posted
  message: at most one chat.update per message per `count_every`, computed from the database
  and the channel's members at that moment, so a burst of 500 clicks makes a handful of updates.
  It also settles posts whose outcome was never recorded (a crash between send and record).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import aiohttp
from slack_sdk.errors import SlackApiError

from bot.blocks.directives import (
    ChannelState,
    DirectiveState,
    channel_message,
    count_text,
    ended_notice,
    failure_notice,
    issuer_report,
)
from bot.blocks.tool_status import MEANING
from bot.membership import MembersUnavailable
from bot.outbound import post, update
from storage.directives import FAILED, PENDING, POSTED
from storage.outbox import Delivery
from workflows.directives import (
    Acknowledged,
    Directive,
    DirectiveIssued,
    DirectiveRevoked,
    DirectiveSuperseded,
)

if TYPE_CHECKING:
    from bot.runtime import Clearance

log = logging.getLogger("clearance.directives")



def post_key(directive_id: int, channel: str) -> str:
    return f"directive:{directive_id}:{channel}"


def report_key(directive_id: int) -> str:
    return f"directive-report:{directive_id}"


def parse_post_key(key: str | None) -> tuple[int, str] | None:
    parts = (key or "").split(":")
    if len(parts) == 3 and parts[0] == "directive" and parts[1].isdigit():
        return int(parts[1]), parts[2]
    return None


class DirectiveRelay:
    def __init__(self, c: Clearance) -> None:
        self.c = c
        self.count_every = timedelta(seconds=10)  # at most one count update per message this often
        self.updates_per_minute = 40  # chat.update budget shared by every message showing a count
        self.settle_after = timedelta(minutes=2)  # a post still "pending" this long: look at the outbox
        self.tick_seconds = 2.0
        self._joined: set[str] = set()  # channels this process has joined
        self._seen: dict[int, tuple[int, int]] = {}  # post id -> (acks, members version) last counted
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._stopping = False

    # --- inside a change's transaction ------------------------------------------------------------

    async def on_event(self, uow, event) -> None:
        match event:
            case DirectiveIssued(directive=d):
                await self._post(uow, d)
            case DirectiveSuperseded(old=old, new=new):
                await self._post(uow, new)
                await self._ended(uow, old)
            case DirectiveRevoked(directive=d, reason=reason):
                await self._ended(uow, d, reason)

    async def _post(self, uow, d: Directive) -> None:
        text, blocks = channel_message(d)
        for channel in d.channels:
            await uow.directive_posts.add(d.id, channel, d.issued_at)
            key = post_key(d.id, channel)
            await uow.outbox.add(post(key, channel, text, blocks, store_as=key))
        text, blocks = issuer_report(d, tuple(ChannelState(ch, PENDING) for ch in d.channels))
        await uow.outbox.add(post(report_key(d.id), d.issued_by, text, blocks, store_as=report_key(d.id)))

    async def _ended(self, uow, d: Directive, reason: str | None = None) -> None:
        """Revoked (reason given) or superseded: mark every message, tell revoked channels, update the report."""
        posts = await uow.directive_posts.for_directive(d.id)
        status_now = ""
        if reason is not None:
            tool = await uow.tools.get_by_key(d.tool_key)
            if tool is not None:
                status_now = f"Status of record now: *{tool.status.label}*. {MEANING[tool.status]}"
        for p in posts:
            if p.outcome == FAILED:
                continue
            key = post_key(d.id, p.channel)
            text, blocks = channel_message(d, count=p.count_shown or None)
            await uow.outbox.add(update(key, key, text, blocks))
            if reason is not None:
                text, blocks = ended_notice(d, reason, status_now)
                await uow.outbox.add(post(key, p.channel, text, blocks))
        text, blocks = issuer_report(d, _states(posts))
        await uow.outbox.add(update(report_key(d.id), report_key(d.id), text, blocks))

    # --- after each delivery ----------------------------------------------------------------------

    async def on_delivery(self, delivery: Delivery, data: dict | None, error: str | None) -> None:
        if delivery.method != "chat.postMessage":
            return
        target = parse_post_key(delivery.store_as)
        if target is None:
            return
        directive_id, channel = target
        ts = (data or {}).get("ts") if error is None else None
        await self._record_outcome(directive_id, channel, POSTED if error is None else FAILED, error or "", ts)
        if error is None:
            await self._join(channel)
        self.wake()

    async def _join(self, channel: str) -> None:
        """Be a member of each channel a directive went to (chat:write.public posts without joining),
        so that Slack sends the member_joined_channel / member_left_channel events the counts follow.
        Private channels cannot be joined (the bot is already in them, or the post failed)."""
        if channel in self._joined:
            return
        try:
            await self.c.client.conversations_join(channel=channel)
            self._joined.add(channel)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.info("did not join %s after posting a directive there: %s", channel, error)

    async def _record_outcome(self, directive_id: int, channel: str, outcome: str, error: str, ts: str | None) -> None:
        now = self.c.clock()
        async with self.c.uow() as uow:
            directive = await uow.directives.lock(directive_id)
            if directive is None:
                return
            if not await uow.directive_posts.set_outcome(directive_id, channel, outcome, now, error=error, ts=ts):
                return  # already recorded
            posts = await uow.directive_posts.for_directive(directive_id)
            text, blocks = issuer_report(directive, _states(posts))
            await uow.outbox.add(update(report_key(directive_id), report_key(directive_id), text, blocks))
            if outcome == FAILED:
                text, blocks = failure_notice(directive, channel, error)
                await uow.outbox.add(post(report_key(directive_id), directive.issued_by, text, blocks))
            await uow.commit()
        self.c.sender.wake()
        self.c.home.mark(self.c.policy.roles.command_staff)  # the Home tab's counts follow where it arrived

    async def retry_failed(self, directive_id: int) -> list[str]:
        """Post again wherever the directive failed; returns those channels."""
        now = self.c.clock()
        async with self.c.uow() as uow:
            directive = await uow.directives.lock(directive_id)
            if directive is None or not directive.is_active:
                return []
            failed = [p.channel for p in await uow.directive_posts.for_directive(directive_id) if p.outcome == FAILED]
            text, blocks = channel_message(directive)
            for channel in failed:
                await uow.directive_posts.set_outcome(directive_id, channel, PENDING, now)
                key = post_key(directive_id, channel)
                await uow.outbox.add(post(key, channel, text, blocks, store_as=key))
            posts = await uow.directive_posts.for_directive(directive_id)
            text, blocks = issuer_report(directive, _states(posts))
            await uow.outbox.add(update(report_key(directive_id), report_key(directive_id), text, blocks))
            await uow.commit()
        self.c.sender.wake()
        return failed

    # --- the running counts -----------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def after_commit(self, events: list) -> None:
        """A change was committed: new acknowledgements mean new counts."""
        if any(isinstance(e, Acknowledged) and not e.already for e in events):
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
        while not self._stopping:
            try:
                await self.run_once()
            except Exception:
                log.exception("directive count refresh failed; trying again shortly")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.tick_seconds)
            self._wake.clear()

    async def run_once(self, now: datetime | None = None) -> int:
        """Settle forgotten posts and refresh due counts; returns how many updates were queued."""
        now = now or self.c.clock()
        await self._settle_stale_posts(now)
        async with self.c.reading() as uow:
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
            for p in due:
                try:
                    members = await self.c.members.members(p.channel)
                except MembersUnavailable as exc:
                    log.warning("no count for %s in %s: %s", f"DIR-{directive_id:04d}", p.channel, exc.error)
                    continue
                seen = (acks.get(directive_id, 0), self.c.members.version(p.channel))
                if self._seen.get(p.id) == seen and p.count_shown:
                    continue
                if acked is None:
                    async with self.c.reading() as uow:
                        acked = await uow.acks.users(directive_id)
                text = count_text(len(members & acked), len(members))
                if text == p.count_shown:
                    self._seen[p.id] = seen
                elif await self._show_count(directive_id, p, text, now):
                    self._seen[p.id] = seen
                    queued += 1
        if queued:
            self.c.sender.wake()
        return queued

    async def _show_count(self, directive_id: int, p, text: str, now: datetime) -> bool:
        async with self.c.uow() as uow:
            # The lock orders this against a revocation: whichever commits second sees the other.
            directive = await uow.directives.lock(directive_id)
            if directive is None or not directive.is_active:
                return False
            if not await uow.directive_posts.claim_count(p.id, p.count_shown_at, text, now):
                return False  # another process showed a count just now
            key = post_key(directive_id, p.channel)
            message_text, blocks = channel_message(directive, count=text)
            await uow.outbox.add(update(key, key, message_text, blocks))
            await uow.commit()
        return True

    async def _settle_stale_posts(self, now: datetime) -> None:
        """Posts still pending long after they were queued: read their outcome from the outbox."""
        async with self.c.reading() as uow:
            stale = [p for p in await uow.directive_posts.pending() if now - p.updated_at >= self.settle_after]
            if not stale:
                return
            outcomes = await uow.directive_posts.outbox_outcomes([post_key(p.directive_id, p.channel) for p in stale])
        for p in stale:
            found = outcomes.get(post_key(p.directive_id, p.channel))
            if found is None:
                continue
            status, error, ts = found
            if status == "sent":
                await self._record_outcome(p.directive_id, p.channel, POSTED, "", ts)
            elif status == "failed":
                await self._record_outcome(p.directive_id, p.channel, FAILED, error or "unknown error", None)

    # --- what command staff see -------------------------------------------------------------------

    async def state(self, directive_id: int) -> DirectiveState | None:
        """Counts per channel and who has not acknowledged, as of now."""
        async with self.c.reading() as uow:
            directive = await uow.directives.get(directive_id)
            if directive is None:
                return None
            posts = await uow.directive_posts.for_directive(directive_id)
            acked = await uow.acks.users(directive_id)
        states: list[ChannelState] = []
        everyone: set[str] = set()
        known = False
        for p in posts:
            if p.outcome != POSTED or not directive.ack_required:
                states.append(ChannelState(p.channel, p.outcome, p.error))
                continue
            try:
                members = await self.c.members.members(p.channel)
            except MembersUnavailable as exc:
                states.append(ChannelState(p.channel, p.outcome, p.error, problem=exc.error))
                continue
            known = True
            everyone |= members
            states.append(ChannelState(p.channel, p.outcome, members=len(members), acknowledged=len(members & acked)))
        order = {ch: i for i, ch in enumerate(directive.channels)}
        states.sort(key=lambda s: order.get(s.channel, len(order)))
        return DirectiveState(
            directive=directive,
            channels=tuple(states),
            acknowledged=len(acked),
            expected=len(everyone) if known else None,
            pending=tuple(sorted(everyone - acked)),
            acknowledged_in_channels=len(everyone & acked),
        )

    async def unacknowledged(self, directive_id: int) -> set[str]:
        """People in the channels the directive reached who have not acknowledged it (for reminders)."""
        state = await self.state(directive_id)
        return set(state.pending) if state else set()


def _states(posts) -> tuple[ChannelState, ...]:
    return tuple(ChannelState(p.channel, p.outcome, p.error) for p in posts)
