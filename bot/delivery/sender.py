"""The one way messages reach Slack: drain the outbox, with retries that never drop a message.

- HTTP 429: wait the Retry-After Slack gives (and hold back that method meanwhile).
- 5xx, network errors, Slack's transient error codes: back off exponentially, up to 5 minutes.
- Permanent errors (channel_not_found, invalid_blocks…): mark failed, log, tell the admins.
- `not_in_channel` on a post: join the channel (public ones only) and try again.

At most one copy of every post. Every chat.postMessage carries Slack message metadata naming
its outbox row. When an attempt's outcome is unknown — the process died while Slack was
answering (its claim expired unsettled), or the answer never came (time-out, connection lost
after the request went out) — the row is *in doubt*, and before posting again the sender looks
in the channel's history since that attempt (bot/delivery/posted.py). Found: the row is marked sent with
that message's channel and ts (so later chat.update calls reach it), nothing is posted. Not
found: posted. The look-up failing for a while (Slack down, rate limited) only delays the post;
only a look-up that can never work (a missing scope, a channel it cannot read) posts without
looking, with a warning. chat.update and views.publish are idempotent: simply sent again.
chat.postEphemeral cannot be looked up (ephemeral messages are in no history): one in doubt is
not sent again, and recorded as failed with why.

Everything lives in the database, so a restart simply carries on where the last run stopped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.delivery.posted import (
    EPHEMERAL,
    LOOKED_UP,
    TRANSIENT_ERRORS,
    Adopted,
    Blind,
    Later,
    PostedMessages,
    outbox_metadata,
    retry_after,
)
from bot.delivery.web_api import WebApi, outcome_unknown, with_fields
from bot.people.slack_identity import REJECTED as TOKEN_REFUSED
from bot.wiring.logs import LoopFailures
from storage.outbox import DROPPED, FAILED, PENDING, SENT, Delivery, OutboxStore, Settled

log = logging.getLogger("clearance.sender")

MAX_BACKOFF = 300.0
TOKEN_WAIT = timedelta(seconds=30)  # at least, before trying again with a token Slack refused


def utcnow() -> datetime:
    return datetime.now(UTC)


class SlackSender:
    def __init__(
        self,
        store: OutboxStore,
        client: AsyncWebClient,
        *,
        clock: Callable[[], datetime] = utcnow,
        concurrency: int = 8,
        batch: int = 50,
        poll_seconds: float = 1.0,
        lease: timedelta = timedelta(seconds=60),
        doubt_wait: timedelta = timedelta(seconds=10),
        on_failure: Callable[[Delivery, str], Awaitable[None]] | None = None,
        on_result: Callable[[Delivery, dict | None, str | None], Awaitable[None]] | None = None,
        moot: Callable[[list[str]], Awaitable[set[str]]] | None = None,
        token_refused: Callable[[str], None] | None = None,
    ) -> None:
        self.store = store
        self.client = client
        self.calls = WebApi(client)
        self.clock = clock
        self.batch = batch
        self.poll_seconds = poll_seconds
        self.lease = lease
        # After a time-out, wait at least this long before looking: Slack may still be posting.
        self.doubt_wait = doubt_wait
        self.posted = PostedMessages(client, clock=clock)
        self.on_failure = on_failure
        # Called once a row is settled: (delivery, Slack's response data, None) when sent,
        # (delivery, None, error) when it failed for good. Not called for retries.
        self.on_result = on_result
        self.on_call: Callable[[str, str], None] | None = None  # (method, result) for /metrics
        # Asked with a claimed batch's queues just before they are sent: the rows of the queues it
        # names are dropped unsent (reminders about something decided meanwhile:
        # workflows/reminder_relevance.py).
        self.moot = moot
        # Told when Slack refuses the token itself: no message is given up for that (bot/people/slack_identity.py).
        self.token_refused = token_refused
        self.token_wait = TOKEN_WAIT
        self.worker = uuid.uuid4().hex[:8]
        self._slots = asyncio.Semaphore(concurrency)
        self._wake = asyncio.Event()
        self._stopping = False
        self._paused: dict[str, datetime] = {}  # method -> not before (after a 429)
        self._holds_until = float("inf")  # time.monotonic() after which this batch's claim may lapse
        self._task: asyncio.Task | None = None

    # --- running -------------------------------------------------------------------------------

    def wake(self) -> None:
        """Something was just committed to the outbox: send it now rather than at the next poll."""
        self._wake.set()

    def start(self) -> asyncio.Task:
        self._task = asyncio.create_task(self.run(), name="clearance-sender")
        return self._task

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._task:
            await self._task

    async def run(self) -> None:
        failures = LoopFailures(log, "the outbox sweep")
        while not self._stopping:
            try:
                sent = await self.drain_once()
                failures.worked()
            except Exception:  # the database is down or similar: keep the loop alive
                failures.failed()
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
                self._wake.clear()

    async def drain_once(self) -> int:
        """Claim what is due, send it, and record every outcome in one transaction.

        Claiming (with reading where the batch's updates go) and recording are one write transaction
        each per batch, not one per message:
        under a crowd the sender must not compete with the clicks for the database's write lock.
        """
        claimed = time.monotonic()
        # With where the messages the batch updates landed (read in the claim's transaction).
        claim = await self.store.claim(self.clock(), limit=self.batch, lease=self.lease, worker=self.worker)
        deliveries, where = claim.deliveries, claim.where
        if not deliveries:
            return 0
        # Nothing is sent once the claim could lapse before Slack answers: another process may
        # then take the row, and two posts in flight at once cannot see each other.
        lease = self.lease.total_seconds()
        self._holds_until = claimed + lease - min(float(getattr(self.client, "timeout", 30) or 30), lease / 2)
        moot: set[str] = set()
        if self.moot is not None:
            try:
                moot = await self.moot([d.queue for d in deliveries])
            except Exception as exc:  # the reminders go out as they would have before asking
                log.warning("could not check whether reminders are still needed (%s)", type(exc).__name__)
        outcomes = await asyncio.gather(*(self._send_one(d, where, moot) for d in deliveries))
        await self.store.settle(list(outcomes))
        for outcome in outcomes:
            if outcome.status == FAILED:
                await self._report(outcome)
            if outcome.status in (SENT, FAILED):
                await self._settled(outcome.delivery, outcome.data, outcome.error if outcome.status == FAILED else None)
        return len(deliveries)

    def _claim_left(self) -> float | None:
        """Seconds until this batch's claim could lapse (None outside a batch: no limit)."""
        if self._holds_until == float("inf"):
            return None
        return max(0.0, self._holds_until - time.monotonic())

    # --- one call ------------------------------------------------------------------------------

    async def _send_one(
        self, delivery: Delivery, where: dict[str, tuple[str, str]] | None = None, moot: Collection[str] = ()
    ) -> _Outcome:
        async with self._slots:
            try:
                return await self._attempt(delivery, where, moot)
            except Exception as exc:  # anything unexpected: keep the message, try later
                log.exception("unexpected error sending outbox row %s (%s)", delivery.id, delivery.method)
                return self._later(delivery, f"unexpected: {type(exc).__name__}")

    async def _attempt(
        self, delivery: Delivery, where: dict[str, tuple[str, str]] | None = None, moot: Collection[str] = ()
    ) -> _Outcome:
        now = self.clock()
        paused = self._paused.get(delivery.method)
        if paused and paused > now:
            return _Outcome(delivery, PENDING, paused, "waiting out a rate limit")
        if delivery.queue in moot:
            log.info("outbox row %s (%s) dropped unsent: no longer needed", delivery.id, delivery.method)
            return _Outcome(delivery, DROPPED, now, "not sent: no longer needed when its turn came")
        added: dict = {}  # what the sender adds to the stored payload (never stored itself)
        if delivery.target:
            # A card's post and its updates share a queue, which goes out in order: the post was
            # settled (and where it landed stored) before the update could be claimed.
            landed = where.get(delivery.target) if where is not None else None
            if landed is None:
                if await self.store.awaiting_post(delivery.target):  # queued elsewhere (an older version's rows)
                    return _Outcome(delivery, PENDING, self.clock() + timedelta(seconds=1), "waiting for its post")
                # Settled since `where` was read (perhaps by another process), or never posted.
                landed = await self.store.message(delivery.target)
                if landed is None:  # its post failed for good
                    return self._fail(delivery, "the message to update was never posted")
            added["channel"], added["ts"] = landed
        if delivery.method in LOOKED_UP:
            # Names the row in Slack, so that a post whose answer was lost can be found again.
            added["metadata"] = outbox_metadata(delivery.id)
        if delivery.doubt_since is not None:
            settled = await self._resolve_doubt(delivery, added.get("channel") or delivery.payload.get("channel", ""))
            if settled is not None:
                return settled
        if time.monotonic() > self._holds_until:
            return _Outcome(delivery, PENDING, self.clock(), "not sent: the claim would lapse (Slack slow)")
        started = self.clock()
        try:
            # Never in flight past the claim (even if the client's time-out is longer than what is
            # left of it): another process taking the row over must find this attempt finished.
            async with asyncio.timeout(self._claim_left()):
                # The stored JSON goes out as it is: decoded and encoded again, it cost more than the call.
                response = await self.calls.call(delivery.method, with_fields(delivery.body, added))
        except SlackApiError as exc:
            self._counted(delivery.method, _result_of(exc))
            return await self._api_error(delivery, exc, started)
        except (aiohttp.ClientError, OSError) as exc:  # TimeoutError is an OSError
            self._counted(delivery.method, "network")
            if outcome_unknown(exc) and (delivery.method in LOOKED_UP or delivery.method == EPHEMERAL):
                return self._unknown(delivery, started, f"no answer: {type(exc).__name__}")
            return self._later(delivery, f"network: {type(exc).__name__}")  # not sent, or idempotent
        self._counted(delivery.method, "ok")
        data = response.data if isinstance(response.data, dict) else {}
        return _Outcome(delivery, SENT, self.clock(), channel=data.get("channel", ""), ts=data.get("ts", ""), data=data)

    def _counted(self, method: str, result: str) -> None:
        if self.on_call is not None:
            self.on_call(method, result)

    async def _resolve_doubt(self, delivery: Delivery, channel: str) -> _Outcome | None:
        """An earlier attempt may have reached Slack: settle the row without posting, or None to post."""
        if delivery.method == EPHEMERAL:
            # Ephemeral messages are in no history. At most once: a notice that may have been shown
            # is not shown twice; recorded as failed, with why, for `clearance outbox`.
            return self._fail(delivery, "outcome unknown; ephemeral messages cannot be looked up, so not sent again")
        if delivery.method not in LOOKED_UP:
            return None  # idempotent (chat.update, views.publish…): sending again is harmless
        paused = self._paused.get(self.posted.METHOD)
        if paused and paused > self.clock():
            return _Outcome(delivery, PENDING, paused, "waiting out a rate limit on the look-up")
        try:
            async with asyncio.timeout(self._claim_left()):
                found = await self.posted.find(delivery.id, channel, delivery.doubt_since)
        except TimeoutError:
            found = Later("the look-up took too long")
        match found:
            case Adopted(channel=channel, message=message):
                log.info(
                    "outbox row %s was already in Slack (%s %s): adopted, not posted again",
                    delivery.id,
                    channel,
                    message.get("ts"),
                )
                data = {"ok": True, "channel": channel, "ts": message.get("ts", ""), "message": message}
                return _Outcome(delivery, SENT, self.clock(), channel=channel, ts=data["ts"], data=data)
            case Later(retry_after=seconds, reason=reason) if seconds:
                until = self.clock() + timedelta(seconds=seconds)
                self._paused[self.posted.METHOD] = until
                return _Outcome(delivery, PENDING, until, f"could not check whether Slack has it: {reason}")
            case Later(reason="not_in_channel"):
                # Posted with chat:write.public without joining: join (public channels) and look again.
                if await self._join(channel):
                    return _Outcome(delivery, PENDING, self.clock(), "joined the channel to look for it")
                self._blind(delivery, "not_in_channel, and the channel cannot be joined")
            case Later(reason=reason):
                return self._later(delivery, f"could not check whether Slack has it: {reason}")
            case Blind(reason=reason):
                self._blind(delivery, reason)
        return None  # not there, or it cannot be looked for: post

    @staticmethod
    def _blind(delivery: Delivery, reason: str) -> None:
        # Waiting cannot help here, and a message never posted (a card nobody sees) is worse
        # than a second copy: post, and say so.
        log.warning(
            "outbox row %s (%s): could not check whether Slack already has it (%s); "
            "posting anyway, which may leave two copies",
            delivery.id,
            delivery.method,
            reason,
        )

    def _unknown(self, delivery: Delivery, started: datetime, error: str) -> _Outcome:
        """The request went out but no answer came: look for it first, and not before doubt_wait."""
        since = min(started, delivery.doubt_since or started)
        outcome = self._later(delivery, f"{error} (did Slack post it? it will look first)", floor=self.doubt_wait)
        return _Outcome(delivery, PENDING, outcome.at, outcome.error, doubt_since=since)

    async def _api_error(self, delivery: Delivery, exc: SlackApiError, started: datetime) -> _Outcome:
        status = exc.response.status_code
        data = exc.response.data if isinstance(exc.response.data, dict) else {}
        error = data.get("error", "")
        if status == 429 or error == "ratelimited":
            wait = retry_after(exc.response.headers)
            until = self.clock() + timedelta(seconds=wait)
            self._paused[delivery.method] = until
            log.warning("Slack rate limit on %s: waiting %ss (row %s)", delivery.method, wait, delivery.id)
            return _Outcome(delivery, PENDING, until, f"rate limited ({wait}s)")
        if error in TOKEN_REFUSED:
            # The token, not the message: revoked or expired while running. The message waits for a
            # working token (health says 503 meanwhile) rather than being given up for good.
            if self.token_refused is not None:
                self.token_refused(error)
            return self._later(delivery, f"Slack refused the bot token ({error})", floor=self.token_wait)
        if status >= 500 and status != 503 and delivery.method in LOOKED_UP:
            # A 500, 502 or 504 may come after Slack has posted (a gateway gave up waiting for it):
            # look before posting again. 503 is Slack turning work away: nothing was done.
            return self._unknown(delivery, started, f"Slack {status} {error}".strip())
        if status >= 500 or error in TRANSIENT_ERRORS:
            return self._later(delivery, f"Slack {status} {error}".strip())
        if (
            error == "not_in_channel"
            and delivery.method == "chat.postMessage"
            and await self._join(delivery.payload.get("channel", ""))
        ):
            return _Outcome(delivery, PENDING, self.clock(), "joined the channel")
        return self._fail(delivery, error or f"HTTP {status}")

    async def _join(self, channel: str) -> bool:
        try:
            await self.client.api_call("conversations.join", json={"channel": channel})
            return True
        except (SlackApiError, aiohttp.ClientError, TimeoutError, OSError):
            return False

    def _later(self, delivery: Delivery, error: str, floor: timedelta = timedelta(0)) -> _Outcome:
        delay = min(MAX_BACKOFF, 0.5 * 2 ** min(delivery.attempts, 10)) * random.uniform(0.8, 1.2)
        delay = max(delay, floor.total_seconds())
        log.warning("outbox row %s (%s) will be retried in %.1fs: %s", delivery.id, delivery.method, delay, error)
        return _Outcome(delivery, PENDING, self.clock() + timedelta(seconds=delay), error)

    def _fail(self, delivery: Delivery, error: str) -> _Outcome:
        log.error("outbox row %s (%s, %s) failed for good: %s", delivery.id, delivery.method, delivery.queue, error)
        return _Outcome(delivery, FAILED, self.clock(), error)

    async def _report(self, outcome: _Outcome) -> None:
        if self.on_failure:
            try:
                await self.on_failure(outcome.delivery, outcome.error)
            except Exception:
                log.exception("could not report the failure of outbox row %s", outcome.delivery.id)

    async def _settled(self, delivery: Delivery, data: dict | None, error: str | None) -> None:
        if self.on_result is None:
            return
        try:
            await self.on_result(delivery, data, error)
        except Exception:
            log.exception("the result hook failed for outbox row %s", delivery.id)


@dataclass(frozen=True)
class _Outcome(Settled):
    data: dict | None = None  # Slack's answer, for the result hook


def _result_of(exc: SlackApiError) -> str:
    """429, 5xx or Slack's error code: a bounded label for /metrics."""
    status = exc.response.status_code
    if status == 429:
        return "429"
    if status >= 500:
        return "5xx"
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"http_{status}")[:40]
