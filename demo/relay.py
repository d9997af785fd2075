"""What people do in the page, sent to the bot as Slack sends it: signed, to its /slack/events.

Slash commands are form-encoded fields; interactivity (block_actions, view_submission,
view_closed, block_suggestion) is `payload=<JSON>`, form-encoded; events are JSON. Each request
carries `X-Slack-Request-Timestamp` and `X-Slack-Signature` (v0, HMAC-SHA256 with the signing
secret), and events are re-sent with `X-Slack-Retry-Num` when the bot does not answer in time,
as Slack does. The bot's answer (the ack) is then applied the way Slack applies it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

from demo import workspace
from demo.slack import SlackStandIn
from demo.slack_state import dm_channel
from demo.workspace import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

log = logging.getLogger("clearance.demo")
FORM = "application/x-www-form-urlencoded"
SLACK_TIMEOUT = 3.0  # Slack gives up on an answer after 3 seconds
EVENT_RETRIES = 3
# What "the bot did not answer" is: no connection, a broken answer, or none within SLACK_TIMEOUT.
# aiohttp, not httpx: `make demo` installs only what `clearance serve` needs (requirements.lock).
NO_ANSWER = (aiohttp.ClientError, TimeoutError)


@dataclass(frozen=True)
class Reply:
    """The bot's answer to one request: its status and body, read in full."""

    status_code: int
    content: bytes


def sign(body: bytes, secret: str, timestamp: int) -> dict[str, str]:
    basestring = b"v0:" + str(timestamp).encode() + b":" + body
    digest = hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def _user(user_id: str) -> dict[str, str]:
    person = workspace.person(user_id)
    name = (person.name if person else user_id).lower().replace(" ", ".")
    return {"id": user_id, "username": name, "name": name, "team_id": TEAM_ID}


def _team() -> dict[str, str]:
    return {"id": TEAM_ID, "domain": TEAM_DOMAIN}


def _channel_name(channel_id: str) -> str:
    known = workspace.channel(channel_id)
    return known.name if known else ("directmessage" if channel_id.startswith("D") else channel_id.lower())


def _public(view: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in view.items() if not k.startswith("_")}


class Answer:
    """What the page is told after an action: field errors to show, or Slack's own error text."""

    def __init__(self, *, errors: dict[str, str] | None = None, failed: str = "", options: Any = None) -> None:
        self.errors = errors or {}
        self.failed = failed
        self.options = options

    def as_json(self) -> dict[str, Any]:
        return {"errors": self.errors, "failed": self.failed, "options": self.options}


