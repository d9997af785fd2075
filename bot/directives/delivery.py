"""Where each directive arrived: the outcome of each channel's post, and the issuer's report.

Built in bot/wiring/runtime.py from what it needs; `on_delivery` is the outbox sender's result hook.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.directives.messages import parse_post_key, post_key
from storage.outbox import Delivery
from storage.uow import SqlUnitOfWork
from workflows.commands import Command, RecordPostOutcome
from workflows.directive_model import PostOutcome
from workflows.events import Event
from workflows.outbox import OutboxStatus

log = logging.getLogger("clearance.directives")


class DeliveryTracker:
    def __init__(
        self,
        change: Callable[[Command], Awaitable[list[Event]]],
        reading: Callable[[], SqlUnitOfWork],
        client: AsyncWebClient,
        clock: Callable[[], datetime],
        *,
        arrived: Callable[[], None],
    ) -> None:
        self._change = change  # the one write path (bot/wiring/changes.py Changes.handle)
        self._reading = reading
        self._client = client
        self._clock = clock
        self._arrived = arrived  # a post's outcome is known: counts and Home tabs follow
        self._joined: set[str] = set()  # channels this process has joined

    async def on_delivery(self, delivery: Delivery, data: dict | None, error: str | None) -> None:
        if delivery.method != "chat.postMessage":
            return
        target = parse_post_key(delivery.store_as)
        if target is None:
            return
        directive_id, channel = target
        ts = (data or {}).get("ts") if error is None else None
        outcome = PostOutcome.POSTED if error is None else PostOutcome.FAILED
        await self.record_outcome(directive_id, channel, outcome, error or "", ts)
        if error is None:
            await self._join(channel)

    async def _join(self, channel: str) -> None:
        """Be a member of each channel a directive went to (chat:write.public posts without joining),
        so that Slack sends the member_joined_channel / member_left_channel events the counts follow.
        Private channels cannot be joined (the bot is already in them, or the post failed)."""
        if channel in self._joined:
            return
        try:
            await self._client.conversations_join(channel=channel)
            self._joined.add(channel)
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
            log.info("did not join %s after posting a directive there: %s", channel, error)

    async def record_outcome(
        self, directive_id: int, channel: str, outcome: PostOutcome, error: str, ts: str | None
    ) -> None:
        command = RecordPostOutcome(directive_id, channel, outcome, error, ts, self._clock())
        if await self._change(command):  # nothing when already recorded or the directive is gone
            self._arrived()

    async def settle_stale_posts(self, now: datetime, older_than: Any) -> None:
        """Posts still pending long after they were queued (a crash between send and record): read
        their outcome from the outbox."""
        async with self._reading() as uow:
            stale = [p for p in await uow.directive_posts.pending() if now - p.updated_at >= older_than]
            if not stale:
                return
            outcomes = await uow.directive_posts.outbox_outcomes([post_key(p.directive_id, p.channel) for p in stale])
        for p in stale:
            found = outcomes.get(post_key(p.directive_id, p.channel))
            if found is None:
                continue
            status, error, ts = found
            if status == OutboxStatus.SENT:
                await self.record_outcome(p.directive_id, p.channel, PostOutcome.POSTED, "", ts)
            elif status == OutboxStatus.FAILED:
                error = error or "unknown error"
                await self.record_outcome(p.directive_id, p.channel, PostOutcome.FAILED, error, None)
