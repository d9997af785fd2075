"""Who is in a channel: the people a directive posted there expects to acknowledge it.

Members come from conversations.members (every page: a channel may have thousands), bots and
deactivated accounts left out (users.list once for a large unknown crowd, users.info for a few
newcomers; both cached). The member lists are cached and kept current by the
member_joined_channel / member_left_channel events, with a time-to-live as a safety net for
events missed while the bot was down.

Reads use their own Web API client that waits out 429s (Retry-After) and retries 5xx: unlike
outbound messages (the outbox retries those durably), a read is only useful now.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.people.directory import DirectoryUnavailable
from bot.people.slack_pages import every

log = logging.getLogger("clearance.membership")

BULK_LOOKUP = 50  # more unknown users than this: one users.list beats many users.info
SLACKBOT = "USLACKBOT"


class MembersUnavailable(Exception):
    """Slack would not list the channel's members (e.g. a private channel the bot is not in)."""

    def __init__(self, channel: str, error: str) -> None:
        super().__init__(f"{channel}: {error}")
        self.channel = channel
        self.error = error


class MembershipUnchecked(DirectoryUnavailable):
    """Slack could not say whether the person is in any of the channels that matter (a directive's):
    nothing may be done on a guess."""

    what = "membership of the directive's channels"


SLACK_CALL_TIMEOUT = 10  # seconds for a Web API call (the runtime's kept connections carry it too)


def reading_client(token: str, base_url: str) -> AsyncWebClient:
    """A client for reads: waits out rate limits (Retry-After) and retries server errors a few times."""
    return AsyncWebClient(
        token=token,
        base_url=base_url,
        timeout=SLACK_CALL_TIMEOUT,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=5),
            AsyncServerErrorRetryHandler(max_retry_count=2),
        ],
    )


class ChannelMembers:
    def __init__(self, client: AsyncWebClient, *, ttl: float = 900.0, users_ttl: float = 6 * 3600.0) -> None:
        self.client = client
        self.ttl = ttl
        self.users_ttl = users_ttl
        self._channels: dict[str, tuple[float, set[str]]] = {}  # channel -> (fetched at, every member id)
        self._versions: dict[str, int] = {}
        self._people: dict[str, tuple[float, bool]] = {}  # user -> (checked at, is a person)
        self._locks: dict[str, asyncio.Lock] = {}
        self._users_lock = asyncio.Lock()

    # --- reading -----------------------------------------------------------------------------

    async def members(self, channel: str) -> frozenset[str]:
        """The people in `channel` (no bots, no deactivated accounts); MembersUnavailable if Slack says no."""
        raw = await self._raw(channel)
        await self._learn(raw)
        return frozenset(u for u in raw if self._is_person(u))

    async def people(self, users: Iterable[str]) -> frozenset[str]:
        """Those of `users` who are people (not bots)."""
        users = list(users)
        await self._learn(users)
        return frozenset(u for u in users if self._is_person(u))

    async def in_any(self, user: str, channels: Iterable[str]) -> bool:
        """Whether `user` is a member of one of `channels`; MembershipUnchecked if Slack could not
        list one of them and the others do not have them."""
        unchecked = False
        for channel in channels:
            try:
                if user in await self._raw(channel):
                    return True
            except MembersUnavailable:
                unchecked = True
        if unchecked:
            raise MembershipUnchecked()
        return False

    def version(self, channel: str) -> int:
        """Changes whenever what `members(channel)` returns may have changed."""
        return self._versions.get(channel, 0)

    # --- events ------------------------------------------------------------------------------

    def joined(self, channel: str, user: str) -> None:
        cached = self._channels.get(channel)
        if cached is not None and user not in cached[1]:
            cached[1].add(user)
        self._bump(channel)

    def left(self, channel: str, user: str) -> None:
        cached = self._channels.get(channel)
        if cached is not None:
            cached[1].discard(user)
        self._bump(channel)

    def forget(self, channel: str) -> None:
        self._channels.pop(channel, None)
        self._bump(channel)

    # --- Slack -------------------------------------------------------------------------------

    async def _raw(self, channel: str) -> set[str]:
        cached = self._channels.get(channel)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        async with self._locks.setdefault(channel, asyncio.Lock()):
            cached = self._channels.get(channel)
            if cached and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
            members: set[str] = set()
            try:
                async for member in every(self.client.conversations_members, "members", channel=channel):
                    members.add(member)
            except SlackApiError as exc:
                data = exc.response.data if isinstance(exc.response.data, dict) else {}
                raise MembersUnavailable(channel, data.get("error") or f"HTTP {exc.response.status_code}") from exc
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                raise MembersUnavailable(channel, f"network: {type(exc).__name__}") from exc
            if cached is None or cached[1] != members:
                self._bump(channel)
            self._channels[channel] = (time.monotonic(), members)
            return members

    async def _learn(self, users: Iterable[str]) -> None:
        """Make sure we know whether each of `users` is a person or a bot."""
        now = time.monotonic()
        unknown = [u for u in users if u not in self._people or now - self._people[u][0] > self.users_ttl]
        if not unknown:
            return
        if len(unknown) > BULK_LOOKUP:
            await self._load_everyone()
            unknown = [u for u in unknown if u not in self._people]
        lookups = asyncio.Semaphore(5)

        async def one(user: str) -> None:
            async with lookups:
                try:
                    response = await self.client.users_info(user=user)
                    self._remember(response.get("user") or {"id": user})
                except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                    # Counted as a person: better to ask one bot too many than to skip an officer.
                    log.warning("could not look up user %s (%s); counting them as a person", user, type(exc).__name__)

        await asyncio.gather(*(one(u) for u in unknown))

    async def _load_everyone(self) -> None:
        async with self._users_lock:
            try:
                async for user in every(self.client.users_list, "members"):
                    self._remember(user)
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                log.warning("users.list failed (%s); looking users up one by one", type(exc).__name__)

    def _remember(self, user: dict) -> None:
        user_id = user.get("id")
        if not user_id:
            return
        person = not (user.get("is_bot") or user.get("deleted") or user_id == SLACKBOT)
        self._people[user_id] = (time.monotonic(), person)

    def _is_person(self, user: str) -> bool:
        known = self._people.get(user)
        return known[1] if known else user != SLACKBOT

    def _bump(self, channel: str) -> None:
        self._versions[channel] = self._versions.get(channel, 0) + 1
