"""GET /healthz: can this process do its job right now, and if not, why (for operators and probes).

200 {"status": "ok"} when the database takes writes and Slack accepted the token.
503 while starting, while the database cannot be reached or the last write was refused, or when
Slack rejected the token: none of these fixes itself by sending the process more work.
200 {"status": "degraded", …} while Slack is only unreachable: requests are still taken and
stored, their messages wait in the outbox, and restarting the process would not help.
The database probe is cached for a moment so frequent health checks do not hammer the database.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import JSONResponse

from bot.people.slack_identity import SlackIdentity, SlackStatus
from storage.probe import DatabaseProbe


class Health:
    def __init__(
        self,
        identity: SlackIdentity,
        probe: DatabaseProbe,
        ready: Callable[[], bool],
        *,
        cache_seconds: float = 1.5,
        monotonic: Callable[[], float] = time.monotonic,
        write_problem: Callable[[], str | None] | None = None,
        config_problems: Callable[[], list[str]] = list,
    ) -> None:
        self._config_problems = config_problems  # config ids Slack does not know (bot/people/slack_check.py)
        self._identity = identity
        self._ready = ready  # started and not stopping
        self._probe = probe
        self.cache_seconds = cache_seconds
        self._monotonic = monotonic
        self._database: tuple[float, str | None] | None = None  # (when probed, problem)
        self._lock = asyncio.Lock()  # one probe at a time, however many checks arrive
        # A write the write path just saw refused (storage/write_health.py): counts at once, uncached.
        self._write_problem = write_problem or (lambda: None)

    async def database_problem(self) -> str | None:
        async with self._lock:
            now = self._monotonic()
            if self._database is None or now - self._database[0] >= self.cache_seconds:
                self._database = (now, await self._probe.problem())
            return self._database[1]

    async def report(self) -> tuple[int, dict]:
        status, reported = await self._report()
        body: dict = reported
        if problems := self._config_problems():
            body = {**body, "config": problems}  # a warning: the process still does its job
        return status, body

    async def _report(self) -> tuple[int, dict[str, str]]:
        if not self._ready():
            return 503, {"status": "starting"}
        database = self._write_problem() or await self.database_problem()
        identity = self._identity
        if database is None and identity.status == SlackStatus.OK:
            return 200, {"status": "ok"}
        details = {"database": database or "ok", "slack": identity.describe()}
        if database is not None or identity.status == SlackStatus.REJECTED:
            return 503, {"status": "unavailable", **details}
        return 200, {"status": "degraded", **details}

    async def endpoint(self, request: Request) -> JSONResponse:
        status, body = await self.report()
        return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
