"""Build and sign requests exactly as Slack sends them to the app's Request URL.

Shapes follow Slack's documented payloads and Bolt's own test payloads (slash commands,
block_actions, view_submission, event_callback envelopes). Signing follows Slack's
v0 scheme: ``v0=HMAC_SHA256(secret, "v0:{timestamp}:{body}")``, sent in the
``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` headers.

Slash commands and interactivity arrive form-encoded (interactivity as
``payload=<urlencoded JSON>``); Events API requests arrive as raw JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any
from urllib.parse import urlencode

import httpx

from tests.fakes.fake_slack import APP_ID, BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
VERIFICATION_TOKEN = "verification-token"
DEFAULT_RESPONSE_URL = "https://hooks.slack.com/actions/T0TEAM/1/fake-response-url"

_counter = itertools.count(1)


def sign(body: bytes | str, secret: str, timestamp: int | None = None) -> dict[str, str]:
    """Slack's signature headers for `body` (Content-Type is not included)."""
    if timestamp is None:
        timestamp = int(time.time())
    raw = body.encode() if isinstance(body, str) else body
    basestring = b"v0:" + str(timestamp).encode() + b":" + raw
    digest = hmac.new(secret.encode(), basestring, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": str(timestamp), "X-Slack-Signature": f"v0={digest}"}


def _trigger_id() -> str:
    return f"{next(_counter)}.{int(time.time())}.{uuid.uuid4().hex}"


def _action_ts() -> str:
    return f"{time.time():.6f}"


def _user(user_id: str, team_id: str = TEAM_ID) -> dict[str, str]:
    name = user_id.lower()
    return {"id": user_id, "username": name, "name": name, "team_id": team_id}


def _team(team_id: str = TEAM_ID) -> dict[str, Any]:
    return {"id": team_id, "domain": TEAM_DOMAIN}


# ---------------------------------------------------------------------------- bodies


def slash_command_fields(
    command: str,
    text: str,
    user_id: str,
    *,
    channel_id: str = "C0GENERAL",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    **extra: str,
) -> dict[str, str]:
    """The fields of a slash command (field order as in slash_command.docs.txt).

    Over HTTP they are form-encoded (`slash_command`); over Socket Mode they are the
    envelope's payload as-is: ``slack.socket_send("slash_commands", slash_command_fields(...))``.
    `extra` adds or overrides fields, e.g. ``response_url=slack.new_response_url()``.
    """
    fields: dict[str, str] = {
        "token": VERIFICATION_TOKEN,
        "team_id": team_id,
        "team_domain": TEAM_DOMAIN,
        "channel_id": channel_id,
        "channel_name": channel_id.lower(),
        "user_id": user_id,
        "user_name": user_id.lower(),
        "command": command,
        "text": text,
        "api_app_id": APP_ID,
        "is_enterprise_install": "false",
        "response_url": f"https://hooks.slack.com/commands/{team_id}/{next(_counter)}/fake",
        "trigger_id": trigger_id or _trigger_id(),
    }
    fields.update(extra)
    return fields


def slash_command(
    command: str,
    text: str,
    user_id: str,
    *,
    channel_id: str = "C0GENERAL",
    trigger_id: str | None = None,
    team_id: str = TEAM_ID,
    **extra: str,
) -> tuple[bytes, str]:
    """A slash command form body and its content type; see `slash_command_fields`."""
    fields = slash_command_fields(
        command, text, user_id, channel_id=channel_id, trigger_id=trigger_id, team_id=team_id, **extra
    )
    return urlencode(fields).encode(), FORM


def block_action(
    action_id: str,
    value: str,
    user_id: str,
    *,
    channel_id: str | None = None,
    message_ts: str | None = None,
    container: dict[str, Any] | None = None,
    trigger_id: str | None = None,
    view: dict[str, Any] | None = None,
    block_id: str = "b",
    message: dict[str, Any] | None = None,
    response_url: str | None = None,
    action_type: str = "button",
) -> dict[str, Any]:
    """A block_actions payload for one button click.

    From a message: pass `channel_id` and `message_ts` (and optionally the `message` as
    posted, e.g. ``slack.message(channel, ts)``, so handlers see its blocks). From a modal or
    Home tab: pass the `view` (it needs an "id").
    """
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or _trigger_id(),
        "team": _team(),
        "is_enterprise_install": False,
        "enterprise": None,
    }
    if container is None:
        if view is not None:
            container = {"type": "view", "view_id": view.get("id", "V0VIEW")}
        elif message_ts is not None:
            container = {
                "type": "message",
                "message_ts": message_ts,
                "channel_id": channel_id,
                "is_ephemeral": False,
            }
        else:
            container = {}
    payload["container"] = container
    if channel_id is not None:
        payload["channel"] = {"id": channel_id, "name": channel_id.lower()}
    if message_ts is not None or message is not None:
        msg: dict[str, Any] = {
            "type": "message",
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": "",
            "blocks": [],
        }
        msg.update(message or {})
        msg["ts"] = message_ts or msg.get("ts")
        # A message from FakeSlack.message() also carries the call's channel; Slack's does not.
        msg.pop("channel", None)
        payload["message"] = msg
    if view is not None:
        payload["view"] = view
    if view is None or message_ts is not None:
        # Actions in modals carry no response_url; message actions do.
        payload["response_url"] = response_url or DEFAULT_RESPONSE_URL
    payload["actions"] = [
        {
            "action_id": action_id,
            "block_id": block_id,
            "text": {"type": "plain_text", "text": "Button", "emoji": True},
            "value": value,
            "type": action_type,
            "action_ts": _action_ts(),
        }
    ]
    return payload


