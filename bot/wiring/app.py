"""The Bolt app: listeners registered on one AsyncApp, served over HTTP or Socket Mode."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from slack_bolt.async_app import AsyncApp
from slack_bolt.error import BoltUnhandledRequestError
from slack_bolt.response import BoltResponse

from bot.config.settings import Settings
from bot.listeners.common import Answering, guarded, no_listener
from bot.people.slack_identity import SlackIdentity
from bot.wiring.bolt_authorize import KnownIdentity
from bot.wiring.event_deliveries import DeliveringApp, EventDeliveries
from bot.wiring.listener_table import ListenerTable
from bot.wiring.logs import describe_error, describe_payload
from workflows.errors import StoreBusy, StoreUnavailable

log = logging.getLogger("clearance.app")


D = TypeVar("D")


@dataclass(frozen=True)
class Group(Generic[D]):
    """A listener module's `register` and what its listeners need (the list is in bot/wiring/runtime.py)."""

    register: Callable[[ListenerTable, D], None]
    deps: D


@dataclass(frozen=True)
class Listeners:
    groups: Sequence[Group[Any]]  # registered in this order
    fallback: Answering  # answers a click or form no listener takes


class _NotTokenSkipped(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when `authorize` is given, and warns on
    every start that it "will be ignored": it is used, by KnownIdentity."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "will be ignored" not in record.getMessage()


_TOKEN_SKIPPED = _NotTokenSkipped()


def _quiet_bolt_token_warning() -> None:
    logging.getLogger("slack_bolt.AsyncApp").addFilter(_TOKEN_SKIPPED)  # the same filter is added once


def build_app(
    settings: Settings,
    identity: SlackIdentity,
    listeners: Listeners,
    *,
    first_delivery: Callable[[str], Awaitable[bool]],
    handled_before: Callable[[str], Awaitable[bool]],
    socket_mode: bool = False,
) -> AsyncApp:
    """`first_delivery(key)` records a delivery key and says whether it is new, `handled_before(key)`
    reads it (in the database, so a re-delivery is recognised after a restart and by another
    process). An event is recorded only once handled (bot/wiring/event_deliveries.py)."""
    _quiet_bolt_token_warning()
    app = DeliveringApp(
        # Authorised from bot/people/slack_identity.py's auth.test (bot/wiring/bolt_authorize.py): Bolt's own would
        # call Slack on the first request and fail it while Slack is unreachable. Our listeners use
        # the runtime's client.
        authorize=KnownIdentity(identity, settings.bot_token),
        signing_secret=settings.signing_secret or "unused-in-socket-mode",
        # Socket Mode messages are not signed; the WebSocket is authenticated by the app token. Over
        # HTTP, bot/http/server.py verifies every request on the raw bytes and hands Bolt the parsed body in
        # Socket Mode form, which Bolt does not check again; this stays on for any other way in.
        request_verification_enabled=not socket_mode,
        # Our listeners return as soon as they ack (see listeners.common.guarded), so Bolt can
        # answer Slack right then instead of polling for the ack every 10 ms.
        process_before_response=True,
        # A payload no listener takes goes to on_error below, logged in one line without its
        # contents, instead of Bolt's multi-line warning with a code suggestion.
        raise_error_for_unhandled_request=True,
        # Bolt's url_verification and ssl_check built-ins stay on.
    )
    app.client.base_url = settings.api_url  # GovSlack, or the fake Slack in tests
    app.deliveries = EventDeliveries(handled_before, first_delivery)

    if socket_mode:
        # Over HTTP the server refuses other workspaces' payloads before Bolt sees them
        # (bot/http/server.py); over Socket Mode this is the first place a payload is seen.
        @app.middleware
        async def refuse_other_workspaces(context, body, next):
            if identity.is_foreign(context.team_id, context.enterprise_id):
                log.warning(
                    "refused a %s from another workspace (team %s)", describe_payload(body), context.team_id or "?"
                )
                return BoltResponse(status=200, body="")
            return await next()

    @app.error
    async def on_error(error, body):
        # Name what the payload was for (command, action, form, event), never what people typed.
        what = describe_payload(body)
        if isinstance(error, BoltUnhandledRequestError):
            log.warning("no listener for %s", what, extra={"slack": what})
            return None  # Bolt answers 404, as before
        if isinstance(error, (StoreUnavailable, StoreBusy)) and body.get("type") == "event_callback":
            # Not handled: a non-2xx answer (or no Socket Mode ack) makes Slack deliver it again.
            log.warning("%s not handled: the database is unavailable; answered 503 for Slack to retry", what)
            return BoltResponse(status=503, body="")
        log.error("unhandled error in %s: %s", what, describe_error(error), extra={"slack": what})
        return BoltResponse(status=200, body="")

    table = ListenerTable()
    for group in listeners.groups:
        group.register(table, group.deps)
    table.otherwise(guarded(listeners.fallback, no_listener))
    table.install(app)
    return app
