"""An Events API delivery is recorded as handled only once it has been handled.

Slack re-sends a delivery (same event_id, X-Slack-Retry-Num) when it saw no 2xx in time, three
times over about an hour; over Socket Mode it re-sends an envelope that was not acked. So:

- a delivery recorded before is answered 200 and not handled again;
- a delivery whose handling failed because the store is down (StoreUnavailable or StoreBusy, at
  the check or in any listener) is answered 503 and NOT recorded, so Slack's retry is handled
  once the store is back (a newcomer is still shown the directive);
- only a delivery that was handled is recorded (a record committed first would make the retry be
  skipped: the store that failed the handling usually fails the clean-up too);
- a retry that arrives while the first delivery is still being handled in this process waits for
  it and gets the same answer, rather than being handled twice.

Bolt's global middleware runs before its listeners and cannot see their outcome, so this wraps
the app's dispatch (the one way in for HTTP, bot/http/server.py, and for Socket Mode).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from slack_bolt.async_app import AsyncApp
from slack_bolt.logger import get_bolt_app_logger
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from workflows.errors import StoreBusy, StoreUnavailable

log = logging.getLogger("clearance.app")

Dispatch = Callable[[AsyncBoltRequest], Awaitable[BoltResponse]]


class EventDeliveries:
    def __init__(
        self,
        handled_before: Callable[[str], Awaitable[bool]],
        record: Callable[[str], Awaitable[bool]],
    ) -> None:
        """`handled_before(key)` reads whether a delivery key is recorded; `record(key)` records it."""
        self._handled_before = handled_before
        self._record = record
        self._in_flight: dict[str, asyncio.Future[BoltResponse]] = {}

    async def dispatch(self, request: AsyncBoltRequest, handle: Dispatch) -> BoltResponse:
        body = request.body if isinstance(request.body, dict) else {}
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if not isinstance(event_id, str) or not event_id:
            return await handle(request)
        key = f"event:{event_id}"
        what = (body.get("event") or {}).get("type", "?")
        running = self._in_flight.get(key)
        if running is not None:
            return _copy(await asyncio.shield(running))
        done: asyncio.Future[BoltResponse] = asyncio.get_running_loop().create_future()
        self._in_flight[key] = done
        response = BoltResponse(status=503, body="")
        try:
            response = await self._handle_once(key, what, request, handle)
        finally:
            del self._in_flight[key]
            done.set_result(response)
        return response

    async def _handle_once(self, key: str, what: str, request: AsyncBoltRequest, handle: Dispatch) -> BoltResponse:
        try:
            if await self._handled_before(key):
                return BoltResponse(status=200, body="")
        except (StoreUnavailable, StoreBusy):
            log.warning("event %s not handled: the database is unavailable; answered 503 for Slack to retry", what)
            return BoltResponse(status=503, body="")
        response = await handle(request)
        if response.status != 200:
            return response  # not handled: Slack delivers it again
        try:
            await self._record(key)
        except (StoreUnavailable, StoreBusy):
            # Handled, but not recorded: a re-delivery (only if Slack saw no 200) would be handled again.
            log.warning("event %s handled but not recorded as handled: the database is unavailable", what)
        return response


def _copy(response: BoltResponse) -> BoltResponse:
    return BoltResponse(status=response.status, body=response.body, headers=response.headers)


class DeliveringApp(AsyncApp):
    """The Bolt app, with every dispatch going through `deliveries` (set by bot/wiring/app.py)."""

    deliveries: EventDeliveries | None = None
    _context_client: AsyncWebClient | None = None

    def _init_context(self, req: AsyncBoltRequest) -> None:
        """Bolt's context, with one WebClient for every request where Bolt builds a new one each
        (its constructor reads the proxy settings from the environment, some 1 % of a click's CPU).
        Nothing of ours uses the context's client (listeners have the runtime's), and the only token
        it is ever given is the app's own; the first request's is Bolt's own, made as Bolt makes it."""
        if self._context_client is None:
            super()._init_context(req)
            self._context_client = req.context["client"]
            return
        req.context["logger"] = get_bolt_app_logger(app_name=self.name, base_logger=self._base_logger)
        req.context["token"] = self._token
        req.context["client"] = self._context_client
        req.context["listener_runner"] = self.listener_runner

    async def async_dispatch(self, req: AsyncBoltRequest) -> BoltResponse:
        if self.deliveries is None:
            return await super().async_dispatch(req)
        return await self.deliveries.dispatch(req, super().async_dispatch)
