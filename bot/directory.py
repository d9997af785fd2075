"""Who is who: expand config principals (user ids and user group ids) into user ids.

Group membership comes from Slack (usergroups.users.list) and is cached briefly, so a
change in Slack takes effect within `ttl` while a burst of clicks costs one API call.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from workflows.policy import is_group

log = logging.getLogger("clearance.directory")


class DirectoryUnavailable(Exception):
    """Slack could not tell us a group's members and we have no recent answer."""


class SlackDirectory:
    def __init__(self, client: AsyncWebClient, *, ttl: float = 60.0, stale_ok: float = 3600.0) -> None:
        self.client = client
        self.ttl = ttl
        self.stale_ok = stale_ok  # how old a cached answer may be when Slack is unreachable
        self._groups: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

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

    async def _members(self, group: str) -> frozenset[str]:
        cached = self._groups.get(group)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        async with self._locks.setdefault(group, asyncio.Lock()):
            cached = self._groups.get(group)
            if cached and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
            try:
                response = await self.client.usergroups_users_list(usergroup=group)
                members = frozenset(response.get("users") or [])
            except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError) as exc:
                if cached and time.monotonic() - cached[0] < self.stale_ok:
                    log.warning("using cached members of user group %s: %s", group, type(exc).__name__)
                    return cached[1]
                error = getattr(getattr(exc, "response", None), "data", None)
                log.error("cannot resolve user group %s: %s", group, error if isinstance(error, dict) else exc)
                raise DirectoryUnavailable(group) from exc
            self._groups[group] = (time.monotonic(), members)
            return members