class Relay:
    def __init__(self, slack: SlackStandIn, bot_url: str, secret: str) -> None:
        self.slack = slack
        self.secret = secret
        self.events_url = bot_url.rstrip("/") + "/slack/events"
        self._http: aiohttp.ClientSession | None = None  # made on the first request, inside the loop

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()

    async def _send(self, body: bytes, content_type: str, retry: int | None = None) -> Reply:
        headers = {"Content-Type": content_type, **sign(body, self.secret, int(time.time()))}
        if retry:
            headers.update({"X-Slack-Retry-Num": str(retry), "X-Slack-Retry-Reason": "http_timeout"})
        if self._http is None:
            self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=SLACK_TIMEOUT))
        async with self._http.post(self.events_url, data=body, headers=headers) as response:
            return Reply(response.status, await response.read())

    async def _interactive(self, payload: dict[str, Any]) -> Reply | None:
        """An interaction; None when the bot did not answer in time (Slack shows an error then)."""
        try:
            return await self._send(urlencode({"payload": json.dumps(payload)}).encode(), FORM)
        except NO_ANSWER as exc:
            log.warning("the bot did not answer a %s (%s)", payload.get("type"), type(exc).__name__)
            return None

    def _base(self, kind: str, user: str) -> dict[str, Any]:
        return {
            "type": kind,
            "user": _user(user),
            "api_app_id": APP_ID,
            "token": "demo-verification-token",
            "team": _team(),
            "is_enterprise_install": False,
            "enterprise": None,
        }

    # ------------------------------------------------------------------ slash commands

    async def command(self, user: str, channel: str, command: str, text: str) -> Answer:
        if command not in workspace.COMMANDS:
            # What Slack itself answers, only to the person who typed it.
            await self.slack.post_ephemeral(
                user,
                channel,
                f"{command} is not a valid command. In Slack, all messages that start with the “/” "
                "character are interpreted as commands.",
                sender="USLACKBOT",
            )
            return Answer(failed="not a command")
        fields = {
            "token": "demo-verification-token",
            "team_id": TEAM_ID,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel,
            "channel_name": _channel_name(channel),
            "user_id": user,
            "user_name": _user(user)["name"],
            "command": command,
            "text": text,
            "api_app_id": APP_ID,
            "is_enterprise_install": "false",
            "response_url": self.slack.response_url(user, channel),
            "trigger_id": self.slack.trigger(user),
        }
        try:
            response = await self._send(urlencode(fields).encode(), FORM)
        except NO_ANSWER:
            return await self._command_failed(user, channel, command, "operation_timeout")
        if response.status_code != 200:
            return await self._command_failed(user, channel, command, "dispatch_failed")
        reply = _json(response)
        if reply and (reply.get("text") or reply.get("blocks")):
            if reply.get("response_type") == "in_channel":
                await self.slack.post_as_person(user, channel, f"{command} {text}".strip())
                await self.slack._api_chat_postMessage({"channel": channel, **reply})
            else:
                await self.slack.post_ephemeral(user, channel, reply.get("text", ""), reply.get("blocks"))
        return Answer()

    async def _command_failed(self, user: str, channel: str, command: str, error: str) -> Answer:
        await self.slack.post_ephemeral(user, channel, f"{command} failed with the error “{error}”", sender="USLACKBOT")
        return Answer(failed=error)

    # ------------------------------------------------------------------ clicks

    async def click_in_message(self, user: str, channel: str, ts: str, action: dict[str, Any]) -> Answer:
        message = self.slack.message(channel, ts)
        if message is None:
            return Answer(failed="message_not_found")
        payload = self._base("block_actions", user)
        payload.update(
            trigger_id=self.slack.trigger(user),
            container={
                "type": "message",
                "message_ts": ts,
                "channel_id": channel,
                "is_ephemeral": bool(message.get("only_for")),
            },
            channel={"id": channel, "name": _channel_name(channel)},
            message=self.slack._message_body(message),
            response_url=self.slack.response_url(user, channel, ts),
            actions=[_action(action)],
            state={"values": {}},
        )
        return await self._clicked(payload)

    async def click_in_view(self, user: str, view_id: str, action: dict[str, Any], values: dict | None) -> Answer:
        view = self.slack.view(view_id)
        if view is None:
            return Answer(failed="view_not_found")
        if values is not None:
            view["state"] = {"values": values}
        payload = self._base("block_actions", user)
        payload.update(
            trigger_id=self.slack.trigger(user),
            container={"type": "view", "view_id": view_id},
            view=_public(view),
            actions=[_action(action)],
        )
        return await self._clicked(payload)

    async def _clicked(self, payload: dict[str, Any]) -> Answer:
        response = await self._interactive(payload)
        if response is None or response.status_code != 200:
            return Answer(failed="The app did not respond. Try again.")
        return Answer()

    # ------------------------------------------------------------------ modals

    async def submit(self, user: str, view_id: str, values: dict[str, Any]) -> Answer:
        view = self.slack.view(view_id)
        if view is None or view.get("_user") != user:
            return Answer(failed="view_not_found")
        view["state"] = {"values": values}
        payload = self._base("view_submission", user)
        payload.update(trigger_id=self.slack.trigger(user), view=_public(view), response_urls=[])
        response = await self._interactive(payload)
        if response is None or response.status_code != 200:
            return Answer(failed="We had some trouble connecting. Try again?")
        reply = _json(response) or {}
        action = reply.get("response_action")
        if action == "errors":
            return Answer(errors=reply.get("errors") or {})
        if action == "update" and isinstance(reply.get("view"), dict):
            if refused := self.slack._refused_view("response_action update", {"view": reply["view"]}):
                await self.slack.changed()
                return Answer(failed=str(refused["error"]))
            await self.slack.replace_top(user, reply["view"])
        elif action == "push" and isinstance(reply.get("view"), dict):
            await self.slack.push(user, reply["view"])
        elif action == "clear":
            await self.slack.close_views(user, all_of_them=True)
        else:
            await self.slack.close_views(user)  # an empty answer closes the submitted view
        return Answer()

    async def close(self, user: str, view_id: str) -> Answer:
        """The person pressed Cancel or ×: Slack tells the app only if the view asked (notify_on_close)."""
        view = self.slack.view(view_id)
        if view is None:
            return Answer(failed="view_not_found")
        if view.get("notify_on_close"):
            payload = self._base("view_closed", user)
            payload.update(view=_public(view), is_cleared=False)
            await self._interactive(payload)
        await self.slack.close_views(user, all_of_them=bool(view.get("clear_on_close")))
        return Answer()

    async def suggest(self, user: str, view_id: str, action_id: str, block_id: str, value: str) -> Answer:
        """An external select's options, from the bot's options listener (block_suggestion)."""
        view = self.slack.view(view_id)
        if view is None:
            return Answer(failed="view_not_found")
        payload = self._base("block_suggestion", user)
        payload.update(
            container={"type": "view", "view_id": view_id},
            action_id=action_id,
            block_id=block_id,
            value=value,
            view=_public(view),
        )
        response = await self._interactive(payload)
        reply = (_json(response) if response is not None and response.status_code == 200 else None) or {}
        return Answer(options=reply.get("options") or reply.get("option_groups") or [])

    # ------------------------------------------------------------------ events

    async def event(self, event: dict[str, Any]) -> bool:
        """An Events API delivery; re-sent (same event_id) when the bot gives no timely 200."""
        envelope = {
            "token": "demo-verification-token",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "authorizations": [
                {"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True, "is_enterprise_install": False}
            ],
            "event_id": f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
        }
        body = json.dumps(envelope).encode()
        for attempt in range(EVENT_RETRIES + 1):
            try:
                response = await self._send(body, "application/json", retry=attempt or None)
                if response.status_code == 200:
                    return True
            except NO_ANSWER:
                pass
        return False

    async def home_opened(self, user: str) -> bool:
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user,
            "channel": dm_channel(user),
            "tab": "home",
            "event_ts": f"{time.time():.6f}",
        }
        if home := self.slack.state["homes"].get(user):
            event["view"] = _public(self.slack.view(home) or {})
        return await self.event(event)


def _action(action: dict[str, Any]) -> dict[str, Any]:
    """One element of `actions`, as Slack describes a button press or a choice."""
    made = {k: v for k, v in action.items() if k in _ACTION_KEYS}
    made.setdefault("block_id", "b")
    made.setdefault("type", "button")
    made["action_ts"] = f"{time.time():.6f}"
    if made["type"] == "button":
        made.setdefault("text", {"type": "plain_text", "text": action.get("label") or "Button", "emoji": True})
    return made


_ACTION_KEYS = frozenset(
    {"action_id", "block_id", "type", "value", "text", "style", "selected_option", "selected_options", "selected_date"}
)


def _json(response: Reply) -> dict[str, Any] | None:
    if not response.content:
        return None
    try:
        reply = json.loads(response.content)
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None


__all__ = ["Answer", "Relay", "BOT_ID"]
