"""The Bolt app: listeners registered on one AsyncApp, served over HTTP or Socket Mode."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.listeners import directives, groups, home, requests, reviews, tool_status

if TYPE_CHECKING:
    from bot.runtime import Clearance

log = logging.getLogger("clearance.app")


def build_app(c: Clearance, *, socket_mode: bool = False) -> AsyncApp:
    app = AsyncApp(
        token=None,  # the client below carries the token (and the SLACK_API_URL)
        signing_secret=c.settings.signing_secret or "unused-in-socket-mode",
        client=c.client,
        # Socket Mode messages are not signed; the WebSocket is authenticated by the app token.
        request_verification_enabled=not socket_mode,
        # Our listeners return as soon as they ack (see listeners.common.guarded), so Bolt can
        # answer Slack right then instead of polling for the ack every 10 ms.
        process_before_response=True,
        # Bolt's url_verification and ssl_check built-ins stay on.
    )

    @app.middleware
    async def skip_redelivered_events(body, next):
        """Slack re-sends an Events API delivery (same event_id) when it saw no timely 200."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            async with c.uow() as uow:
                first = await uow.first_delivery(f"event:{event_id}")
                await uow.commit()
            if not first:
                return BoltResponse(status=200, body="")
        return await next()

    @app.error
    async def on_error(error, body):
        # Log the kind of payload, never its contents: they hold personal data.
        log.error("unhandled error for a %s payload: %r", (body or {}).get("type", "?"), type(error).__name__)
        return BoltResponse(status=200, body="")

    requests.register(app, c)
    reviews.register(app, c)
    home.register(app, c)
    directives.register(app, c)
    tool_status.register(app, c)
    groups.register(app, c)
    return app
