"""People's names as Slack shows them, for files that leave Slack (the usage CSV): a message says
<@U…> and Slack renders the name; a CSV file needs the name written in it.

A few people: users.info each (five at a time); many: users.list once, every page. Names are kept
for six hours. A name Slack will not give is left blank: the file still goes out, with the id.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.people.slack_pages import every

log = logging.getLogger("clearance.people")

BULK = 50  # more unknown people than this: users.list beats one users.info each
TTL_SECONDS = 6 * 3600.0
_FAILURES = (SlackApiError, aiohttp.ClientError, TimeoutError, OSError)


class PeopleNames:
    def __init__(self, client: AsyncWebClient, *, ttl: float = TTL_SECONDS) -> None:
        self.client = client
        self.ttl = ttl
        self._names: dict[str, tuple[float, str]] = {}

    async def names(self, people: Iterable[str]) -> dict[str, str]:
        wanted = list(dict.fromkeys(people))
        now = time.monotonic()
        unknown = [p for p in wanted if p not in self._names or now - self._names[p][0] > self.ttl]
        if len(unknown) > BULK:
            await self._everyone()
        else:
            lookups = asyncio.Semaphore(5)

            async def one(person: str) -> None:
                async with lookups:
                    try:
                        self._remember((await self.client.users_info(user=person)).get("user") or {})
                    except _FAILURES as exc:
                        log.warning("could not look up a person's name (%s); left blank", type(exc).__name__)

            await asyncio.gather(*(one(p) for p in unknown))
        return {p: self._names[p][1] for p in wanted if p in self._names}

    async def _everyone(self) -> None:
        try:
            async for user in every(self.client.users_list, "members"):
                self._remember(user)
        except _FAILURES as exc:
            log.warning("users.list failed (%s); names not found are left blank", type(exc).__name__)

    def _remember(self, user: dict) -> None:
        if user_id := user.get("id"):
            profile = user.get("profile") or {}
            name = profile.get("real_name") or user.get("real_name") or profile.get("display_name") or user.get("name")
            self._names[user_id] = (time.monotonic(), str(name or ""))