def view_submission(
    callback_id: str,
    values: dict[str, dict[str, dict[str, Any]]],
    user_id: str,
    *,
    private_metadata: str = "",
    view_id: str | None = None,
    blocks: list[dict[str, Any]] | None = None,
    external_id: str = "",
    response_urls: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A view_submission payload; `values` is ``{block_id: {action_id: {"type": ..., "value": ...}}}``."""
    view_id = view_id or f"V{next(_counter):08d}"
    return {
        "type": "view_submission",
        "team": _team(),
        "user": _user(user_id),
        "api_app_id": APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": _trigger_id(),
        "view": {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": "modal",
            "blocks": blocks if blocks is not None else [],
            "private_metadata": private_metadata,
            "callback_id": callback_id,
            "state": {"values": values},
            "hash": f"{int(time.time())}.{uuid.uuid4().hex[:8]}",
            "title": {"type": "plain_text", "text": "Clearance"},
            "clear_on_close": False,
            "notify_on_close": False,
            "close": {"type": "plain_text", "text": "Cancel"},
            "submit": {"type": "plain_text", "text": "Submit"},
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": external_id,
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        },
        "response_urls": response_urls if response_urls is not None else [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_callback(event: dict[str, Any], *, event_id: str | None = None) -> dict[str, Any]:
    """An Events API envelope (event_callback) around `event`."""
    now = int(time.time())
    return {
        "token": VERIFICATION_TOKEN,
        "team_id": TEAM_ID,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "authorizations": [
            {
                "enterprise_id": None,
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
        "event_id": event_id or f"Ev{next(_counter):08d}",
        "event_context": f"EC{uuid.uuid4().hex[:10]}",
        "event_time": now,
    }


def url_verification(
    challenge: str = "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
) -> dict[str, Any]:
    return {"token": VERIFICATION_TOKEN, "challenge": challenge, "type": "url_verification"}


def form_payload(payload: dict[str, Any]) -> tuple[bytes, str]:
    """Interactivity body: ``payload=<urlencoded JSON>``."""
    return urlencode({"payload": json.dumps(payload)}).encode(), FORM


def json_body(obj: Any) -> tuple[bytes, str]:
    return json.dumps(obj).encode(), JSON


# ---------------------------------------------------------------------------- client


class SlackHttp:
    """Posts signed requests to the app, in-process (ASGI) or over the network.

    ``SlackHttp(secret, app=asgi_app)`` or ``SlackHttp(secret, base_url="http://127.0.0.1:3000")``.
    Use as ``async with`` or call ``aclose()``.
    """

    def __init__(
        self,
        secret: str,
        *,
        app: Any = None,
        base_url: str | None = None,
        path: str = "/slack/events",
        timeout: float = 10.0,
    ) -> None:
        if (app is None) == (base_url is None):
            raise ValueError("pass exactly one of app= (ASGI) or base_url=")
        self.secret = secret
        self.path = path
        if app is not None:
            self.client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app), base_url="http://testserver", timeout=timeout
            )
        else:
            self.client = httpx.AsyncClient(base_url=base_url or "", timeout=timeout)

    async def __aenter__(self) -> SlackHttp:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self.client.aclose()

    async def send(
        self,
        body: bytes,
        content_type: str,
        *,
        retry_num: int | None = None,
        retry_reason: str = "http_timeout",
        timestamp: int | None = None,
        secret: str | None = None,
        signed: bool = True,
    ) -> httpx.Response:
        """POST `body` with fresh signature headers (or none if `signed` is False).

        `secret` signs with a different secret (to test rejection); `timestamp` pins the
        signed timestamp (e.g. a stale one); `retry_num` adds Slack's retry headers.
        """
        headers = {"Content-Type": content_type}
        if signed:
            headers.update(sign(body, self.secret if secret is None else secret, timestamp))
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = retry_reason
        return await self.client.post(self.path, content=body, headers=headers)

    async def command(self, command: str, text: str, user_id: str, **kwargs: Any) -> httpx.Response:
        """Send a slash command; `kwargs` go to `slash_command`."""
        return await self.send(*slash_command(command, text, user_id, **kwargs))

    async def action(self, payload: dict[str, Any], **send_kwargs: Any) -> httpx.Response:
        return await self.send(*form_payload(payload), **send_kwargs)

    async def submit(self, payload: dict[str, Any], **send_kwargs: Any) -> httpx.Response:
        return await self.send(*form_payload(payload), **send_kwargs)

    async def event(self, payload: dict[str, Any], **send_kwargs: Any) -> httpx.Response:
        return await self.send(*json_body(payload), **send_kwargs)
