"""The page: Starlette, one Jinja2 template (autoescaped), plain JavaScript, and the JSON it calls.

GET  /                the Slack-like page          GET /state?as=U…  what that person's Slack shows
GET  /events          server-sent events: a number that changes whenever anything does
POST /do/<what>       what a person does: message, command, click, submit, close, suggest, home, clock
/api/<method>, /response/<key>: the Slack Web API stand-in (demo/slack.py) the bot calls
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from demo import workspace
from demo.clock import MovableClock
from demo.relay import Answer, Relay
from demo.slack import SlackStandIn
from demo.slack_state import dm_channel

HERE = Path(__file__).resolve().parent
MAX_MESSAGE = 4000  # Slack's message box takes 4,000 characters at most
KEEPALIVE_SECONDS = 15.0

templates = Environment(
    loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True, default_for_string=True)
)


class DemoPage:
    def __init__(
        self, slack: SlackStandIn, relay: Relay, clock: MovableClock, sweep: Callable[[], Awaitable[Any]]
    ) -> None:
        self.slack, self.relay, self.clock, self.sweep = slack, relay, clock, sweep

    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/", self.index),
                Route("/state", self.state),
                Route("/events", self.events),
                Route("/do/{what}", self.do, methods=["POST"]),
                Route("/api/{method}", self.slack.api, methods=["GET", "POST"]),
                Route("/response/{key}", self.slack.respond, methods=["POST"]),
                Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
            ]
        )

    async def index(self, request: Request) -> Response:
        html = templates.get_template("index.html").render(
            people=workspace.PEOPLE, channels=workspace.CHANNELS, commands=workspace.COMMANDS
        )
        return HTMLResponse(html, headers={"Cache-Control": "no-store"})

    async def state(self, request: Request) -> Response:
        user = request.query_params.get("as", "")
        if workspace.person(user) is None:
            return JSONResponse({"error": "unknown person"}, status_code=400)
        seen = self.slack.visible_to(user)
        return JSONResponse(
            {
                "version": self.slack.version,
                "me": user,
                "bot": workspace.BOT_USER_ID,
                "people": [p.__dict__ for p in workspace.PEOPLE],
                "channels": [
                    {"id": c.id, "name": c.name, "purpose": c.purpose, "member": user in c.members}
                    for c in workspace.CHANNELS
                ],
                "dm": dm_channel(user),
                "now": self.clock().isoformat(),
                "days_on": round(self.clock.offset / timedelta(days=1)),
                **seen,
            },
            headers={"Cache-Control": "no-store"},
        )

    async def events(self, request: Request) -> Response:
        async def stream() -> AsyncIterator[str]:
            seen = -1
            while not await request.is_disconnected():
                if seen != self.slack.version:
                    seen = self.slack.version
                    yield f"data: {seen}\n\n"
                    continue
                now = await self.slack.wait_change(seen, KEEPALIVE_SECONDS)
                if now == seen:
                    yield ": still here\n\n"

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
        )

    async def do(self, request: Request) -> Response:
        what = request.path_params["what"]
        try:
            body = await request.json()
        except ValueError:
            return JSONResponse({"failed": "not JSON"}, status_code=400)
        if not isinstance(body, dict) or workspace.person(str(body.get("as", ""))) is None:
            return JSONResponse({"failed": "unknown person"}, status_code=400)
        handler = getattr(self, f"_do_{what}", None)
        if handler is None:
            return JSONResponse({"failed": "unknown action"}, status_code=404)
        try:
            answer: Answer = await handler(str(body["as"]), body)
        except (KeyError, TypeError, ValueError):
            return JSONResponse({"failed": "incomplete request"}, status_code=400)
        return JSONResponse(answer.as_json())

    async def _do_message(self, user: str, body: dict) -> Answer:
        text, channel = str(body.get("text", "")).strip(), str(body["channel"])
        if not text:
            return Answer(failed="empty")  # Slack's send button does nothing on an empty box
        if text.startswith("/"):
            command, _, rest = text.partition(" ")
            return await self.relay.command(user, channel, command, rest.strip())
        if len(text) > MAX_MESSAGE:
            return Answer(failed=f"Messages can be at most {MAX_MESSAGE} characters.")
        if not self._may_post(user, channel):
            return Answer(failed="You are not a member of this channel.")
        await self.slack.post_as_person(user, channel, text)
        return Answer()

    @staticmethod
    def _may_post(user: str, channel: str) -> bool:
        if channel.startswith("D"):
            return channel == dm_channel(user)
        known = workspace.channel(channel)
        return known is not None

    async def _do_click(self, user: str, body: dict) -> Answer:
        action = body["action"]
        if not isinstance(action, dict):
            raise TypeError("action")
        if body.get("view_id"):
            return await self.relay.click_in_view(user, str(body["view_id"]), action, body.get("values"))
        return await self.relay.click_in_message(user, str(body["channel"]), str(body["ts"]), action)

    async def _do_submit(self, user: str, body: dict) -> Answer:
        values = body.get("values") or {}
        if not isinstance(values, dict):
            raise TypeError("values")
        return await self.relay.submit(user, str(body["view_id"]), values)

    async def _do_close(self, user: str, body: dict) -> Answer:
        return await self.relay.close(user, str(body["view_id"]))

    async def _do_suggest(self, user: str, body: dict) -> Answer:
        return await self.relay.suggest(
            user,
            str(body["view_id"]),
            str(body["action_id"]),
            str(body.get("block_id", "")),
            str(body.get("value", "")),
        )

    async def _do_home(self, user: str, body: dict) -> Answer:
        if not await self.relay.home_opened(user):
            return Answer(failed="The app did not respond.")
        return Answer()

    async def _do_clock(self, user: str, body: dict) -> Answer:
        """+1 day: the bot's clock moves on and its reminder sweep runs at once."""
        days = int(body.get("days", 1))
        if not 1 <= days <= 30:
            return Answer(failed="between 1 and 30 days")
        self.clock.move_on(timedelta(days=days))
        self.slack.state["clock_offset"] = self.clock.offset.total_seconds()
        await self.slack.changed()
        await self.sweep()
        await asyncio.sleep(0)
        return Answer()
