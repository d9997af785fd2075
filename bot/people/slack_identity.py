"""Who the bot is in Slack: `auth.test` at start-up gives the installed team and proves the token.

A token Slack rejects will not start working by itself, so it is reported (log and /healthz) and
not retried. An unreachable Slack is retried in the background with backoff until it answers;
meanwhile requests are still taken and their messages wait in the outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from enum import StrEnum

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger("clearance.slack")

# auth.test errors that mean the token itself is bad (Slack's own list for auth.test).
REJECTED = frozenset({"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"})


class SlackStatus(StrEnum):
    UNCHECKED = "unchecked"
    OK = "ok"
    REJECTED = "rejected"
    UNREACHABLE = "unreachable"


class SlackIdentity:
    def __init__(
        self,
        client: AsyncWebClient,
        *,
        first_wait: float = 5.0,
        backoff: tuple[float, ...] = (1, 2, 5, 10, 30, 60),
    ) -> None:
        self._client = client
        self.first_wait = first_wait  # how long start() waits before carrying on in the background
        self.backoff = backoff  # seconds between retries; the last one repeats
        self.status = SlackStatus.UNCHECKED
        self.error = ""  # Slack's error code or the exception's kind, never a token
        self.team_id: str | None = None
        self.enterprise_id: str | None = None
        self.bot_user_id: str | None = None  # the bot's own user and bot ids (Bolt ignores its own events)
        self.bot_id: str | None = None
        self._task: asyncio.Task | None = None

    async def check(self) -> SlackStatus:
        """Call auth.test once and record what it says."""
        before = self.status
        try:
            response = await self._client.auth_test()
        except SlackApiError as exc:
            data = exc.response.data
            error = data.get("error") if isinstance(data, dict) else None
            self.error = error or f"HTTP {exc.response.status_code}"
            self.status = SlackStatus.REJECTED if error in REJECTED else SlackStatus.UNREACHABLE
        except Exception as exc:  # connection refused, timeout, DNS: Slack cannot be reached
            self.error = type(exc).__name__
            self.status = SlackStatus.UNREACHABLE
        else:
            self.team_id = response.get("team_id") or None
            self.enterprise_id = response.get("enterprise_id") or None
            self.bot_user_id = response.get("user_id") or None
            self.bot_id = response.get("bot_id") or None
            self.status, self.error = SlackStatus.OK, ""
        self._log(before)
        return self.status

    def _log(self, before: SlackStatus) -> None:
        if self.status == SlackStatus.OK:
            again = " again" if before == SlackStatus.UNREACHABLE else ""
            log.info("Slack accepted the bot token%s: installed in team %s", again, self.team_id)
        elif self.status == SlackStatus.REJECTED:
            log.error(
                "Slack rejected SLACK_BOT_TOKEN (%s): every Slack call will fail and /healthz answers 503 until "
                "the token is replaced (Slack app settings → OAuth & Permissions → Bot User OAuth Token)",
                self.error,
            )
        elif before != SlackStatus.UNREACHABLE:  # once, not on every retry
            log.warning(
                "Slack is not reachable (%s); retrying in the background. Requests are still taken and "
                "their messages wait in the outbox",
                self.error,
            )

    async def start(self) -> None:
        """Check once (briefly) if not yet checked; keep retrying in the background while unreachable."""
        if self.status == SlackStatus.UNCHECKED:
            try:
                await asyncio.wait_for(self.check(), self.first_wait)
            except TimeoutError:
                self.status, self.error = SlackStatus.UNREACHABLE, "timed out"
                self._log(SlackStatus.UNCHECKED)
        if self.status == SlackStatus.UNREACHABLE and self._task is None:
            self._task = asyncio.create_task(self._retry())

    def refused_at_work(self, error: str) -> None:
        """A Web API call was refused for the token itself (revoked, expired) after start-up: say so
        (/healthz 503, one error in the log) and check again in the background until Slack takes it
        again (a re-installed app, a passing fault); meanwhile messages wait in the outbox."""
        if self.status == SlackStatus.REJECTED:
            return
        before, self.status, self.error = self.status, SlackStatus.REJECTED, error
        self._log(before)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._retry())

    async def _retry(self) -> None:
        attempt = 0
        while self.status in (SlackStatus.UNREACHABLE, SlackStatus.REJECTED):
            await asyncio.sleep(self.backoff[min(attempt, len(self.backoff) - 1)])
            attempt += 1
            await self.check()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def describe(self) -> str:
        """What /healthz says about Slack."""
        if self.status == SlackStatus.OK:
            return "ok"
        if self.status == SlackStatus.REJECTED:
            return f"token rejected ({self.error})"
        if self.status == SlackStatus.UNREACHABLE:
            return f"unreachable ({self.error}), retrying"
        return "not checked yet"

    def is_foreign(self, team_id: str | None, enterprise_id: str | None) -> bool:
        """Does a payload come from a workspace (or Enterprise Grid org) other than the installed one?

        Until auth.test has answered nothing is known, so nothing is called foreign. Payloads with
        neither id (url_verification, ssl_check) are not workspace payloads. Within one Enterprise
        Grid org, other workspaces of the org are the installation's own.
        """
        if self.status != SlackStatus.OK:
            return False
        if enterprise_id and self.enterprise_id:
            return enterprise_id != self.enterprise_id
        if enterprise_id:
            return True  # from a Grid org, while this installation is a stand-alone workspace
        return bool(team_id) and team_id != self.team_id
