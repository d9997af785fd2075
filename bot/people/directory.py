"""Who is who: expand config principals (user ids and user group ids) into user ids.

Group membership comes from Slack (usergroups.users.list). An answer is kept for at most `ttl`
(30 s) so that a burst of clicks costs one API call, and it is dropped the moment Slack says the
group changed (the `subteam_members_changed` / `subteam_updated` events, see `forget`). When Slack
cannot be asked, an answer older than `ttl` is never trusted: the action is refused with
DirectoryUnavailable ("could not check your role") instead. So a reviewer removed from a group
can act for at most `ttl` after the removal, and only if the event did not arrive.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.policy import is_group

log = logging.getLogger("clearance.directory")

TTL_SECONDS = 30.0  # README ("Roles") quotes this figure


class DirectoryUnavailable(Exception):
    """Slack could not tell us a group's members and we have no recent answer."""


class SlackDirectory:
    def __init__(
        self, client: AsyncWebClient, *, ttl: float = TTL_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.client = client
        self.ttl = ttl
        self.clock = clock  # seconds, monotonic; tests pass one they can move
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._generation: dict[str, int] = {}  # bumped by forget(): a lookup begun before it is not cached

    def forget(self, group: str) -> None:
        """Slack says the group changed: the next check asks Slack again."""
        self._groups.pop(group, None)
        self._generation[group] = self._generation.get(group, 0) + 1

    async def expand(self, principals: Iterable[str]) -> frozenset[str]:
        users: set[str] = set()
        for principal in principals:
            users |= await self._members(principal) if is_group(principal) else {principal}
        return frozenset(users)

    async def includes(self, user_id: str, principals: Iterable[str]) -> bool:
        """Is the user one of these principals? Named users need no API call; a group that
        cannot be resolved only matters if no other principal already answers yes."""
        principals = tuple(principals)
        if user_id in principals:
            return True
        unavailable = None
        for group in (p for p in principals if is_group(p)):
            try:
                if user_id in await self._members(group):
                    return True
            except DirectoryUnavailable as exc:
                unavailable = exc
        if unavailable:
            raise unavailable
        return False

    async def members_now(self, group: str) -> frozenset[str] | None:
        """The group's members (workflows.usage_licences.GroupMembers), or None when Slack cannot
        say: a licence's group in /tool-usage is then named as not listed, never guessed."""
        try:
            return await self._members(group)
        except DirectoryUnavailable:
            return None

    def _fresh(self, group: str) -> frozenset[str] | None:
        cached = self._groups.get(group)
        if cached and 0 <= self.clock() - cached[0] < self.ttl:
            return cached[1]
        return None

    async def _members(self, group: str) -> frozenset[str]:
        if (members := self._fresh(group)) is not None:
            return members
        async with self._locks.setdefault(group, asyncio.Lock()):
            if (members := self._fresh(group)) is not None:
                return members
            generation, asked_at = self._generation.get(group, 0), self.clock()
            try:
                response = await self.client.usergroups_users_list(usergroup=group)
                members = frozenset(response.get("users") or [])
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                # No stale fallback: refusing ("could not check your role") is safer than trusting
                # an answer that may predate someone's removal.
                error = getattr(getattr(exc, "response", None), "data", None)
                log.error("cannot resolve user group %s: %s", group, error if isinstance(error, dict) else exc)
                raise DirectoryUnavailable(group) from exc
            if self._generation.get(group, 0) == generation:  # no change announced while we asked
                self._groups[group] = (asked_at, members)
            return members
